package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

const passkeyOrigin = "https://id.example.com" // userSetup's base URL

// enrolPasskey registers a new software passkey for username.
func (e *userEnv) enrolPasskey(username string) *softauthn.Authenticator {
	e.t.Helper()
	u := e.getUser(username)
	a := softauthn.New(e.t, passkeyOrigin)
	opts, err := e.s.StartPasskeyRegistration(e.ctx, e.pool.ID, u.Sub, "")
	if err != nil {
		e.t.Fatalf("start registration: %v", err)
	}
	if _, err := e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, u.Sub, a.Create(opts), "laptop"); err != nil {
		e.t.Fatalf("complete registration: %v", err)
	}
	return a
}

func (e *userEnv) passkeySignIn(a *softauthn.Authenticator) (*AuthResult, error) {
	opts, err := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
	if err != nil {
		e.t.Fatalf("start sign-in: %v", err)
	}
	return e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: a.Get(opts)})
}

func (e *userEnv) auditCount(action string) int {
	e.t.Helper()
	n := 0
	for _, a := range e.auditActions() {
		if a == action {
			n++
		}
	}
	return n
}

// TestPasskeySignIn: a passkey enrolled for a user signs in alone
// (discoverable, no username), the ID token says amr ["hwk","mfa"] (["swk","mfa"] for
// a synced passkey), the sign count is stored, and the passkey is listed;
// removing it needs a recent sign-in and then it no longer signs in.
func TestPasskeySignIn(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		u := e.confirmedUser("jo@example.com")
		a := e.enrolPasskey("jo@example.com")
		r, err := e.passkeySignIn(a)
		if err != nil || r.Tokens == nil {
			t.Fatalf("passkey sign-in: %v %+v", err, r)
		}
		c := claimsOf(t, r.Tokens.IDToken)
		if c["sub"] != u.Sub {
			t.Fatalf("sub = %v", c["sub"])
		}
		if amr, _ := c["amr"].([]any); len(amr) != 2 || amr[0] != "hwk" || amr[1] != "mfa" {
			t.Fatalf("amr = %v", c["amr"])
		}
		if _, err := e.s.GetUser(e.ctx, r.Tokens.AccessToken); err != nil {
			t.Fatalf("access token: %v", err)
		}
		list, err := e.s.ListPasskeys(e.ctx, e.pool.ID, u.Sub)
		if err != nil || len(list) != 1 || list[0].ID != a.CredentialID() || list[0].Name != "laptop" ||
			list[0].RPID != "id.example.com" || list[0].LastUsedAt.IsZero() {
			t.Fatalf("list: %v %+v", err, list)
		}

		s := softauthn.New(t, passkeyOrigin)
		s.Synced = true
		opts, _ := e.s.StartPasskeyRegistration(e.ctx, e.pool.ID, u.Sub, "")
		if _, err := e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, u.Sub, s.Create(opts), ""); err != nil {
			t.Fatal(err)
		}
		r, err = e.passkeySignIn(s)
		if err != nil {
			t.Fatal(err)
		}
		if amr, _ := claimsOf(t, r.Tokens.IDToken)["amr"].([]any); len(amr) != 2 || amr[0] != "swk" || amr[1] != "mfa" {
			t.Fatalf("synced amr = %v", amr)
		}

		// Removal needs a fresh sign-in; a user removes only their own.
		old := e.now().Add(-PasskeyFreshness - time.Second)
		err = e.s.DeletePasskey(e.ctx, DeletePasskeyInput{PoolID: e.pool.ID, Sub: u.Sub, CredentialID: a.CredentialID(), AuthTime: old, RequireFresh: true})
		wantErr(t, err, identity.CodeNotAuthorized, "Sign in again to remove a passkey.")
		bob := e.confirmedUser("bob@example.com")
		err = e.s.DeletePasskey(e.ctx, DeletePasskeyInput{PoolID: e.pool.ID, Sub: bob.Sub, CredentialID: a.CredentialID(), AuthTime: e.now(), RequireFresh: true})
		wantErr(t, err, identity.CodeResourceNotFound, "")
		if err := e.s.DeletePasskey(e.ctx, DeletePasskeyInput{PoolID: e.pool.ID, Sub: u.Sub, CredentialID: a.CredentialID(), AuthTime: e.now(), RequireFresh: true}); err != nil {
			t.Fatal(err)
		}
		_, err = e.passkeySignIn(a)
		wantErr(t, err, identity.CodeNotAuthorized, "The passkey was not accepted.")
		if e.auditCount("passkey.added") != 2 || e.auditCount("passkey.removed") != 1 {
			t.Fatalf("audit: added %d removed %d", e.auditCount("passkey.added"), e.auditCount("passkey.removed"))
		}
	})
}

// TestPasskeyAttacks: each ceremony is refused when its response was made
// for another origin, another relying party, another pool, another
// challenge, or replays a used or expired challenge; an authenticator
// without user verification is refused at registration; a cloned
// authenticator (sign count not growing) is refused and audited; a
// disabled user cannot sign in with a passkey.
func TestPasskeyAttacks(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	u := e.confirmedUser("jo@example.com")
	a := e.enrolPasskey("jo@example.com")

	t.Run("another origin", func(t *testing.T) {
		opts, _ := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		evil := *a
		evil.Origin = "https://evil.example.net"
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: evil.Get(opts)})
		wantErr(t, err, identity.CodeWebAuthnOriginNotAllowed, "")
		_, err = e.s.StartPasskeySignIn(e.ctx, e.c(), "https://evil.example.net")
		wantErr(t, err, identity.CodeWebAuthnOriginNotAllowed, "")
	})
	t.Run("another relying party", func(t *testing.T) {
		opts, _ := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		forged := strings.Replace(string(opts), `"rpId":"id.example.com"`, `"rpId":"evil.example.net"`, 1)
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: a.Get([]byte(forged))})
		wantErr(t, err, identity.CodeNotAuthorized, "The passkey was not accepted.")
	})
	t.Run("replay", func(t *testing.T) {
		opts, _ := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		resp := a.Get(opts)
		if _, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: resp}); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: resp})
		wantErr(t, err, identity.CodeWebAuthnChallengeNotFound, "")
	})
	t.Run("expired", func(t *testing.T) {
		opts, _ := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		e.advance(PasskeyChallengeTTL)
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: a.Get(opts)})
		wantErr(t, err, identity.CodeWebAuthnChallengeNotFound, "")
	})
	t.Run("registration challenge used for sign-in", func(t *testing.T) {
		opts, _ := e.s.StartPasskeyRegistration(e.ctx, e.pool.ID, u.Sub, "")
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: a.Get(opts)})
		wantErr(t, err, identity.CodeWebAuthnChallengeNotFound, "")
	})
	t.Run("another user's registration", func(t *testing.T) {
		bob := e.confirmedUser("bob@example.com")
		opts, _ := e.s.StartPasskeyRegistration(e.ctx, e.pool.ID, u.Sub, "")
		_, err := e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, bob.Sub, softauthn.New(t, passkeyOrigin).Create(opts), "")
		wantErr(t, err, identity.CodeWebAuthnChallengeNotFound, "")
	})
	t.Run("no user verification", func(t *testing.T) {
		opts, _ := e.s.StartPasskeyRegistration(e.ctx, e.pool.ID, u.Sub, "")
		weak := softauthn.New(t, passkeyOrigin)
		weak.NoUV = true
		_, err := e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, u.Sub, weak.Create(opts), "")
		if err == nil {
			t.Fatal("a passkey without user verification was registered")
		}
		sopts, _ := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		uvLess := *a
		uvLess.NoUV = true
		_, err = e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: uvLess.Get(sopts)})
		wantErr(t, err, identity.CodeNotAuthorized, "The passkey was not accepted.")
	})
	t.Run("another pool", func(t *testing.T) {
		p2, err := e.s.CreatePool(e.ctx, CreatePoolInput{Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		cl2, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p2.ID, Name: "web", AuthFlows: []string{identity.FlowUserPassword}})
		if err != nil {
			t.Fatal(err)
		}
		c2 := Client{ID: cl2.Client.ID}
		opts, _ := e.s.StartPasskeySignIn(e.ctx, c2, "")
		_, err = e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: c2, Credential: a.Get(opts)})
		wantErr(t, err, identity.CodeNotAuthorized, "The passkey was not accepted.")
		// A challenge of this pool answered to the other pool's client.
		opts, _ = e.s.StartPasskeySignIn(e.ctx, e.c(), "")
		_, err = e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: c2, Credential: a.Get(opts)})
		wantErr(t, err, identity.CodeWebAuthnChallengeNotFound, "")
	})
	t.Run("cloned authenticator", func(t *testing.T) {
		clone := *a
		if _, err := e.passkeySignIn(a); err != nil {
			t.Fatal(err)
		}
		// The clone's counter is behind the original's.
		_, err := e.passkeySignIn(&clone)
		wantErr(t, err, identity.CodeNotAuthorized, "The passkey was not accepted.")
		if e.auditCount("passkey.clone_suspected") != 1 {
			t.Fatalf("clone not audited")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: []byte(`{"id":1}`)})
		wantErr(t, err, identity.CodeInvalidParameter, "")
		_, err = e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, u.Sub, []byte(`not json`), "")
		wantErr(t, err, identity.CodeInvalidParameter, "")
		_, err = e.s.CompletePasskeyRegistration(e.ctx, e.pool.ID, u.Sub, []byte(`{}`), "bad\x00name")
		wantErr(t, err, identity.CodeInvalidParameter, "")
	})
	t.Run("disabled user", func(t *testing.T) {
		if err := e.s.AdminDisableUser(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := e.passkeySignIn(a)
		wantErr(t, err, identity.CodeUserDisabled, "")
	})
}

// TestPasskeyMFAPolicy: in a pool whose MFA is ON, a password sign-in of a
// user with a passkey still gets the MFA challenge, while the passkey sign-in
// (user verification done) satisfies the policy on its own: tokens at once,
// amr ["hwk","mfa"] in both tokens (and after a refresh), and the session
// needs no further factor.
func TestPasskeyMFAPolicy(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, false, nil)
	u := e.confirmedUser("mo@example.com")
	a := e.enrolPasskey("mo@example.com")

	r, err := e.signIn("mo@example.com", goodPW)
	if err != nil || r.Challenge == nil || r.Tokens != nil {
		t.Fatalf("password sign-in in an MFA ON pool: %v %+v", err, r)
	}
	r, err = e.passkeySignIn(a)
	if err != nil || r.Tokens == nil || r.Challenge != nil {
		t.Fatalf("passkey sign-in: %v %+v", err, r)
	}
	rr, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthRefreshToken, RefreshToken: r.Tokens.RefreshToken})
	if err != nil || rr.Tokens == nil {
		t.Fatalf("refresh: %v %+v", err, rr)
	}
	for _, tok := range []string{r.Tokens.IDToken, r.Tokens.AccessToken, rr.Tokens.IDToken} {
		amr := AMRClaim(claimsOf(t, tok))
		if len(amr) != 2 || amr[0] != AMRHardwareKey || amr[1] != AMRMFA {
			t.Fatalf("amr = %v", amr)
		}
		need, err := e.s.NeedsMFA(e.ctx, e.pool.ID, u.Sub, amr)
		if err != nil || need {
			t.Fatalf("NeedsMFA after a passkey: %v %v", need, err)
		}
	}
}
