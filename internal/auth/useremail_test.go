package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestEmailOTPFirstFactorAttacks, on both databases: a second-factor
// email code does not answer a first-factor challenge (nor the reverse), a
// challenge session of one pool is refused by another pool's client, and
// a user whose policy asks for MFA gets no first-factor code.
func TestEmailOTPFirstFactorAttacks(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		userAuth := func(in *CreateClientInput) { in.AuthFlows = append(in.AuthFlows, identity.FlowUserAuth) }
		e := setup(nil, userAuth)
		other := setup(nil, userAuth)
		for _, env := range []*userEnv{e, other} {
			env.pool.Settings.AllowedFirstAuthFactors = []string{ChallengePassword, ChallengeEmailOTP}
			env.pool.Settings.MFA = identity.MFASettings{Configuration: identity.MFAOptional, Email: true}
			if _, err := env.s.UpdatePool(env.ctx, env.pool); err != nil {
				t.Fatal(err)
			}
		}
		e.confirmedUser("jo@example.com")
		other.confirmedUser("jo@example.com")
		start := func(env *userEnv) *Challenge {
			t.Helper()
			r, err := env.s.InitiateAuth(env.ctx, InitiateAuthInput{Client: env.c(), Flow: AuthUserAuth, Username: "jo@example.com",
				Params: map[string]string{"PREFERRED_CHALLENGE": ChallengeEmailOTP}})
			return wantChallenge(t, r, err, ChallengeEmailOTP)
		}
		first := start(e)
		code := e.lastCode("jo@example.com", TemplateMFACode)

		// The other pool's client with this pool's session: refused.
		if _, err := other.respond(ChallengeEmailOTP, first.Session, map[string]string{"EMAIL_OTP_CODE": code}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
			t.Fatalf("another pool's session: %v", err)
		}
		// The first-factor code as the second factor: refused.
		toks := e.mustSignIn("jo@example.com", goodPW) // no factor yet
		if err := e.s.SetUserMFAPreference(e.ctx, toks.AccessToken, MFAPreference{Email: &FactorPreference{Enabled: true, Preferred: true}}); err != nil {
			t.Fatal(err)
		}
		r, err := e.signIn("jo@example.com", goodPW)
		mfa := wantChallenge(t, r, err, ChallengeEmailOTP)
		if _, err := e.respond(ChallengeEmailOTP, mfa.Session, map[string]string{"EMAIL_OTP_CODE": code}); identity.ErrorCode(err) != identity.CodeCodeMismatch {
			t.Fatalf("first-factor code as the second factor: %v", err)
		}
		// Now the user has MFA on: a first-factor challenge sends nothing,
		// and the MFA code does not answer it.
		mfaCode := e.lastCode("jo@example.com", TemplateMFACode)
		n := len(e.emailsTo("jo@example.com", TemplateMFACode))
		again := start(e)
		if len(e.emailsTo("jo@example.com", TemplateMFACode)) != n {
			t.Fatal("a first-factor code was mailed to a user with MFA on")
		}
		if _, err := e.respond(ChallengeEmailOTP, again.Session, map[string]string{"EMAIL_OTP_CODE": mfaCode}); identity.ErrorCode(err) != identity.CodeCodeMismatch {
			t.Fatalf("MFA code as the first factor: %v", err)
		}
	})
}
