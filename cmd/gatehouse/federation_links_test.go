package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIdentityProviderLinks: idp link / links / unlink; a link is never
// moved to another user, and unlink --user refuses another user's link.
func TestIdentityProviderLinks(t *testing.T) {
	c := setup(t)
	f := c.write("a.yaml", "pools:\n  - name: acme\n    identity_providers:\n      - name: corp\n        type: OIDC\n"+
		"        issuer: https://login.corp.example\n        client_id: gh\n")
	c.ok("apply", "-f", f)
	c.ok("users", "create", "--pool", "acme", "ann@example.com", "--suppress")
	c.ok("users", "create", "--pool", "acme", "bob@example.com", "--suppress")

	assertContains(t, c.ok("idp", "link", "--pool", "acme", "corp", "up-1", "ann@example.com"), "linked corp identity up-1 to ann@example.com")
	assertContains(t, c.ok("idp", "links", "--pool", "acme", "ann@example.com"), "corp", "OIDC", "up-1", "https://login.corp.example")

	_, errOut, err := c.run("", "idp", "link", "--pool", "acme", "corp", "up-1", "bob@example.com")
	if err == nil || !strings.Contains(err.Error()+errOut, "already linked to user ann@example.com") {
		t.Fatalf("link to a second user: %v %s", err, errOut)
	}
	_, errOut, err = c.run("", "idp", "link", "--pool", "acme", "nope", "up-2", "bob@example.com")
	if err == nil || !strings.Contains(err.Error()+errOut, "no identity provider nope") {
		t.Fatalf("unknown provider: %v %s", err, errOut)
	}
	if _, _, err := c.run("", "idp", "unlink", "--pool", "acme", "corp", "up-1", "--user", "bob@example.com"); err == nil {
		t.Fatal("unlink --user of another user's link succeeded")
	}
	assertContains(t, c.ok("idp", "unlink", "--pool", "acme", "corp", "up-1"), "unlinked corp identity up-1 from ann@example.com")
	var links []any
	if err := json.Unmarshal([]byte(c.ok("-o", "json", "idp", "links", "--pool", "acme", "ann@example.com")), &links); err != nil || len(links) != 0 {
		t.Fatalf("links after unlink: %v %v", links, err)
	}
	// Now free: it can go to bob.
	c.ok("idp", "link", "--pool", "acme", "corp", "up-1", "bob@example.com")
}
