package e2e_test

import "testing"

// TestRevokeEndsTheSignIn: POST /api/v1/auth/revoke with a refresh token
// ends that sign-in: its access tokens (from the sign-in and from a
// refresh) get 401 not_authorized at /api/v1/me, while another sign-in of
// the same user keeps working.
func TestRevokeEndsTheSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("revoke")
	const user = "rae@example.test"
	e.signUpConfirmed(poolID, clientID, user)
	signIn := func() tokens { return e.signInTokens(clientID, user) }
	t1, other := signIn(), signIn()
	var t2 tokens
	e.must(200, e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"client_id": clientID, "refresh_token": t1.RefreshToken})).json(t, &t2)
	for _, tk := range []tokens{t1, t2, other} {
		e.must(200, e.do("GET", "/api/v1/me", "Bearer "+tk.AccessToken, nil))
	}

	e.must(204, e.do("POST", "/api/v1/auth/revoke", "", map[string]any{"client_id": clientID, "refresh_token": t2.RefreshToken}))
	for name, tk := range map[string]tokens{"sign-in": t1, "refreshed": t2} {
		p := e.must(401, e.do("GET", "/api/v1/me", "Bearer "+tk.AccessToken, nil)).problem(t)
		if p.Code != "not_authorized" || p.Detail != "Access Token has been revoked" {
			t.Fatalf("%s: %+v", name, p)
		}
		e.must(401, e.do("PATCH", "/api/v1/me/attributes", "Bearer "+tk.AccessToken, map[string]any{"attributes": map[string]string{"name": "X"}}))
	}
	e.must(200, e.do("GET", "/api/v1/me", "Bearer "+other.AccessToken, nil))
}
