package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleCompanySSO: carol, Acme's company admin, sets Acme's
// identity provider in the console and sees the values to give the
// provider (redirect URI, provider name), never the secret; she cannot
// set Globex's, even with a forged form; she removes Acme's.
func TestConsoleCompanySSO(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	carol := e.consoleLogin("carol@acme.example")
	p := "companies/" + url.PathEscape(e.company.Name)
	page := must(t, carol.get(e.console(p)), http.StatusOK)
	action := "/" + e.pool.ID + "/console/" + p + "/sso"
	tok := formCSRF(t, page, action)
	r := carol.post(e.console(p+"/sso"), url.Values{"csrf": {tok}, "issuer": {"https://login.acme.example"},
		"client_id": {"gatehouse"}, "client_secret": {"very-secret-value"}, "mapping": {"name = name"}, "require_sso": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set: %d %s", r.status, r.body)
	}
	v, err := e.svc.GetCompanyIdP(context.Background(), e.pool.ID, e.company.Name)
	if err != nil || !v.RequireSSO || v.AttributeMapping["name"] != "name" || !v.HasClientSecret {
		t.Fatalf("stored %+v %v", v, err)
	}
	page = must(t, carol.get(e.console(p)), http.StatusOK)
	if !strings.Contains(page.body, v.RedirectURI) || !strings.Contains(page.body, v.Name) || strings.Contains(page.body, "very-secret-value") {
		t.Fatalf("page: %s", page.body)
	}
	// Globex is not hers: a forged post is refused (its CSRF token is bound
	// to Acme's path; the service's own check is in internal/api/e2e and
	// internal/federation) and stores nothing.
	if r := carol.post(e.console("companies/globex-x/sso"), url.Values{"csrf": {formCSRF(t, page, action)}, "issuer": {"https://evil.example"},
		"client_id": {"x"}}); r.status != http.StatusForbidden {
		t.Fatalf("carol set Globex's provider: %d %s", r.status, r.body)
	}
	if _, err := e.svc.GetCompanyIdP(context.Background(), e.pool.ID, "globex-x"); err == nil {
		t.Fatal("Globex got a provider")
	}
	// A SCIM token, shown once, that the SCIM surface accepts.
	scimPath := "/" + e.pool.ID + "/console/" + p + "/scim-token"
	r = carol.post(e.console(p+"/scim-token"), url.Values{"csrf": {formCSRF(t, page, scimPath)}})
	m := regexp.MustCompile(`id="scim-token">(ghs_[^<]+)<`).FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("scim token: %d %s", r.status, r.body)
	}
	if _, err := e.svc.SCIMCompany(context.Background(), e.pool.ID, e.company.Name, m[1]); err != nil {
		t.Fatalf("the shown token: %v", err)
	}
	del := "/" + e.pool.ID + "/console/" + p + "/sso/delete"
	if r := carol.post(e.console(p+"/sso/delete"), url.Values{"csrf": {formCSRF(t, page, del)}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := e.svc.GetCompanyIdP(context.Background(), e.pool.ID, e.company.Name); err == nil {
		t.Fatal("still there")
	}
}
