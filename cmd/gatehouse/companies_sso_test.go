package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCompanySSOCommandsGolden: `companies sso` sets, shows and removes a
// company's OIDC provider (the secret from a file, never printed; a group
// mapping), refuses a secret named twice and a bad mapping, and
// `companies scim-token` creates (shown once), lists and revokes tokens.
func TestCompanySSOCommandsGolden(t *testing.T) {
	t.Parallel()
	c := setup(t)
	c.ok("apply", "-f", c.write("co.yaml", "pools:\n  - name: golden\n    schema:\n      - {name: \"custom:company_name\", type: String, mutable: true}\n"+
		"    groups: [{name: engineers}]\n    companies:\n      - name: Globex\n        email_domains: [globex.example]\n      - name: Acme\n"))
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, []byte("top-secret-value\n"), 0o600))
	g := &golden{t: t, c: c}
	with := func(args ...string) []string { return append(args, "--pool", "golden") }
	g.run(with("companies", "sso", "show", "Globex")...)
	g.run(with("companies", "sso", "set", "Globex", "--issuer", "https://login.globex.example", "--client-id", "gh",
		"--client-secret-file", secret, "--mapping", "email=email,name=name", "--group-mapping", "Engineering=engineers", "--require-sso")...)
	g.both(with("companies", "sso", "show", "Globex")...)
	g.run(with("companies", "sso", "set", "Globex", "--client-secret-file", secret, "--client-secret-env", "X")...)
	g.run(with("companies", "sso", "set", "Globex", "--group-mapping", "novalue")...)
	g.run(with("companies", "sso", "set", "Acme", "--issuer", "https://login.acme.example", "--client-id", "a", "--group-mapping", "Admins=admins")...)
	g.run(with("companies", "scim-token", "create", "Globex")...)
	g.both(with("companies", "scim-token", "list")...)
	g.run(with("companies", "scim-token", "revoke", "Globex")...)
	g.run(with("companies", "scim-token", "revoke", "Globex")...)
	g.run(with("companies", "scim-token", "create", "Nobody")...)
	g.run(with("companies", "sso", "remove", "Globex")...)
	g.run(with("companies", "sso", "remove", "Globex")...)
	g.check("company_sso_commands.golden")
}
