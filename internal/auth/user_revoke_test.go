package auth

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestRevokeTokenEndsTheSignIn: RevokeToken (with the current refresh
// token, or a spent one of the same family) refuses every access token of
// that sign-in — the one issued at sign-in and the ones issued by refreshes
// — with "Access Token has been revoked"; another sign-in of the same user
// keeps working; another client's RevokeToken changes nothing; the record
// is pruned once no token of the sign-in can still be unexpired.
func TestRevokeTokenEndsTheSignIn(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		accessOK := func(what, tok string) {
			t.Helper()
			if _, err := e.s.GetUser(e.ctx, tok); err != nil {
				t.Fatalf("%s: GetUser: %v", what, err)
			}
		}
		accessRevoked := func(what, tok string) {
			t.Helper()
			_, err := e.s.GetUser(e.ctx, tok)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
			err = e.s.ChangePassword(e.ctx, tok, goodPW, goodPW2)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
			_, err = e.s.OAuthUserInfo(e.ctx, e.pool.ID, tok)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
		}

		first := e.mustSignIn("jo@example.com", goodPW)
		other := e.mustSignIn("jo@example.com", goodPW)
		e.advance(time.Minute)
		r, err := e.refresh(first.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		refreshed := r.Tokens
		accessOK("first", first.AccessToken)
		accessOK("refreshed", refreshed.AccessToken)

		// Another client of the pool cannot revoke it: nothing changes.
		cl2, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "other", AuthFlows: []string{identity.FlowRefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		err = e.s.RevokeToken(e.ctx, Client{ID: cl2.Client.ID}, refreshed.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "")
		accessOK("after another client's RevokeToken", refreshed.AccessToken)
		if ok, err := e.st.OriginRevoked(e.ctx, e.pool.ID, claimsOf(t, first.AccessToken)["origin_jti"].(string)); err != nil || ok {
			t.Fatalf("origin revoked by another client: %v %v", ok, err)
		}

		e.advance(time.Minute)
		if err := e.s.RevokeToken(e.ctx, e.c(), refreshed.RefreshToken); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		accessRevoked("first (issued at sign-in)", first.AccessToken)
		accessRevoked("refreshed", refreshed.AccessToken)
		_, err = e.refresh(refreshed.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		accessOK("another sign-in", other.AccessToken)
		if _, err := e.refresh(other.RefreshToken); err != nil {
			t.Fatalf("another sign-in's refresh: %v", err)
		}
		// Revoking again is harmless.
		if err := e.s.RevokeToken(e.ctx, e.c(), refreshed.RefreshToken); err != nil {
			t.Fatalf("second RevokeToken: %v", err)
		}

		// A spent refresh token of a family still names its sign-in.
		third := e.mustSignIn("jo@example.com", goodPW)
		r, err = e.refresh(third.RefreshToken)
		if err != nil {
			t.Fatalf("refresh third: %v", err)
		}
		if err := e.s.RevokeToken(e.ctx, e.c(), third.RefreshToken); err != nil {
			t.Fatalf("RevokeToken with the spent token: %v", err)
		}
		accessRevoked("third, refreshed", r.Tokens.AccessToken)

		// Pruning: the first revocation is remembered for
		// RevokedOriginRetention, then the next RevokeToken deletes it.
		firstOrigin := claimsOf(t, first.AccessToken)["origin_jti"].(string)
		e.advance(RevokedOriginRetention - 2*time.Minute)
		fourth := e.mustSignIn("jo@example.com", goodPW)
		if err := e.s.RevokeToken(e.ctx, e.c(), fourth.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.st.OriginRevoked(e.ctx, e.pool.ID, firstOrigin); err != nil || !ok {
			t.Fatalf("pruned before its retention ended: %v %v", ok, err)
		}
		e.advance(11 * time.Minute)
		fifth := e.mustSignIn("jo@example.com", goodPW)
		if err := e.s.RevokeToken(e.ctx, e.c(), fifth.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.st.OriginRevoked(e.ctx, e.pool.ID, firstOrigin); err != nil || ok {
			t.Fatalf("not pruned after its retention: %v %v", ok, err)
		}
		fourthOrigin := claimsOf(t, fourth.AccessToken)["origin_jti"].(string)
		if ok, err := e.st.OriginRevoked(e.ctx, e.pool.ID, fourthOrigin); err != nil || !ok {
			t.Fatalf("a live revocation was pruned: %v %v", ok, err)
		}
		accessRevoked("fifth", fifth.AccessToken)
		if !hasAction(e.auditActions(), "user.revoke_token") {
			t.Fatal("RevokeToken not audited")
		}
	})
}
