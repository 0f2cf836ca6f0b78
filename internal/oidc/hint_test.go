package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestAuthorizeHints: Cognito's idp_identifier routes to the pool
// provider listing it among its IdpIdentifiers (an address by its
// domain, any case); an identifier nobody lists, and login_hint, go to
// the sign-in page, login_hint pre-filling its first step.
func TestAuthorizeHints(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.svc.SetIdentityProvider(context.Background(), e.pool.ID, identity.IdentityProvider{Name: "corp", Type: identity.ProviderOIDC,
		Issuer: "https://login.corp.example", ClientID: "gh", Identifiers: []string{"corp.example", "CorpAD"}}, "s"); err != nil {
		t.Fatal(err)
	}
	authorize := func(extra url.Values) *url.URL {
		t.Helper()
		_, ch := pkce()
		q := url.Values{"client_id": {e.pub}, "response_type": {"code"}, "redirect_uri": {rpCallback},
			"code_challenge": {ch}, "code_challenge_method": {"S256"}}
		for k, v := range extra {
			q[k] = v
		}
		r := newBrowser(t).get(e.base + "/" + e.pool.ID + "/oauth2/authorize?" + q.Encode())
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || err != nil {
			t.Fatalf("authorize %v: %d %q", extra, r.status, r.header.Get("Location"))
		}
		return loc
	}
	for _, id := range []string{"corpad", "jane@CORP.example", "corp.example"} {
		if loc := authorize(url.Values{"idp_identifier": {id}}); !strings.Contains(loc.Path, "/federation/corp") {
			t.Errorf("idp_identifier %s: %s", id, loc)
		}
	}
	if loc := authorize(url.Values{"idp_identifier": {"other.example"}}); strings.Contains(loc.Path, "/federation/") {
		t.Errorf("unlisted identifier went to %s", loc)
	}
	loc := authorize(url.Values{"login_hint": {"ann@example.com"}})
	if strings.Contains(loc.Path, "/federation/") || loc.Query().Get("username") != "ann@example.com" {
		t.Fatalf("login_hint: %s", loc)
	}
	page := newBrowser(t).get(e.base + loc.String())
	if page.status != http.StatusOK || !strings.Contains(page.body, `value="ann@example.com"`) {
		t.Fatalf("sign-in page with the hint: %d %s", page.status, page.body)
	}
}
