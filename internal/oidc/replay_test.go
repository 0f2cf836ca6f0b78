package oidc_test

import (
	"net/url"
	"testing"
)

// TestReplayEndsTheSignInOnTheWire: a replayed authorization code and a
// reused rotated refresh token end the sign-in at the token endpoint: the
// access token of the first exchange (and of the refresh) is then refused
// by userInfo ("Access Token has been revoked"), not only the refresh
// family. Another sign-in of the user keeps working.
func TestReplayEndsTheSignInOnTheWire(t *testing.T) { // security.md T10
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	redeem := func(code, v string) (int, map[string]any) {
		t.Helper()
		st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
			"client_id": {e.pub}, "code_verifier": {v}}, "", "")
		return st, body
	}
	refresh := func(rt string) (int, map[string]any) {
		t.Helper()
		st, body, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.pub}}, "", "")
		return st, body
	}
	revoked := func(what, tok string) {
		t.Helper()
		st, ui := e.userInfo("GET", e.issuer, tok)
		if st != 401 || ui["error"] != "invalid_token" || ui["error_description"] != "Access Token has been revoked" {
			t.Errorf("%s: userInfo %d %v, want 401 Access Token has been revoked", what, st, ui)
		}
	}

	// Code replay.
	code, v := e.codeFor(b, e.pub)
	st, first := redeem(code, v)
	if st != 200 {
		t.Fatalf("redeem: %d %v", st, first)
	}
	oc, ov := e.codeFor(b, e.pub)
	_, other := redeem(oc, ov)
	if st, ui := e.userInfo("GET", e.issuer, first["access_token"].(string)); st != 200 {
		t.Fatalf("before the replay: %d %v", st, ui)
	}
	st, body := redeem(code, v)
	wantError(t, "replayed code", st, body, 400, "invalid_grant")
	revoked("access token of the replayed code's exchange", first["access_token"].(string))

	// Refresh reuse.
	st, next := refresh(other["refresh_token"].(string))
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, next)
	}
	if st, ui := e.userInfo("GET", e.issuer, next["access_token"].(string)); st != 200 {
		t.Fatalf("refreshed token before the reuse: %d %v", st, ui)
	}
	st, body = refresh(other["refresh_token"].(string)) // rotated: reuse
	wantError(t, "reused refresh token", st, body, 400, "invalid_grant")
	revoked("access token of the sign-in", other["access_token"].(string))
	revoked("access token of the refresh", next["access_token"].(string))

	// A third sign-in is untouched.
	tc, tv := e.codeFor(b, e.pub)
	if st, third := redeem(tc, tv); st != 200 {
		t.Fatalf("third sign-in: %d %v", st, third)
	} else if st, ui := e.userInfo("GET", e.issuer, third["access_token"].(string)); st != 200 {
		t.Fatalf("third sign-in's userInfo: %d %v", st, ui)
	}
}
