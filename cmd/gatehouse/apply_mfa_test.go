package main

import "testing"

// TestApplyMFASetting: the pool's MFA policy is created with the pool,
// kept, and changed like any other field; a bad configuration is refused
// and changes nothing; a company's require_mfa is applied too.
func TestApplyMFASetting(t *testing.T) {
	t.Parallel()
	c := setup(t)
	on := c.write("on.yaml", "pools:\n  - name: acme\n    mfa: {configuration: \"ON\", email: true}\n    companies:\n      - {name: Acme, require_mfa: true}\n")
	assertContains(t, c.ok("apply", "-f", on), "+ pool acme", "created pool acme")
	assertContains(t, c.ok("apply", "-f", on), "No changes.")
	opt := c.write("opt.yaml", "pools:\n  - name: acme\n    mfa: {configuration: OPTIONAL, software_token: false, email: true}\n    companies:\n      - {name: Acme, require_mfa: false}\n")
	assertContains(t, c.ok("apply", "-f", opt), "mfa.configuration", "mfa.software_token", "require_mfa")
	assertContains(t, c.ok("apply", "-f", opt), "No changes.")
	bad := c.write("bad.yaml", "pools:\n  - name: acme\n    mfa: {configuration: SOMETIMES}\n")
	if _, stderr, err := c.run("", "apply", "-f", bad); err == nil {
		t.Fatalf("a bad MFA configuration was applied: %s", stderr)
	}
	assertContains(t, c.ok("apply", "-f", opt), "No changes.")
}

// TestCLIUserMFA: users mfa shows a user's factors and users reset-mfa
// removes them.
func TestCLIUserMFA(t *testing.T) {
	t.Parallel()
	c := setup(t)
	f := c.write("p.yaml", "pools:\n  - name: acme\n    mfa: {configuration: OPTIONAL}\n")
	c.ok("apply", "-f", f)
	c.ok("users", "create", "-p", "acme", "ann@example.com", "--email", "ann@example.com")
	assertContains(t, c.ok("users", "mfa", "-p", "acme", "ann@example.com"), "Recovery codes left")
	assertContains(t, c.ok("users", "reset-mfa", "-p", "acme", "ann@example.com"), "second factors removed for ann@example.com")
}
