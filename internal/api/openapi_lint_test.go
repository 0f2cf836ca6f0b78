package api

import (
	"context"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse-id/gatehouse/internal/api/apicontract"
)

// TestOpenAPIIsValid loads openapi.yaml with kin-openapi and fails on any
// structural error: unknown or misplaced keys (a description that YAML
// split into bogus properties), wrong types, unresolved references, bad
// schemas, parameters and examples. The served JSON is checked the same
// way, so what clients download is what passed.
func TestOpenAPIIsValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		doc  func() ([]byte, error)
	}{
		{"openapi.yaml", func() ([]byte, error) { return openAPIYAML, nil }},
		{"openapi.json", OpenAPIJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.doc()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := apicontract.Load(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenAPILintCatchesSplitDescriptions shows the linter refuses the
// mistake that issue 19 found: a description in a YAML flow mapping that
// the commas split into keys of their own.
func TestOpenAPILintCatchesSplitDescriptions(t *testing.T) {
	t.Parallel()
	bad := []byte(`openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /u/{username}:
    get:
      operationId: getU
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}, description: The username (in email pools, the email address), URL-escaped.}
      responses:
        '200': {description: ok}
`)
	if _, err := apicontract.Load(context.Background(), bad); err == nil {
		t.Fatal("a split description passed the lint")
	}
}

// TestOpenAPIIsBlockStyle: no flow collection ({...} or [...]) with
// anything in it, so no description can be split at its commas again.
// `go run ./internal/api/openapifmt` rewrites a pasted flow-style block.
func TestOpenAPIIsBlockStyle(t *testing.T) {
	t.Parallel()
	var doc yaml.Node
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Style&yaml.FlowStyle != 0 && len(n.Content) > 0 {
			t.Errorf("openapi.yaml:%d: a flow-style collection; write it in block style (go run ./internal/api/openapifmt)", n.Line)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
}
