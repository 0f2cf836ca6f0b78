package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const poolHost = "auth.acme.example"

// onPoolDomain gives e's pool the domain poolHost (before any bare-path
// request, so the host -> pool cache sees it).
func onPoolDomain(t *testing.T, e *env) {
	t.Helper()
	e.pool.Domains = []string{poolHost}
	p, err := e.svc.UpdatePool(context.Background(), e.pool)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = p
}

// bareOnly fails when a page served on a bare path links to the /{pool}/
// prefix or puts the Host into a link.
func bareOnly(t *testing.T, e *env, what string, r resp) {
	t.Helper()
	if strings.Contains(r.body, "/"+e.pool.ID+"/") || strings.Contains(r.header.Get("Location"), "/"+e.pool.ID+"/") {
		t.Errorf("%s links to the /{pool}/ prefix: %s %s", what, r.header.Get("Location"), r.body)
	}
	if strings.Contains(r.body, poolHost) || strings.Contains(r.header.Get("Location"), poolHost) {
		t.Errorf("%s builds a link from the Host header: %s %s", what, r.header.Get("Location"), r.body)
	}
}

// TestHostedPagesOnPoolDomain walks article 000 on Cognito's bare paths of
// the pool's own domain (Host: auth.acme.example): sign up, verify,
// waiting for approval, sign in, account, sign out, forgot and reset
// password. Every page, form action and redirect stays on bare paths.
func TestHostedPagesOnPoolDomain(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	onPoolDomain(t, e)
	b := e.browser()
	b.hdr.Set("Host", poolHost+":443")
	get := func(p string) resp {
		t.Helper()
		r := b.get(e.base + p)
		bareOnly(t, e, "GET "+p, r)
		return r
	}
	submit := func(p string, form url.Values) resp {
		t.Helper()
		r := b.submit(e.base+p, form)
		bareOnly(t, e, "POST "+p, r)
		return r
	}

	su := must(t, get("/signup?client_id="+e.clientID), http.StatusOK)
	for _, want := range []string{`action="/signup"`, `href="/theme.css"`, `/signup/companies`, `href="/login?`} {
		if !strings.Contains(su.body, want) {
			t.Errorf("bare sign-up page lacks %q: %s", want, su.body)
		}
	}
	css := must(t, get("/theme.css"), http.StatusOK)
	if !strings.Contains(css.body, "--gh-primary:#6b2fb3") {
		t.Errorf("bare theme.css: %s", css.body)
	}
	var names struct{ Names []string }
	if err := json.Unmarshal([]byte(must(t, get("/signup/companies?prefix=Acm"), http.StatusOK).body), &names); err != nil ||
		len(names.Names) == 0 || names.Names[0] != "Acme Corporation" {
		t.Errorf("bare type-ahead: %v %v", names, err)
	}

	r := must(t, submit("/signup?client_id="+e.clientID, signUpForm("dora@example.org", "Acme Corporation")), http.StatusSeeOther)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/confirmUser?") {
		t.Fatalf("after sign-up: %s", loc)
	}
	code := e.mail("dora@example.org").Code()
	cp := must(t, get(loc), http.StatusOK)
	if !strings.Contains(cp.body, `action="/confirmUser"`) || !strings.Contains(cp.body, `action="/confirmUser/resend"`) {
		t.Errorf("bare code page: %s", cp.body)
	}
	r = must(t, submit(loc, url.Values{"username": {"dora@example.org"}, "code": {code}}), http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/pending?") {
		t.Fatalf("after the code: %s", loc)
	}
	if p := get(loc); !strings.Contains(p.body, "Waiting for approval") {
		t.Fatalf("bare pending page: %s", p.body)
	}
	a := e.browser().submit(approveLink(t, e.mail("boss@acme.example")), url.Values{})
	must(t, a, http.StatusOK)

	r = must(t, submit("/login?client_id="+e.clientID, url.Values{"username": {"dora@example.org"}, "password": {pw}}), http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/account?") {
		t.Fatalf("after sign-in: %s", loc)
	}
	acct := must(t, get(loc), http.StatusOK)
	if !strings.Contains(acct.body, "dora@example.org") || !strings.Contains(acct.body, `action="/signout"`) {
		t.Fatalf("bare account page: %s", acct.body)
	}
	// The session is the pool's: the /{pool}/ form of the page sees it too.
	if r := b.get(e.page("account?client_id=" + e.clientID)); r.status != http.StatusOK {
		t.Errorf("prefix account page on the pool domain: %d", r.status)
	}
	r = must(t, submit("/signout?client_id="+e.clientID, url.Values{}), http.StatusSeeOther)
	if got := r.header.Get("Location"); !strings.HasPrefix(got, "/login?") || !strings.Contains(got, "notice=signedout") {
		t.Fatalf("after sign-out: %s", got)
	}
	r = must(t, get(loc), http.StatusFound)
	if got := r.header.Get("Location"); got != "/login?client_id="+e.clientID+"&return_to=%2Faccount" {
		t.Fatalf("account after sign-out: %s", got)
	}

	r = must(t, submit("/forgotPassword?client_id="+e.clientID, url.Values{"username": {"dora@example.org"}}), http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/confirmForgotPassword?") {
		t.Fatalf("after forgot: %s", loc)
	}
	var resetCode string
	for resetCode == "" { // skip the approval notice
		resetCode = e.mail("dora@example.org").Code()
	}
	const newPW = "another horse battery staple 43"
	r = must(t, submit(loc, url.Values{"username": {"dora@example.org"}, "code": {resetCode}, "password": {newPW}}), http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "notice=reset") {
		t.Fatalf("after reset: %s", loc)
	}
	r = must(t, submit(loc, url.Values{"username": {"dora@example.org"}, "password": {newPW}}), http.StatusSeeOther)
	if got := r.header.Get("Location"); !strings.HasPrefix(got, "/account?") {
		t.Fatalf("sign-in with the new password: %s", got)
	}
}

// TestBarePathsNeedAPoolDomain: on a Host that is no pool's domain (or no
// Host the pools know) every bare path is 404, GET and POST; the /{pool}/
// pages keep working on any host and keep their prefix.
func TestBarePathsNeedAPoolDomain(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	onPoolDomain(t, e)
	paths := []string{"/login", "/signup", "/signup/companies", "/confirmUser", "/confirmUser/resend", "/pending", "/new-password",
		"/forgotPassword", "/confirmForgotPassword", "/account", "/signout", "/theme.css"}
	for _, host := range []string{"other.example", "acme.example", "auth.acme.example.evil.example", ""} {
		b := e.browser()
		if host != "" {
			b.hdr.Set("Host", host)
		}
		for _, p := range paths {
			if r := b.get(e.base + p + "?client_id=" + e.clientID); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
				t.Errorf("GET %s on %q: %d", p, host, r.status)
			}
			if r := b.post(e.base+p, url.Values{"client_id": {e.clientID}}); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
				t.Errorf("POST %s on %q: %d", p, host, r.status)
			}
		}
		r := must(t, b.get(e.page("login?client_id="+e.clientID)), http.StatusOK)
		if !strings.Contains(r.body, `action="/`+e.pool.ID+`/login"`) {
			t.Errorf("prefix sign-in page on %q: %s", host, r.body)
		}
	}
	// On the pool's domain, the prefix pages keep their prefix.
	b := e.browser()
	b.hdr.Set("Host", strings.ToUpper(poolHost))
	r := must(t, b.get(e.page("login?client_id="+e.clientID)), http.StatusOK)
	if !strings.Contains(r.body, `action="/`+e.pool.ID+`/login"`) {
		t.Errorf("prefix sign-in page on the pool domain: %s", r.body)
	}
	if r := b.get(e.base + "/login?client_id=" + e.clientID); r.status != http.StatusOK {
		t.Errorf("bare sign-in page, Host in capitals: %d", r.status)
	}
}

// TestBareFormsCheckCSRF: a bare form's token is bound to its bare path;
// the /{pool}/ form's token, no token, or a cross-site post is refused.
func TestBareFormsCheckCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	onPoolDomain(t, e)
	confirmedUser(t, e, "csrf@example.org")
	b := e.browser()
	b.hdr.Set("Host", poolHost)
	prefix := must(t, b.get(e.page("login?client_id="+e.clientID)), http.StatusOK)
	form := url.Values{"client_id": {e.clientID}, "username": {"csrf@example.org"}, "password": {pw}}
	if r := b.post(e.base+"/login", form); r.status != http.StatusForbidden {
		t.Errorf("bare login without a token: %d", r.status)
	}
	form.Set("csrf", prefix.csrf())
	if r := b.post(e.base+"/login", form); r.status != http.StatusForbidden {
		t.Errorf("bare login with the /{pool}/login token: %d", r.status)
	}
	bare := must(t, b.get(e.base+"/login?client_id="+e.clientID), http.StatusOK)
	form.Set("csrf", bare.csrf())
	if r := b.post(e.page("login"), form); r.status != http.StatusForbidden {
		t.Errorf("/{pool}/login with the bare token: %d", r.status)
	}
	b.hdr.Set("Sec-Fetch-Site", "cross-site")
	if r := b.post(e.base+"/login", form); r.status != http.StatusForbidden {
		t.Errorf("cross-site bare login: %d", r.status)
	}
	b.hdr.Del("Sec-Fetch-Site")
	if r := b.post(e.base+"/login", form); r.status != http.StatusSeeOther {
		t.Errorf("bare login with its own token: %d %s", r.status, r.body)
	}
}

// TestBareReturnTo: on the pool's domain return_to must be a bare path
// (/oauth2/authorize or a hosted page); anything else, the /{pool}/ form
// included, leads to the bare account page.
func TestBareReturnTo(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	onPoolDomain(t, e)
	confirmedUser(t, e, "rt@example.org")
	for _, tc := range []struct{ rt, want string }{
		{"/oauth2/authorize?client_id=x&state=s", "/oauth2/authorize?client_id=x&state=s"},
		{"/account", "/account"},
		{"/" + e.pool.ID + "/oauth2/authorize?client_id=x", "/account?"},
		{"https://evil.example/oauth2/authorize", "/account?"},
		{"//evil.example/oauth2/authorize", "/account?"},
		{"/\\evil.example/oauth2/authorize", "/account?"},
		{"/oauth2/../account", "/account?"},
		{"/oauth2%2fauthorize", "/account?"},
		{"/api/v1/pools", "/account?"},
		{"/theme.css", "/account?"},
	} {
		b := e.browser()
		b.hdr.Set("Host", poolHost)
		r := b.submit(e.base+"/login?client_id="+e.clientID+"&return_to="+url.QueryEscape(tc.rt),
			url.Values{"username": {"rt@example.org"}, "password": {pw}, "return_to": {tc.rt}})
		must(t, r, http.StatusSeeOther)
		if got := r.header.Get("Location"); !strings.HasPrefix(got, tc.want) {
			t.Errorf("return_to %q: went to %q, want %q", tc.rt, got, tc.want)
		}
	}
}

// TestCognitoLoginParams: Cognito's hosted UI is opened as
// /login?client_id=&response_type=code&redirect_uri=&scope=&state=; that
// is the authorization request, sent on to /oauth2/authorize (bare on the
// pool's domain, /{pool}/oauth2/authorize under the prefix). /signup with
// them comes back to /oauth2/authorize after the sign-in.
func TestCognitoLoginParams(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	onPoolDomain(t, e)
	q := url.Values{"client_id": {e.clientID}, "response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"},
		"scope": {"openid email"}, "state": {"st8"}, "username": {"ignored@example.org"}}
	want := url.Values{"client_id": {e.clientID}, "response_type": {"code"}, "redirect_uri": {"https://rp.example/cb"},
		"scope": {"openid email"}, "state": {"st8"}}.Encode()
	b := e.browser()
	b.hdr.Set("Host", poolHost)
	r := must(t, b.get(e.base+"/login?"+q.Encode()), http.StatusFound)
	if got := r.header.Get("Location"); got != "/oauth2/authorize?"+want {
		t.Errorf("bare /login with Cognito's parameters went to %q", got)
	}
	r = must(t, b.get(e.page("login?"+q.Encode())), http.StatusFound)
	if got := r.header.Get("Location"); got != "/"+e.pool.ID+"/oauth2/authorize?"+want {
		t.Errorf("/{pool}/login with Cognito's parameters went to %q", got)
	}
	su := must(t, b.get(e.base+"/signup?"+q.Encode()), http.StatusOK)
	if !strings.Contains(html.UnescapeString(su.body), `name="return_to" value="/oauth2/authorize?`+want+`"`) {
		t.Errorf("bare /signup with Cognito's parameters does not come back to authorize: %s", su.body)
	}
	// An unknown client is refused before anything else.
	q.Set("client_id", "nosuchclient")
	if r := b.get(e.base + "/login?" + q.Encode()); r.status != http.StatusNotFound {
		t.Errorf("unknown client: %d", r.status)
	}
}

// TestBareProviderButtonsGoToTheIssuer: the upstream provider calls back
// to the issuer, so on the pool's domain a provider button leads to the
// issuer's federation start (from the configuration, never the Host),
// with return_to turned into its /{pool}/ form.
func TestBareProviderButtonsGoToTheIssuer(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	e.pool.Domains = []string{poolHost}
	e.pool.Settings.IdentityProviders = []identity.IdentityProvider{{Name: "corp", Type: identity.ProviderOIDC,
		Issuer: "https://idp.example", ClientID: "gatehouse"}}
	p, err := e.svc.UpdatePool(context.Background(), e.pool)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = p
	b := e.browser()
	b.hdr.Set("Host", poolHost)
	rt := "/oauth2/authorize?client_id=" + e.clientID + "&state=s"
	r := must(t, b.get(e.base+"/login?client_id="+e.clientID+"&return_to="+url.QueryEscape(rt)), http.StatusOK)
	want := e.svc.Issuer(e.pool) + "/federation/corp?" + url.Values{"client_id": {e.clientID},
		"return_to": {"/" + e.pool.ID + rt}}.Encode()
	if !strings.Contains(html.UnescapeString(r.body), `href="`+want+`"`) {
		t.Fatalf("provider button on the pool domain, want %s: %s", want, r.body)
	}
	if strings.Contains(r.body, "//"+poolHost) {
		t.Fatalf("a link built from the Host: %s", r.body)
	}
	// Under the prefix the button stays relative.
	r = must(t, b.get(e.page("login?client_id="+e.clientID)), http.StatusOK)
	if !strings.Contains(html.UnescapeString(r.body), `href="/`+e.pool.ID+`/federation/corp?client_id=`+e.clientID+`"`) {
		t.Fatalf("provider button under the prefix: %s", r.body)
	}
}
