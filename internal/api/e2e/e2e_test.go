package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type tokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// TestSignUpToRefreshReuse is the whole end-user story over HTTP:
// sign-up, the code from the outbox, confirmation, sign-in, /me, refresh
// with rotation, reuse of the rotated token revoking the family, and an
// administrator finding the user with a filter.
func TestSignUpToRefreshReuse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("story")
	const alice = "alice@example.test"

	// Sign-up.
	var su struct {
		UserSub       string `json:"user_sub"`
		UserConfirmed bool   `json:"user_confirmed"`
		CodeDelivery  struct {
			Destination    string `json:"destination"`
			DeliveryMedium string `json:"delivery_medium"`
			AttributeName  string `json:"attribute_name"`
		} `json:"code_delivery"`
	}
	e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{
		"client_id": clientID, "username": alice, "password": goodPassword,
		"attributes": map[string]string{"name": "Alice"},
	})).json(t, &su)
	if su.UserSub == "" || su.UserConfirmed || su.CodeDelivery.DeliveryMedium != "EMAIL" ||
		su.CodeDelivery.AttributeName != "email" || strings.Contains(su.CodeDelivery.Destination, "alice@") {
		t.Fatalf("sign-up answer %+v", su)
	}

	// Not confirmed yet: sign-in is refused (403: right password, wrong state).
	if p := e.must(403, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": clientID, "username": alice, "password": goodPassword,
	})).problem(t); p.Code != "user_not_confirmed" {
		t.Fatalf("sign-in before confirmation: %+v", p)
	}

	// A wrong code, then the right one from the outbox.
	code := e.lastCode(poolID, alice)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if p := e.must(400, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{
		"client_id": clientID, "username": alice, "code": wrong,
	})).problem(t); p.Code != "code_mismatch" {
		t.Fatalf("wrong code: %+v", p)
	}
	e.must(204, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{
		"client_id": clientID, "username": alice, "code": code,
	}))

	// Wrong password: 401 not_authorized.
	if p := e.must(401, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": clientID, "username": alice, "password": otherPassword,
	})).problem(t); p.Code != "not_authorized" {
		t.Fatalf("wrong password: %+v", p)
	}

	// Sign-in.
	var t1 tokens
	res := e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": clientID, "username": alice, "password": goodPassword,
	}))
	res.json(t, &t1)
	if t1.IDToken == "" || t1.AccessToken == "" || t1.RefreshToken == "" || t1.ExpiresIn <= 0 || t1.TokenType != "Bearer" {
		t.Fatalf("tokens %+v", t1)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("token response Cache-Control %q", cc)
	}

	// /me.
	var me struct {
		Sub, Username, Status, Email string
		Enabled                      bool
		EmailVerified                bool `json:"email_verified"`
		Attributes                   map[string]string
		Groups                       []string
	}
	e.must(200, e.do("GET", "/api/v1/me", "Bearer "+t1.AccessToken, nil)).json(t, &me)
	if me.Sub != su.UserSub || me.Email != alice || !me.EmailVerified || me.Status != "CONFIRMED" || !me.Enabled ||
		me.Attributes["name"] != "Alice" || me.Groups == nil {
		t.Fatalf("me %+v", me)
	}
	// The ID token is not an access token.
	if p := e.must(401, e.do("GET", "/api/v1/me", "Bearer "+t1.IDToken, nil)).problem(t); p.Code != "invalid_token" {
		t.Fatalf("id token as access token: %+v", p)
	}

	// Refresh rotates the refresh token.
	var t2 tokens
	e.must(200, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{
		"client_id": clientID, "refresh_token": t1.RefreshToken,
	})).json(t, &t2)
	if t2.AccessToken == "" || t2.RefreshToken == "" || t2.RefreshToken == t1.RefreshToken {
		t.Fatalf("refresh did not rotate: %+v", t2)
	}
	e.must(200, e.do("GET", "/api/v1/me", "Bearer "+t2.AccessToken, nil))

	// Reusing the rotated token is refused and revokes the family: the
	// fresh refresh token stops working too.
	if p := e.must(401, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{
		"client_id": clientID, "refresh_token": t1.RefreshToken,
	})).problem(t); p.Code != "not_authorized" && p.Code != "invalid_token" {
		t.Fatalf("reuse: %+v", p)
	}
	if p := e.must(401, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{
		"client_id": clientID, "refresh_token": t2.RefreshToken,
	})).problem(t); p.Code != "not_authorized" && p.Code != "invalid_token" {
		t.Fatalf("family not revoked: %+v", p)
	}

	// A second user, then the administrator filters.
	e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{
		"client_id": clientID, "username": "bob@example.test", "password": goodPassword,
	}))
	var list struct {
		Items []struct {
			Sub, Username, Email, Status string
			PasswordHash                 string `json:"password_hash"`
		}
		NextToken string `json:"next_token"`
	}
	res = e.must(200, e.admin("GET", "/api/v1/pools/"+poolID+"/users?filter="+url.QueryEscape(`email ^= "ali"`), nil))
	res.json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Sub != su.UserSub || list.Items[0].Status != "CONFIRMED" {
		t.Fatalf("filtered list %s", res.body)
	}
	if strings.Contains(string(res.body), "argon2") || strings.Contains(string(res.body), "hash") {
		t.Fatalf("user list leaks a hash: %s", res.body)
	}
	e.must(200, e.admin("GET", "/api/v1/pools/"+poolID+"/users", nil)).json(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("%d users, want 2", len(list.Items))
	}
	if p := e.must(400, e.admin("GET", "/api/v1/pools/"+poolID+"/users?filter="+url.QueryEscape(`password = "x"`), nil)).problem(t); p.Code != "invalid_parameter" {
		t.Fatalf("bad filter: %+v", p)
	}

	// Global sign-out ends the access token.
	var t3 tokens
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{
		"client_id": clientID, "username": alice, "password": goodPassword,
	})).json(t, &t3)
	e.must(204, e.do("POST", "/api/v1/me/sign-out", "Bearer "+t3.AccessToken, nil))
	e.must(401, e.do("GET", "/api/v1/me", "Bearer "+t3.AccessToken, nil))
}

// TestBadBodiesWriteNothing: every malformed sign-up is a 4xx problem and
// leaves no user behind.
func TestBadBodiesWriteNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("bodies")
	valid := `"client_id":"` + clientID + `","username":"carol@example.test","password":"` + goodPassword + `"`
	for _, tc := range []struct {
		name, ct, body string
		status         int
		code, field    string
	}{
		{"malformed", "application/json", `{` + valid + `,}`, 400, "invalid_parameter", ""},
		{"unknown field", "application/json", `{` + valid + `,"admin":true}`, 400, "invalid_parameter", "admin"},
		{"wrong type", "application/json", `{` + valid + `,"attributes":["x"]}`, 400, "invalid_parameter", "attributes"},
		{"trailing data", "application/json", `{` + valid + `}{"username":"mallory@example.test"}`, 400, "invalid_parameter", ""},
		{"missing content type", "", `{` + valid + `}`, 415, "unsupported_media_type", ""},
		{"oversized", "application/json", `{` + valid + `,"attributes":{"name":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "payload_too_large", ""},
	} {
		req := e.rawPost(t, "/api/v1/auth/sign-up", tc.ct, tc.body)
		p := req.problem(t)
		if req.status != tc.status || p.Code != tc.code || p.Field != tc.field {
			t.Errorf("%s: %d %+v", tc.name, req.status, p)
		}
	}
	if n := e.userCount(poolID); n != 0 {
		t.Fatalf("%d users written by refused requests", n)
	}
	// The same body, well-formed, does write.
	e.must(201, e.rawPost(t, "/api/v1/auth/sign-up", "application/json", `{`+valid+`}`))
	if n := e.userCount(poolID); n != 1 {
		t.Fatalf("%d users after a good sign-up", n)
	}
}

func (e *env) rawPost(t *testing.T, path, ct, body string) response {
	t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return e.send(req)
}

// TestAdminKeys: no key and a wrong key are 401; a pool-scoped key works
// on its pool, is 403 on another pool and on the global routes.
// security.md R1
func TestAdminKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolA, _ := e.newPool("a")
	poolB, _ := e.newPool("b")
	_, scoped, err := e.svc.CreateAPIKey(context.Background(), poolA, "a-only")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, authz string
		status                    int
		code                      string
	}{
		{"no key", "GET", "/api/v1/pools/" + poolA, "", 401, "unauthenticated"},
		{"wrong key", "GET", "/api/v1/pools/" + poolA, "Bearer " + e.adminKey + "x", 401, "unauthenticated"},
		{"garbage key", "GET", "/api/v1/pools/" + poolA, "Bearer not-a-key", 401, "unauthenticated"},
		{"scoped key on its pool", "GET", "/api/v1/pools/" + poolA, "Bearer " + scoped, 200, ""},
		{"scoped key lists its users", "GET", "/api/v1/pools/" + poolA + "/users", "Bearer " + scoped, 200, ""},
		{"scoped key on another pool", "GET", "/api/v1/pools/" + poolB, "Bearer " + scoped, 403, "forbidden"},
		{"scoped key on another pool's users", "GET", "/api/v1/pools/" + poolB + "/users", "Bearer " + scoped, 403, "forbidden"},
		{"scoped key on a pool that does not exist", "GET", "/api/v1/pools/us-east-1_nope12345", "Bearer " + scoped, 403, "forbidden"},
		{"scoped key lists pools", "GET", "/api/v1/pools", "Bearer " + scoped, 403, "forbidden"},
		{"scoped key deletes its pool", "DELETE", "/api/v1/pools/" + poolA, "Bearer " + scoped, 403, "forbidden"},
		{"global key, unknown pool", "GET", "/api/v1/pools/us-east-1_nope12345", "Bearer " + e.adminKey, 404, "resource_not_found"},
	} {
		r := e.do(tc.method, tc.path, tc.authz, nil)
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.code != "" {
			if p := r.problem(t); p.Code != tc.code {
				t.Errorf("%s: code %s, want %s", tc.name, p.Code, tc.code)
			}
		}
	}
	r := e.do("POST", "/api/v1/pools", "Bearer "+scoped, map[string]any{"name": "x"})
	if r.status != 403 {
		t.Fatalf("scoped key created a pool: %d %s", r.status, r.body)
	}
	// Admin actions are audited with the key as actor.
	e.must(201, e.admin("POST", "/api/v1/pools/"+poolA+"/groups", map[string]any{"name": "staff"}))
	var audit struct {
		Items []struct{ Actor, Action string }
	}
	e.must(200, e.admin("GET", "/api/v1/pools/"+poolA+"/audit", nil)).json(t, &audit)
	found := false
	for _, ev := range audit.Items {
		if strings.HasPrefix(ev.Actor, "admin-key:") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit event by an API key: %+v", audit.Items)
	}
}
