package e2e_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
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

// samlIdPMetadata is the metadata of a SAML IdP (crewjam/saml) with its
// own key, whose entity id is entityID.
func samlIdPMetadata(t *testing.T, entityID string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	md, _ := url.Parse(entityID)
	sso, _ := url.Parse(entityID + "/sso")
	idp := saml.IdentityProvider{Key: key, Signer: key, Certificate: cert, MetadataURL: *md, SSOURL: *sso}
	b, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompanySAMLMetadataURL: Globex's admin sets a SAML provider by
// metadata URL and reads back the SP values (SLO URL, certificate); a
// refresh takes the URL's metadata again, and one whose entity id changed
// answers 400, keeps the provider's entity id and shows the error.
func TestCompanySAMLMetadataURL(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, clientID, _ := e.companyPool(t)
	gus := "Bearer " + e.signInAccess(clientID, "gus@globex.example")
	var mu sync.Mutex
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	entity := srv.URL + "/metadata"
	md := samlIdPMetadata(t, entity)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write([]byte(md))
	})
	var v struct {
		Issuer        string `json:"issuer"`
		MetadataURL   string `json:"saml_metadata_url"`
		SLOURL        string `json:"saml_slo_url"`
		Certificate   string `json:"saml_sp_certificate"`
		Encryption    bool   `json:"saml_require_encryption"`
		MetadataError string `json:"saml_metadata_error"`
	}
	e.must(200, e.do("PUT", P+"/companies/globex/identity-provider", gus, map[string]any{"kind": "saml", "metadata_url": entity,
		"require_encryption": true})).json(t, &v)
	if v.Issuer != entity || v.MetadataURL != entity || !strings.HasSuffix(v.SLOURL, "/slo") || !strings.Contains(v.Certificate, "CERTIFICATE") || !v.Encryption {
		t.Fatalf("view %+v", v)
	}
	e.must(200, e.do("POST", P+"/companies/globex/identity-provider/refresh-metadata", gus, nil))
	mu.Lock()
	md = samlIdPMetadata(t, "https://elsewhere.example/metadata")
	mu.Unlock()
	e.must(400, e.do("POST", P+"/companies/globex/identity-provider/refresh-metadata", gus, nil))
	e.must(200, e.do("GET", P+"/companies/globex/identity-provider", gus, nil)).json(t, &v)
	if v.Issuer != entity || !strings.Contains(v.MetadataError, "entity id changed") {
		t.Fatalf("after a bad refresh %+v", v)
	}
	e.must(400, e.do("PUT", P+"/companies/globex/identity-provider", gus, map[string]any{"kind": "saml", "metadata_url": "ftp://x.example/md"}))
}
