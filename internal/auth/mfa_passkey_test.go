package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestPasskeySecondFactor: after a password, a user with a passkey answers
// the WEB_AUTHN challenge with an assertion where the surface can run the
// ceremony (PasskeyMFA: the native API, the hosted pages); the tokens say
// amr ["pwd","hwk","mfa"]. Cognito's surface (no PasskeyMFA) keeps AWS's
// challenges. Attacks: a replayed assertion, another user's passkey, a
// WEB_AUTHN answer on a session that was never offered it, and guessing
// under the lockout — on both databases.
func TestPasskeySecondFactor(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(func(in *CreatePoolInput) { in.MaxFailedAttempts = 3 }, nil)
		if _, err := e.s.SetPoolMFA(e.ctx, e.pool.ID, PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
			t.Fatal(err)
		}
		e.confirmedUser("jo@example.com")
		e.confirmedUser("al@example.com")
		a := e.enrolPasskey("jo@example.com")
		other := e.enrolPasskey("al@example.com")
		native := PasskeyMFA(e.ctx, "")

		// Cognito's surface: a passkey is no second factor after a password.
		r, err := e.signIn("jo@example.com", goodPW)
		cognitoCh := wantChallenge(t, r, err, ChallengeMFASetup)
		if _, err := e.respond(ChallengeWebAuthn, cognitoCh.Session, map[string]string{"CREDENTIAL": "{}"}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("WEB_AUTHN on an MFA_SETUP session: %v", err)
		}

		signIn := func() *Challenge {
			t.Helper()
			r, err := e.s.InitiateAuth(native, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: "jo@example.com", Password: goodPW})
			ch := wantChallenge(t, r, err, ChallengeWebAuthn)
			if ch.Parameters["CREDENTIAL_REQUEST_OPTIONS"] == "" {
				t.Fatalf("parameters: %v", ch.Parameters)
			}
			return ch
		}
		respond := func(ch *Challenge, cred []byte) (*AuthResult, error) {
			return e.s.RespondToAuthChallenge(native, RespondInput{Client: e.c(), ChallengeName: ChallengeWebAuthn, Session: ch.Session,
				Responses: map[string]string{"CREDENTIAL": string(cred)}})
		}

		ch := signIn()
		good := a.Get([]byte(ch.Parameters["CREDENTIAL_REQUEST_OPTIONS"]))
		r, err = respond(ch, good)
		if err != nil || r.Tokens == nil {
			t.Fatalf("passkey as second factor: %v %+v", err, r)
		}
		wantAMR(t, r.Tokens, AMRPassword, AMRHardwareKey, AMRMFA)
		need, err := e.s.NeedsMFA(e.ctx, e.pool.ID, e.getUser("jo@example.com").Sub, AMRClaim(claimsOf(t, r.Tokens.IDToken)))
		if err != nil || need {
			t.Fatalf("NeedsMFA: %v %v", need, err)
		}

		// A malformed answer is the caller's mistake, not counted.
		ch = signIn()
		if _, err := respond(ch, []byte("not json")); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("malformed: %v", err)
		}
		// Replaying the used assertion on a fresh challenge: refused, counted.
		if _, err := respond(ch, good); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("replay: %v", err)
		}
		// Another user's passkey answering jo's challenge: refused, counted.
		ch = signIn()
		if _, err := respond(ch, other.Get([]byte(ch.Parameters["CREDENTIAL_REQUEST_OPTIONS"]))); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("another user's passkey: %v", err)
		}
		// The third refusal locks the account, even for the right passkey.
		ch = signIn()
		if _, err := respond(ch, other.Get([]byte(ch.Parameters["CREDENTIAL_REQUEST_OPTIONS"]))); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("third refusal: %v", err)
		}
		if _, err := e.s.InitiateAuth(native, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: "jo@example.com", Password: goodPW}); identity.ErrorCode(err) != identity.CodePasswordAttemptsExceeded {
			t.Fatalf("after 3 refused passkeys: %v", err)
		}
		if e.auditCount("user.sign_in_failed") < 3 {
			t.Fatalf("failures not audited: %v", e.auditActions())
		}
	})
}

// TestPasskeySecondFactorChoice: a user with an authenticator app and a
// passkey chooses (SELECT_MFA_TYPE lists WEB_AUTHN on the native surface
// only), and a code challenge can switch to the passkey ("Use your
// passkey"): ANSWER WEB_AUTHN.
func TestPasskeySecondFactorChoice(t *testing.T) {
	t.Parallel()
	e := mfaSetup(t, identity.MFAOptional, false, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	e.enrolTOTP(toks.AccessToken)
	if err := e.s.SetUserMFAPreference(e.ctx, toks.AccessToken, MFAPreference{SoftwareToken: &FactorPreference{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	a := e.enrolPasskey("jo@example.com")
	native := PasskeyMFA(e.ctx, "")

	r, err := e.signIn("jo@example.com", goodPW) // Cognito: only the app
	if ch := wantChallenge(t, r, err, ChallengeSoftwareTokenMFA); ch.Parameters["WEB_AUTHN_AVAILABLE"] != "" {
		t.Fatalf("Cognito parameters: %v", ch.Parameters)
	}
	r, err = e.s.InitiateAuth(native, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: "jo@example.com", Password: goodPW})
	ch := wantChallenge(t, r, err, ChallengeSelectMFAType)
	if ch.Parameters["MFAS_CAN_CHOOSE"] != `["SOFTWARE_TOKEN_MFA","WEB_AUTHN"]` {
		t.Fatalf("choices: %v", ch.Parameters)
	}
	r, err = e.s.RespondToAuthChallenge(native, RespondInput{Client: e.c(), ChallengeName: ChallengeSelectMFAType, Session: ch.Session,
		Responses: map[string]string{"ANSWER": ChallengeWebAuthn}})
	ch = wantChallenge(t, r, err, ChallengeWebAuthn)
	r, err = e.s.RespondToAuthChallenge(native, RespondInput{Client: e.c(), ChallengeName: ChallengeWebAuthn, Session: ch.Session,
		Responses: map[string]string{"CREDENTIAL": string(a.Get([]byte(ch.Parameters["CREDENTIAL_REQUEST_OPTIONS"])))}})
	if err != nil || r.Tokens == nil {
		t.Fatalf("passkey: %v %+v", err, r)
	}
	wantAMR(t, r.Tokens, AMRPassword, AMRHardwareKey, AMRMFA)

	// The app preferred: its challenge comes at once and offers the switch.
	if err := e.s.SetUserMFAPreference(e.ctx, toks.AccessToken, MFAPreference{SoftwareToken: &FactorPreference{Enabled: true, Preferred: true}}); err != nil {
		t.Fatal(err)
	}
	r, err = e.s.InitiateAuth(native, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: "jo@example.com", Password: goodPW})
	ch = wantChallenge(t, r, err, ChallengeSoftwareTokenMFA)
	if ch.Parameters["WEB_AUTHN_AVAILABLE"] != "true" {
		t.Fatalf("parameters: %v", ch.Parameters)
	}
	// Cognito's surface cannot switch a session to the passkey.
	if _, err := e.respond(ChallengeSoftwareTokenMFA, ch.Session, map[string]string{"ANSWER": ChallengeWebAuthn}); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("switch on Cognito's surface: %v", err)
	}
	r, err = e.s.RespondToAuthChallenge(native, RespondInput{Client: e.c(), ChallengeName: ChallengeSoftwareTokenMFA, Session: ch.Session,
		Responses: map[string]string{"ANSWER": ChallengeWebAuthn}})
	wantChallenge(t, r, err, ChallengeWebAuthn)
}

// TestPasskeyFactorBookkeeping: passkeys count as factors. A user who
// must have MFA cannot remove their last factor, passkey or app; the
// native view lists passkeys while Cognito's UserMFASettingList does not;
// the user is emailed when a passkey is added or removed; an admin may
// remove the last one — on both databases.
func TestPasskeyFactorBookkeeping(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		toks := e.mustSignIn("jo@example.com", goodPW) // OFF for now
		if _, err := e.s.SetPoolMFA(e.ctx, e.pool.ID, PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
			t.Fatal(err)
		}
		a := e.enrolPasskey("jo@example.com")
		if n := len(e.emailsTo("jo@example.com", TemplateMFAChanged)); n != 1 {
			t.Fatalf("%d emails after adding a passkey", n)
		}
		v, err := e.s.GetUserMFA(e.ctx, toks.AccessToken)
		if err != nil || len(v.Factors) != 1 || v.Factors[0].Type != identity.FactorWebAuthn || v.Factors[0].ID != a.CredentialID() || len(v.Settings) != 0 {
			t.Fatalf("view: %v %+v", err, v)
		}
		// The only factor of a required-MFA user: not removable by them.
		if err := e.s.DeleteMyPasskey(e.ctx, toks.AccessToken, a.CredentialID(), false); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("removing the last passkey: %v", err)
		}
		// With an app as well, the app may go: the passkey is left.
		e.enrolTOTP(toks.AccessToken)
		v, _ = e.s.GetUserMFA(e.ctx, toks.AccessToken)
		var totpID string
		for _, f := range v.Factors {
			if f.Type == identity.FactorTOTP {
				totpID = f.ID
			}
		}
		if err := e.s.RemoveFactor(e.ctx, toks.AccessToken, totpID); err != nil {
			t.Fatalf("removing the app while a passkey is left: %v", err)
		}
		if err := e.s.DeleteMyPasskey(e.ctx, toks.AccessToken, a.CredentialID(), false); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("removing the last passkey after the app went: %v", err)
		}
		// A second passkey: one of them may go, and the user is told.
		b := e.enrolPasskey("jo@example.com")
		if err := e.s.DeleteMyPasskey(e.ctx, toks.AccessToken, a.CredentialID(), false); err != nil {
			t.Fatalf("removing one of two passkeys: %v", err)
		}
		// added a, added app, removed app, added b, removed a
		if n := len(e.emailsTo("jo@example.com", TemplateMFAChanged)); n != 5 {
			t.Fatalf("%d factor emails, want 5", n)
		}
		// The pool's admin may remove the last one.
		if err := e.s.AdminDeletePasskey(e.ctx, e.pool.ID, "jo@example.com", b.CredentialID()); err != nil {
			t.Fatalf("admin removal: %v", err)
		}
	})
}
