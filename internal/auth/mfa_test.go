package auth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// mfaSetup is userSetup with the pool's MFA policy set.
func mfaSetup(t *testing.T, mode string, email bool, poolIn func(*CreatePoolInput)) *userEnv {
	e := userSetup(t, poolIn, nil)
	if _, err := e.s.SetPoolMFA(e.ctx, e.pool.ID, PoolMFAConfig{Configuration: mode, Email: email}); err != nil {
		t.Fatal(err)
	}
	return e
}

// code is the authenticator app's current code for secret (computed by
// pquerna/otp's totp package, not by the code under test).
func (e *userEnv) code(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// enrolTOTP associates and verifies an authenticator app with an access
// token and returns its secret.
func (e *userEnv) enrolTOTP(access string) string {
	e.t.Helper()
	setup, err := e.s.AssociateSoftwareToken(e.ctx, MFAAuth{AccessToken: access})
	if err != nil {
		e.t.Fatalf("AssociateSoftwareToken: %v", err)
	}
	if !strings.HasPrefix(setup.URI, "otpauth://totp/") || !strings.Contains(setup.URI, "secret="+setup.SecretCode) {
		e.t.Fatalf("otpauth URI: %s", setup.URI)
	}
	if _, err := e.s.VerifySoftwareToken(e.ctx, VerifyTOTPInput{MFAAuth: MFAAuth{AccessToken: access}, Code: e.code(setup.SecretCode)}); err != nil {
		e.t.Fatalf("VerifySoftwareToken: %v", err)
	}
	e.advance(totpPeriod * time.Second) // the next code is a new step
	return setup.SecretCode
}

// enrolAtSignIn answers an MFA_SETUP challenge (sessions only, as Amplify
// does) and returns the tokens and the app's key.
func (e *userEnv) enrolAtSignIn(ch *Challenge, client Client) (*Tokens, string) {
	e.t.Helper()
	setup, err := e.s.AssociateSoftwareToken(e.ctx, MFAAuth{Client: client, Session: ch.Session})
	if err != nil {
		e.t.Fatalf("AssociateSoftwareToken: %v", err)
	}
	sess, err := e.s.VerifySoftwareToken(e.ctx, VerifyTOTPInput{MFAAuth: MFAAuth{Client: client, Session: setup.Session}, Code: e.code(setup.SecretCode)})
	if err != nil {
		e.t.Fatalf("VerifySoftwareToken: %v", err)
	}
	r, err := e.respond(ChallengeMFASetup, sess, nil)
	if err != nil || r.Tokens == nil {
		e.t.Fatalf("MFA_SETUP: %+v %v", r, err)
	}
	return r.Tokens, setup.SecretCode
}

func (e *userEnv) respond(name, session string, responses map[string]string) (*AuthResult, error) {
	return e.s.RespondToAuthChallenge(e.ctx, RespondInput{Client: e.c(), ChallengeName: name, Session: session, Responses: responses})
}

func wantChallenge(t *testing.T, r *AuthResult, err error, name string) *Challenge {
	t.Helper()
	if err != nil {
		t.Fatalf("want challenge %s, got error %v", name, err)
	}
	if r.Challenge == nil || r.Challenge.Name != name || r.Tokens != nil {
		t.Fatalf("want challenge %s, got %+v", name, r)
	}
	return r.Challenge
}

func wantAMR(t *testing.T, toks *Tokens, want ...string) {
	t.Helper()
	for _, tok := range []string{toks.IDToken, toks.AccessToken} {
		if got := strList(claimsOf(t, tok)["amr"]); !slices.Equal(got, want) {
			t.Fatalf("amr = %v, want %v", got, want)
		}
	}
}

func TestMFATOTPOptional(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOptional, false, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW) // no factor yet: no challenge
	wantAMR(t, toks, "pwd")

	secret := e.enrolTOTP(toks.AccessToken)
	if n := len(e.emailsTo("jo@example.com", TemplateMFAChanged)); n != 1 {
		t.Fatalf("factor-added emails: %d", n)
	}
	// Verified but not enabled: OPTIONAL asks nothing yet (as Cognito).
	e.mustSignIn("jo@example.com", goodPW)
	if err := e.s.SetUserMFAPreference(e.ctx, toks.AccessToken, MFAPreference{SoftwareToken: &FactorPreference{Enabled: true, Preferred: true}}); err != nil {
		t.Fatal(err)
	}
	v, err := e.s.GetUserMFA(e.ctx, toks.AccessToken)
	if err != nil || !slices.Equal(v.Settings, []string{ChallengeSoftwareTokenMFA}) || v.Preferred != ChallengeSoftwareTokenMFA {
		t.Fatalf("GetUserMFA: %+v %v", v, err)
	}

	r, err := e.signIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	code := e.code(secret)
	if _, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": "12345"}); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("5 digits: %v", err)
	}
	r, err = e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"USERNAME": "jo@example.com", "SOFTWARE_TOKEN_MFA_CODE": code})
	if err != nil || r.Tokens == nil {
		t.Fatalf("right code: %+v %v", r, err)
	}
	wantAMR(t, r.Tokens, "pwd", "otp", "mfa")
	// A refresh keeps how the session signed in.
	rr, err := e.refresh(r.Tokens.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	wantAMR(t, rr.Tokens, "pwd", "otp", "mfa")

	// Replay: the same code, on a fresh challenge, in the same 30 s.
	r, err = e.signIn("jo@example.com", goodPW)
	ch = wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	if _, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": code}); identity.ErrorCode(err) != identity.CodeCodeMismatch {
		t.Fatalf("replayed code: %v", err)
	}
	// The previous step's code is refused too (a step is never reused
	// backwards); the next one is accepted.
	e.advance(totpPeriod * time.Second)
	if r, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": e.code(secret)}); err != nil || r.Tokens == nil {
		t.Fatalf("next step: %+v %v", r, err)
	}
	// Another client's or another challenge's session is refused.
	if _, err := e.respond(ChallengeEmailOTP, ch.Session, map[string]string{"EMAIL_OTP_CODE": "123456"}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("session for another challenge: %v", err)
	}
}

// Guessing codes counts in the account's lockout, and a right password
// in between does not clear the count.
func TestMFAGuessingLocksTheAccount(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, false, func(in *CreatePoolInput) { in.MaxFailedAttempts = 4 })
	e.confirmedUser("jo@example.com")
	r, err := e.signIn("jo@example.com", goodPW)
	_, secret := e.enrolAtSignIn(wantChallenge(t, r, err, ChallengeMFASetup), e.c())
	e.advance(totpPeriod * time.Second)
	wrong := func(good string) string {
		if good == "000000" {
			return "111111"
		}
		return "000000"
	}
	for i := range 4 {
		r, err := e.signIn("jo@example.com", goodPW) // the right password never resets the count
		ch := wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
		_, err = e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": wrong(e.code(secret))})
		if identity.ErrorCode(err) != identity.CodeCodeMismatch {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := e.signIn("jo@example.com", goodPW); identity.ErrorCode(err) != identity.CodePasswordAttemptsExceeded {
		t.Fatalf("after 4 wrong codes: %v", err)
	}
	if !slices.Contains(e.auditActions(), "user.sign_in_failed") {
		t.Fatal("failed factor not audited")
	}
}

// A pool with MFA ON: no tokens without the factor, on the password, SRP
// answer (same completeSignIn) and new-password paths.
func TestMFARequiredRefusesTokens(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, false, nil)
	e.confirmedUser("jo@example.com")
	r, err := e.signIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeMFASetup)
	if ch.Parameters["MFAS_CAN_SETUP"] != `["SOFTWARE_TOKEN_MFA"]` {
		t.Fatalf("parameters: %v", ch.Parameters)
	}
	// MFA_SETUP answered without a verified app: refused.
	if _, err := e.respond(ChallengeMFASetup, ch.Session, nil); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("MFA_SETUP without enrolment: %v", err)
	}
	// An invited user: NEW_PASSWORD_REQUIRED, then MFA_SETUP, not tokens.
	if _, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{PoolID: e.pool.ID, Username: "new@example.com", TemporaryPassword: goodPW2,
		Attributes: map[string]string{"email": "new@example.com", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	r, err = e.signIn("new@example.com", goodPW2)
	ch = wantChallenge(t, r, err, ChallengeNewPasswordRequired)
	r, err = e.respond(ChallengeNewPasswordRequired, ch.Session, map[string]string{"NEW_PASSWORD": goodPW})
	wantChallenge(t, r, err, ChallengeMFASetup)
}

func TestMFARecoveryCodes(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOptional, false, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	if _, err := e.s.GenerateRecoveryCodes(e.ctx, toks.AccessToken); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("recovery codes without a factor: %v", err)
	}
	e.enrolTOTP(toks.AccessToken)
	if err := e.s.SetUserMFAPreference(e.ctx, toks.AccessToken, MFAPreference{SoftwareToken: &FactorPreference{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	codes, err := e.s.GenerateRecoveryCodes(e.ctx, toks.AccessToken)
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("codes: %v %v", codes, err)
	}
	r, err := e.signIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	r, err = e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"RECOVERY_CODE": strings.ToUpper(codes[3])})
	if err != nil || r.Tokens == nil {
		t.Fatalf("recovery code: %+v %v", r, err)
	}
	wantAMR(t, r.Tokens, "pwd", "otp", "mfa")
	r, err = e.signIn("jo@example.com", goodPW)
	ch = wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	if _, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"RECOVERY_CODE": codes[3]}); identity.ErrorCode(err) != identity.CodeCodeMismatch {
		t.Fatalf("spent recovery code: %v", err)
	}
	v, _ := e.s.GetUserMFA(e.ctx, toks.AccessToken)
	if v.RecoveryCodesLeft != RecoveryCodeCount-1 {
		t.Fatalf("codes left: %d", v.RecoveryCodesLeft)
	}
}

func TestMFAEmailOTP(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, true, nil)
	e.confirmedUser("jo@example.com")
	// MFA ON with email codes allowed: a verified email is the factor.
	r, err := e.signIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeEmailOTP)
	if ch.Parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] != "EMAIL" || ch.Parameters["CODE_DELIVERY_DESTINATION"] == "" {
		t.Fatalf("parameters: %v", ch.Parameters)
	}
	code := e.lastCode("jo@example.com", TemplateMFACode)
	r, err = e.respond(ChallengeEmailOTP, ch.Session, map[string]string{"EMAIL_OTP_CODE": code})
	if err != nil || r.Tokens == nil {
		t.Fatalf("email code: %+v %v", r, err)
	}
	wantAMR(t, r.Tokens, "pwd", "otp", "mfa")
	if _, err := e.respond(ChallengeEmailOTP, ch.Session, map[string]string{"EMAIL_OTP_CODE": code}); identity.ErrorCode(err) != identity.CodeCodeMismatch {
		t.Fatalf("email code twice: %v", err)
	}

	// With an app too and no preference: SELECT_MFA_TYPE.
	secret := e.enrolTOTP(r.Tokens.AccessToken)
	r, err = e.signIn("jo@example.com", goodPW)
	ch = wantChallenge(t, r, err, ChallengeSelectMFAType)
	if ch.Parameters["MFAS_CAN_CHOOSE"] != `["EMAIL_OTP","SOFTWARE_TOKEN_MFA"]` {
		t.Fatalf("MFAS_CAN_CHOOSE: %v", ch.Parameters)
	}
	r, err = e.respond(ChallengeSelectMFAType, ch.Session, map[string]string{"ANSWER": ChallengeSoftwareTokenMFA})
	ch = wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	if r, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": e.code(secret)}); err != nil || r.Tokens == nil {
		t.Fatalf("TOTP after select: %v", err)
	}
}

func TestMFARemoveAndReset(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, false, nil)
	e.confirmedUser("jo@example.com")
	r, err := e.signIn("jo@example.com", goodPW)
	toks, _ := e.enrolAtSignIn(wantChallenge(t, r, err, ChallengeMFASetup), e.c())
	v, _ := e.s.GetUserMFA(e.ctx, toks.AccessToken)
	if len(v.Factors) != 1 {
		t.Fatalf("factors: %+v", v.Factors)
	}
	if err := e.s.RemoveFactor(e.ctx, toks.AccessToken, v.Factors[0].ID); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("removing the last factor of a required-MFA user: %v", err)
	}
	if err := e.s.AdminResetUserMFA(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(e.auditActions(), "admin.user_mfa_reset") || len(e.emailsTo("jo@example.com", TemplateMFAChanged)) != 2 {
		t.Fatal("reset not audited or not emailed")
	}
	r, err = e.signIn("jo@example.com", goodPW)
	wantChallenge(t, r, err, ChallengeMFASetup)
}

// A company admin requires MFA of their own company only; its members
// then enrol at the next sign-in, other users do not.
func TestMFACompanyRequirement(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p, _, adaCtx := rolesFixture(t, e)
		if err := e.s.SetCompanyRequireMFA(adaCtx, p.ID, "Globex", true); identity.ErrorCode(err) != identity.CodeForbidden {
			t.Fatalf("ada requires MFA of Globex: %v", err)
		}
		if err := e.s.SetCompanyRequireMFA(adaCtx, p.ID, "Acme", true); err != nil {
			t.Fatalf("ada requires MFA of Acme: %v", err)
		}
		cl, err := e.s.CreateClient(e.ctx, CreateClientInput{PoolID: p.ID, Name: "app", AuthFlows: []string{identity.FlowUserPassword}})
		if err != nil {
			t.Fatal(err)
		}
		signIn := func(name string) (*AuthResult, error) {
			return e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: Client{ID: cl.Client.ID}, Flow: AuthUserPassword,
				Username: name + "@example.org", Password: "correct horse battery staple 42"})
		}
		r, err := signIn("ann")
		wantChallenge(t, r, err, ChallengeMFASetup) // pool MFA is OFF; Acme requires it
		if r, err := signIn("out"); err != nil || r.Tokens == nil {
			t.Fatalf("a user of no company: %+v %v", r, err)
		}
		if c, _ := e.s.GetCompany(e.ctx, p.ID, "Globex"); c.RequireMFA {
			t.Fatal("Globex changed")
		}
	})
}

// SRP's answer (PASSWORD_VERIFIER) goes through the same policy: no tokens
// without the factor, and the factor's tokens say pwd, otp, mfa.
func TestMFAOnSRP(t *testing.T) {
	t.Parallel()
	e := srpSetup(t, nil)
	if _, err := e.s.SetPoolMFA(e.ctx, e.pool.ID, PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
		t.Fatal(err)
	}
	e.confirmedUser("jo@example.com")
	r, err := e.srpSignIn("jo@example.com", goodPW)
	_, secret := e.enrolAtSignIn(wantChallenge(t, r, err, ChallengeMFASetup), Client{}) // no client: the session names it
	e.advance(totpPeriod * time.Second)
	r, err = e.srpSignIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	r, err = e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": e.code(secret)})
	if err != nil || r.Tokens == nil {
		t.Fatalf("TOTP after SRP: %+v %v", r, err)
	}
	wantAMR(t, r.Tokens, "pwd", "otp", "mfa")
}

// The EMAIL_OTP code email goes through the pool's custom message hook
// with Cognito's source CustomMessage_Authentication, and the code in the
// hook's message signs the user in.
func TestMFAEmailCustomMessage(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOn, true, nil)
	e.confirmedUser("jo@example.com")
	hs := newHookServer(t, hookSecret, func(ev map[string]any) (int, any) {
		ev["response"] = map[string]any{"emailSubject": "Your Acme code",
			"emailMessage": "<p>Code {####} (" + ev["triggerSource"].(string) + ")</p>"}
		return 200, ev
	})
	e.putHook(identity.TriggerCustomMessage, hs, 0, "")
	r, err := e.signIn("jo@example.com", goodPW)
	ch := wantChallenge(t, r, err, ChallengeEmailOTP)
	es := e.emailsTo("jo@example.com", TemplateMFACode)
	if len(es) != 1 || es[0].Subject != "Your Acme code" || !strings.Contains(es[0].Text, "(CustomMessage_Authentication)") {
		t.Fatalf("MFA code email: %+v", es)
	}
	if r, err := e.respond(ChallengeEmailOTP, ch.Session, map[string]string{"EMAIL_OTP_CODE": codeRE.FindString(es[0].Text)}); err != nil || r.Tokens == nil {
		t.Fatalf("code from the custom message: %+v %v", r, err)
	}
}
