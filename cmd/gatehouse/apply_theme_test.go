package main

import (
	"strings"
	"testing"
)

// TestApplyTheme: theme is created with the pool, kept (colours in any
// case), changed as a whole, and a theme the service refuses changes
// nothing.
func TestApplyTheme(t *testing.T) {
	t.Parallel()
	c := setup(t)
	a := c.write("a.yaml", "pools:\n  - name: acme\n    theme:\n      product_name: Acme Portal\n      primary_color: \"#6B2FB3\"\n"+
		"      logo_url: https://cdn.acme.example/logo.svg\n      css: \"h1 { letter-spacing: .01em }\"\n")
	assertContains(t, c.ok("apply", "-f", a), "+ pool acme", "created pool acme")
	assertContains(t, c.ok("apply", "-f", a), "No changes.")
	b := c.write("b.yaml", "pools:\n  - name: acme\n    admin_create_user_only: false\n    theme:\n      primary_color: \"#0b5fff\"\n")
	assertContains(t, c.ok("apply", "-f", b), "~ pool acme: theme")
	assertContains(t, c.ok("apply", "-f", b), "No changes.")
	for _, bad := range []string{"css: \"body { background: url(https://evil.example/x) }\"", "logo_url: http://cdn.acme.example/logo.svg",
		"primary_color: purple"} {
		f := c.write("bad.yaml", "pools:\n  - name: acme\n    admin_create_user_only: true\n    theme:\n      "+bad+"\n")
		out, errOut, err := c.run("", "apply", "-f", f)
		if err == nil || !strings.Contains(out+errOut+err.Error(), "theme") {
			t.Fatalf("apply with %s: %v\n%s%s", bad, err, out, errOut)
		}
		assertContains(t, c.ok("apply", "-f", b), "No changes.") // nothing was written
	}
}
