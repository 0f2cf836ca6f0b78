package main

import "testing"

// TestApplyRefreshRotation: a client declared without
// refresh_token_rotation rotates (Gatehouse's default); turning it off and
// setting the grace period are changes like any other, kept on re-apply,
// and a grace period out of range is refused.
func TestApplyRefreshRotation(t *testing.T) {
	t.Parallel()
	c := setup(t)
	base := "pools:\n  - name: acme\n    clients:\n      - name: web\n"
	def := c.write("def.yaml", base)
	c.ok("apply", "-f", def)
	assertContains(t, c.ok("apply", "-f", def), "No changes.")
	off := c.write("off.yaml", base+"        refresh_token_rotation: false\n")
	assertContains(t, c.ok("apply", "-f", off), "~ client acme/web: refresh_token_rotation")
	assertContains(t, c.ok("apply", "-f", off), "No changes.")
	on := c.write("on.yaml", base+"        refresh_token_rotation: true\n        refresh_token_retry_grace_seconds: 10\n")
	assertContains(t, c.ok("apply", "-f", on), "~ client acme/web: refresh_token_rotation, refresh_token_retry_grace_seconds")
	assertContains(t, c.ok("apply", "-f", on), "No changes.")
	bad := c.write("bad.yaml", base+"        refresh_token_retry_grace_seconds: 61\n")
	out, stderr, err := c.run("", "apply", "-f", bad)
	if err == nil {
		t.Fatal("apply with a 61 s grace period succeeded")
	}
	assertContains(t, out+stderr+err.Error(), "grace period must be 0 to 60 seconds")
}
