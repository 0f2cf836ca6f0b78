package auth

import (
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Scopes, issuers and the end of a sign-in (docs/security.md section T).

const rpCallback = "https://rp.example/cb"

// oauthClient adds a code-flow client to e's pool that may ask for
// scopes (and, with refresh, gets refresh tokens).
func (e *userEnv) oauthClient(refresh bool, scopes ...string) *identity.AppClient {
	e.t.Helper()
	in := CreateClientInput{PoolID: e.pool.ID, Name: "rp", CallbackURLs: []string{rpCallback},
		OAuthFlows: []string{identity.OAuthFlowCode}, OAuthScopes: scopes}
	if refresh {
		in.AuthFlows = []string{identity.FlowRefreshToken}
	}
	cc, err := e.s.CreateClient(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateClient: %v", err)
	}
	return cc.Client
}

// codeTokens runs the code grant for username through cl with scope (the
// scope the authorize endpoint granted) and returns the tokens and the
// code, for replays.
func (e *userEnv) codeTokens(cl *identity.AppClient, username, scope string) (*Tokens, string) {
	e.t.Helper()
	u := e.getUser(username)
	code, err := e.s.CreateAuthorizationCode(e.ctx, AuthorizationCodeInput{Pool: e.pool, Client: cl, Sub: u.Sub,
		AuthTime: e.now(), RedirectURI: rpCallback, Scope: scope})
	if err != nil {
		e.t.Fatalf("CreateAuthorizationCode: %v", err)
	}
	toks, granted, err := e.s.RedeemAuthorizationCode(e.ctx, RedeemCodeInput{Pool: e.pool, Client: cl, Code: code, RedirectURI: rpCallback})
	if err != nil {
		e.t.Fatalf("RedeemAuthorizationCode: %v", err)
	}
	if granted != scope || toks.Scope != scope {
		e.t.Fatalf("granted scope %q / %q, want %q", granted, toks.Scope, scope)
	}
	return toks, code
}

// TestSelfServiceNeedsAdminScope: an access token without
// aws.cognito.signin.user.admin (a relying party's "openid email") is
// refused by every operation authorised by an access token, with Cognito's
// message, and changes nothing — so the takeover (change the email to the
// attacker's, verify it, reset the password) fails at its first step.
// userInfo still answers (it needs openid). A token with the scope, and a
// token from InitiateAuth, are accepted.
func TestSelfServiceNeedsAdminScope(t *testing.T) { // security.md T5
	t.Parallel()
	e := userSetup(t, nil, nil)
	victim := e.confirmedUser("victim@example.com")
	cl := e.oauthClient(true, ScopeOpenID, ScopeEmail, ScopeUserAdmin)
	narrow, _ := e.codeTokens(cl, "victim@example.com", "openid email")
	if got := claimsOf(t, narrow.AccessToken)["scope"]; got != "openid email" {
		t.Fatalf("access token scope = %v", got)
	}
	before := len(e.auditActions())
	emails := len(e.emailsTo("attacker@evil.example", TemplateVerifyEmail))

	tok := narrow.AccessToken
	ops := map[string]func() error{
		"GetUser": func() error { _, err := e.s.GetUser(e.ctx, tok); return err },
		"UpdateUserAttributes": func() error {
			_, err := e.s.UpdateUserAttributes(e.ctx, tok, map[string]string{"email": "attacker@evil.example"})
			return err
		},
		"DeleteUserAttributes": func() error { return e.s.DeleteUserAttributes(e.ctx, tok, []string{"name"}) },
		"GetUserAttributeVerificationCode": func() error {
			_, err := e.s.GetUserAttributeVerificationCode(e.ctx, tok, "email", RequestMeta{})
			return err
		},
		"VerifyUserAttribute": func() error { return e.s.VerifyUserAttribute(e.ctx, tok, "email", "123456") },
		"ChangePassword":      func() error { return e.s.ChangePassword(e.ctx, tok, goodPW, goodPW2) },
		"DeleteUser":          func() error { return e.s.DeleteUser(e.ctx, tok) },
		"GlobalSignOut":       func() error { return e.s.GlobalSignOut(e.ctx, tok) },
	}
	for name, op := range ops {
		err := op()
		var ie *identity.Error
		if !errors.As(err, &ie) || ie.Code != identity.CodeInsufficientScope || ie.Message != "Access Token does not have required scopes" {
			t.Errorf("%s with an openid email token: %v, want insufficient_scope", name, err)
		}
	}
	after := e.getUser("victim@example.com")
	if after.Email != victim.Email || !after.EmailVerified || after.PasswordHash != victim.PasswordHash ||
		!after.TokensValidAfter.Equal(victim.TokensValidAfter) {
		t.Fatalf("user changed by a refused token: %+v", after)
	}
	if n := len(e.emailsTo("attacker@evil.example", TemplateVerifyEmail)); n != emails {
		t.Fatal("a verification code went to the attacker's address")
	}
	if n := len(e.auditActions()); n != before {
		t.Fatalf("audit grew by %d", n-before)
	}
	if _, err := e.s.OAuthUserInfo(e.ctx, e.pool.ID, tok); err != nil {
		t.Fatalf("userInfo with openid: %v", err)
	}

	wide, _ := e.codeTokens(cl, "victim@example.com", "openid aws.cognito.signin.user.admin")
	if _, err := e.s.GetUser(e.ctx, wide.AccessToken); err != nil {
		t.Fatalf("GetUser with the admin scope: %v", err)
	}
	signedIn := e.mustSignIn("victim@example.com", goodPW)
	if got := claimsOf(t, signedIn.AccessToken)["scope"]; got != ScopeUserAdmin {
		t.Fatalf("InitiateAuth scope = %v", got)
	}
	if _, err := e.s.GetUser(e.ctx, signedIn.AccessToken); err != nil {
		t.Fatalf("GetUser with an InitiateAuth token: %v", err)
	}
}

// TestRefreshKeepsGrantedScope: a refresh reissues exactly the scope of
// the sign-in (before, every refresh issued aws.cognito.signin.user.admin),
// and says so; InitiateAuth families keep the admin scope; a family
// written before migration 0009 (no scope) refreshes as it did then.
func TestRefreshKeepsGrantedScope(t *testing.T) { // security.md T6
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		cl := e.oauthClient(true, ScopeOpenID, ScopeEmail, ScopeUserAdmin)
		toks, _ := e.codeTokens(cl, "jo@example.com", "openid email")
		rt := toks.RefreshToken
		for i := 0; i < 2; i++ {
			e.advance(time.Minute)
			r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.ID}, Flow: AuthRefreshToken, RefreshToken: rt})
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			if got := claimsOf(t, r.Tokens.AccessToken)["scope"]; got != "openid email" {
				t.Fatalf("refresh %d: access token scope %v, want openid email", i, got)
			}
			if r.Tokens.Scope != "openid email" {
				t.Fatalf("refresh %d: Tokens.Scope %q", i, r.Tokens.Scope)
			}
			_, err = e.s.GetUser(e.ctx, r.Tokens.AccessToken)
			wantErr(t, err, identity.CodeInsufficientScope, "Access Token does not have required scopes")
			rt = r.Tokens.RefreshToken
		}

		signedIn := e.mustSignIn("jo@example.com", goodPW)
		r, err := e.refresh(signedIn.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if got := claimsOf(t, r.Tokens.AccessToken)["scope"]; got != ScopeUserAdmin || r.Tokens.Scope != ScopeUserAdmin {
			t.Fatalf("InitiateAuth family refreshed to scope %v / %q", got, r.Tokens.Scope)
		}

		// A token written by a node before migration 0009 has no scope.
		u := e.getUser("jo@example.com")
		legacy := "legacy-refresh-token-of-an-old-node-0123456789abcdef"
		if err := e.st.InsertRefreshToken(e.ctx, &identity.RefreshToken{Hash: sha256Hex(legacy), PoolID: e.pool.ID,
			ClientID: e.client.ID, UserSub: u.Sub, FamilyID: "fam-legacy", OriginJTI: "origin-legacy",
			AuthTime: e.now(), IssuedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r, err = e.refresh(legacy)
		if err != nil {
			t.Fatal(err)
		}
		if got := claimsOf(t, r.Tokens.AccessToken)["scope"]; got != ScopeUserAdmin {
			t.Fatalf("legacy family refreshed to scope %v", got)
		}
		next, err := e.st.GetRefreshToken(e.ctx, sha256Hex(r.Tokens.RefreshToken))
		if err != nil || next.Scope != ScopeUserAdmin {
			t.Fatalf("successor of a legacy token: %+v %v", next, err)
		}
	})
}

// TestCodeReplayEndsTheSignIn: presenting a redeemed authorization code
// again ends the sign-in it was exchanged for — its refresh family and its
// access and ID tokens — in the transaction that records the replay, with
// or without refresh tokens.
func TestCodeReplayEndsTheSignIn(t *testing.T) { // security.md T10
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		for _, refresh := range []bool{true, false} {
			cl := e.oauthClient(refresh, ScopeOpenID, ScopeUserAdmin)
			toks, code := e.codeTokens(cl, "jo@example.com", "openid aws.cognito.signin.user.admin")
			if _, err := e.s.GetUser(e.ctx, toks.AccessToken); err != nil {
				t.Fatalf("before the replay: %v", err)
			}
			other := e.mustSignIn("jo@example.com", goodPW)

			_, _, err := e.s.RedeemAuthorizationCode(e.ctx, RedeemCodeInput{Pool: e.pool, Client: cl, Code: code, RedirectURI: rpCallback})
			wantErr(t, err, identity.CodeNotAuthorized, "The authorization code was already used.")
			_, err = e.s.GetUser(e.ctx, toks.AccessToken)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
			_, err = e.s.OAuthUserInfo(e.ctx, e.pool.ID, toks.AccessToken)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
			if refresh {
				_, err = e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.ID}, Flow: AuthRefreshToken, RefreshToken: toks.RefreshToken})
				wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
			}
			if _, err := e.s.GetUser(e.ctx, other.AccessToken); err != nil {
				t.Fatalf("another sign-in after the replay: %v", err)
			}
		}
	})
}

// TestRefreshReuseEndsTheSignIn: presenting a rotated refresh token again
// ends the sign-in: the family, and every access token of it (the one of
// the sign-in and the ones refreshes issued); other sign-ins go on.
func TestRefreshReuseEndsTheSignIn(t *testing.T) { // security.md T10
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		first := e.mustSignIn("jo@example.com", goodPW)
		other := e.mustSignIn("jo@example.com", goodPW)
		e.advance(time.Minute)
		r, err := e.refresh(first.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.refresh(first.RefreshToken) // reuse
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		for _, tok := range []string{first.AccessToken, r.Tokens.AccessToken} { // of the sign-in, of the refresh
			_, err := e.s.GetUser(e.ctx, tok)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
			_, err = e.s.OAuthUserInfo(e.ctx, e.pool.ID, tok)
			wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
		}
		if _, err := e.s.GetUser(e.ctx, other.AccessToken); err != nil {
			t.Fatalf("another sign-in: %v", err)
		}
	})
}

// TestAccessTokenOfAnotherPool: a surface under /<pool>/ authenticates
// with AuthenticateAccessTokenFor, which refuses a token another pool
// issued (however valid there) as an invalid token.
func TestAccessTokenOfAnotherPool(t *testing.T) { // security.md T2
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	a := e.mustSignIn("jo@example.com", goodPW)
	other, err := e.s.CreatePool(e.ctx, CreatePoolInput{Name: "Other pool"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.s.AuthenticateAccessTokenFor(e.ctx, e.pool.ID, a.AccessToken); err != nil {
		t.Fatalf("own pool: %v", err)
	}
	for _, pool := range []string{other.ID, "", "eu-west-1_nothere"} {
		_, _, _, err := e.s.AuthenticateAccessTokenFor(e.ctx, pool, a.AccessToken)
		wantErr(t, err, identity.CodeInvalidToken, "Invalid Access Token")
		_, err = e.s.OAuthUserInfo(e.ctx, pool, a.AccessToken)
		wantErr(t, err, identity.CodeInvalidToken, "Invalid Access Token")
	}
}

// flipS returns tok with its ES256 signature's s replaced by n−s.
func flipS(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %q", parts[2])
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestHighSAccessTokenRefused: an access token whose ES256 signature was
// turned into its twin (s → n−s) is an invalid token for every access
// token check (the self-service operations, userInfo).
func TestHighSAccessTokenRefused(t *testing.T) { // security.md T8
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	for i := 0; i < 10; i++ {
		tok := e.mustSignIn("jo@example.com", goodPW).AccessToken
		if _, _, _, err := e.s.AuthenticateAccessToken(e.ctx, tok); err != nil {
			t.Fatalf("original: %v", err)
		}
		twin := flipS(t, tok)
		_, _, _, err := e.s.AuthenticateAccessToken(e.ctx, twin)
		wantErr(t, err, identity.CodeInvalidToken, "Invalid Access Token")
		_, err = e.s.GetUser(e.ctx, twin)
		wantErr(t, err, identity.CodeInvalidToken, "Invalid Access Token")
		_, err = e.s.OAuthUserInfo(e.ctx, e.pool.ID, twin)
		wantErr(t, err, identity.CodeInvalidToken, "Invalid Access Token")
	}
}
