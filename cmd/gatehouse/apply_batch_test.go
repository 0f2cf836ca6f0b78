package main

import (
	"strings"
	"testing"
)

// newEnvironment is issue 12's file: a new environment whose company
// approver has no account yet.
const newEnvironment = `
pools:
  - name: acme-app
    username_mode: email
    schema: [{name: company_name}]
    clients: [{name: web}]
    groups: [{name: Users}, {name: Admins}]
    sign_up:
      company_attribute: custom:company_name
      approval: {on_deny: delete}
    companies:
      - name: Acme
        email_domains: [acme.example]
        approvers: [{user: alice@acme.example}]
`

// TestApplyNewEnvironmentWithApproverWithoutAccount: the file applies on
// an empty database; the approver who has no account yet is kept as an
// address approver awaiting that account; the dry run says so first and
// changes nothing; a second apply changes nothing.
func TestApplyNewEnvironmentWithApproverWithoutAccount(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		f := c.write("env.yaml", newEnvironment)
		dry := c.ok("apply", "-f", f, "--dry-run")
		assertContains(t, dry, "+ pool acme-app", "+ client acme-app/web", "+ company acme-app/Acme",
			"approvers without an account yet, emailed until they sign up: alice@acme.example", "nothing was changed")
		if out := c.ok("pools", "list"); strings.Contains(out, "acme-app") {
			t.Fatalf("--dry-run created the pool:\n%s", out)
		}
		out := c.ok("apply", "-f", f)
		assertContains(t, out, "created pool acme-app", "created company acme-app/Acme", "Apply complete: 5 created, 0 updated.")
		assertContains(t, c.ok("companies", "show", "--pool", "acme-app", "Acme"), "alice@acme.example (no account yet)")
		// The pool signs tokens: its keys were made after the commit.
		assertContains(t, c.ok("signing-keys", "list", "--pool", "acme-app"), "active")
		assertContains(t, c.ok("apply", "-f", f), "No changes.")
	})
}

// TestApplyAllOrNothing: a file with an error anywhere changes nothing —
// neither the pools before the error nor the parts of the failing pool —
// and its dry run reports the same error.
func TestApplyAllOrNothing(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("existing.yaml", "pools:\n  - name: existing\n    groups: [{name: Old}]\n"))
		files := map[string]struct{ yaml, want string }{
			"unknown approver": {`
pools:
  - name: first
    clients: [{name: web}]
    groups: [{name: Users}]
    companies:
      - name: Acme
        approvers: [{user: bob}]
`, `approver "bob": no such user in the pool`},
			"error in the second pool": {`
pools:
  - name: first
    clients: [{name: web}]
    groups: [{name: Users}]
  - name: existing
    groups: [{name: New}]
    companies:
      - name: Globex
        email_domains: ["not a domain"]
`, `Invalid email domain`},
		}
		for name, tc := range files {
			f := c.write(strings.ReplaceAll(name, " ", "_")+".yaml", tc.yaml)
			_, _, dryErr := c.run("", "apply", "-f", f, "--dry-run")
			_, _, err := c.run("", "apply", "-f", f)
			if dryErr == nil || err == nil || !strings.Contains(dryErr.Error(), tc.want) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: dry run %v, apply %v; want both to say %q", name, dryErr, err, tc.want)
			}
			if pools := c.ok("pools", "list"); strings.Contains(pools, "first") {
				t.Errorf("%s: pool first was created:\n%s", name, pools)
			}
			groups := c.ok("groups", "list", "--pool", "existing")
			if strings.Contains(groups, "New") || !strings.Contains(groups, "Old") {
				t.Errorf("%s: pool existing changed:\n%s", name, groups)
			}
		}
	})
}
