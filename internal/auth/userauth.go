package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// The choice-based USER_AUTH flow (Cognito's InitiateAuth AuthFlow
// USER_AUTH, allowed by ALLOW_USER_AUTH):
//
//   - PREFERRED_CHALLENGE PASSWORD with PASSWORD, or PASSWORD_SRP with
//     SRP_A, goes straight to that sign-in (tokens, or PASSWORD_VERIFIER);
//   - PREFERRED_CHALLENGE WEB_AUTHN, for a user with a passkey, answers the
//     WEB_AUTHN challenge: CREDENTIAL_REQUEST_OPTIONS (the request options
//     JSON, listing the user's passkeys), answered with CREDENTIAL (the
//     assertion JSON);
//   - otherwise SELECT_CHALLENGE with AvailableChallenges (PASSWORD,
//     PASSWORD_SRP unless the pool has SRP off, WEB_AUTHN when the user has
//     a passkey), answered with ANSWER and, for PASSWORD, PASSWORD; for
//     PASSWORD_SRP, SRP_A.
//
// An unknown user gets a SELECT_CHALLENGE like a user without passkeys
// (its session names a user that does not exist), so the first answer
// tells nothing; the password answer then fails as a wrong password does.
//
// EMAIL_OTP (a code mailed to the user's verified address, useremail.go's
// emailFirstFactor) is offered only where the pool lists it in
// AllowedFirstAuthFactors (Cognito's SignInPolicy).

func (s *Service) userAuth(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in InitiateAuthInput) (*AuthResult, error) {
	if in.Username == "" {
		return nil, identity.FieldError("USERNAME", "Missing required parameter USERNAME")
	}
	pref := in.Params["PREFERRED_CHALLENGE"]
	switch {
	case pref == ChallengePassword && in.Password != "":
		return s.passwordAuth(ctx, p, cl, in)
	case pref == ChallengePasswordSRP && in.Params["SRP_A"] != "":
		return s.srpAuth(ctx, p, cl, in)
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if errors.Is(err, errUserNotFound) {
		sub, serr := s.newSub()
		if serr != nil {
			return nil, serr
		}
		u = &identity.User{PoolID: p.ID, Sub: sub} // no such user: answered as one without passkeys
	} else if err != nil {
		return nil, err
	}
	keys, err := s.cfg.Store.ListWebAuthnCredentials(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	if pref == ChallengeWebAuthn && len(keys) > 0 && firstFactorAllowed(p, ChallengeWebAuthn) {
		return s.webAuthnChallenge(ctx, p, cl, u)
	}
	if pref == ChallengeEmailOTP {
		if !firstFactorAllowed(p, ChallengeEmailOTP) {
			return nil, errFirstFactorNotAllowed(ChallengeEmailOTP)
		}
		return s.emailFirstFactor(ctx, p, cl, u, in.Username)
	}
	available := []string{ChallengePassword}
	if !p.Settings.SRP.Disabled {
		available = append(available, ChallengePasswordSRP)
	}
	if len(keys) > 0 && firstFactorAllowed(p, ChallengeWebAuthn) {
		available = append(available, ChallengeWebAuthn)
	}
	if firstFactorAllowed(p, ChallengeEmailOTP) {
		available = append(available, ChallengeEmailOTP)
	}
	session, err := s.challengeSession(ctx, p, cl, u, ChallengeSelect)
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{Name: ChallengeSelect, Session: session, Parameters: map[string]string{}},
		AvailableChallenges: available}, nil
}

// webAuthnChallenge asks u for a passkey assertion.
func (s *Service) webAuthnChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User) (*AuthResult, error) {
	opts, err := s.startPasskeyAssertion(ctx, p, u.Sub, "")
	if err != nil {
		return nil, err
	}
	session, err := s.challengeSession(ctx, p, cl, u, ChallengeWebAuthn)
	if err != nil {
		return nil, err
	}
	return &AuthResult{Challenge: &Challenge{Name: ChallengeWebAuthn, Session: session,
		Parameters: map[string]string{"CREDENTIAL_REQUEST_OPTIONS": string(opts)}}}, nil
}

// respondUserAuth answers SELECT_CHALLENGE and WEB_AUTHN.
func (s *Service) respondUserAuth(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (*AuthResult, error) {
	claims, err := s.verifyChallengeToken(ctx, p, cl, in)
	if err != nil {
		return nil, err
	}
	sub := strClaim(claims, "sub")
	u, err := s.cfg.Store.GetUser(ctx, p.ID, sub)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if in.ChallengeName == ChallengeWebAuthn {
		if _, second := claims["amr"]; second { // a passkey as the second factor (mfa.go)
			return s.respondMFA(ctx, p, cl, in)
		}
		if !exists {
			return nil, errInvalidSession
		}
		return s.finishPasskeyAssertion(ctx, p, cl, sub, []byte(in.Responses["CREDENTIAL"]))
	}
	username := in.Responses["USERNAME"]
	if exists {
		username = u.Username
	}
	switch in.Responses["ANSWER"] {
	case ChallengePassword:
		if !exists {
			s.cfg.Hasher.VerifyDummy(ctx, in.Responses["PASSWORD"])
			if p.PreventUserExistenceErrors {
				return nil, errBadCredentials
			}
			return nil, errUserNotFound
		}
		return s.passwordAuth(ctx, p, cl, InitiateAuthInput{Client: in.Client, Flow: AuthUserAuth, Username: username,
			Password: in.Responses["PASSWORD"], Meta: in.Meta})
	case ChallengePasswordSRP:
		return s.srpAuth(ctx, p, cl, InitiateAuthInput{Client: in.Client, Flow: AuthUserAuth, Username: username,
			Params: map[string]string{"SRP_A": in.Responses["SRP_A"]}, Meta: in.Meta})
	case ChallengeEmailOTP:
		if !firstFactorAllowed(p, ChallengeEmailOTP) {
			return nil, errFirstFactorNotAllowed(ChallengeEmailOTP)
		}
		if !exists {
			u = &identity.User{PoolID: p.ID, Sub: sub}
		}
		return s.emailFirstFactor(ctx, p, cl, u, username)
	case ChallengeWebAuthn:
		if !exists {
			return nil, identity.FieldError("ANSWER", "WEB_AUTHN is not an available challenge.")
		}
		keys, err := s.cfg.Store.ListWebAuthnCredentials(ctx, p.ID, sub)
		if err != nil {
			return nil, fmt.Errorf("list passkeys: %w", err)
		}
		if len(keys) == 0 {
			return nil, identity.FieldError("ANSWER", "WEB_AUTHN is not an available challenge.")
		}
		return s.webAuthnChallenge(ctx, p, cl, u)
	case "":
		return nil, identity.FieldError("ANSWER", "Missing required parameter ANSWER")
	default:
		return nil, identity.FieldError("ANSWER", "Unsupported challenge answer %s.", safeEcho(in.Responses["ANSWER"]))
	}
}
