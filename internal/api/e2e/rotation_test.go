package e2e_test

import "testing"

// TestRefreshRotationNative: a client made by the native API rotates
// refresh tokens by default (reuse ends the sign-in); PATCHed to
// refresh_token_rotation false, a refresh answers no refresh token and the
// same one keeps working until it is revoked; the grace period is
// validated; back on, the client rotates again.
func TestRefreshRotationNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("rotation")
	const ann = "ann@example.test"
	e.signUpConfirmed(poolID, clientID, ann)
	signIn := func() tokens { return e.signInTokens(clientID, ann) }
	refresh := func(rt string) response {
		t.Helper()
		return e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"client_id": clientID, "refresh_token": rt})
	}
	type clientView struct {
		Rotation bool `json:"refresh_token_rotation"`
		Grace    int  `json:"refresh_token_retry_grace_seconds"`
	}
	var cv clientView
	path := "/api/v1/pools/" + poolID + "/clients/" + clientID
	e.must(200, e.admin("GET", path, nil)).json(t, &cv)
	if !cv.Rotation || cv.Grace != 0 {
		t.Fatalf("default client: %+v, want rotation on, no grace", cv)
	}

	// Default: rotation with reuse detection.
	t1 := signIn()
	var t2 tokens
	e.must(200, refresh(t1.RefreshToken)).json(t, &t2)
	if t2.RefreshToken == "" || t2.RefreshToken == t1.RefreshToken {
		t.Fatalf("rotating refresh: %+v", t2)
	}
	if p := e.must(401, refresh(t1.RefreshToken)).problem(t); p.Code != "not_authorized" {
		t.Fatalf("reuse: %+v", p)
	}
	e.must(401, refresh(t2.RefreshToken)) // the family ended

	// Bad grace periods change nothing.
	for _, g := range []int{-1, 61} {
		if p := e.must(400, e.admin("PATCH", path, map[string]any{"refresh_token_rotation": false, "refresh_token_retry_grace_seconds": g})).problem(t); p.Code != "invalid_parameter" {
			t.Fatalf("grace %d: %+v", g, p)
		}
	}
	e.must(200, e.admin("GET", path, nil)).json(t, &cv)
	if !cv.Rotation {
		t.Fatal("a refused PATCH turned rotation off")
	}

	// Off: one refresh token, used again and again, until revoked.
	e.must(200, e.admin("PATCH", path, map[string]any{"refresh_token_rotation": false})).json(t, &cv)
	if cv.Rotation {
		t.Fatalf("PATCH rotation off: %+v", cv)
	}
	t1 = signIn()
	for i := range 3 {
		var tk tokens
		e.must(200, refresh(t1.RefreshToken)).json(t, &tk)
		if tk.RefreshToken != "" || tk.AccessToken == "" {
			t.Fatalf("refresh %d with rotation off: %+v", i, tk)
		}
	}
	e.must(204, e.do("POST", "/api/v1/auth/revoke", "", map[string]any{"client_id": clientID, "refresh_token": t1.RefreshToken}))
	e.must(401, refresh(t1.RefreshToken))

	// On again, with a grace period.
	e.must(200, e.admin("PATCH", path, map[string]any{"refresh_token_rotation": true, "refresh_token_retry_grace_seconds": 30})).json(t, &cv)
	if !cv.Rotation || cv.Grace != 30 {
		t.Fatalf("PATCH rotation on: %+v", cv)
	}
	t1 = signIn()
	var a, b tokens
	e.must(200, refresh(t1.RefreshToken)).json(t, &a)
	e.must(200, refresh(t1.RefreshToken)).json(t, &b) // a retry within the grace period
	if a.RefreshToken == "" || b.RefreshToken == "" || a.RefreshToken == b.RefreshToken {
		t.Fatalf("grace period: %q %q", a.RefreshToken, b.RefreshToken)
	}
}
