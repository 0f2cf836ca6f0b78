package federation_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// SAML done properly (docs/company-sso.md): signed AuthnRequests,
// encrypted assertions, metadata by URL, single logout, and their attacks.

// lastAudit is the detail of the pool's latest event of action.
func (e *samlEnv) lastAudit(action string) map[string]string {
	evs, _, err := e.down.svc.Audit(context.Background(), auth.AuditQuery{PoolID: e.pool.ID, Action: action, Limit: 1})
	if err != nil || len(evs) == 0 {
		return nil
	}
	return evs[0].Detail
}

// toIdP follows the Gatehouse redirects of a sign-in start and returns
// the URL that leaves for the IdP.
func (e *samlEnv) toIdP(b *browser, provider string) string {
	e.t.Helper()
	r := b.get(e.downIssuer + "/federation/" + url.PathEscape(provider) + "?client_id=" + e.app)
	for i := 0; i < 5 && (r.status == http.StatusFound || r.status == http.StatusSeeOther); i++ {
		loc := resolve(r.url, r.header.Get("Location"))
		if !strings.HasPrefix(loc, e.down.base) {
			return loc
		}
		r = b.get(loc)
	}
	e.t.Fatalf("no redirect to the IdP: %d %s", r.status, r.body)
	return ""
}

// signedInAs signs email in at idp through provider in a new browser and
// returns the browser and its account page URL.
func (e *samlEnv) signedInAs(idp *samlIdP, provider, email string) (*browser, string) {
	e.t.Helper()
	idp.signIn(email)
	b := newBrowser(e.t)
	r := e.post(b, e.start(b, provider))
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		e.t.Fatalf("%s: ended at %s: %d (%s)", email, r.url, r.status, e.lastFailure())
	}
	return b, r.url
}

// stillIn reports whether the browser's hosted session is alive.
func stillIn(b *browser, account string) bool {
	r := b.get(account)
	return r.status == http.StatusOK && strings.Contains(r.url, "/account")
}

// TestCompanySAMLSignedRequestsAndEncryption: the SP metadata publishes
// the SP's certificate for signing and encryption and
// AuthnRequestsSigned="true"; the AuthnRequest carries a signature the IdP
// (which requires one) accepts and without which it refuses; the assertion
// comes encrypted and signs Jane in. With encryption required, an assertion
// in clear is refused; one encrypted for another SP's key is refused; after
// a key rotation an assertion still encrypted to the previous key is
// accepted.
func TestCompanySAMLSignedRequestsAndEncryption(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	ctx := context.Background()
	md := string(e.spMetadata(e.view))
	for _, want := range []string{`AuthnRequestsSigned="true"`, `use="encryption"`, `use="signing"`, "SingleLogoutService", e.view.SAMLSLOURL} {
		if !strings.Contains(md, want) {
			t.Fatalf("SP metadata lacks %s: %s", want, md)
		}
	}
	if !strings.Contains(e.view.SAMLSPCertificate, "BEGIN CERTIFICATE") {
		t.Fatalf("view certificate %q", e.view.SAMLSPCertificate)
	}

	b := newBrowser(t)
	loc := e.toIdP(b, e.view.Name)
	u, _ := url.Parse(loc)
	if u.Query().Get("Signature") == "" || u.Query().Get("SigAlg") != dsig.RSASHA256SignatureMethod {
		t.Fatalf("AuthnRequest not signed: %s", loc)
	}
	unsigned := *u
	q := unsigned.Query()
	q.Del("Signature")
	q.Del("SigAlg")
	unsigned.RawQuery = q.Encode()
	if r := newBrowser(t).get(unsigned.String()); r.status != http.StatusBadRequest {
		t.Fatalf("the IdP took an unsigned AuthnRequest: %d", r.status)
	}
	r := b.get(loc)
	m := samlRespRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("IdP answer %d %s", r.status, r.body)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(m[1], "&#43;", "+"))
	if !strings.Contains(string(raw), "EncryptedAssertion") || strings.Contains(string(raw), "Someone") {
		t.Fatalf("the assertion is not encrypted: %s", raw)
	}
	e.signedInAs(e.idp, e.view.Name, janeEmail)

	// Encryption required.
	in := auth.CompanyIdPInput{Kind: "saml", AttributeMapping: map[string]string{"email": "email", "name": "cn"},
		SAMLInput: auth.SAMLInput{RequireEncryption: true}}
	v, err := e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "Acme Corporation", in)
	if err != nil || !v.SAMLRequireEncryption || v.SAMLSPCertificate != e.view.SAMLSPCertificate {
		t.Fatalf("require encryption: %+v %v", v, err)
	}
	before := e.count()
	refused := func(name, reason string) {
		t.Helper()
		e.idp.signIn("joe@acme.example")
		b := newBrowser(t)
		r := e.post(b, e.start(b, e.view.Name))
		if strings.Contains(r.url, "/account") {
			t.Fatalf("%s: signed in", name)
		}
		if got := e.lastFailure(); !strings.Contains(got, reason) {
			t.Fatalf("%s: failure %q, want %q", name, got, reason)
		}
		if e.count() != before {
			t.Fatalf("%s: a user was created", name)
		}
	}
	e.idp.mu.Lock()
	e.idp.plain = true
	e.idp.mu.Unlock()
	refused("assertion in clear", "not encrypted")
	_, otherCert := newSAMLKey(t)
	e.idp.mu.Lock()
	e.idp.plain, e.idp.encTo = false, otherCert
	e.idp.mu.Unlock()
	refused("encrypted for another SP's key", "cannot be decrypted")

	// Rotation: the new key signs and is published; an IdP still
	// encrypting to the previous certificate is accepted.
	oldDER, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Split(strings.TrimSpace(
		strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(e.view.SAMLSPCertificate), "-----BEGIN CERTIFICATE-----"), "-----END CERTIFICATE-----")), "\n"), ""))
	oldCert, err := x509.ParseCertificate(oldDER)
	if err != nil {
		t.Fatal(err)
	}
	in.RotateSPKey = true
	v, err = e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "Acme Corporation", in)
	if err != nil || v.SAMLSPCertificate == e.view.SAMLSPCertificate {
		t.Fatalf("rotation: %v", err)
	}
	if d := e.lastAudit("company.idp_set"); d["saml_sp_key_rotated"] != "true" {
		t.Fatalf("audit %v", d)
	}
	e.idp.mu.Lock()
	e.idp.encTo = oldCert
	e.idp.mu.Unlock()
	e.signedInAs(e.idp, e.view.Name, janeEmail)
	_ = ctx
}

// TestCompanySAMLMetadataURL: Beta's admin gives the IdP's metadata URL;
// Gatehouse fetches it and signs Bob in. The IdP then swaps its signing
// certificate: sign-in fails until a refresh takes the new metadata (the
// change audited). Metadata whose entity id changed, or an answer that is
// not metadata, is refused by the refresh, which keeps the last good
// metadata (sign-in still works) and shows the error; the periodic job
// does the same and clears the error once the URL serves good metadata.
func TestCompanySAMLMetadataURL(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	ctx := context.Background()
	idp := newSAMLIdP(t)
	mdURL := strings.Replace(idp.srv.URL, "127.0.0.1", "localhost", 1) + "/metadata"
	in := auth.CompanyIdPInput{Kind: "saml", SAMLInput: auth.SAMLInput{MetadataURL: mdURL}}
	if _, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", auth.CompanyIdPInput{Kind: "saml",
		MetadataXML: idp.metadata(), SAMLInput: auth.SAMLInput{MetadataURL: mdURL}}); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("URL and XML: %v", err)
	}
	bv, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", in)
	if err != nil || bv.SAMLMetadataURL != mdURL || bv.SAMLMetadataFetchedAt.IsZero() || bv.Issuer != idp.idp.MetadataURL.String() {
		t.Fatalf("set by URL: %+v %v", bv, err)
	}
	idp.sp = func() []byte { return e.spMetadata(bv) }
	const bob = "bob@beta.example"
	e.signedInAs(idp, bv.Name, bob)

	// The IdP swaps its key.
	key2, cert2 := newSAMLKey(t)
	idp.mu.Lock()
	idp.idp.Key, idp.idp.Signer, idp.idp.Certificate = key2, key2, cert2
	idp.mu.Unlock()
	idp.signIn(bob)
	b := newBrowser(t)
	if r := e.post(b, e.start(b, bv.Name)); strings.Contains(r.url, "/account") {
		t.Fatal("signed in with a certificate the stored metadata does not have")
	}
	if _, err := e.down.svc.RefreshCompanySAMLMetadata(e.betaAdmin, e.pool.ID, "Beta"); err != nil {
		t.Fatal(err)
	}
	if d := e.lastAudit("company.idp_metadata_refreshed"); d["signing_certificates_changed"] != "true" {
		t.Fatalf("refresh audit %v", d)
	}
	e.signedInAs(idp, bv.Name, bob)

	// Bad refreshes keep the last good metadata.
	good := idp.metadata()
	for name, md := range map[string]string{
		"entity id changed": strings.Replace(good, idp.idp.MetadataURL.String(), "https://evil.example/metadata", 1),
		"not metadata":      "<html>maintenance</html>",
	} {
		idp.mu.Lock()
		idp.md = func() string { return md }
		idp.mu.Unlock()
		if _, err := e.down.svc.RefreshCompanySAMLMetadata(e.betaAdmin, e.pool.ID, "Beta"); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("%s: refresh %v", name, err)
		}
		v, err := e.down.svc.GetCompanyIdP(ctx, e.pool.ID, "Beta")
		if err != nil || v.SAMLMetadataError == "" || v.Issuer != idp.idp.MetadataURL.String() {
			t.Fatalf("%s: view %+v %v", name, v, err)
		}
		if d := e.lastAudit("company.idp_metadata_refresh_failed"); d["reason"] == "" {
			t.Fatalf("%s: no failure audited", name)
		}
		e.signedInAs(idp, bv.Name, bob)
	}

	// The periodic job: still failing, then good again.
	cur, err := e.down.st.GetCompanyIdPByName(ctx, e.pool.ID, bv.Name)
	if err != nil {
		t.Fatal(err)
	}
	job := func() *identity.Job {
		pl, _ := json.Marshal(map[string]any{"pool_id": e.pool.ID, "name": bv.Name, "gen": cur.UpdatedAt.UnixMilli()})
		return &identity.Job{Kind: auth.SAMLMetadataRefreshJobKind, Payload: pl}
	}
	idp.mu.Lock()
	idp.md = nil
	idp.mu.Unlock()
	if err := e.down.svc.SAMLMetadataRefreshHandler()(ctx, job()); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.down.svc.GetCompanyIdP(ctx, e.pool.ID, "Beta"); v.SAMLMetadataError != "" {
		t.Fatalf("error kept after a good refresh: %s", v.SAMLMetadataError)
	}
}

// TestCompanySAMLMetadataURLRefused: with the default outbound network
// policy, metadata URLs on loopback, the cloud metadata address and
// private networks are refused and nothing is stored; so is a URL that is
// not http(s).
func TestCompanySAMLMetadataURLRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.New(t, testenv.Options{HooksClient: hooks.New(hooks.Options{}),
		Pool: &auth.CreatePoolInput{Name: "P", UsernameMode: identity.UsernameEmail}})
	if _, err := s.Svc.CreateCompany(ctx, &identity.Company{PoolID: s.Pool.ID, Name: "Acme", EmailDomains: []string{"acme.example"}}); err != nil {
		t.Fatal(err)
	}
	idp := newSAMLIdP(t)
	for _, u := range []string{
		idp.srv.URL + "/metadata", // 127.0.0.1
		strings.Replace(idp.srv.URL, "127.0.0.1", "localhost", 1) + "/metadata",
		strings.Replace(idp.srv.URL, "127.0.0.1", "[::1]", 1) + "/metadata",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/metadata",
		"https://192.168.1.1/metadata",
		"ftp://idp.example/metadata",
		"file:///etc/passwd",
	} {
		_, err := s.Svc.SetCompanyIdP(ctx, s.Pool.ID, "Acme", auth.CompanyIdPInput{Kind: "saml", SAMLInput: auth.SAMLInput{MetadataURL: u}})
		if identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("%s: %v", u, err)
		}
		if _, err := s.Svc.GetCompanyIdP(ctx, s.Pool.ID, "Acme"); identity.ErrorCode(err) != identity.CodeResourceNotFound {
			t.Fatalf("%s: a provider was stored: %v", u, err)
		}
	}
}

// logoutRequestURL is a LogoutRequest for nameID to dest by the
// HTTP-Redirect binding, from issuer, signed with key when it is not nil:
// what an attacker (or, with the IdP's key, the IdP) sends.
func logoutRequestURL(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, issuer, dest, nameID string) string {
	t.Helper()
	sp := saml.ServiceProvider{EntityID: issuer, Key: key, Certificate: cert, IDPMetadata: &saml.EntityDescriptor{}}
	if key != nil {
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	req, err := sp.MakeLogoutRequest(dest, nameID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := sp.RedirectLogoutRequestURL(req, "")
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// TestCompanySAMLSingleLogout: forged logout requests (unsigned, signed
// by another key, from another issuer, Acme's IdP at Beta's logout
// service, Acme's IdP naming Beta's user) end nothing; the IdP's real
// IdP-initiated logout ends both of Jane's sessions and not Bob's, is
// answered with a LogoutResponse the IdP accepts, and cannot be replayed;
// Jane's sign-out from Gatehouse sends a signed LogoutRequest that ends
// her IdP session and comes back to the sign-in page.
func TestCompanySAMLSingleLogout(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	b1, account := e.signedInAs(e.idp, e.view.Name, janeEmail)
	b2, _ := e.signedInAs(e.idp, e.view.Name, janeEmail)
	beta := newSAMLIdP(t)
	bv, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", auth.CompanyIdPInput{Kind: "saml", MetadataXML: beta.metadata()})
	if err != nil {
		t.Fatal(err)
	}
	beta.sp = func() []byte { return e.spMetadata(bv) }
	const bob = "bob@beta.example"
	bb, _ := e.signedInAs(beta, bv.Name, bob)

	acmeIssuer := e.idp.idp.MetadataURL.String()
	acmeKey, _ := e.idp.idp.Key.(*rsa.PrivateKey)
	otherKey, otherCert := newSAMLKey(t)
	for _, c := range []struct{ name, url, reason string }{
		{"unsigned", logoutRequestURL(t, nil, nil, acmeIssuer, e.view.SAMLSLOURL, janeEmail), "ignature"},
		{"signed by another key", logoutRequestURL(t, otherKey, otherCert, acmeIssuer, e.view.SAMLSLOURL, janeEmail), "ignature"},
		{"another issuer", logoutRequestURL(t, acmeKey, e.idp.idp.Certificate, "https://evil.example/metadata", e.view.SAMLSLOURL, janeEmail), "issuer"},
		{"Acme's IdP at Beta's service", logoutRequestURL(t, acmeKey, e.idp.idp.Certificate, acmeIssuer, bv.SAMLSLOURL, janeEmail), ""},
		{"Acme's IdP at Beta's service naming Bob", logoutRequestURL(t, acmeKey, e.idp.idp.Certificate, acmeIssuer, bv.SAMLSLOURL, bob), ""},
	} {
		r := newBrowser(t).get(c.url)
		if r.status == http.StatusSeeOther || r.status == http.StatusFound {
			t.Fatalf("%s: answered %d %s", c.name, r.status, r.header.Get("Location"))
		}
		if d := e.lastAudit("company.saml_logout_refused"); d == nil || !strings.Contains(d["reason"], c.reason) {
			t.Fatalf("%s: refusal %v", c.name, d)
		}
		if !stillIn(b2, account) || !stillIn(bb, account) {
			t.Fatalf("%s: a session ended", c.name)
		}
	}
	// Acme's IdP naming Beta's user at Acme's service: valid, but nobody
	// of Acme's provider has that NameID.
	r := newBrowser(t).get(logoutRequestURL(t, acmeKey, e.idp.idp.Certificate, acmeIssuer, e.view.SAMLSLOURL, bob))
	if r.status != http.StatusSeeOther || e.lastAudit("company.saml_logout_unknown") == nil || !stillIn(bb, account) {
		t.Fatalf("Acme's IdP naming Bob: %d, Bob signed in %v", r.status, stillIn(bb, account))
	}

	// IdP-initiated: the IdP sends the browser to Gatehouse with its
	// LogoutRequest; Gatehouse answers, the IdP finishes. (The clock moves
	// on: sessions issued before the logout end, not those after.)
	e.down.clock.Advance(time.Second)
	b := newBrowser(t)
	r = b.get(strings.Replace(e.idp.srv.URL, "127.0.0.1", "localhost", 1) + "/logout?session=s-" + url.QueryEscape(janeEmail))
	captured := resolve(r.url, r.header.Get("Location"))
	if !strings.HasPrefix(captured, e.view.SAMLSLOURL+"?") {
		t.Fatalf("IdP logout went to %d %s", r.status, captured)
	}
	r = b.get(captured)
	answer := resolve(r.url, r.header.Get("Location"))
	if r.status != http.StatusSeeOther || !strings.Contains(answer, "SAMLResponse=") || !strings.Contains(answer, "Signature=") {
		t.Fatalf("Gatehouse's answer: %d %s %s", r.status, answer, r.body)
	}
	if r = b.get(answer); r.status != http.StatusOK || !strings.Contains(strings.ToLower(r.body), "logged out") {
		t.Fatalf("IdP after the LogoutResponse: %d %s", r.status, r.body)
	}
	if stillIn(b1, account) || stillIn(b2, account) {
		t.Fatal("Jane's sessions survived the IdP's logout")
	}
	if !stillIn(bb, account) {
		t.Fatal("Bob's session ended with Jane's")
	}
	if d := e.lastAudit("user.saml_logout"); d["provider"] != e.view.Name {
		t.Fatalf("audit %v", d)
	}
	if r := newBrowser(t).get(captured); r.status == http.StatusSeeOther {
		t.Fatal("the captured LogoutRequest was accepted twice")
	}
	if d := e.lastAudit("company.saml_logout_refused"); !strings.Contains(d["reason"], "already") {
		t.Fatalf("replay refusal %v", d)
	}

	// SP-initiated: Jane signs out of Gatehouse.
	b3, account3 := e.signedInAs(e.idp, e.view.Name, janeEmail)
	page := b3.get(strings.Replace(account3, "/account", "/signout", 1))
	r = b3.submit(page)
	toIdP := resolve(r.url, r.header.Get("Location"))
	if !strings.Contains(toIdP, "/slo?SAMLRequest=") || !strings.Contains(toIdP, "Signature=") {
		t.Fatalf("sign-out went to %d %s", r.status, toIdP)
	}
	e.idp.mu.Lock()
	ended := e.idp.ended
	e.idp.mu.Unlock()
	r = b3.get(toIdP)
	back := resolve(r.url, r.header.Get("Location"))
	if !strings.HasPrefix(back, e.view.SAMLSLOURL+"?SAMLResponse=") {
		t.Fatalf("IdP answered %d %s %s", r.status, back, r.body)
	}
	e.idp.mu.Lock()
	if e.idp.ended != ended+1 {
		t.Fatalf("the IdP session did not end (%d)", e.idp.ended)
	}
	e.idp.mu.Unlock()
	r = b3.get(back)
	if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.Contains(loc, "notice=signedout") {
		t.Fatalf("after the LogoutResponse: %d %s", r.status, loc)
	}
	if stillIn(b3, account3) {
		t.Fatal("still signed in")
	}
	// The same LogoutResponse again, without the sign-out's cookie.
	if r := newBrowser(t).get(back); r.status == http.StatusSeeOther {
		t.Fatal("a LogoutResponse without a pending sign-out was taken")
	}
}
