package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// ConfirmSignUp confirms a sign-up with the emailed code: the user goes
// from UNCONFIRMED to CONFIRMED with email_verified=true, and the code is
// consumed. One transaction consumes the code and changes the user; a wrong
// code's attempt is committed.
//
// Errors: code_mismatch (wrong code, no code, or — with
// PreventUserExistenceErrors — an unknown user, an expired or used-up
// code), expired_code, too_many_failed_attempts (MaxCodeAttempts wrong
// codes: request a new one), limit_exceeded (CodeFailureLimit wrong codes
// in CodeFailureWindow, counted for unknown names too; codes.go),
// user_not_found (unknown user, without PreventUserExistenceErrors),
// not_authorized "User cannot be confirmed. Current status is CONFIRMED"
// (any status but UNCONFIRMED), alias_exists (username pool: another user
// has this email verified), invalid_parameter, and the client's errors.
func (s *Service) ConfirmSignUp(ctx context.Context, in ConfirmSignUpInput) error {
	_, p, err := s.resolveClient(ctx, in.Client, in.Username)
	if err != nil {
		return err
	}
	if err := checkCodeInput(in.Code); err != nil {
		return err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if errors.Is(err, errUserNotFound) && p.PreventUserExistenceErrors {
		return s.unknownCodeAttempt(ctx, p, identity.PurposeSignUp, "user.confirm_unknown", in.Username)
	}
	if err != nil {
		return err
	}
	if u.Status != identity.StatusUnconfirmed {
		return notConfirmable(u.Status)
	}
	return s.useCodeTx(ctx, p, u, identity.PurposeSignUp, in.Code, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if cur.Status != identity.StatusUnconfirmed {
			return notConfirmable(cur.Status)
		}
		if err := checkAliasFree(ctx, q, p, cur); err != nil {
			return err
		}
		cur.EmailVerified = cur.Email != ""
		cur.UpdatedAt = s.now()
		// Open pools: CONFIRMED now (activateUser). Approval pools: the
		// user stays UNCONFIRMED and the request goes to the approvers.
		if err := s.afterEmailVerified(ctx, q, p, cur, in.Meta); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.confirm", "user:"+cur.Sub, nil)
	})
}

func notConfirmable(st identity.UserStatus) error {
	return identity.Errorf(identity.CodeNotAuthorized, "User cannot be confirmed. Current status is %s", st)
}

// checkAliasFree refuses to verify u's email in a username pool when
// another user already signs in with it (a verified email is an alias
// there), as Cognito does without ForceAliasCreation. Pools with unique
// emails have the database constraint instead.
func checkAliasFree(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	if p.UsernameMode != identity.UsernameWithEmailAlias || u.Email == "" {
		return nil
	}
	other, err := q.GetUserByEmail(ctx, p.ID, u.Email, true)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get user by email: %w", err)
	}
	if other.Sub != u.Sub {
		return errAliasExists
	}
	return nil
}
