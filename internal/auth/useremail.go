package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// EMAIL_OTP as a USER_AUTH first factor (Cognito's passwordless email
// code, docs/mfa.md "Email codes as the first factor"):
//
//   - offered only where the pool lists EMAIL_OTP in
//     AllowedFirstAuthFactors; asked for otherwise (PREFERRED_CHALLENGE or
//     the SELECT_CHALLENGE answer), the request is InvalidParameterException;
//   - the code (6 digits, 3 minutes, stored hashed, purpose signin_email,
//     bound to pool, user and address) goes through the outbox in the same
//     transaction as the audit; a new one replaces the old;
//   - the answer (EMAIL_OTP_CODE) is checked under the account's throttle
//     and taken once (store.UseCode's compare-and-set);
//   - only a CONFIRMED, enabled user with a verified email who would be
//     asked no second factor gets a code: a code is one factor, and the
//     user whose pool or company requires MFA (or who turned it on) signs in
//     with a password and the factor, or a passkey. Everybody else, an
//     unknown user included, gets the same EMAIL_OTP challenge (the
//     destination masked from the username they typed), and every code
//     they send is CodeMismatchException: the answers do not say whether
//     the account exists or can use codes;
//   - tokens say amr ["otp"]: one factor, something the user has (the
//     mailbox), RFC 8176's "otp".

// firstFactorAllowed reports whether pool p lets USER_AUTH offer factor.
func firstFactorAllowed(p *identity.Pool, factor string) bool {
	l := p.Settings.AllowedFirstAuthFactors
	if len(l) == 0 {
		return factor == ChallengePassword || factor == ChallengeWebAuthn
	}
	return slices.Contains(l, factor) || factor == ChallengePasswordSRP && slices.Contains(l, ChallengePassword)
}

func errFirstFactorNotAllowed(factor string) error {
	return identity.Errorf(identity.CodeInvalidParameter, "The challenge %s is not an allowed first auth factor for this user pool.", factor)
}

// emailCodeEligible reports whether u may sign in with an emailed code.
func (s *Service) emailCodeEligible(ctx context.Context, p *identity.Pool, u *identity.User) (bool, error) {
	if u.Username == "" || u.Status != identity.StatusConfirmed || !u.Enabled || u.Email == "" || !u.EmailVerified {
		return false, nil
	}
	plan, err := s.planMFA(ctx, s.cfg.Store, p, u)
	if err != nil {
		return false, err
	}
	return !plan.required && len(plan.usable) == 0, nil
}

// emailFirstFactor answers EMAIL_OTP: a code mailed to an eligible user;
// the same challenge, and no mail, for anybody else.
func (s *Service) emailFirstFactor(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, typed string) (*AuthResult, error) {
	ok, err := s.emailCodeEligible(ctx, p, u)
	if err != nil {
		return nil, err
	}
	session, err := s.challengeSessionWith(ctx, p, cl, u, ChallengeEmailOTP, map[string]any{"first_factor": true})
	if err != nil {
		return nil, err
	}
	params := map[string]string{"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": maskEmail(strings.TrimSpace(typed))}
	if ok {
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			d, err := s.sendCode(ctx, q, p, u, identity.PurposeSignInEmail)
			if err != nil {
				return err
			}
			params["CODE_DELIVERY_DESTINATION"] = d.Destination
			return s.audit(ctx, q, p.ID, "user.sign_in_challenge", "user:"+u.Sub,
				map[string]string{"client_id": cl.ID, "challenge": ChallengeEmailOTP, "first_factor": "true"})
		})
		if err != nil {
			return nil, err
		}
	}
	return &AuthResult{Challenge: &Challenge{Name: ChallengeEmailOTP, Session: session, Parameters: params}}, nil
}

// respondEmailFirstFactor checks the EMAIL_OTP_CODE of a first-factor
// session (claims verified as a token; the user may not exist).
func (s *Service) respondEmailFirstFactor(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput, claims map[string]any) (*AuthResult, error) {
	code := strings.TrimSpace(in.Responses["EMAIL_OTP_CODE"])
	if err := checkCodeFormat("EMAIL_OTP_CODE", code); err != nil {
		return nil, err
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, strClaim(claims, "sub"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMFACodeMismatch // no such user: as a wrong code
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if !equalHex(strClaim(claims, "pwd_state"), passwordState(u)) {
		return nil, errInvalidSession
	}
	hash := codeHash(p, u, identity.PurposeSignInEmail, code)
	err = s.throttled(ctx, p, u, func() (bool, error) {
		o, err := s.cfg.Store.UseCode(ctx, p.ID, u.Sub, identity.PurposeSignInEmail, hash, s.now(), MaxCodeAttempts)
		return o == store.CodeOK, err
	}, nil)
	if err != nil {
		if reason, refused := isThrottleRefusal(err); refused {
			if reason == "wrong_password" {
				reason, err = "wrong_email_code", errMFACodeMismatch
			}
			s.auditFailure(ctx, p, "user:"+u.Sub, reason, cl.ID)
			if errors.Is(err, errBadCredentials) { // PreventUserExistenceErrors: a lock says no more than a wrong code
				err = errMFACodeMismatch
			}
		}
		return nil, err
	}
	// Eligibility again: the account may have changed since the code went.
	if ok, err := s.emailCodeEligible(ctx, p, u); err != nil || !ok {
		if err == nil {
			err = errMFACodeMismatch
		}
		return nil, err
	}
	return s.finishSignIn(ctx, p, cl, u, "email_otp", []string{AMROTP})
}
