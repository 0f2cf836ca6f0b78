package e2e_test

import (
	"strings"
	"testing"
)

// TestCompanyIdPByCompanyAdmin: Globex's company admin (access token) sets
// Globex's identity provider and reads back the values to give the
// provider, never the secret; Acme's is out of reach (403), a bad issuer
// is a 400 that stores nothing, and a plain member cannot set it.
func TestCompanyIdPByCompanyAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, clientID, gilAccess := e.companyPool(t)
	gus := "Bearer " + e.signInAccess(clientID, "gus@globex.example")
	body := map[string]any{"issuer": "https://login.globex.example", "client_id": "gh", "client_secret": "top-secret",
		"attribute_mapping": map[string]string{"email": "email", "name": "name"}, "require_sso": true}
	r := e.must(200, e.do("PUT", P+"/companies/globex/identity-provider", gus, body))
	var v struct {
		IdentityProvider string `json:"identity_provider"`
		RedirectURI      string `json:"redirect_uri"`
		HasClientSecret  bool   `json:"has_client_secret"`
		RequireSSO       bool   `json:"require_sso"`
	}
	r.json(t, &v)
	if !strings.HasPrefix(v.IdentityProvider, "sso:") || !strings.HasSuffix(v.RedirectURI, "/oauth2/idpresponse") || !v.HasClientSecret ||
		!v.RequireSSO || strings.Contains(string(r.body), "top-secret") {
		t.Fatalf("view %s", r.body)
	}
	e.must(403, e.do("PUT", P+"/companies/acme/identity-provider", gus, body))
	e.must(403, e.do("GET", P+"/companies/acme/identity-provider", gus, nil))
	e.must(403, e.do("PUT", P+"/companies/globex/identity-provider", "Bearer "+gilAccess, body))
	e.must(400, e.do("PUT", P+"/companies/globex/identity-provider", gus, map[string]any{"issuer": "ftp://x", "client_id": "gh"}))
	e.must(400, e.do("PUT", P+"/companies/globex/identity-provider", gus, map[string]any{"kind": "saml", "issuer": "https://x.example", "client_id": "gh"}))
	var again struct {
		IdentityProvider string `json:"identity_provider"`
		Issuer           string `json:"issuer"`
	}
	e.must(200, e.do("GET", P+"/companies/globex/identity-provider", gus, nil)).json(t, &again)
	if again.IdentityProvider != v.IdentityProvider || again.Issuer != "https://login.globex.example" {
		t.Fatalf("after refused writes: %+v", again)
	}
	e.must(204, e.do("DELETE", P+"/companies/globex/identity-provider", gus, nil))
	e.must(404, e.do("GET", P+"/companies/globex/identity-provider", gus, nil))
}
