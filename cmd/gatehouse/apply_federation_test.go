package main

import (
	"strings"
	"testing"
)

// TestApplyIdentityProviders: providers are created with the pool (the
// secret from a file), unchanged on a second apply, updated when a field
// changes; the CLI lists them without secrets, sets one from an
// environment variable and deletes it.
func TestApplyIdentityProviders(t *testing.T) {
	c := setup(t)
	secret := c.write("secret", "google-client-secret\n")
	yaml := func(clientID string) string {
		return "pools:\n  - name: acme\n    identity_providers:\n      - name: Google\n        type: Google\n        client_id: " + clientID +
			"\n        client_secret_file: " + secret + "\n        attribute_mapping: {email: email, name: name}\n"
	}
	f := c.write("a.yaml", yaml("g-1"))
	assertContains(t, c.ok("apply", "-f", f), "+ identity provider acme/Google", "set identity provider acme/Google")
	assertContains(t, c.ok("apply", "-f", f), "No changes.")
	g := c.write("b.yaml", yaml("g-2"))
	assertContains(t, c.ok("apply", "-f", g), "~ identity provider acme/Google: client_id")
	out := c.ok("identity-providers", "list", "--pool", "acme")
	assertContains(t, out, "Google", "https://accounts.google.com", "g-2", "email<-email")
	if strings.Contains(out, "google-client-secret") || strings.Contains(c.ok("-o", "json", "idp", "list", "--pool", "acme"), "sealed\": \"") {
		t.Fatalf("a secret is shown: %s", out)
	}
	t.Setenv("GATEHOUSE_TEST_IDP_SECRET", "corp-secret")
	assertContains(t, c.ok("idp", "set", "corp", "--pool", "acme", "--issuer", "https://login.corp.example", "--client-id", "gh",
		"--client-secret-env", "GATEHOUSE_TEST_IDP_SECRET", "--mapping", "email=email,custom:company_name=org"),
		"set identity provider corp (OIDC); redirect URI: ", "/oauth2/idpresponse")
	assertContains(t, c.ok("idp", "list", "--pool", "acme"), "corp", "custom:company_name<-org")
	assertContains(t, c.ok("idp", "delete", "corp", "--pool", "acme"), "deleted identity provider corp")

	for _, tc := range []struct{ spec, want string }{
		{"{name: 'bad name', type: OIDC, issuer: 'https://x.example', client_id: a}", "provider name"},
		{"{name: x, type: SAML, client_id: a}", "type must be"},
		{"{name: x, type: OIDC, client_id: a}", "needs its issuer"},
		{"{name: x, type: OIDC, issuer: 'http://x.example', client_id: a}", "https URL"},
		{"{name: x, type: Google, client_id: a, client_secret: s, client_secret_env: E}", "at most one"},
	} {
		_, err := ParseApplyFile(strings.NewReader("pools:\n  - name: acme\n    identity_providers: [" + tc.spec + "]\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}
