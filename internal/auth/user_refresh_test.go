package auth

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		first := e.mustSignIn("jo@example.com", goodPW)
		signInAt := e.now().Unix()
		e.advance(10 * time.Minute)

		r, err := e.refresh(first.RefreshToken)
		if err != nil || r.Tokens == nil {
			t.Fatalf("refresh = %+v, %v", r, err)
		}
		second := r.Tokens
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatalf("refresh token not rotated: %q", second.RefreshToken)
		}
		a1, a2 := claimsOf(t, first.AccessToken), claimsOf(t, second.AccessToken)
		if a2["origin_jti"] != a1["origin_jti"] || a2["auth_time"] != float64(signInAt) || a2["iat"] != float64(e.now().Unix()) || a2["jti"] == a1["jti"] {
			t.Fatalf("refreshed claims: %v (first %v)", a2, a1)
		}
		if _, _, _, err := e.s.AuthenticateAccessToken(e.ctx, second.AccessToken); err != nil {
			t.Fatalf("refreshed access token: %v", err)
		}

		// Reusing the rotated token revokes the whole family.
		_, err = e.refresh(first.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		_, err = e.refresh(second.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		if !hasAction(e.auditActions(), "user.refresh_token_reuse") {
			t.Fatal("reuse not audited")
		}
		// Another session of the user is unaffected.
		other := e.mustSignIn("jo@example.com", goodPW)
		if _, err := e.refresh(other.RefreshToken); err != nil {
			t.Fatalf("other session: %v", err)
		}
	})
}

// 50 parallel refreshes of one token: exactly one succeeds, and the family
// is revoked afterwards (the losers look like a replay).
func TestRefreshParallel(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		toks := e.mustSignIn("jo@example.com", goodPW)
		const n = 50
		var wg sync.WaitGroup
		results := make([]*AuthResult, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = e.refresh(toks.RefreshToken)
			}()
		}
		wg.Wait()
		var winner *Tokens
		for i, err := range errs {
			if err == nil {
				if winner != nil {
					t.Fatal("two refreshes succeeded")
				}
				winner = results[i].Tokens
				continue
			}
			wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		}
		if winner == nil {
			t.Fatal("no refresh succeeded")
		}
		_, err := e.refresh(winner.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
	})
}

func TestRefreshErrors(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	for _, u := range []string{"a", "b", "c", "d", "e", "f"} {
		e.confirmedUser(u + "@example.com")
	}
	sign := func(u string) string { return e.mustSignIn(u+"@example.com", goodPW).RefreshToken }

	_, err := e.refresh("")
	wantErr(t, err, identity.CodeInvalidParameter, "")
	_, err = e.refresh("not-a-token")
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid Refresh Token")

	// Another client of the pool cannot use the token (and does not burn it).
	rt := sign("a")
	other, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "other", AuthFlows: []string{identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: other.Client.ID}, Flow: AuthRefreshTokenAlias, RefreshToken: rt})
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid Refresh Token")
	if _, err := e.refresh(rt); err != nil {
		t.Fatalf("refresh by its own client: %v", err)
	}

	// A disabled user cannot refresh.
	rt = sign("b")
	if err := e.s.AdminDisableUser(e.ctx, e.pool.ID, "b@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(rt)
	wantErr(t, err, identity.CodeNotAuthorized, "")
	e.setUser("b@example.com", func(u *identity.User) { u.Enabled = false })

	// Disabled directly in the store (refresh token not revoked): still refused.
	rt = sign("c")
	e.setUser("c@example.com", func(u *identity.User) { u.Enabled = false })
	_, err = e.refresh(rt)
	wantErr(t, err, identity.CodeNotAuthorized, "User is disabled.")

	// RevokeToken revokes the family.
	rt = sign("d")
	if err := e.s.RevokeToken(e.ctx, e.c(), rt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	_, err = e.refresh(rt)
	wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
	if err := e.s.RevokeToken(e.ctx, e.c(), "unknown-token"); err != nil {
		t.Fatalf("RevokeToken of an unknown token: %v", err)
	}
	err = e.s.RevokeToken(e.ctx, Client{ID: other.Client.ID}, sign("d"))
	wantErr(t, err, identity.CodeNotAuthorized, "")

	// A deleted user's token is refused.
	rt = sign("e")
	if err := e.s.AdminDeleteUser(e.ctx, e.pool.ID, "e@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(rt)
	wantErr(t, err, identity.CodeNotAuthorized, "")

	// The family expires absolutely, whatever the rotations.
	rt = sign("f")
	for i := 0; i < 2; i++ {
		e.advance(10 * 24 * time.Hour)
		r, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		rt = r.Tokens.RefreshToken
	}
	e.advance(10 * 24 * time.Hour)
	_, err = e.refresh(rt) // 30 days after the sign-in
	wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has expired")
}

// The refresh path hashes no password.
func TestRefreshHashesNothing(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	rt := e.mustSignIn("jo@example.com", goodPW).RefreshToken
	before := e.hasher.verifies.Load()
	for i := 0; i < 5; i++ {
		r, err := e.refresh(rt)
		if err != nil {
			t.Fatal(err)
		}
		rt = r.Tokens.RefreshToken
	}
	if e.hasher.verifies.Load() != before {
		t.Fatal("refresh verified a password")
	}
}

// BenchmarkRefresh measures the refresh path (rotation included) on SQLite:
// parallel goroutines, each refreshing its own session's token chain.
func BenchmarkRefresh(b *testing.B) {
	e := userSetup(b, nil, nil)
	e.confirmedUser("jo@example.com")
	b.ResetTimer()
	benchRefreshChains(b, e, "jo@example.com")
}

// benchRefreshChains refreshes in parallel, each goroutine chaining the
// tokens of its own sign-in of username (reusing one would revoke it).
func benchRefreshChains(b *testing.B, e *userEnv, username string) {
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		rt := e.mustSignIn(username, goodPW).RefreshToken
		mu.Unlock()
		for pb.Next() {
			r, err := e.refresh(rt)
			if err != nil {
				b.Error(err)
				return
			}
			rt = r.Tokens.RefreshToken
		}
	})
}

// A successful refresh prunes refresh tokens expired more than
// RefreshTokenRetention ago (at most once a minute per Service); tokens
// expired more recently still answer "Refresh Token has expired".
func TestRefreshPurgesLongExpiredTokens(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	u, err := e.st.GetUserByUsername(e.ctx, e.pool.ID, "jo@example.com")
	if err != nil {
		t.Fatal(err)
	}
	old := &identity.RefreshToken{Hash: "old", PoolID: e.pool.ID, ClientID: e.client.ID, UserSub: u.Sub, FamilyID: "f-old",
		ExpiresAt: e.now().Add(-RefreshTokenRetention - time.Minute)}
	recent := &identity.RefreshToken{Hash: "recent", PoolID: e.pool.ID, ClientID: e.client.ID, UserSub: u.Sub, FamilyID: "f-recent",
		ExpiresAt: e.now().Add(-RefreshTokenRetention + time.Minute)}
	for _, rt := range []*identity.RefreshToken{old, recent} {
		if err := e.st.InsertRefreshToken(e.ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	rt := e.mustSignIn("jo@example.com", goodPW).RefreshToken
	if _, err := e.refresh(rt); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetRefreshToken(e.ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token expired past the retention: %v, want deleted", err)
	}
	if _, err := e.st.GetRefreshToken(e.ctx, "recent"); err != nil {
		t.Errorf("token expired within the retention: %v, want kept", err)
	}
}
