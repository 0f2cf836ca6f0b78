package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signedIn returns a browser with a hosted session (it went through one
// authorization request of the confidential client).
func (e *env) signedIn() *browser {
	e.t.Helper()
	b := newBrowser(e.t)
	e.authorize(b, e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid"))
	return b
}

// TestRedirectURIExactMatch: every variant of a registered callback is
// refused with a page (never a redirect), signed in or not.
func TestRedirectURIExactMatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addCallback(e.conf, "https://app.example/cb")
	b := e.signedIn()
	for _, bad := range []string{
		"https://APP.example/cb",          // host case
		"https://app.example/CB",          // path case
		"HTTPS://app.example/cb",          // scheme case
		"https://app.example/cb/",         // trailing slash
		"https://app.example/cbx",         // added suffix
		"https://app.example/cb/extra",    // added path
		"https://app.example.evil.com/cb", // host suffix
		"https://app.example@evil.com/cb", // userinfo trick
		"https://evil.com@app.example/cb", // userinfo before the real host
		"https://app.example/cb/../evil",  // dot segments
		"https://app.example/x/../cb",     // dot segments that clean to it
		"https://app.example/cb%2F..%2Fevil",
		"javascript:alert(1)//https://app.example/cb",
		"http://app.example/cb",         // downgrade
		"http://localhost/cb",           // localhost when only https is registered
		"https://app.example:443/cb",    // explicit port
		"https://app.example/cb?x=1",    // query added
		"https://app.example/cb#frag",   // fragment
		" https://app.example/cb",       // whitespace
		"https://app.example/cb\t",      // control
		"//app.example/cb",              // scheme-relative
		"https://app.example\\@evil/cb", // backslash
		"",
	} {
		r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", bad, "scope", "openid", "state", "s"))
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("redirect_uri %q: %d Location=%q", bad, r.status, r.header.Get("Location"))
		}
	}
	// The registered one works.
	r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", "https://app.example/cb", "scope", "openid", "state", "s"))
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "https://app.example/cb?") {
		t.Fatalf("registered callback: %d %q", r.status, r.header.Get("Location"))
	}
	// Unknown client: a page too.
	r = b.get(e.authURL("client_id", "nosuchclient", "response_type", "code", "redirect_uri", rpCallback))
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("unknown client: %d %q", r.status, r.header.Get("Location"))
	}
	// A client of another pool through this pool's path: refused.
	r = b.get(e.base + "/other_pool/oauth2/authorize?" + url.Values{"client_id": {e.conf}, "response_type": {"code"}, "redirect_uri": {rpCallback}}.Encode())
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("other pool path: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestAuthorizeErrorsRedirect: once redirect_uri is known good, errors go
// back to it with state.
func TestAuthorizeErrorsRedirect(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	_, ch := pkce()
	for _, c := range []struct {
		name string
		kv   []string
		want string
	}{
		{"token response type", []string{"client_id", e.conf, "response_type", "token", "redirect_uri", rpCallback}, "unsupported_response_type"},
		{"only unknown scopes", []string{"client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "admin address"}, "invalid_scope"},
		{"custom scope in code flow", []string{"client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "orders/read"}, "invalid_scope"},
		{"public without PKCE", []string{"client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid"}, "invalid_request"},
		{"public with plain PKCE", []string{"client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch, "code_challenge_method", "plain"}, "invalid_request"},
		{"PKCE without method", []string{"client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch}, "invalid_request"},
		{"prompt none signed out", []string{"client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch, "code_challenge_method", "S256", "prompt", "none"}, "login_required"},
	} {
		kv := append(c.kv, "state", "st8")
		r := b.get(e.authURL(kv...))
		loc, _ := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), rpCallback+"?") ||
			loc.Query().Get("error") != c.want || loc.Query().Get("state") != "st8" || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q", c.name, r.status, r.header.Get("Location"))
		}
	}
	// Not signed in: to the sign-in page with return_to back here.
	r := b.get(e.authURL("client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch, "code_challenge_method", "S256"))
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/"+e.pool.ID+"/login?") {
		t.Fatalf("signed out: %d %q", r.status, r.header.Get("Location"))
	}
	lu, _ := url.Parse(r.header.Get("Location"))
	if rt := lu.Query().Get("return_to"); !strings.HasPrefix(rt, "/"+e.pool.ID+"/oauth2/authorize?") {
		t.Fatalf("return_to %q", rt)
	}
}

// codeFor runs an authorization of the public client with PKCE and
// returns the code and verifier.
func (e *env) codeFor(b *browser, client string) (string, string) {
	e.t.Helper()
	v, ch := pkce()
	back := e.authorize(b, e.authURL("client_id", client, "response_type", "code", "redirect_uri", rpCallback,
		"scope", "openid email", "state", "xyz", "nonce", "n1", "code_challenge", ch, "code_challenge_method", "S256"))
	if back.Query().Get("state") != "xyz" || back.Query().Get("code") == "" {
		e.t.Fatalf("callback %s", back)
	}
	return back.Query().Get("code"), v
}

func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantErr string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantErr {
		b, _ := json.Marshal(body)
		t.Errorf("%s: %d %s, want %d %s", what, status, b, wantStatus, wantErr)
	}
}

// TestCodeRedemption: PKCE missing or wrong, another client, wrong
// redirect_uri, expiry, and a code used twice (refused, its refresh family
// revoked).
func TestCodeRedemption(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	redeem := func(code, verifier, client, redirect string) (int, map[string]any) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {client}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		st, body, hd := e.tokenReq(f, "", "")
		if hd.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", hd.Get("Cache-Control"))
		}
		return st, body
	}

	code, v := e.codeFor(b, e.pub)
	st, body := redeem(code, "", e.pub, rpCallback)
	wantError(t, "no verifier", st, body, 400, "invalid_grant")
	other, _ := pkce()
	st, body = redeem(code, other, e.pub, rpCallback)
	wantError(t, "wrong verifier", st, body, 400, "invalid_grant")
	st, body = redeem(code, v, e.pub, "http://127.0.0.1:9/cb")
	wantError(t, "other redirect_uri", st, body, 400, "invalid_grant")
	// Client B (confidential, authenticated) presenting client A's code.
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "code_verifier": {v}}
	st, body, _ = e.tokenReq(f, e.conf, e.confSecret)
	wantError(t, "other client", st, body, 400, "invalid_grant")

	// The right redemption works once...
	st, body = redeem(code, v, e.pub, rpCallback)
	if st != 200 || body["id_token"] == nil || body["refresh_token"] == nil || body["token_type"] != "Bearer" {
		t.Fatalf("redeem: %d %v", st, body)
	}
	if n := jwtClaims(t, body["id_token"].(string))["nonce"]; n != "n1" {
		t.Fatalf("nonce %v", n)
	}
	refresh := body["refresh_token"].(string)
	// ...the second time it is refused and the tokens' family revoked.
	st, body = redeem(code, v, e.pub, rpCallback)
	wantError(t, "code reuse", st, body, 400, "invalid_grant")
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.pub}}, "", "")
	wantError(t, "refresh after code reuse", st, body, 400, "invalid_grant")

	// Expiry: 60 s.
	code, v = e.codeFor(b, e.pub)
	e.clock.Advance(61 * time.Second)
	st, body = redeem(code, v, e.pub, rpCallback)
	wantError(t, "expired code", st, body, 400, "invalid_grant")
	st, body = redeem("garbage", v, e.pub, rpCallback)
	wantError(t, "unknown code", st, body, 400, "invalid_grant")
}

// TestClientAuthentication: a confidential client's wrong or missing
// secret is invalid_client (401); Basic and post both work.
func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	back := e.authorize(b, e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid"))
	code := back.Query().Get("code")
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}}
	st, body, hd := e.tokenReq(f, e.conf, e.confSecret+"x")
	wantError(t, "wrong secret (basic)", st, body, 401, "invalid_client")
	if !strings.HasPrefix(hd.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate %q", hd.Get("WWW-Authenticate"))
	}
	f2 := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "client_id": {e.conf}}
	st, body, _ = e.tokenReq(f2, "", "")
	wantError(t, "no secret", st, body, 401, "invalid_client")
	f2.Set("client_secret", "nope")
	st, body, _ = e.tokenReq(f2, "", "")
	wantError(t, "wrong secret (post)", st, body, 401, "invalid_client")
	f2.Set("client_secret", e.confSecret)
	st, body, _ = e.tokenReq(f2, "", "")
	if st != 200 || body["access_token"] == nil {
		t.Fatalf("client_secret_post: %d %v", st, body)
	}
	// A public client sending a secret is refused.
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {e.pub}, "client_secret": {"x"}}, "", "")
	wantError(t, "public with secret", st, body, 401, "invalid_client")
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"password"}, "client_id": {e.pub}}, "", "")
	wantError(t, "password grant", st, body, 400, "unsupported_grant_type")
}

// TestClientCredentials: Cognito's machine token, custom scopes only.
func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := setup(t)
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"client_credentials"}}, e.conf, e.confSecret)
	if st != 200 || body["id_token"] != nil || body["refresh_token"] != nil {
		t.Fatalf("client_credentials: %d %v", st, body)
	}
	c := jwtClaims(t, body["access_token"].(string))
	if c["token_use"] != "access" || c["client_id"] != e.conf || c["sub"] != e.conf || c["scope"] != "orders/read orders/write" || c["iss"] != e.issuer {
		t.Fatalf("claims %v", c)
	}
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"client_credentials"}, "scope": {"orders/read"}}, e.conf, e.confSecret)
	if st != 200 || jwtClaims(t, body["access_token"].(string))["scope"] != "orders/read" {
		t.Fatalf("one scope: %d %v", st, body)
	}
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, e.conf, e.confSecret)
	wantError(t, "user scope", st, body, 400, "invalid_scope")
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"client_credentials"}, "client_id": {e.pub}}, "", "")
	wantError(t, "public client", st, body, 400, "unauthorized_client")
}

// TestUserInfoRevokeLogout covers the remaining endpoints.
func TestUserInfoRevokeLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	code, v := e.codeFor(b, e.pub)
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		"client_id": {e.pub}, "code_verifier": {v}}, "", "")
	if st != 200 {
		t.Fatalf("redeem %d %v", st, body)
	}
	userinfo := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", e.issuer+"/oauth2/userInfo", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	st, ui := userinfo(body["access_token"].(string))
	if st != 200 || ui["sub"] != e.sub || ui["email"] != userEmail {
		t.Fatalf("userinfo %d %v", st, ui)
	}
	st, ui = userinfo("")
	wantError(t, "no token", st, ui, 401, "invalid_request")
	st, ui = userinfo(body["id_token"].(string))
	wantError(t, "id token as access token", st, ui, 401, "invalid_token")

	// Revoke the refresh token: refresh fails afterwards.
	refresh := body["refresh_token"].(string)
	req, _ := http.NewRequest("POST", e.issuer+"/oauth2/revoke", strings.NewReader(url.Values{"token": {refresh}, "client_id": {e.pub}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke %d", res.StatusCode)
	}
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.pub}}, "", "")
	wantError(t, "refresh after revoke", st, body, 400, "invalid_grant")

	// Logout: unregistered logout_uri is a page; the registered one ends
	// the session and redirects.
	r := b.get(e.issuer + "/logout?" + url.Values{"client_id": {e.conf}, "logout_uri": {rpLogout + "/x"}}.Encode())
	if r.status != 400 || r.header.Get("Location") != "" {
		t.Fatalf("bad logout_uri: %d %q", r.status, r.header.Get("Location"))
	}
	r = b.get(e.issuer + "/logout?" + url.Values{"client_id": {e.conf}, "logout_uri": {rpLogout}}.Encode())
	if r.status != http.StatusFound || r.header.Get("Location") != rpLogout {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	// Signed out: prompt=none now answers login_required.
	_, ch := pkce()
	r = b.get(e.authURL("client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch,
		"code_challenge_method", "S256", "prompt", "none", "state", "q"))
	if lu, _ := url.Parse(r.header.Get("Location")); lu == nil || lu.Query().Get("error") != "login_required" {
		t.Fatalf("after logout: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestPromptLogin: prompt=login sends a signed-in browser through the
// sign-in page again, and the fresh sign-in completes (no loop).
func TestPromptLogin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.signedIn()
	e.clock.Advance(time.Minute)
	r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "prompt", "login", "state", "p"))
	if r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), "/login?") {
		t.Fatalf("prompt=login: %d %q", r.status, r.header.Get("Location"))
	}
	back := e.authorize(b, e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "prompt", "login", "state", "p"))
	if back.Query().Get("code") == "" || back.Query().Get("state") != "p" {
		t.Fatalf("after fresh sign-in: %s", back)
	}
}

// TestCodeAfterSignOut: a code issued before a global sign-out or before
// the user was disabled is refused.
func TestCodeAfterSignOut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	code, v := e.codeFor(b, e.pub)
	e.clock.Advance(time.Second)
	if err := e.svc.AdminUserGlobalSignOut(t.Context(), e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		"client_id": {e.pub}, "code_verifier": {v}}, "", "")
	wantError(t, "code after global sign-out", st, body, 400, "invalid_grant")
	// The hosted session ended too: the next authorize goes to sign-in.
	_, ch := pkce()
	r := b.get(e.authURL("client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback, "code_challenge", ch, "code_challenge_method", "S256"))
	if !strings.Contains(r.header.Get("Location"), "/login?") {
		t.Fatalf("after global sign-out: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestHostHeadersIgnored: Host, X-Forwarded-Host and Forwarded never change
// the issuer in discovery or in tokens.
func TestHostHeadersIgnored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	req, _ := http.NewRequest("GET", e.issuer+"/.well-known/openid-configuration", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "host=evil.example;proto=https")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.NewDecoder(res.Body).Decode(&d)
	res.Body.Close()
	for k, v := range d {
		if s, ok := v.(string); ok && strings.Contains(s, "evil") {
			t.Fatalf("%s = %s", k, s)
		}
	}
	if d["issuer"] != e.issuer {
		t.Fatalf("issuer %v", d["issuer"])
	}
}

// TestConcurrentCodeRedemption: 20 redemptions of one code at once: one
// gets tokens, the others invalid_grant, and the replays revoke the
// winner's refresh family.
func TestConcurrentCodeRedemption(t *testing.T) {
	t.Parallel()
	e := setup(t)
	code, v := e.codeFor(newBrowser(t), e.pub)
	type result struct {
		st   int
		body map[string]any
	}
	results := make(chan result, 20)
	for i := 0; i < 20; i++ {
		go func() {
			st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
				"client_id": {e.pub}, "code_verifier": {v}}, "", "")
			results <- result{st, body}
		}()
	}
	var refresh string
	for i := 0; i < 20; i++ {
		r := <-results
		switch {
		case r.st == 200:
			if refresh != "" {
				t.Fatal("two redemptions succeeded")
			}
			refresh, _ = r.body["refresh_token"].(string)
		case r.st != 400 || r.body["error"] != "invalid_grant":
			t.Fatalf("loser: %d %v", r.st, r.body)
		}
	}
	if refresh == "" {
		t.Fatal("no redemption succeeded")
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.pub}}, "", "")
	wantError(t, "winner's refresh after replays", st, body, 400, "invalid_grant")
}
