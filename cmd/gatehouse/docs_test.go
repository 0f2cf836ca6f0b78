package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsCoverEverything keeps docs/configuration.md and docs/cli.md in
// step with the code: every environment variable and every command is
// documented.
func TestDocsCoverEverything(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		must(t, err)
		return string(b)
	}
	conf := read("configuration.md")
	for _, e := range envVars {
		if !strings.Contains(conf, "`"+e.Name+"`") {
			t.Errorf("docs/configuration.md does not document %s", e.Name)
		}
	}
	cli := read("cli.md")
	a := &app{}
	for _, c := range a.rootCommand().Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !strings.Contains(cli, "## "+c.Name()) {
			t.Errorf("docs/cli.md has no section for %q", c.Name())
		}
		for _, sub := range c.Commands() {
			if !strings.Contains(cli, "gatehouse "+c.Name()+" "+sub.Name()) && !strings.Contains(cli, c.Name()+" "+sub.Name()) {
				t.Errorf("docs/cli.md does not mention %q", c.Name()+" "+sub.Name())
			}
		}
	}
}
