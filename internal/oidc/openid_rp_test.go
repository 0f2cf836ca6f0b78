package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// What relying parties we did not write expect by default (issue 15):
// RS256 ID tokens, at_hash/azp/sid, offline_access, max_age, form_post,
// RP-initiated logout with id_token_hint alone, RFC 7009 revocation of
// access tokens, RFC 7662 introspection, Back-Channel Logout.

// codeTokens runs the confidential client's code flow (PKCE) in b with
// the extra authorization parameters kv and redeems the code.
func (e *env) codeTokens(b *browser, kv ...string) map[string]any {
	e.t.Helper()
	v, ch := pkce()
	args := append([]string{"client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid email",
		"state", "s1", "nonce", "n1", "code_challenge", ch, "code_challenge_method", "S256"}, kv...)
	back := e.authorize(b, e.authURL(args...))
	code := back.Query().Get("code")
	if code == "" {
		e.t.Fatalf("callback %s", back)
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		"code_verifier": {v}}, e.conf, e.confSecret)
	if st != 200 {
		e.t.Fatalf("redeem %d %v", st, body)
	}
	return body
}

// postForm posts form to path under the issuer, with Basic auth when id
// is set, and returns the status and the JSON answer.
func (e *env) postForm(path string, form url.Values, id, secret string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return e.postJSON(req)
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	return testenv.Claims(t, "x."+strings.Split(tok, ".")[0]+".x")
}

// TestRS256ByDefaultAndGoOIDCVerifyAccessToken: go-oidc with nothing
// configured verifies the ID token (RS256) and the access token against
// at_hash; azp, sid and preferred_username are there; offline_access is
// granted, an unknown scope ignored; the refresh answer says its scope;
// userInfo answers at the lower-case path and to a form-body token.
func TestRS256ByDefaultAndGoOIDCVerifyAccessToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := gooidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Algs     []string `json:"id_token_signing_alg_values_supported"`
		Modes    []string `json:"response_modes_supported"`
		Request  *bool    `json:"request_parameter_supported"`
		Intro    string   `json:"introspection_endpoint"`
		EndSess  string   `json:"end_session_endpoint"`
		BCLogout bool     `json:"backchannel_logout_supported"`
	}
	if err := provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if len(disc.Algs) == 0 || disc.Algs[0] != "RS256" || disc.Request == nil || *disc.Request ||
		disc.Intro != e.issuer+"/oauth2/introspect" || disc.EndSess != e.issuer+"/logout" || !disc.BCLogout ||
		strings.Join(disc.Modes, " ") != "query form_post" {
		t.Fatalf("discovery %+v", disc)
	}
	b := newBrowser(t)
	body := e.codeTokens(b, "scope", "openid email offline_access address")
	if body["scope"] != "openid email offline_access" || body["refresh_token"] == nil {
		t.Fatalf("granted %v", body)
	}
	rawID, access := body["id_token"].(string), body["access_token"].(string)
	if h := jwtHeader(t, rawID); h["alg"] != "RS256" {
		t.Fatalf("id token header %v", h)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := idt.VerifyAccessToken(access); err != nil {
		t.Fatalf("VerifyAccessToken: %v", err)
	}
	if err := idt.VerifyAccessToken(access + "x"); err == nil {
		t.Fatal("VerifyAccessToken accepted another access token")
	}
	c := jwtClaims(t, rawID)
	if c["azp"] != e.conf || c["sid"] == nil || c["sid"] != c["origin_jti"] || c["preferred_username"] != userEmail {
		t.Fatalf("id token claims %v", c)
	}

	// userInfo: lower case, and the token in a POST body (RFC 6750 §2.2).
	st, ui := e.postForm("/oauth2/userinfo", url.Values{"access_token": {access}}, "", "")
	if st != 200 || ui["sub"] != e.sub {
		t.Fatalf("userinfo by form: %d %v", st, ui)
	}
	req, _ := http.NewRequest("POST", e.issuer+"/oauth2/userinfo", strings.NewReader(url.Values{"access_token": {access}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+access)
	st, ui = e.postJSON(req)
	wantError(t, "token twice", st, ui, 400, "invalid_request")

	// Refresh: the answer names the scope, the ID token is RS256 still.
	e.clock.Advance(time.Second)
	st, rb, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, e.conf, e.confSecret)
	if st != 200 || rb["scope"] != "openid email offline_access" || jwtHeader(t, rb["id_token"].(string))["alg"] != "RS256" {
		t.Fatalf("refresh %d %v", st, rb)
	}

	// A client that asks for ES256 gets it (and nothing else changes).
	cl, _ := e.svc.GetClient(context.Background(), e.pool.ID, e.conf)
	cl.IDTokenSignedResponseAlg = "ES256"
	if _, err := e.svc.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	es := e.codeTokens(b)
	if h := jwtHeader(t, es["id_token"].(string)); h["alg"] != "ES256" {
		t.Fatalf("ES256 client got %v", h)
	}
	if _, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, es["id_token"].(string)); err != nil {
		t.Fatalf("verify ES256: %v", err)
	}
	cl.IDTokenSignedResponseAlg = "HS256"
	if _, err := e.svc.UpdateClient(context.Background(), cl); err == nil {
		t.Fatal("HS256 accepted as id_token_signed_response_alg")
	}
}

// TestMaxAge: max_age=0 with a session re-authenticates exactly once and
// comes back with a fresh auth_time; a large max_age does not.
func TestMaxAge(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	first := jwtClaims(t, e.codeTokens(b)["id_token"].(string))["auth_time"].(float64)
	e.clock.Advance(time.Minute)
	// authorize() fails on a loop (more than 10 redirects) and signs in
	// when shown the sign-in page.
	v, ch := pkce()
	signIns := 0
	next := e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid",
		"max_age", "0", "code_challenge", ch, "code_challenge_method", "S256")
	var code string
	for i := 0; i < 10 && code == ""; i++ {
		r := b.b.Get(next)
		switch {
		case r.Status == http.StatusFound && strings.HasPrefix(r.Location(), rpCallback):
			u, _ := url.Parse(r.Location())
			if code = u.Query().Get("code"); code == "" {
				t.Fatalf("max_age=0: %s", u)
			}
		case r.Status == http.StatusFound:
			next = r.Location()
		case r.Status == 200 && strings.Contains(r.Body, `name="password"`):
			signIns++
			next = b.b.Submit(r, "username", userEmail, "password", userPW).Location()
		default:
			t.Fatalf("GET %s: %d", next, r.Status)
		}
	}
	if code == "" || signIns != 1 {
		t.Fatalf("max_age=0: code %q after %d sign-ins", code, signIns)
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		"code_verifier": {v}}, e.conf, e.confSecret)
	if st != 200 {
		t.Fatal(st, body)
	}
	if at := jwtClaims(t, body["id_token"].(string))["auth_time"].(float64); at < first+60 {
		t.Fatalf("auth_time %v not after the re-authentication (first %v)", at, first)
	}
	// A generous max_age keeps the session: no sign-in page.
	r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid", "max_age", "3600"))
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), rpCallback) {
		t.Fatalf("max_age=3600: %d %s", r.status, r.header.Get("Location"))
	}
	// A forged loginAfter marker older than the sign-in window does not
	// waive max_age.
	e.clock.Advance(20 * time.Minute)
	r = b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid", "max_age", "0",
		"gh_login_after", "0"))
	if r.status != http.StatusFound || strings.HasPrefix(r.header.Get("Location"), rpCallback) {
		t.Fatalf("forged marker: %d %s", r.status, r.header.Get("Location"))
	}
}

// TestFormPostAndRequestObjects: response_mode=form_post answers with a
// page that posts code and state to the redirect URI (errors too);
// request and request_uri are refused as OIDC Core §6 says.
func TestFormPostAndRequestObjects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.signedIn()
	r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid",
		"state", `"><script>x</script>`, "response_mode", "form_post"))
	if r.status != 200 || !strings.Contains(r.body, `action="`+rpCallback+`"`) || !strings.Contains(r.body, `name="code" value="`) ||
		strings.Contains(r.body, "<script>x") || !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'sha256-") {
		t.Fatalf("form_post: %d %v %s", r.status, r.header, r.body)
	}
	r = b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "orders/read",
		"state", "s2", "response_mode", "form_post"))
	if r.status != 200 || !strings.Contains(r.body, `name="error" value="invalid_scope"`) || !strings.Contains(r.body, `value="s2"`) {
		t.Fatalf("form_post error: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ param, want string }{{"request", "request_not_supported"}, {"request_uri", "request_uri_not_supported"}} {
		r = b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "scope", "openid", c.param, "eyJ.x.y"))
		lu, _ := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || lu == nil || lu.Query().Get("error") != c.want {
			t.Fatalf("%s: %d %s", c.param, r.status, r.header.Get("Location"))
		}
	}
	r = b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "response_mode", "fragment"))
	if lu, _ := url.Parse(r.header.Get("Location")); lu == nil || lu.Query().Get("error") != "invalid_request" {
		t.Fatalf("fragment: %d %s", r.status, r.header.Get("Location"))
	}
	// POST to authorize (OIDC Core §3.1.2.1).
	_, ch := pkce()
	res := b.b.Post(e.issuer+"/oauth2/authorize", url.Values{"client_id": {e.pub}, "response_type": {"code"}, "redirect_uri": {rpCallback},
		"scope": {"openid"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}, "state": {"p"}})
	if lu, _ := url.Parse(res.Header.Get("Location")); res.Status != http.StatusFound || lu == nil || lu.Query().Get("code") == "" {
		t.Fatalf("POST authorize: %d %s", res.Status, res.Header.Get("Location"))
	}
}

// TestRPInitiatedLogout: id_token_hint alone names the client and ends
// its sign-in; state comes back; a mismatched client_id, a forged hint,
// or an unregistered URI is a page that ends nothing; no redirect: the
// signed-out page; POST works like GET.
func TestRPInitiatedLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	body := e.codeTokens(b)
	hint, access := body["id_token"].(string), body["access_token"].(string)
	e.clock.Advance(2 * time.Hour) // an expired hint is still a hint (RP-Initiated Logout §2)
	for _, c := range []struct{ what, query string }{
		{"client_id mismatch", url.Values{"id_token_hint": {hint}, "client_id": {e.pub}, "post_logout_redirect_uri": {rpLogout}}.Encode()},
		{"forged hint", url.Values{"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {rpLogout}}.Encode()},
		{"access token as hint", url.Values{"id_token_hint": {access}, "post_logout_redirect_uri": {rpLogout}}.Encode()},
		{"unregistered uri", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout + "/x"}}.Encode()},
		{"uri without client", url.Values{"post_logout_redirect_uri": {rpLogout}}.Encode()},
	} {
		if r := b.get(e.issuer + "/logout?" + c.query); r.status != 400 || r.header.Get("Location") != "" {
			t.Fatalf("%s: %d %s", c.what, r.status, r.header.Get("Location"))
		}
	}
	e.clock.Advance(-2 * time.Hour)
	if _, err := e.svc.OAuthUserInfo(context.Background(), e.pool.ID, access); err != nil {
		t.Fatalf("refused logouts ended the sign-in: %v", err)
	}
	r := b.get(e.issuer + "/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout}, "state": {"bye"}}.Encode())
	if r.status != http.StatusFound || r.header.Get("Location") != rpLogout+"?state=bye" {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	if _, err := e.svc.OAuthUserInfo(context.Background(), e.pool.ID, access); err == nil {
		t.Fatal("the relying party's access token survived its logout")
	}
	st, rb, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, e.conf, e.confSecret)
	wantError(t, "refresh after logout", st, rb, 400, "invalid_grant")
	if r := b.get(e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback, "prompt", "none")); !strings.Contains(r.header.Get("Location"), "login_required") {
		t.Fatalf("hosted session survived: %s", r.header.Get("Location"))
	}
	// POST, no redirect: the signed-out page.
	body = e.codeTokens(b)
	res := b.b.Post(e.issuer+"/logout", url.Values{"id_token_hint": {body["id_token"].(string)}})
	if res.Status != 200 || !strings.Contains(res.Body, "signed out") {
		t.Fatalf("POST logout: %d %s", res.Status, res.Body)
	}
}

// TestRevokeAccessToken (RFC 7009): an access or ID token ends its
// sign-in; another client's token is not revoked (200 anyway); a
// client_credentials token is unsupported_token_type.
func TestRevokeAccessToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	body := e.codeTokens(b)
	access := body["access_token"].(string)
	// The public client cannot revoke the confidential client's token.
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {access}, "client_id": {e.pub}}, "", ""); st != 200 {
		t.Fatalf("foreign revoke: %d", st)
	}
	if _, err := e.svc.OAuthUserInfo(context.Background(), e.pool.ID, access); err != nil {
		t.Fatalf("another client's revocation took effect: %v", err)
	}
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {access}, "token_type_hint": {"access_token"}}, e.conf, e.confSecret); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if _, err := e.svc.OAuthUserInfo(context.Background(), e.pool.ID, access); err == nil {
		t.Fatal("revoked access token still accepted")
	}
	st, rb, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, e.conf, e.confSecret)
	wantError(t, "refresh after access token revocation", st, rb, 400, "invalid_grant")
	// An ID token works the same way.
	body = e.codeTokens(b)
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {body["id_token"].(string)}}, e.conf, e.confSecret); st != 200 {
		t.Fatalf("revoke id token: %d", st)
	}
	if _, err := e.svc.OAuthUserInfo(context.Background(), e.pool.ID, body["access_token"].(string)); err == nil {
		t.Fatal("sign-in survived revoking its ID token")
	}
	st, cc, _ := e.tokenReq(url.Values{"grant_type": {"client_credentials"}}, e.conf, e.confSecret)
	if st != 200 {
		t.Fatal(st, cc)
	}
	st, out := e.postForm("/oauth2/revoke", url.Values{"token": {cc["access_token"].(string)}}, e.conf, e.confSecret)
	wantError(t, "client_credentials token", st, out, 400, "unsupported_token_type")
}

// TestIntrospection (RFC 7662): active, expired, revoked, another pool's
// and garbage tokens; refresh tokens of the caller; public clients and
// bad secrets refused.
func TestIntrospection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	body := e.codeTokens(b)
	access := body["access_token"].(string)
	intro := func(tok string) map[string]any {
		t.Helper()
		st, out := e.postForm("/oauth2/introspect", url.Values{"token": {tok}}, e.conf, e.confSecret)
		if st != 200 {
			t.Fatalf("introspect: %d %v", st, out)
		}
		return out
	}
	if out := intro(access); out["active"] != true || out["sub"] != e.sub || out["client_id"] != e.conf || out["username"] == nil ||
		out["scope"] != "openid email" || out["token_type"] != "Bearer" {
		t.Fatalf("active access token: %v", out)
	}
	if out := intro(body["refresh_token"].(string)); out["active"] != true || out["token_type"] != "refresh_token" {
		t.Fatalf("active refresh token: %v", out)
	}
	if out := intro(body["id_token"].(string)); out["active"] != false {
		t.Fatalf("an ID token is not an access token: %v", out)
	}
	if out := intro("not-a-token"); out["active"] != false || len(out) != 1 {
		t.Fatalf("garbage: %v", out)
	}
	st, cc, _ := e.tokenReq(url.Values{"grant_type": {"client_credentials"}}, e.conf, e.confSecret)
	if out := intro(cc["access_token"].(string)); st != 200 || out["active"] != true || out["sub"] != e.conf {
		t.Fatalf("client_credentials token: %v", out)
	}
	// Another pool's token, however valid there.
	pb := e.secondPool()
	svcB, err := e.svc.CreateClient(context.Background(), auth.CreateClientInput{PoolID: pb.pool.ID, Name: "svc-b", GenerateSecret: true,
		OAuthFlows: []string{"client_credentials"}, OAuthScopes: []string{"b/read"}})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.svc.ClientCredentialsToken(context.Background(), pb.pool, svcB.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	if out := intro(other.AccessToken); out["active"] != false {
		t.Fatalf("foreign pool token: %v", out)
	}
	// Public client, wrong secret.
	if st, out := e.postForm("/oauth2/introspect", url.Values{"token": {access}, "client_id": {e.pub}}, "", ""); st != 401 || out["error"] != "invalid_client" {
		t.Fatalf("public client: %d %v", st, out)
	}
	if st, _ := e.postForm("/oauth2/introspect", url.Values{"token": {access}}, e.conf, "wrong"); st != 401 {
		t.Fatalf("bad secret: %d", st)
	}
	// Revoked, then expired.
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {body["refresh_token"].(string)}}, e.conf, e.confSecret); st != 200 {
		t.Fatal(st)
	}
	if out := intro(access); out["active"] != false {
		t.Fatalf("revoked: %v", out)
	}
	body = e.codeTokens(b)
	e.clock.Advance(2 * time.Hour)
	if out := intro(body["access_token"].(string)); out["active"] != false {
		t.Fatalf("expired: %v", out)
	}
}

func mustClient(t *testing.T, e *env, poolID, id string) *identity.AppClient {
	t.Helper()
	c, err := e.svc.GetClient(context.Background(), poolID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bcReceiver is a relying party's back-channel logout endpoint: it keeps
// the logout tokens it receives.
type bcReceiver struct {
	mu     sync.Mutex
	tokens []string
	srv    *httptest.Server
}

func newBCReceiver(t *testing.T) *bcReceiver {
	rc := &bcReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rc.mu.Lock()
		rc.tokens = append(rc.tokens, r.PostForm.Get("logout_token"))
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *bcReceiver) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.tokens
	rc.tokens = nil
	return out
}

// TestBackchannelLogout (Back-Channel Logout 1.0): a client with a
// backchannel_logout_uri receives, through durable jobs after the commit,
// a logout token (typ logout+jwt, exactly the claims of §2.4, verified
// against the JWKS) naming the session (sid) of each sign-in the user
// made to it, when the user logs out at the provider (RP-initiated or the
// hosted pages), is signed out everywhere, disabled or deleted. Attacks:
// a client the user never signed in to is never told; an id_token_hint
// without its user's hosted session ends only its own sign-in; a logout
// token passes neither as an id_token_hint nor as a bearer token; another
// pool's ID token is no hint.
func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rc, unused := newBCReceiver(t), newBCReceiver(t)
	ctx := context.Background()
	for id, rcv := range map[string]*bcReceiver{e.conf: rc, e.pub: unused} {
		cl := mustClient(t, e, e.pool.ID, id)
		cl.BackchannelLogoutURI = rcv.srv.URL + "/backchannel"
		if _, err := e.svc.UpdateClient(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	keys := gooidc.NewRemoteKeySet(gooidc.ClientContext(ctx, http.DefaultClient), e.issuer+"/.well-known/jwks.json")
	verify := func(raw, sid string) {
		t.Helper()
		if h := jwtHeader(t, raw); h["typ"] != auth.LogoutTokenType {
			t.Fatalf("logout token header %v", h)
		}
		payload, err := keys.VerifySignature(ctx, raw)
		if err != nil {
			t.Fatalf("logout token signature: %v", err)
		}
		var c map[string]any
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatal(err)
		}
		ev, _ := c["events"].(map[string]any)
		if _, ok := ev["http://schemas.openid.net/event/backchannel-logout"]; !ok || len(ev) != 1 || c["iss"] != e.issuer || c["aud"] != e.conf ||
			c["sub"] != e.sub || c["sid"] != sid || c["jti"] == nil || c["iat"] == nil || c["exp"] == nil || len(c) != 8 {
			t.Fatalf("logout token claims %v (want sid %s)", c, sid)
		}
		// Never an ID or access token.
		if _, err := e.svc.VerifyIDTokenHint(ctx, e.pool, raw); err == nil {
			t.Fatal("a logout token passed as an id_token_hint")
		}
		if _, err := e.svc.OAuthUserInfo(ctx, e.pool.ID, raw); err == nil {
			t.Fatal("a logout token passed as an access token")
		}
	}
	// deliver runs the due jobs and checks that exactly the sessions sids
	// were told, and no client the user did not sign in to.
	deliver := func(sids ...string) {
		t.Helper()
		if _, err := e.stack.Runner.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if got := unused.take(); len(got) != 0 {
			t.Fatalf("a client the user never signed in to received %d logout tokens", len(got))
		}
		got := rc.take()
		if len(got) != len(sids) {
			t.Fatalf("received %d logout tokens, want %d", len(got), len(sids))
		}
		seen := map[string]bool{}
		for _, raw := range got {
			seen[jwtClaims(t, raw)["sid"].(string)] = true
		}
		for i, sid := range sids {
			if !seen[sid] {
				t.Fatalf("no logout token for session %s", sid)
			}
			verify(got[i], jwtClaims(t, got[i])["sid"].(string))
		}
	}
	signIn := func(b *browser) (string, string) {
		t.Helper()
		body := e.codeTokens(b)
		return body["id_token"].(string), jwtClaims(t, body["id_token"].(string))["sid"].(string)
	}

	// RP-initiated logout in the user's browser.
	b := newBrowser(t)
	hint, sid := signIn(b)
	r := b.get(e.issuer + "/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpLogout}}.Encode())
	if r.status != http.StatusFound {
		t.Fatalf("logout %d", r.status)
	}
	deliver(sid)
	// The hosted pages' own sign-out: the user's sessions.
	_, sid = signIn(b)
	so := b.b.Get(e.base + "/" + e.pool.ID + "/signout")
	if r := b.b.Submit(so); r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
		t.Fatalf("hosted sign-out: %d", r.Status)
	}
	deliver(sid)
	// A hint presented without its user's hosted session (a leaked ID
	// token) ends its own sign-in only: the other session is not told.
	hint1, sid1 := signIn(b)
	b2 := newBrowser(t)
	_, sid2 := signIn(b2)
	if r := newBrowser(t).get(e.issuer + "/logout?" + url.Values{"id_token_hint": {hint1}}.Encode()); r.status != http.StatusOK {
		t.Fatalf("logout by hint alone: %d", r.status)
	}
	deliver(sid1)
	// Another pool's ID token is no hint there, and ends nothing.
	pb := e.secondPool()
	if r := b2.get(pb.issuer + "/logout?" + url.Values{"id_token_hint": {hint1}}.Encode()); r.status != 400 {
		t.Fatalf("pool A's ID token at pool B's logout: %d", r.status)
	}
	deliver()
	// A global sign-out tells every remaining session (here b2's).
	if err := e.svc.AdminUserGlobalSignOut(ctx, e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	deliver(sid2)
	// Told once: a second sign-out has nobody left to tell.
	if err := e.svc.AdminUserGlobalSignOut(ctx, e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	deliver()
	// Disabled; then deleted (every surface's delete is AdminDeleteUser,
	// DeleteUser or SCIMDeleteUser, each telling the same way).
	_, sid = signIn(b)
	if err := e.svc.AdminDisableUser(ctx, e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	deliver(sid)
	// A refused logout (unregistered URI) sends nothing.
	_ = b.get(e.issuer + "/logout?" + url.Values{"client_id": {e.conf}, "logout_uri": {"https://evil.example/"}}.Encode())
	deliver()
	if err := e.svc.AdminEnableUser(ctx, e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	_, sid = signIn(newBrowser(t))
	if err := e.svc.AdminDeleteUser(ctx, e.pool.ID, userEmail); err != nil {
		t.Fatal(err)
	}
	deliver(sid)
}

// TestBackchannelLogoutOnSelfDelete: a user deleting their own account
// (Cognito DeleteUser, the native API's DELETE /me) tells the relying
// parties they signed in to, in the deletion's transaction.
func TestBackchannelLogoutOnSelfDelete(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rc := newBCReceiver(t)
	ctx := context.Background()
	cl := mustClient(t, e, e.pool.ID, e.conf)
	cl.BackchannelLogoutURI = rc.srv.URL + "/backchannel"
	if _, err := e.svc.UpdateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	body := e.codeTokens(newBrowser(t), "scope", "openid aws.cognito.signin.user.admin")
	sid := jwtClaims(t, body["id_token"].(string))["sid"]
	if err := e.svc.DeleteUser(ctx, body["access_token"].(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stack.Runner.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := rc.take()
	if len(got) != 1 || jwtClaims(t, got[0])["sid"] != sid || jwtClaims(t, got[0])["sub"] != e.sub {
		t.Fatalf("logout tokens after self-delete: %d", len(got))
	}
}
