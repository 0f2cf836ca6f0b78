package auth

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSignInTokenClaims(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}
	}, nil)
	e.signUp("jo@example.com", map[string]string{"name": "Jo", "custom:company_name": "Acme"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: e.lastCode("jo@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	// The company a sign-up names is only a request (security.md A2): an
	// admin sets it.
	if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, "jo@example.com", map[string]string{"custom:company_name": "Acme"}); err != nil {
		t.Fatal(err)
	}
	u := e.getUser("jo@example.com")

	// Without groups: no cognito:groups claim.
	toks := e.mustSignIn("jo@example.com", goodPW)
	if c := claimsOf(t, toks.IDToken); c["cognito:groups"] != nil {
		t.Fatalf("cognito:groups present without groups: %v", c["cognito:groups"])
	}

	for _, g := range []string{"admins", "readers"} {
		if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: e.pool.ID, Name: g}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.AdminAddUserToGroup(e.ctx, e.pool.ID, "jo@example.com", g); err != nil {
			t.Fatal(err)
		}
	}
	e.advance(time.Second)
	toks = e.mustSignIn("jo@example.com", goodPW)
	if toks.TokenType != "Bearer" || toks.ExpiresIn != 3600 || toks.RefreshToken == "" {
		t.Fatalf("tokens = %+v", toks)
	}
	if len(toks.RefreshToken) < 43 {
		t.Fatalf("refresh token too short: %q", toks.RefreshToken)
	}
	now := e.now().Unix()
	iss := "https://id.example.com/" + e.pool.ID

	id := claimsOf(t, toks.IDToken)
	// amr (docs/mfa.md) is Gatehouse's addition to Cognito's claims.
	wantID := []string{"amr", "aud", "auth_time", "cognito:groups", "cognito:username", "custom:company_name", "email",
		"email_verified", "event_id", "exp", "iat", "iss", "jti", "name", "origin_jti", "sub", "token_use"}
	if got := keys(id); !equalStrings(got, wantID) {
		t.Fatalf("ID token claims = %v, want %v", got, wantID)
	}
	checks := map[string]any{
		"sub": u.Sub, "aud": e.client.ID, "email": "jo@example.com", "email_verified": true, "token_use": "id",
		"auth_time": float64(now), "iss": iss, "cognito:username": u.Sub, "iat": float64(now),
		"exp": float64(now + 3600), "custom:company_name": "Acme", "name": "Jo",
	}
	for k, v := range checks {
		if id[k] != v {
			t.Errorf("ID token %s = %#v, want %#v", k, id[k], v)
		}
	}
	if g, _ := id["cognito:groups"].([]any); len(g) != 2 || g[0] != "admins" || g[1] != "readers" {
		t.Errorf("ID cognito:groups = %v", id["cognito:groups"])
	}

	acc := claimsOf(t, toks.AccessToken)
	wantAcc := []string{"amr", "auth_time", "client_id", "cognito:groups", "event_id", "exp", "iat", "iss", "jti", "origin_jti", "scope", "sub", "token_use", "username"}
	if got := keys(acc); !equalStrings(got, wantAcc) {
		t.Fatalf("access token claims = %v, want %v", got, wantAcc)
	}
	checks = map[string]any{
		"sub": u.Sub, "token_use": "access", "scope": "aws.cognito.signin.user.admin", "auth_time": float64(now),
		"iss": iss, "exp": float64(now + 3600), "iat": float64(now), "client_id": e.client.ID, "username": u.Sub,
	}
	for k, v := range checks {
		if acc[k] != v {
			t.Errorf("access token %s = %#v, want %#v", k, acc[k], v)
		}
	}
	if acc["origin_jti"] != id["origin_jti"] || acc["jti"] == id["jti"] || acc["jti"] == "" {
		t.Errorf("jti/origin_jti: access %v/%v, id %v/%v", acc["jti"], acc["origin_jti"], id["jti"], id["origin_jti"])
	}

	// The tokens verify, and the access token authenticates.
	p, au, claims, err := e.s.AuthenticateAccessToken(e.ctx, toks.AccessToken)
	if err != nil || p.ID != e.pool.ID || au.Sub != u.Sub || claims["client_id"] != e.client.ID {
		t.Fatalf("AuthenticateAccessToken = %v, %v, %v", p, au, err)
	}
	if !hasAction(e.auditActions(), "user.sign_in") {
		t.Fatal("sign-in not audited")
	}
	if v, _ := e.st.GetUser(e.ctx, e.pool.ID, u.Sub); v.FailedAttempts != 0 || !v.LockedUntil.IsZero() {
		t.Fatalf("counter after success = %d, %v", v.FailedAttempts, v.LockedUntil)
	}
}

// In a username pool cognito:username is the username; client lifetimes
// and ReadAttributes apply.
func TestSignInUsernamePoolClientSettings(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.UsernameMode = identity.UsernameWithEmailAlias
		in.Tokens = identity.TokenLifetimes{ID: 2 * time.Hour, Access: 2 * time.Hour}
	}, func(in *CreateClientInput) {
		in.Tokens = identity.TokenLifetimes{Access: 10 * time.Minute}
		in.ReadAttributes = []string{"email", "name"}
	})
	e.signUp("jo", map[string]string{"email": "jo@example.com", "name": "Jo", "family_name": "Doe"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo", Code: e.lastCode("jo@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	// The verified email is an alias for sign-in.
	toks := e.mustSignIn("JO@example.com", goodPW)
	if toks.ExpiresIn != 600 {
		t.Fatalf("ExpiresIn = %d, want 600", toks.ExpiresIn)
	}
	id, acc := claimsOf(t, toks.IDToken), claimsOf(t, toks.AccessToken)
	now := float64(e.now().Unix())
	if id["cognito:username"] != "jo" || acc["username"] != "jo" {
		t.Fatalf("usernames: %v %v", id["cognito:username"], acc["username"])
	}
	if id["exp"] != now+7200 || acc["exp"] != now+600 {
		t.Fatalf("exp: id %v access %v", id["exp"], acc["exp"])
	}
	if _, ok := id["family_name"]; ok {
		t.Fatal("family_name is not readable by this client")
	}
	if _, ok := id["email_verified"]; ok {
		t.Fatal("email_verified is not readable by this client")
	}
	if id["name"] != "Jo" || id["email"] != "jo@example.com" {
		t.Fatalf("readable attributes missing: %v", id)
	}
}

func TestSignInErrors(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	pue := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	for _, name := range []string{"ok", "disabled", "unconfirmed", "reset", "external"} {
		e.confirmedUser(name + "@example.com")
	}
	e.setUser("disabled@example.com", func(u *identity.User) { u.Enabled = false })
	e.setUser("unconfirmed@example.com", func(u *identity.User) { u.Status = identity.StatusUnconfirmed })
	e.setUser("reset@example.com", func(u *identity.User) { u.Status = identity.StatusResetRequired })
	e.setUser("external@example.com", func(u *identity.User) { u.Status = identity.StatusExternalProvider })
	srpOnly := userSetup(t, nil, func(in *CreateClientInput) { in.AuthFlows = []string{identity.FlowUserSRP} })
	noFlows := userSetup(t, nil, func(in *CreateClientInput) { in.AuthFlows = []string{identity.FlowCustomAuth} })

	cases := []struct {
		name string
		e    *userEnv
		in   InitiateAuthInput
		code identity.Code
		msg  string
	}{
		{"unknown user", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "nobody@example.com", Password: goodPW}, identity.CodeUserNotFound, "User does not exist."},
		{"unknown user, prevent existence errors", pue, InitiateAuthInput{Flow: AuthUserPassword, Username: "nobody@example.com", Password: goodPW}, identity.CodeNotAuthorized, "Incorrect username or password."},
		{"wrong password", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "ok@example.com", Password: wrongPW}, identity.CodeNotAuthorized, "Incorrect username or password."},
		{"disabled", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "disabled@example.com", Password: goodPW}, identity.CodeUserDisabled, "User is disabled."},
		{"disabled, wrong password", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "disabled@example.com", Password: wrongPW}, identity.CodeNotAuthorized, "Incorrect username or password."},
		{"unconfirmed", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "unconfirmed@example.com", Password: goodPW}, identity.CodeUserNotConfirmed, "User is not confirmed."},
		{"reset required", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "reset@example.com", Password: goodPW}, identity.CodePasswordResetRequired, "Password reset required for the user"},
		{"external provider", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "external@example.com", Password: goodPW}, identity.CodeNotAuthorized, ""},
		{"missing username", e, InitiateAuthInput{Flow: AuthUserPassword, Password: goodPW}, identity.CodeInvalidParameter, ""},
		{"missing password", e, InitiateAuthInput{Flow: AuthUserPassword, Username: "ok@example.com"}, identity.CodeInvalidParameter, ""},
		{"no flow", e, InitiateAuthInput{Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, ""},
		{"unknown flow", e, InitiateAuthInput{Flow: "CUSTOM_AUTH", Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, ""},
		{"admin flow without admin", e, InitiateAuthInput{Flow: AuthAdminUserPassword, Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, ""},
		{"user flow as admin", e, InitiateAuthInput{Flow: AuthUserPassword, Admin: true, Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, ""},
		{"SRP allowed: SRP_A required", e2(srpOnly), InitiateAuthInput{Flow: AuthUserSRP, Username: "ok@example.com"}, identity.CodeInvalidParameter, "Missing required parameter SRP_A"},
		{"SRP not enabled", e, InitiateAuthInput{Flow: AuthUserSRP, Username: "ok@example.com"}, identity.CodeInvalidParameter, "USER_SRP_AUTH flow not enabled for this client"},
		{"password flow not enabled", srpOnly, InitiateAuthInput{Flow: AuthUserPassword, Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, "USER_PASSWORD_AUTH flow not enabled for this client"},
		{"admin flow not enabled", noFlows, InitiateAuthInput{Flow: AuthAdminNoSRP, Admin: true, Username: "ok@example.com", Password: goodPW}, identity.CodeInvalidParameter, "ADMIN_NO_SRP_AUTH flow not enabled for this client"},
		{"refresh flow not enabled", noFlows, InitiateAuthInput{Flow: AuthRefreshToken, RefreshToken: "x"}, identity.CodeInvalidParameter, "REFRESH_TOKEN_AUTH flow not enabled for this client"},
		{"unknown client", e, InitiateAuthInput{Client: Client{ID: "nosuchclient"}, Flow: AuthUserPassword, Username: "ok@example.com", Password: goodPW}, identity.CodeResourceNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Client.ID == "" {
				in.Client = tc.e.c()
			}
			r, err := tc.e.s.InitiateAuth(tc.e.ctx, in)
			if r != nil {
				t.Fatalf("result %+v with error %v", r, err)
			}
			wantErr(t, err, tc.code, tc.msg)
		})
	}

	// The admin flow works with Admin set.
	r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthAdminNoSRP, Admin: true, Username: "ok@example.com", Password: goodPW})
	if err != nil || r.Tokens == nil {
		t.Fatalf("admin sign-in: %+v, %v", r, err)
	}
	// A status error leaves the counter clear: the password was right.
	if u := e.getUser("unconfirmed@example.com"); u.FailedAttempts != 0 {
		t.Fatalf("failed attempts after a right password = %d", u.FailedAttempts)
	}
	if u := e.getUser("disabled@example.com"); u.FailedAttempts != 1 {
		t.Fatalf("failed attempts after one wrong password = %d", u.FailedAttempts)
	}
}

func e2(e *userEnv) *userEnv { return e }

// With PreventUserExistenceErrors an unknown user, a wrong password and a
// federated user get the same answer, and an unknown user costs a hash.
func TestSignInPreventUserExistence(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	e.confirmedUser("known@example.com")
	v0, d0 := e.hasher.verifies.Load(), e.hasher.dummies.Load()
	_, errUnknown := e.signIn("unknown@example.com", wrongPW)
	if v, d := e.hasher.verifies.Load()-v0, e.hasher.dummies.Load()-d0; v != 0 || d != 1 {
		t.Fatalf("unknown user: %d verifies, %d dummies; want 0 and 1", v, d)
	}
	_, errWrong := e.signIn("known@example.com", wrongPW)
	if v, d := e.hasher.verifies.Load()-v0, e.hasher.dummies.Load()-d0; v != 1 || d != 1 {
		t.Fatalf("known user: %d verifies, %d dummies; want 1 and 1", v, d)
	}
	sameError(t, errUnknown, errWrong)
}

// After MaxFailedAttempts wrong passwords the account is locked: even the
// right password is refused (without being checked) until the lock runs
// out, which doubles with each further failure.
func TestSignInLockout(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.MaxFailedAttempts = 3
		in.LockoutDuration = time.Minute
	}, nil)
	e.confirmedUser("jo@example.com")
	for i := 0; i < 3; i++ {
		_, err := e.signIn("jo@example.com", wrongPW)
		wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	}
	before := e.hasher.verifies.Load()
	_, err := e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	if e.hasher.verifies.Load() != before {
		t.Fatal("the password was verified while locked")
	}
	e.advance(time.Minute)
	// One try after the lock: wrong again doubles the lock.
	_, err = e.signIn("jo@example.com", wrongPW)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	e.advance(time.Minute)
	_, err = e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	e.advance(time.Minute)
	e.mustSignIn("jo@example.com", goodPW)
	if u := e.getUser("jo@example.com"); u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
		t.Fatalf("after success: attempts %d, locked until %v", u.FailedAttempts, u.LockedUntil)
	}
	if !hasAction(e.auditActions(), "user.sign_in_failed") {
		t.Fatal("failures not audited")
	}
}

// 200 concurrent wrong passwords are all counted (no lost update).
func TestSignInConcurrentFailuresCounted(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		// Beyond what CreatePool accepts (100), so that no lock engages and
		// every attempt reaches the counter.
		e.pool.MaxFailedAttempts = 1000
		if err := e.st.UpdatePool(e.ctx, e.pool); err != nil {
			t.Fatal(err)
		}
		e.confirmedUser("jo@example.com")
		const n = 200
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.signIn("jo@example.com", wrongPW)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
		}
		if u := e.getUser("jo@example.com"); u.FailedAttempts != n {
			t.Fatalf("failed attempts = %d, want %d", u.FailedAttempts, n)
		}
	})
}

// 200 concurrent wrong passwords against the default limit: at most the
// limit's worth of passwords is checked, every attempt is refused, and the
// account ends locked (no parallel lockout bypass).
func TestSignInConcurrentLockoutBypass(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		const n = 200
		before := e.hasher.verifies.Load()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.signIn("jo@example.com", wrongPW)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			switch identity.ErrorCode(err) {
			case identity.CodeNotAuthorized, identity.CodePasswordAttemptsExceeded, identity.CodeTooManyRequests:
			default:
				t.Fatalf("wrong password in a burst: %v", err)
			}
		}
		if got := e.hasher.verifies.Load() - before; got > DefaultMaxFailures {
			t.Fatalf("passwords verified = %d, want <= %d", got, DefaultMaxFailures)
		}
		u := e.getUser("jo@example.com")
		if u.FailedAttempts < DefaultMaxFailures || !u.LockedUntil.After(e.now()) {
			t.Fatalf("after the burst: attempts %d, locked until %v", u.FailedAttempts, u.LockedUntil)
		}
		_, err := e.signIn("jo@example.com", goodPW)
		wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	})
}

func TestNewPasswordChallenge(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: "custom:team", Type: identity.AttrString, Mutable: true, Required: true}}
	}, nil)
	const temp = "Tmp-horse-battery-9"
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "new@example.com",
		Attributes: map[string]string{"custom:team": "blue"}, TemporaryPassword: temp, MessageAction: MessageActionSuppress}); err != nil {
		t.Fatal(err)
	}
	r, err := e.signIn("new@example.com", temp)
	if err != nil || r.Challenge == nil || r.Tokens != nil {
		t.Fatalf("sign-in = %+v, %v; want a challenge", r, err)
	}
	ch := r.Challenge
	u := e.getUser("new@example.com")
	if ch.Name != ChallengeNewPasswordRequired || ch.Session == "" || ch.Parameters["USER_ID_FOR_SRP"] != u.Sub ||
		ch.Parameters["requiredAttributes"] != "[]" {
		t.Fatalf("challenge = %+v", ch)
	}
	sc := claimsOf(t, ch.Session)
	if sc["token_use"] != "challenge" || sc["aud"] != e.client.ID || sc["sub"] != u.Sub {
		t.Fatalf("session claims = %v", sc)
	}
	// A challenge session is not an access token.
	_, _, _, err = e.s.AuthenticateAccessToken(e.ctx, ch.Session)
	wantErr(t, err, identity.CodeInvalidToken, "")

	respond := func(session, pw string, extra map[string]string) (*AuthResult, error) {
		resp := map[string]string{"USERNAME": "new@example.com", "NEW_PASSWORD": pw}
		for k, v := range extra {
			resp[k] = v
		}
		return e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired, Session: session, Responses: resp})
	}
	_, err = respond(ch.Session, "short", nil)
	wantErr(t, err, identity.CodeInvalidPassword, "")
	_, err = respond(ch.Session+"x", goodPW, nil)
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")
	_, err = e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired, Session: ch.Session,
		Responses: map[string]string{"USERNAME": "someone@example.com", "NEW_PASSWORD": goodPW}})
	wantErr(t, err, identity.CodeNotAuthorized, "")
	_, err = respond(ch.Session, goodPW, map[string]string{"userAttributes.email_verified": "true"})
	wantErr(t, err, identity.CodeInvalidParameter, "")
	_, err = e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengePasswordVerifier, Session: ch.Session})
	wantErr(t, err, identity.CodeInvalidParameter, "Missing required parameter PASSWORD_CLAIM_SECRET_BLOCK")
	for _, in := range []RespondInput{
		{ChallengeName: ChallengeNewPasswordRequired, Responses: map[string]string{"NEW_PASSWORD": goodPW}},
		{ChallengeName: ChallengeNewPasswordRequired, Session: ch.Session, Responses: map[string]string{"USERNAME": "new@example.com"}},
		{Session: ch.Session, Responses: map[string]string{"NEW_PASSWORD": goodPW}},
		{ChallengeName: "SMS_MFA", Session: ch.Session, Responses: map[string]string{"NEW_PASSWORD": goodPW}},
	} {
		in.Client = e.c()
		_, err = e.s.RespondToAuthChallenge(e.ctx, in)
		wantErr(t, err, identity.CodeInvalidParameter, "")
	}
	// An access token is not a session.
	e.signUp("ok@example.com", map[string]string{"custom:team": "red"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "ok@example.com", Code: e.lastCode("ok@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	_, err = respond(e.mustSignIn("ok@example.com", goodPW).AccessToken, goodPW, nil)
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")

	r, err = respond(ch.Session, goodPW, map[string]string{"userAttributes.name": "New"})
	if err != nil || r.Tokens == nil {
		t.Fatalf("respond = %+v, %v", r, err)
	}
	if c := claimsOf(t, r.Tokens.IDToken); c["name"] != "New" {
		t.Fatalf("ID token name = %v", c["name"])
	}
	u = e.getUser("new@example.com")
	if u.Status != identity.StatusConfirmed || u.Attributes["name"] != "New" || !u.TemporaryPasswordExpiresAt.IsZero() {
		t.Fatalf("user after challenge = %+v", u)
	}
	// The session is single use.
	_, err = respond(ch.Session, goodPW2, nil)
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")
	e.mustSignIn("new@example.com", goodPW)
	_, err = e.signIn("new@example.com", temp)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	if !hasAction(e.auditActions(), "user.new_password") {
		t.Fatal("not audited")
	}
}

func TestNewPasswordChallengeExpiry(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	const temp = "Tmp-horse-battery-9"
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "new@example.com",
		TemporaryPassword: temp, MessageAction: MessageActionSuppress}); err != nil {
		t.Fatal(err)
	}
	r, err := e.signIn("new@example.com", temp)
	if err != nil || r.Challenge == nil {
		t.Fatalf("sign-in = %+v, %v", r, err)
	}
	e.advance(challengeTTL)
	_, err = e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: ChallengeNewPasswordRequired, Session: r.Challenge.Session,
		Responses: map[string]string{"USERNAME": "new@example.com", "NEW_PASSWORD": goodPW}})
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")

	// Another client cannot use the session.
	other, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: e.pool.ID, Name: "other", AuthFlows: []string{identity.FlowUserPassword}})
	if err != nil {
		t.Fatal(err)
	}
	r, err = e.signIn("new@example.com", temp)
	if err != nil || r.Challenge == nil {
		t.Fatalf("sign-in = %+v, %v", r, err)
	}
	_, err = e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: Client{ID: other.Client.ID}, ChallengeName: ChallengeNewPasswordRequired, Session: r.Challenge.Session,
		Responses: map[string]string{"USERNAME": "new@example.com", "NEW_PASSWORD": goodPW}})
	wantErr(t, err, identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")

	// The temporary password expires.
	e.advance(time.Duration(e.pool.PasswordPolicy.TemporaryPasswordValidityDays) * 24 * time.Hour)
	_, err = e.signIn("new@example.com", temp)
	wantErr(t, err, identity.CodeNotAuthorized, "Temporary password has expired and must be reset by an administrator.")
}
