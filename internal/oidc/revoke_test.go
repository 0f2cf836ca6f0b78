package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRevokeEndsAccessTokens: /oauth2/revoke with a refresh token ends the
// sign-in it belongs to: /oauth2/userInfo refuses the access token issued
// at the code redemption and the one issued by a later refresh (401
// invalid_token, "Access Token has been revoked"), while the access token
// of another sign-in of the same user still works. A revoke by another
// client revokes nothing.
func TestRevokeEndsAccessTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	redeem := func() map[string]any {
		t.Helper()
		code, v := e.codeFor(b, e.pub)
		st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
			"client_id": {e.pub}, "code_verifier": {v}}, "", "")
		if st != 200 {
			t.Fatalf("redeem %d %v", st, body)
		}
		return body
	}
	userinfo := func(tok string) (int, map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.issuer+"/oauth2/userInfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m, res.Header.Get("WWW-Authenticate")
	}
	revoke := func(tok, client, secret string) int {
		t.Helper()
		f := url.Values{"token": {tok}}
		if secret == "" {
			f.Set("client_id", client)
		}
		req, _ := http.NewRequest("POST", e.issuer+"/oauth2/revoke", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if secret != "" {
			req.SetBasicAuth(client, secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	first := redeem()
	other := redeem()
	if jwtClaims(t, first["access_token"].(string))["origin_jti"] == jwtClaims(t, other["access_token"].(string))["origin_jti"] {
		t.Fatal("two redemptions share an origin_jti")
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}, "client_id": {e.pub}}, "", "")
	if st != 200 {
		t.Fatalf("refresh %d %v", st, body)
	}
	refreshed := body
	current := first["refresh_token"].(string)
	if rt, ok := refreshed["refresh_token"].(string); ok && rt != "" {
		current = rt
	}
	for _, tok := range []any{first["access_token"], refreshed["access_token"], other["access_token"]} {
		if st, ui, _ := userinfo(tok.(string)); st != 200 || ui["sub"] != e.sub {
			t.Fatalf("userinfo before revoke: %d %v", st, ui)
		}
	}

	// Another (confidential) client's revoke answers as for an unknown
	// token (RFC 7009 §2.1) and revokes nothing.
	if st := revoke(current, e.conf, e.confSecret); st != 200 {
		t.Fatalf("revoke by another client: %d, want 200", st)
	}
	if st, ui, _ := userinfo(refreshed["access_token"].(string)); st != 200 {
		t.Fatalf("userinfo after another client's revoke: %d %v", st, ui)
	}

	if st := revoke(current, e.pub, ""); st != 200 {
		t.Fatalf("revoke %d", st)
	}
	for name, tok := range map[string]any{"redeemed": first["access_token"], "refreshed": refreshed["access_token"]} {
		st, ui, hdr := userinfo(tok.(string))
		wantError(t, "userinfo of the revoked sign-in ("+name+")", st, ui, 401, "invalid_token")
		if d, _ := ui["error_description"].(string); !strings.Contains(d, "revoked") {
			t.Errorf("%s: error_description %q", name, d)
		}
		if !strings.Contains(hdr, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q", name, hdr)
		}
	}
	if st, ui, _ := userinfo(other["access_token"].(string)); st != 200 || ui["sub"] != e.sub {
		t.Fatalf("userinfo of another sign-in: %d %v", st, ui)
	}
}
