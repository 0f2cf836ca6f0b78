package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestConsoleUserShowsLinkedIdentities: a pool admin sees a user's linked
// upstream identities on the user page (subjects escaped); a company
// admin viewing a member does not.
func TestConsoleUserShowsLinkedIdentities(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	if _, err := e.svc.SetIdentityProvider(ctx, e.pool.ID, identity.IdentityProvider{Name: "corp", Type: identity.ProviderOIDC,
		Issuer: "https://login.corp.example", ClientID: "gh"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminConfirmSignUp(ctx, e.pool.ID, "ann@example.org"); err != nil { // approves her acme request
		t.Fatal(err)
	}
	if _, err := e.svc.AdminLinkProviderForUser(ctx, auth.LinkProviderInput{PoolID: e.pool.ID, Username: "mallory@example.org", Provider: "corp",
		Subject: "up-<i>1</i>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AdminLinkProviderForUser(ctx, auth.LinkProviderInput{PoolID: e.pool.ID, Username: "ann@example.org", Provider: "corp",
		Subject: "ann-up"}); err != nil {
		t.Fatal(err)
	}

	root := e.consoleLogin("root@example.org")
	m := must(t, root.get(e.console("users/mallory%40example.org")), http.StatusOK)
	contains(t, m, "Linked identities", "corp · <code>up-&lt;i&gt;1&lt;/i&gt;</code>")
	lacks(t, m, "<i>1</i>")
	contains(t, must(t, root.get(e.console("users/root%40example.org")), http.StatusOK), `<dd id="linked-identities">—</dd>`)

	carol := e.consoleLogin("carol@acme.example")
	ann := must(t, carol.get(e.console("users/ann%40example.org")), http.StatusOK)
	contains(t, ann, "custom:company_name")
	lacks(t, ann, "Linked identities", "ann-up")
}
