package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestJTIMillis(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	at := time.Date(2026, 11, 22, 3, 4, 5, 678_000_000, time.UTC)
	jti, err := e.s.newJTI(at)
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := jtiMillis(jti)
	if !ok || ms != at.UnixMilli() {
		t.Fatalf("jtiMillis(%s) = %d, %v; want %d", jti, ms, ok, at.UnixMilli())
	}
	cases := []struct {
		iat  int64
		jti  string
		want int64
	}{
		{at.Unix(), jti, at.UnixMilli()},
		{at.Unix() + 1, jti, (at.Unix() + 1) * 1000},                          // jti from another second: iat wins
		{at.Unix(), "3f2b8a4e-2c1d-4e5f-9a8b-7c6d5e4f3a2b", at.Unix() * 1000}, // v4: start of the second
		{at.Unix(), "not-a-uuid", at.Unix() * 1000},
	}
	for _, tc := range cases {
		if got := issuedAtMillis(tc.iat, tc.jti); got != tc.want {
			t.Errorf("issuedAtMillis(%d, %s) = %d, want %d", tc.iat, tc.jti, got, tc.want)
		}
	}
}

// GlobalSignOut refuses access tokens issued before it, including those
// issued earlier in the same second, and not those issued after it in the
// same second; it revokes refresh tokens.
func TestGlobalSignOut(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		e.advance(time.Second - e.now().Sub(e.now().Truncate(time.Second))) // start of a second
		e.advance(100 * time.Millisecond)
		before := e.mustSignIn("jo@example.com", goodPW) // at .100
		if _, err := e.s.GetUser(e.ctx, before.AccessToken); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		e.advance(400 * time.Millisecond)
		if err := e.s.GlobalSignOut(e.ctx, before.AccessToken); err != nil { // at .500
			t.Fatalf("GlobalSignOut: %v", err)
		}
		e.advance(200 * time.Millisecond)
		after := e.mustSignIn("jo@example.com", goodPW) // at .700, same second
		if claimsOf(t, before.AccessToken)["iat"] != claimsOf(t, after.AccessToken)["iat"] {
			t.Fatal("test setup: the tokens should share their iat second")
		}
		_, err := e.s.GetUser(e.ctx, before.AccessToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
		_, err = e.refresh(before.RefreshToken)
		wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
		if v, err := e.s.GetUser(e.ctx, after.AccessToken); err != nil || v.User.Email != "jo@example.com" {
			t.Fatalf("token issued after the sign-out: %v", err)
		}
		if _, err := e.refresh(after.RefreshToken); err != nil {
			t.Fatalf("refresh issued after the sign-out: %v", err)
		}
		if !hasAction(e.auditActions(), "user.global_sign_out") {
			t.Fatal("not audited")
		}
	})
}

func TestAuthenticateAccessTokenRejects(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	other := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	other.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	foreign := other.mustSignIn("jo@example.com", goodPW)

	cases := []struct {
		name string
		tok  string
		code identity.Code
	}{
		{"empty", "", identity.CodeInvalidToken},
		{"garbage", "a.b.c", identity.CodeInvalidToken},
		{"ID token", toks.IDToken, identity.CodeInvalidToken},
		{"refresh token", toks.RefreshToken, identity.CodeInvalidToken},
		{"tampered", toks.AccessToken[:len(toks.AccessToken)-4] + "AAAA", identity.CodeInvalidToken},
		{"other service's pool", foreign.AccessToken, identity.CodeInvalidToken},
		{"huge", strings.Repeat("a", 40<<10) + ".b.c", identity.CodeInvalidToken},
		{"many dots", strings.Repeat(".", 100000), identity.CodeInvalidToken},
	}
	for _, tc := range cases {
		_, _, _, err := e.s.AuthenticateAccessToken(e.ctx, tc.tok)
		if identity.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}

	// Disabled user.
	e.setUser("jo@example.com", func(u *identity.User) { u.Enabled = false })
	_, _, _, err := e.s.AuthenticateAccessToken(e.ctx, toks.AccessToken)
	wantErr(t, err, identity.CodeUserDisabled, "User is disabled.")
	e.setUser("jo@example.com", func(u *identity.User) { u.Enabled = true })

	// Expired.
	e.advance(time.Hour)
	_, _, _, err = e.s.AuthenticateAccessToken(e.ctx, toks.AccessToken)
	wantErr(t, err, identity.CodeInvalidToken, "")
}

func TestDisableRevokesAccessTokens(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	e.advance(time.Millisecond)
	if err := e.s.AdminDisableUser(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AdminEnableUser(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.GetUser(e.ctx, toks.AccessToken)
	wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
	_, err = e.refresh(toks.RefreshToken)
	wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
}

// FuzzPeekIssuer: the unverified issuer peek never panics and only
// accepts a compact JWT with a non-empty iss.
func FuzzPeekIssuer(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tL3VzLWVhc3QtMV9hYmMifQ.sig")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Add("x.eyJpc3MiOjF9.y")
	f.Fuzz(func(t *testing.T, raw string) {
		iss, ok := peekIssuer(raw)
		if ok && (iss == "" || strings.Count(raw, ".") != 2 || len(raw) > maxAccessTokenLen) {
			t.Fatalf("peekIssuer(%q) = %q, true", raw, iss)
		}
		_ = issuedAtMillis(int64(len(raw)), raw)
	})
}
