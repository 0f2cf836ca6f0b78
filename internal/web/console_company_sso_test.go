package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
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

// TestConsoleCompanySAMLByURL: carol gives Acme's SAML IdP by metadata
// URL with encryption required; the page shows the SP's certificate,
// single logout URL and where the metadata came from, and "fetch now"
// fetches it again.
func TestConsoleCompanySAMLByURL(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	md, _ := url.Parse(srv.URL + "/metadata")
	sso, _ := url.Parse(srv.URL + "/sso")
	b, _ := xml.Marshal((&saml.IdentityProvider{Key: key, Signer: key, Certificate: cert, MetadataURL: *md, SSOURL: *sso}).Metadata())
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(b) })

	carol := e.consoleLogin("carol@acme.example")
	p := "companies/" + url.PathEscape(e.company.Name)
	page := must(t, carol.get(e.console(p)), http.StatusOK)
	action := "/" + e.pool.ID + "/console/" + p + "/sso"
	r := carol.post(e.console(p+"/sso"), url.Values{"csrf": {formCSRF(t, page, action)}, "kind": {"saml"},
		"metadata_url": {md.String()}, "require_encryption": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("set: %d %s", r.status, r.body)
	}
	v, err := e.svc.GetCompanyIdP(context.Background(), e.pool.ID, e.company.Name)
	if err != nil || v.SAMLMetadataURL != md.String() || !v.SAMLRequireEncryption || v.Issuer != md.String() {
		t.Fatalf("stored %+v %v", v, err)
	}
	page = must(t, carol.get(e.console(p)), http.StatusOK)
	for _, want := range []string{`id="sso-sp-cert"`, "BEGIN CERTIFICATE", v.SAMLSLOURL, `id="sso-metadata-url"`} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("page lacks %s: %s", want, page.body)
		}
	}
	refresh := "/" + e.pool.ID + "/console/" + p + "/sso/refresh"
	if r := carol.post(e.console(p+"/sso/refresh"), url.Values{"csrf": {formCSRF(t, page, refresh)}}); r.status != http.StatusSeeOther {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
}
