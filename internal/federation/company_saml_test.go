package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A SAML 2.0 IdP built in the test from crewjam/saml's IdentityProvider,
// with its own RSA key and certificate, serving single sign-on at
// http://localhost:<port>/sso for whoever the test says is signed in. It
// requires signed AuthnRequests, encrypts assertions to the encryption
// certificate of the SP metadata (unless plain), serves its metadata at
// /metadata, and single logout at /slo (ServeSLO: the SP's LogoutRequests
// and LogoutResponses) and /logout?session=<id> (IdP-initiated: a signed
// LogoutRequest to every SP the session signed in to).
type samlIdP struct {
	t    *testing.T
	idp  *saml.IdentityProvider
	srv  *httptest.Server
	mu   sync.Mutex
	who  *saml.Session
	sp   func() []byte // the SP metadata it trusts
	aud  string        // when set, the SP entity id the assertions are for
	past time.Duration // when set, assertions are issued that long ago
	// plain: the SP's encryption key is ignored (assertions in clear);
	// encTo, when set, is the certificate assertions are encrypted to.
	plain bool
	encTo *x509.Certificate
	// md, when set, is served at /metadata instead of the IdP's own.
	md       func() string
	sessions map[string]*saml.Session
	parts    map[string][]saml.SessionParticipant
	// ended counts the IdP sessions SP LogoutRequests ended.
	ended int
}

// testWriter writes the IdP's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newSAMLKey(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, cert := newSAMLKey(t)
	s := &samlIdP{t: t, sessions: map[string]*saml.Session{}, parts: map[string][]saml.SessionParticipant{}}
	mux := http.NewServeMux()
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	base, _ := url.Parse(strings.Replace(s.srv.URL, "127.0.0.1", "localhost", 1))
	s.idp = &saml.IdentityProvider{Key: key, Signer: key, Certificate: cert,
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"), LogoutURL: *base.JoinPath("slo"),
		LogoutBindings: []string{saml.HTTPRedirectBinding}, WantAuthnRequestsSigned: true, Logger: log.New(testWriter{t}, "test idp: ", 0),
		SessionProvider: s, ServiceProviderProvider: s, AssertionMaker: s}
	mux.HandleFunc("/sso", s.idp.ServeSSO)
	mux.HandleFunc("/slo", s.idp.ServeSLO)
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		md := s.md
		s.mu.Unlock()
		if md == nil {
			_, _ = w.Write([]byte(s.metadata()))
			return
		}
		_, _ = w.Write([]byte(md()))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		sess := s.sessions[r.URL.Query().Get("session")]
		s.mu.Unlock()
		s.idp.StartLogout(w, r, sess, "")
	})
	return s
}

func (s *samlIdP) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.who
}

// InvalidateSession ends the sessions an SP's LogoutRequest names
// (saml.SessionInvalidator).
func (s *samlIdP) InvalidateSession(w http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sess := range s.sessions {
		if req.MatchesSession(sess) {
			delete(s.sessions, id)
			if s.who == sess {
				s.who = nil
			}
			s.ended++
		}
	}
	return nil
}

// AddSessionParticipant and SessionParticipants: saml.SessionParticipantTracker.
func (s *samlIdP) AddSessionParticipant(r *http.Request, sess *saml.Session, p saml.SessionParticipant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.parts[sess.ID], func(o saml.SessionParticipant) bool { return o.ServiceProviderID == p.ServiceProviderID }) {
		s.parts[sess.ID] = append(s.parts[sess.ID], p)
	}
	return nil
}

func (s *samlIdP) SessionParticipants(r *http.Request, match func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []saml.SessionParticipant
	for id, sess := range s.sessions {
		if match(sess) {
			out = append(out, s.parts[id]...)
		}
	}
	return out, nil
}

func (s *samlIdP) GetServiceProvider(r *http.Request, id string) (*saml.EntityDescriptor, error) {
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(s.sp(), &ed); err != nil {
		return nil, err
	}
	s.mu.Lock()
	plain, encTo := s.plain, s.encTo
	s.mu.Unlock()
	for i := range ed.SPSSODescriptors {
		kds := ed.SPSSODescriptors[i].KeyDescriptors[:0]
		for _, kd := range ed.SPSSODescriptors[i].KeyDescriptors {
			if kd.Use == "encryption" && plain {
				continue
			}
			if kd.Use == "encryption" && encTo != nil {
				kd.KeyInfo.X509Data.X509Certificates = []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(encTo.Raw)}}
			}
			kds = append(kds, kd)
		}
		ed.SPSSODescriptors[i].KeyDescriptors = kds
	}
	return &ed, nil
}

// MakeAssertion is crewjam's DefaultAssertionMaker, then the test's
// tampering of audience or time.
func (s *samlIdP) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	s.mu.Lock()
	aud, past := s.aud, s.past
	s.mu.Unlock()
	if past != 0 {
		req.Now = req.Now.Add(-past)
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	if aud != "" {
		req.Assertion.Conditions.AudienceRestrictions[0].Audience.Value = aud
	}
	return nil
}

func (s *samlIdP) metadata() string {
	b, err := xml.Marshal(s.idp.Metadata())
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func (s *samlIdP) signIn(email string, groups ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.who = &saml.Session{ID: "s-" + email, CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
		NameID: email, NameIDFormat: string(saml.EmailAddressNameIDFormat), UserEmail: email, UserCommonName: "Someone"}
	s.sessions[s.who.ID] = s.who
	if len(groups) > 0 {
		at := saml.Attribute{Name: "groups"}
		for _, g := range groups {
			at.Values = append(at.Values, saml.AttributeValue{Type: "xs:string", Value: g})
		}
		s.who.CustomAttributes = []saml.Attribute{at}
	}
}

type samlEnv struct {
	*ssoEnv
	idp  *samlIdP
	view *auth.CompanyIdPView
}

// setupSAML: the company SSO setup, with Acme's provider replaced by the
// test's SAML IdP.
func setupSAML(t *testing.T) *samlEnv {
	t.Helper()
	e := &samlEnv{ssoEnv: setupSSO(t, false), idp: newSAMLIdP(t)}
	var err error
	e.view, err = e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "Acme Corporation", auth.CompanyIdPInput{Kind: "saml",
		MetadataXML: e.idp.metadata(), AttributeMapping: map[string]string{"email": "email", "name": "cn"}})
	if err != nil {
		t.Fatal(err)
	}
	e.idp.sp = func() []byte { return e.spMetadata(e.view) }
	e.idp.signIn(janeEmail)
	return e
}

func (e *samlEnv) spMetadata(v *auth.CompanyIdPView) []byte {
	e.t.Helper()
	r := newBrowser(e.t).get(v.SAMLEntityID)
	if r.status != http.StatusOK || !strings.Contains(r.body, "AssertionConsumerService") {
		e.t.Fatalf("SP metadata: %d %s", r.status, r.body)
	}
	return []byte(r.body)
}

var (
	samlRespRE  = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	samlRelayRE = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
)

// samlForm is the IdP's auto-posting form: where it posts, and what.
type samlForm struct{ action, response, relay string }

// start begins a sign-in with provider and returns the IdP's form.
func (e *samlEnv) start(b *browser, provider string) samlForm {
	e.t.Helper()
	r := b.get(e.downIssuer + "/federation/" + url.PathEscape(provider) + "?client_id=" + e.app)
	for i := 0; i < 5 && (r.status == http.StatusFound || r.status == http.StatusSeeOther); i++ {
		r = b.get(resolve(r.url, r.header.Get("Location")))
	}
	m, rl := samlRespRE.FindStringSubmatch(r.body), samlRelayRE.FindStringSubmatch(r.body)
	a := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || rl == nil || a == nil {
		e.t.Fatalf("IdP answer: %d %s", r.status, r.body)
	}
	return samlForm{html.UnescapeString(a[1]), html.UnescapeString(m[1]), html.UnescapeString(rl[1])}
}

// post delivers a form to the ACS as the IdP's page does, then the
// relay page's hop, and follows the redirect after it.
func (e *samlEnv) post(b *browser, f samlForm) resp {
	e.t.Helper()
	r := local(b.b.Post(f.action, url.Values{"SAMLResponse": {f.response}, "RelayState": {f.relay}}))
	if r.status != http.StatusOK || !strings.Contains(r.body, "data-autosubmit") {
		e.t.Fatalf("ACS: %d %s", r.status, r.body)
	}
	r = local(b.b.Post(resolve(r.url, html.UnescapeString(regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(r.body)[1])),
		url.Values{"SAMLResponse": {f.response}, "RelayState": {f.relay}}))
	if r.status == http.StatusSeeOther || r.status == http.StatusFound {
		return b.get(resolve(r.url, r.header.Get("Location")))
	}
	return r
}

// lastFailure is the reason of the pool's latest federated failure.
func (e *samlEnv) lastFailure() string {
	evs, _, err := e.down.svc.Audit(context.Background(), auth.AuditQuery{PoolID: e.pool.ID, Action: "user.federated_sign_in_failed", Limit: 1})
	if err != nil || len(evs) == 0 {
		return ""
	}
	return evs[0].Detail["reason"]
}

// TestCompanySAMLSignIn: the email-first page sends Jane to Acme's SAML
// IdP; its signed response makes her a member of Acme (attribute, group)
// without an approval; the SP metadata names the ACS and wants signed
// assertions.
func TestCompanySAMLSignIn(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	md := string(e.spMetadata(e.view))
	if !strings.Contains(md, `WantAssertionsSigned="true"`) || !strings.Contains(md, e.view.SAMLACSURL) {
		t.Fatalf("SP metadata %s", md)
	}
	b := newBrowser(t)
	r := b.submit(e.loginPage(b), "username", janeEmail)
	if loc := r.header.Get("Location"); !strings.Contains(loc, "/federation/"+url.PathEscape(e.view.Name)) {
		t.Fatalf("home realm: %d %s", r.status, loc)
	}
	r = e.post(b, e.start(b, e.view.Name))
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("ended at %s: %d %s (%s)", r.url, r.status, r.body, e.lastFailure())
	}
	u := e.user(e.view.Name + "_" + janeEmail)
	v, err := e.down.svc.AdminGetUser(context.Background(), e.pool.ID, u.Username)
	if err != nil || u.Attributes["custom:company_name"] != "Acme Corporation" || !u.EmailVerified || u.Attributes["name"] != "Someone" ||
		!slices.Contains(v.Groups, "Acme-Corporation") {
		t.Fatalf("user %+v %v %v", u, v.Groups, err)
	}
}

// TestCompanySAMLAttacks: unsigned, expired, replayed, wrong-audience and
// signature-wrapped responses are refused, each for its own reason, and a
// response of Acme's IdP does not sign anyone into Beta; none creates a
// user.
func TestCompanySAMLAttacks(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	e.idp.plain = true // the edits below work on the assertion in clear
	before := e.count()
	refused := func(name string, r resp, reason string) {
		t.Helper()
		if r.status == http.StatusOK && strings.Contains(r.url, "/account") {
			t.Fatalf("%s: signed in", name)
		}
		got := e.lastFailure()
		t.Logf("%s: refused: %s", name, got)
		if reason != "" && !strings.Contains(got, reason) {
			t.Fatalf("%s: failure %q, want %q", name, got, reason)
		}
		if e.count() != before {
			t.Fatalf("%s: a user was created", name)
		}
	}
	edit := func(f samlForm, change func(doc *etree.Document)) samlForm {
		raw, err := base64.StdEncoding.DecodeString(f.response)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		change(doc)
		out, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		f.response = base64.StdEncoding.EncodeToString(out)
		return f
	}
	stripSig := func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if c.Tag == "Signature" {
				el.RemoveChild(c)
			}
		}
	}
	assertion := func(doc *etree.Document) *etree.Element { return doc.Root().SelectElement("Assertion") }

	// Unsigned: both signatures removed.
	b := newBrowser(t)
	refused("unsigned", e.post(b, edit(e.start(b, e.view.Name), func(d *etree.Document) {
		stripSig(d.Root())
		stripSig(assertion(d))
	})), "not signed")
	// Only the Response signed (the assertion's signature removed): the
	// assertion must carry its own.
	b = newBrowser(t)
	refused("assertion unsigned", e.post(b, edit(e.start(b, e.view.Name), func(d *etree.Document) { stripSig(assertion(d)) })), "not signed")

	// Wrapped: the Response's signature removed (allowed alone), the signed
	// assertion kept, and an assertion for Eve put before it.
	b = newBrowser(t)
	refused("wrapped, two assertions", e.post(b, edit(e.start(b, e.view.Name), func(d *etree.Document) {
		stripSig(d.Root())
		evil := assertion(d).Copy()
		stripSig(evil)
		evil.CreateAttr("ID", "_evil")
		evil.FindElement(".//NameID").SetText("eve@acme.example")
		d.Root().InsertChildAt(assertion(d).Index(), evil)
	})), "exactly one")
	b = newBrowser(t)
	refused("wrapped, signed assertion inside the evil one", e.post(b, edit(e.start(b, e.view.Name), func(d *etree.Document) {
		stripSig(d.Root())
		orig := assertion(d)
		evil := orig.Copy()
		evil.FindElement(".//NameID").SetText("eve@acme.example")
		d.Root().RemoveChild(orig)
		evil.FindElement(".//Subject").AddChild(orig)
		d.Root().AddChild(evil)
	})), "Signature could not be verified")
	b = newBrowser(t)
	refused("NameID changed under the signature", e.post(b, edit(e.start(b, e.view.Name), func(d *etree.Document) {
		stripSig(d.Root())
		assertion(d).FindElement(".//NameID").SetText("eve@acme.example")
	})), "Signature could not be verified")

	// Expired: issued an hour ago.
	e.idp.mu.Lock()
	e.idp.past = time.Hour
	e.idp.mu.Unlock()
	b = newBrowser(t)
	refused("expired", e.post(b, e.start(b, e.view.Name)), "expired")
	e.idp.mu.Lock()
	e.idp.past, e.idp.aud = 0, "https://another-sp.example/metadata"
	e.idp.mu.Unlock()
	b = newBrowser(t)
	refused("wrong audience", e.post(b, e.start(b, e.view.Name)), "udience")
	e.idp.mu.Lock()
	e.idp.aud = ""
	e.idp.mu.Unlock()

	// Replayed: a good response used once, then again with the same
	// attempt's cookie restored.
	b = newBrowser(t)
	good := e.start(b, e.view.Name)
	jar := b.b.C.Jar
	down, _ := url.Parse(e.down.base)
	saved := jar.Cookies(down)
	if r := e.post(b, good); !strings.Contains(r.url, "/account") {
		t.Fatalf("the good response: %s %d %s (%s)", r.url, r.status, r.body, e.lastFailure())
	}
	before = e.count()
	b2 := newBrowser(t)
	b2.b.C.Jar.SetCookies(down, saved)
	refused("replayed", e.post(b2, good), "already been used")

	// Acme's response into Beta's sign-in.
	betaIdP := newSAMLIdP(t)
	bv, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", auth.CompanyIdPInput{Kind: "saml", MetadataXML: betaIdP.metadata()})
	if err != nil {
		t.Fatal(err)
	}
	betaIdP.sp = func() []byte { return e.spMetadata(bv) }
	betaIdP.plain = true
	betaIdP.signIn("bob@beta.example")
	b = newBrowser(t)
	acme := e.start(b, e.view.Name)
	b = newBrowser(t)
	beta := e.start(b, bv.Name)
	beta.response = acme.response
	refused("Acme's response into Beta", e.post(b, beta), "trusted certs")
}

// TestCompanySAMLBrowser: headless Chromium from the email-first page to
// Acme's SAML IdP (a signed AuthnRequest), whose page posts the response
// (an encrypted assertion) across sites to the ACS; the relay page posts
// it on with the sign-in cookie, and Jane lands on the account page as a
// member of Acme. Her sign-out then goes through the IdP's single logout
// (a signed LogoutRequest, the IdP's signed LogoutResponse) back to the
// sign-in page, and her IdP session is over.
func TestCompanySAMLBrowser(t *testing.T) {
	path := chromium(t)
	e := setupSAML(t)
	b := newTab(t, path)
	b.open(e.downIssuer + "/login?client_id=" + e.app)
	b.waitFor(`!!document.getElementById("username") && !document.getElementById("password")`, "the email-first page")
	b.do(chromedp.SendKeys(chromedp.ID("username"), janeEmail))
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname.endsWith("/account") && document.readyState === "complete"`, e.down.base),
		"the account page")
	b.shot("company-saml-01-signed-in")
	if txt := b.text(); !strings.Contains(txt, "Acme Corporation") || !strings.Contains(txt, "Acme-Corporation") {
		t.Fatalf("account page: %s (%s)", txt, e.lastFailure())
	}
	// The assertion came encrypted (the SP metadata publishes its
	// encryption certificate; the IdP encrypts to it), and the request
	// signed (the IdP requires it).
	if d := e.lastAudit("user.sign_up"); d["provider"] != e.view.Name {
		t.Fatalf("sign-up audit %v", d)
	}
	// Single logout: signing out of Gatehouse goes through the IdP's
	// single logout service and back to the sign-in page.
	b.do(chromedp.Click(chromedp.CSS(`form[action$="signout"] button[type=submit]`)))
	b.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname.endsWith("/login") && location.search.includes("signedout")`, e.down.base),
		"the sign-in page after single logout")
	b.shot("company-saml-02-signed-out")
	e.idp.mu.Lock()
	defer e.idp.mu.Unlock()
	if e.idp.ended != 1 {
		t.Fatalf("the IdP session was not ended (%d)", e.idp.ended)
	}
}

// TestCompanySAMLGroupMapping: Acme maps its IdP's "eng" group to the
// pool's "engineers"; a sign-in asserting it joins the group, the next one
// without it leaves it. The mapping cannot name the console's admin
// group, another company's group or a group the pool lacks.
func TestCompanySAMLGroupMapping(t *testing.T) {
	t.Parallel()
	e := setupSAML(t)
	ctx := context.Background()
	for _, g := range []string{"engineers", "Admins"} { // Beta's group exists with the company
		if _, err := e.down.svc.CreateGroup(ctx, &identity.Group{PoolID: e.pool.ID, Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	in := auth.CompanyIdPInput{Kind: "saml", AttributeMapping: map[string]string{"email": "email"}}
	for _, bad := range []string{"Admins", "Beta", "nope"} {
		in.GroupMapping = map[string]string{"eng": bad}
		if _, err := e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "Acme Corporation", in); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("mapping to %s: %v", bad, err)
		}
	}
	in.GroupMapping = map[string]string{"eng": "engineers"}
	if _, err := e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "Acme Corporation", in); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("company admin maps to a group no pool admin allowed: %v", err)
	}
	if _, err := e.down.svc.SetCompanyIdP(ctx, e.pool.ID, "Acme Corporation", in); err != nil { // the pool admin allows it
		t.Fatal(err)
	}
	groups := func() []string {
		t.Helper()
		v, err := e.down.svc.AdminGetUser(ctx, e.pool.ID, e.view.Name+"_"+janeEmail)
		if err != nil {
			t.Fatal(err)
		}
		return v.Groups
	}
	e.idp.signIn(janeEmail, "eng", "sales")
	b := newBrowser(t)
	if r := e.post(b, e.start(b, e.view.Name)); !strings.Contains(r.url, "/account") {
		t.Fatalf("sign-in: %s %d (%s)", r.url, r.status, e.lastFailure())
	}
	if g := groups(); !slices.Contains(g, "engineers") || !slices.Contains(g, "Acme-Corporation") {
		t.Fatalf("groups after eng: %v", g)
	}
	e.idp.signIn(janeEmail, "sales")
	b = newBrowser(t)
	if r := e.post(b, e.start(b, e.view.Name)); !strings.Contains(r.url, "/account") {
		t.Fatalf("second sign-in: %s %d (%s)", r.url, r.status, e.lastFailure())
	}
	if g := groups(); slices.Contains(g, "engineers") || !slices.Contains(g, "Acme-Corporation") {
		t.Fatalf("groups without eng: %v", g)
	}
}
