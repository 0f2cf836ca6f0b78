// Command openapifmt rewrites internal/api/openapi.yaml (or the files
// named) in block style: every non-empty mapping and list one entry a
// line, multi-line strings as literal blocks. Flow mappings ({a: b, c})
// are where YAML splits a description at its commas into keys of their
// own, so the document keeps none; TestOpenAPIIsBlockStyle enforces it.
// Paste a route written in flow style, then run
//
//	go run ./internal/api/openapifmt
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

func main() {
	files := os.Args[1:]
	if len(files) == 0 {
		files = []string{"internal/api/openapi.yaml"}
	}
	for _, f := range files {
		if err := format(f); err != nil {
			fmt.Fprintln(os.Stderr, "openapifmt:", err)
			os.Exit(1)
		}
	}
}

func format(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	block(&doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return os.WriteFile(file, out.Bytes(), 0o644)
}

// block turns n and everything under it to block style.
func block(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		n.Style &^= yaml.FlowStyle
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "\n") && n.Style != yaml.FoldedStyle {
			n.Style = yaml.LiteralStyle
		}
	}
	for _, c := range n.Content {
		block(c)
	}
}
