package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Tokens of pool A at pool B's endpoints (docs/security.md T2, T3): every
// endpoint under /<pool>/ (and on a pool's own domain, and
// /authz/check/<pool>) that takes a token refuses one another pool issued,
// however valid it is there. Each case has its positive control at pool A.

// poolB is a second pool with a confidential code-flow client and a
// domain of its own; pool A (e.pool) gets a domain too.
type poolB struct {
	pool           *identity.Pool
	issuer         string
	client, secret string
}

func (e *env) secondPool() *poolB {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Pool B", UsernameMode: identity.UsernameEmail})
	if err != nil {
		e.t.Fatal(err)
	}
	p.Domains = []string{"auth.b.example"}
	if p, err = e.svc.UpdatePool(ctx, p); err != nil {
		e.t.Fatal(err)
	}
	cc, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: p.ID, Name: "rp-b", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{rpCallback}, LogoutURLs: []string{rpLogout},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "aws.cognito.signin.user.admin"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pool.Domains = []string{"auth.a.example"}
	if e.pool, err = e.svc.UpdatePool(ctx, e.pool); err != nil {
		e.t.Fatal(err)
	}
	return &poolB{pool: p, issuer: e.svc.Issuer(p), client: cc.Client.ID, secret: cc.Secret}
}

// send sends method url with a bearer token (and Host, when set) and
// returns the status.
func (e *env) send(method, u, host, tok string, form url.Values, basicID, basicSecret string) int {
	e.t.Helper()
	var req *http.Request
	if form != nil {
		req, _ = http.NewRequest(method, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, u, nil)
	}
	if host != "" {
		req.Host = host
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestUserInfoOfAnotherPool: GET and POST /<B>/oauth2/userInfo, and the
// bare /oauth2/userInfo on B's domain, answer 401 invalid_token for A's
// access token (before: 200 with A's user).
func TestUserInfoOfAnotherPool(t *testing.T) { // security.md T2
	t.Parallel()
	e := setup(t)
	b := e.secondPool()
	tok := e.confTokens(newBrowser(t), "openid email")["access_token"].(string)
	for _, m := range []string{"GET", "POST"} {
		if st, ui := e.userInfo(m, e.issuer, tok); st != 200 || ui["sub"] != e.sub {
			t.Fatalf("%s userInfo of its own pool: %d %v", m, st, ui)
		}
		st, ui := e.userInfo(m, b.issuer, tok)
		if st != 401 || ui["error"] != "invalid_token" || ui["sub"] != nil {
			t.Errorf("%s /<B>/oauth2/userInfo with A's token: %d %v", m, st, ui)
		}
		if st := e.send(m, e.base+"/oauth2/userInfo", "auth.a.example", tok, nil, "", ""); st != 200 {
			t.Errorf("%s bare userInfo on A's domain: %d", m, st)
		}
		if st := e.send(m, e.base+"/oauth2/userInfo", "auth.b.example", tok, nil, "", ""); st != 401 {
			t.Errorf("%s bare userInfo on B's domain with A's token: %d", m, st)
		}
	}
}

// TestTokenAndRevokeOfAnotherPool: A's refresh token and code at B's
// token and revoke endpoints: with A's client, invalid_client (the client
// is not B's); with B's client, invalid_grant / a revoke that revokes
// nothing. A's refresh token keeps working afterwards.
func TestTokenAndRevokeOfAnotherPool(t *testing.T) { // security.md T3
	t.Parallel()
	e := setup(t)
	b := e.secondPool()
	br := newBrowser(t)
	toks := e.confTokens(br, "openid")
	rt := toks["refresh_token"].(string)
	refreshAt := func(issuer, id, secret string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", issuer+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {rt}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return e.postJSON(req)
	}
	st, body := refreshAt(b.issuer, e.conf, e.confSecret)
	wantError(t, "A's client at B's token endpoint", st, body, 401, "invalid_client")
	st, body = refreshAt(b.issuer, b.client, b.secret)
	wantError(t, "A's refresh token with B's client", st, body, 400, "invalid_grant")

	// A's code at B: A's client is not B's; B's client does not own it.
	back := e.authorize(br, e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid"))
	code := back.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
	if st := e.send("POST", b.issuer+"/oauth2/token", "", "", form, e.conf, e.confSecret); st != 401 {
		t.Errorf("A's code with A's client at B: %d", st)
	}
	if st := e.send("POST", b.issuer+"/oauth2/token", "", "", form, b.client, b.secret); st != 400 {
		t.Errorf("A's code with B's client at B: %d", st)
	}

	// Revoke at B: A's client is refused; B's client revokes nothing.
	rev := url.Values{"token": {rt}}
	if st := e.send("POST", b.issuer+"/oauth2/revoke", "", "", rev, e.conf, e.confSecret); st != 401 {
		t.Errorf("A's client at B's revoke: %d", st)
	}
	if st := e.send("POST", b.issuer+"/oauth2/revoke", "", "", rev, b.client, b.secret); st != 200 {
		t.Errorf("A's token with B's client at B's revoke: %d", st)
	}
	if st := e.send("POST", e.base+"/oauth2/revoke", "auth.b.example", "", rev, b.client, b.secret); st != 200 {
		t.Errorf("A's token with B's client on B's domain: %d", st)
	}
	st, body = refreshAt(e.issuer, e.conf, e.confSecret)
	if st != 200 {
		t.Fatalf("A's refresh token after B's revoke attempts: %d %v", st, body)
	}
}

// postJSON sends req and decodes a JSON answer.
func (e *env) postJSON(req *http.Request) (int, map[string]any) {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestLogoutAndSessionOfAnotherPool: /<B>/logout refuses A's client (a
// page, no redirect), and A's hosted session — even its cookie value
// replayed under B's cookie name — does not sign anyone in at B's
// authorize endpoint.
func TestLogoutAndSessionOfAnotherPool(t *testing.T) { // security.md T3
	t.Parallel()
	e := setup(t)
	b := e.secondPool()
	br := e.signedIn()
	r := br.get(b.issuer + "/logout?" + url.Values{"client_id": {e.conf}, "logout_uri": {rpLogout}}.Encode())
	if r.status != 400 || r.header.Get("Location") != "" {
		t.Fatalf("A's client at B's logout: %d %q", r.status, r.header.Get("Location"))
	}
	baseURL, _ := url.Parse(e.base)
	var aCookie *http.Cookie
	for _, c := range br.b.C.Jar.Cookies(baseURL) {
		if strings.Contains(c.Name, e.pool.ID) {
			aCookie = c
		}
	}
	if aCookie == nil {
		t.Fatalf("no session cookie of pool A in %v", br.b.C.Jar.Cookies(baseURL))
	}
	forged := &http.Cookie{Name: strings.Replace(aCookie.Name, e.pool.ID, b.pool.ID, 1), Value: aCookie.Value, Path: "/"}
	br.b.C.Jar.SetCookies(baseURL, []*http.Cookie{forged})
	r = br.get(b.issuer + "/oauth2/authorize?" + url.Values{"client_id": {b.client}, "response_type": {"code"},
		"redirect_uri": {rpCallback}, "scope": {"openid"}, "prompt": {"none"}, "state": {"s"}}.Encode())
	lu, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || lu == nil || lu.Query().Get("error") != "login_required" {
		t.Fatalf("B's authorize with A's session: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestForwardAuthOfAnotherPool: /authz/check/<B> with A's access token is
// 401, whatever the cache holds.
func TestForwardAuthOfAnotherPool(t *testing.T) { // security.md T2
	t.Parallel()
	e := setup(t)
	b := e.secondPool()
	policy := authz.MustPolicy(authz.Rule{Path: "/"})
	e.mux.Handle(forwardauth.Pattern, forwardauth.New(e.svc, forwardauth.Options{
		Pools: map[string]forwardauth.Pool{e.pool.ID: {Policy: policy}, b.pool.ID: {Policy: policy}}}))
	tok := e.confTokens(newBrowser(t), "openid")["access_token"].(string)
	check := func(pool string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", e.base+"/authz/check/"+pool, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Original-Method", "GET")
		req.Header.Set("X-Original-URI", "/documents")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := check(e.pool.ID); st != 200 {
		t.Fatalf("own pool: %d", st)
	}
	if st := check(b.pool.ID); st != 401 {
		t.Fatalf("A's token at /authz/check/<B>: %d", st)
	}
}

// TestCompanyRoutesOfAnotherPool: /api/v1/pools/<B>/companies and
// /registrations with A's user token are 401 invalid_token (the token is
// not one of B's); at A they answer.
func TestCompanyRoutesOfAnotherPool(t *testing.T) { // security.md T2
	t.Parallel()
	e := setup(t)
	b := e.secondPool()
	tok := e.confTokens(newBrowser(t), "openid aws.cognito.signin.user.admin")["access_token"].(string)
	for _, path := range []string{"/companies", "/registrations?company=acme"} {
		if st, body, _ := e.apiCall("GET", "/api/v1/pools/"+e.pool.ID+path, tok, ""); st == 401 || st == 403 && body["code"] == "insufficient_scope" {
			t.Errorf("own pool %s: %d %v", path, st, body)
		}
		st, body, www := e.apiCall("GET", "/api/v1/pools/"+b.pool.ID+path, tok, "")
		if st != 401 || body["code"] != "invalid_token" || !strings.Contains(www, "invalid_token") {
			t.Errorf("A's token at B's %s: %d %v %q", path, st, body, www)
		}
	}
	// A relying party's token cannot act as a company admin either.
	narrow := e.confTokens(newBrowser(t), "openid email")["access_token"].(string)
	if st, body, _ := e.apiCall("GET", "/api/v1/pools/"+e.pool.ID+"/companies", narrow, ""); st != 403 || body["code"] != "insufficient_scope" {
		t.Errorf("openid email token at the company routes: %d %v", st, body)
	}
}
