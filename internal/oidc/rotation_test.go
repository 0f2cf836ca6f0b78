package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestRefreshGrantFollowsClientRotation: the token endpoint's
// refresh_token grant follows the client's refresh token rotation, as
// Cognito's /oauth2/token does: with rotation off (DISABLED) it answers no
// refresh_token and the same one keeps working, and revoking it (RFC 7009)
// still ends it; with Gatehouse's default the answer carries a new one and
// the old one is used up.
func TestRefreshGrantFollowsClientRotation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := newBrowser(t)
	refresh := func(rt string) (int, map[string]any) {
		t.Helper()
		st, body, _ := e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.pub}}, "", "")
		return st, body
	}
	signIn := func() string {
		t.Helper()
		code, v := e.codeFor(b, e.pub)
		st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
			"client_id": {e.pub}, "code_verifier": {v}}, "", "")
		if st != 200 || body["refresh_token"] == nil {
			t.Fatalf("redeem: %d %v", st, body)
		}
		return body["refresh_token"].(string)
	}

	// Gatehouse's default: rotation.
	rt := signIn()
	st, body := refresh(rt)
	if st != 200 || body["refresh_token"] == nil || body["refresh_token"] == rt {
		t.Fatalf("rotating client: %d %v", st, body)
	}
	st, body = refresh(rt)
	wantError(t, "rotated-out token", st, body, 400, "invalid_grant")

	// Rotation off.
	cl, err := e.svc.GetClient(context.Background(), e.pool.ID, e.pub)
	if err != nil {
		t.Fatal(err)
	}
	cl.RefreshRotation = identity.RotationDisabled
	if _, err := e.svc.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	rt = signIn()
	for i := range 3 {
		st, body := refresh(rt)
		if st != 200 || body["access_token"] == nil || body["id_token"] == nil {
			t.Fatalf("refresh %d with rotation off: %d %v", i, st, body)
		}
		if _, ok := body["refresh_token"]; ok {
			t.Fatalf("refresh %d with rotation off answered a refresh_token: %v", i, body)
		}
	}
	if st, _ := e.postForm("/oauth2/revoke", url.Values{"token": {rt}, "client_id": {e.pub}}, "", ""); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	st, body = refresh(rt)
	wantError(t, "revoked non-rotating token", st, body, 400, "invalid_grant")
}
