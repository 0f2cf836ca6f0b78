package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// ForgotPassword emails a password-reset code (TemplateForgotPassword,
// valid ForgotCodeTTL) to the user's verified email, replacing any earlier
// reset code. The user's state is unchanged.
//
// Errors: user_not_found (unknown user), invalid_parameter "Cannot reset
// password for the user as there is no registered/verified email or
// phone_number" (no verified email, as Cognito), user_disabled,
// not_authorized (federated user), limit_exceeded (too many codes asked
// for the user or from the address; codes.go), not_authorized "Contact
// administrator to reset password." for everyone in a pool whose account
// recovery is admin only (PoolSettings.AdminOnlyRecovery), and the
// client's errors. With PreventUserExistenceErrors an unknown user, and a user who may not
// reset (disabled, no verified email, federated), get a plausible masked
// CodeDelivery instead and no email is sent (as Cognito does); they are
// throttled like a real request, so limit_exceeded comes after as many
// requests either way.
func (s *Service) ForgotPassword(ctx context.Context, in ForgotPasswordInput) (*CodeDelivery, error) {
	cl, p, err := s.resolveClient(ctx, in.Client, in.Username)
	if err != nil {
		return nil, err
	}
	if p.Settings.AdminOnlyRecovery() {
		// Cognito's AccountRecoverySetting admin_only: no self-service
		// reset for anybody (so the answer tells nothing about the name);
		// AdminResetUserPassword still works.
		return nil, errAdminOnlyRecovery
	}
	if err := s.checkIssueIP(p, in.Meta); err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if errors.Is(err, errUserNotFound) && hookFor(p, identity.TriggerUserMigration) != nil {
		if u, err = s.migrateForReset(ctx, p, cl, in); err != nil {
			return nil, err
		}
	}
	if errors.Is(err, errUserNotFound) {
		if p.PreventUserExistenceErrors {
			return s.fakeDelivery(ctx, p, nil, in.Username, identity.PurposeForgot, "user.forgot_password_unknown")
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := canResetFor(u, in); err != nil {
		if p.PreventUserExistenceErrors {
			// As Cognito: a disabled user, or one without a verified
			// address, gets the answer an unknown name gets.
			return s.fakeDelivery(ctx, p, u, in.Username, identity.PurposeForgot, "user.forgot_password_refused")
		}
		return nil, err
	}
	if ctx, err = s.prepareMessage(ctx, p, u, "", hooks.SourceCustomMessageForgotPassword); err != nil { // hooks: before the tx
		return nil, err
	}
	var cd *CodeDelivery
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if err := canResetFor(cur, in); err != nil {
			return err
		}
		if err := s.countCodeIssue(ctx, q, p, identity.PurposeForgot, userSubject(cur)); err != nil {
			return err
		}
		if cd, err = s.sendCode(ctx, q, p, cur, identity.PurposeForgot); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.forgot_password", "user:"+cur.Sub, nil)
	})
	if err != nil {
		return nil, err
	}
	return cd, nil
}

// migrateForReset runs the user_migration hook (UserMigration_ForgotPassword)
// for a name the pool does not know. A rejection by the hook answers as
// Cognito does (user_lambda_validation "UserMigration failed with error
// ..."; with PreventUserExistenceErrors the unknown user's answer, as
// every other failure): errUserNotFound tells the caller to answer as for
// an unknown name.
func (s *Service) migrateForReset(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in ForgotPasswordInput) (*identity.User, error) {
	res, err := s.migrateUser(ctx, p, migrationInput{client: cl, username: in.Username,
		source: hooks.SourceUserMigrationForgotPassword, clientMetadata: in.ClientMetadata, meta: in.Meta})
	if err == nil {
		return res.user, nil
	}
	var ie *identity.Error
	if !errors.As(err, &ie) || ie.Code == identity.CodeTooManyRequests {
		return nil, err
	}
	s.cfg.Log.InfoContext(ctx, "user migration failed", "pool", p.ID, "client", cl.ID, "code", string(ie.Code), "reason", ie.Message)
	if ie.Code == identity.CodeUserLambdaValidation && !p.PreventUserExistenceErrors {
		return nil, err
	}
	return nil, errUserNotFound
}

// canReset says whether u may reset its password by email.
// errAdminOnlyRecovery is Cognito's answer to ForgotPassword in a pool
// whose AccountRecoverySetting is admin_only.
var errAdminOnlyRecovery = identity.Errorf(identity.CodeNotAuthorized, "Contact administrator to reset password.")

// canResetFor is canReset with the request's rules (RefuseInvited).
func canResetFor(u *identity.User, in ForgotPasswordInput) error {
	if err := canReset(u); err != nil {
		return err
	}
	if in.RefuseInvited && u.Status == identity.StatusForceChangePassword {
		return identity.Errorf(identity.CodeNotAuthorized, "User password cannot be reset in the current state.")
	}
	return nil
}

func canReset(u *identity.User) error {
	switch {
	case !u.Enabled:
		return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	case u.Status == identity.StatusExternalProvider:
		return identity.Errorf(identity.CodeNotAuthorized, "Password reset is not available for users of an external identity provider.")
	case u.Email == "" || !u.EmailVerified:
		return identity.Errorf(identity.CodeInvalidParameter, "Cannot reset password for the user as there is no registered/verified email or phone_number")
	}
	return nil
}

// ConfirmForgotPassword sets a new password with the emailed reset code.
// The new password is checked against the pool's policy before the code is
// looked at (a policy error does not use up an attempt). On success, in one
// transaction: the code is consumed, the password replaced, the status set
// to CONFIRMED (from RESET_REQUIRED or FORCE_CHANGE_PASSWORD too), the
// failed-attempt counter and lock cleared, every session revoked
// (revokeSessions), the change audited, and a TemplatePasswordChanged email
// enqueued.
//
// Errors: code_mismatch (also for an unknown user, and an expired or
// used-up code, with PreventUserExistenceErrors), expired_code,
// too_many_failed_attempts, limit_exceeded (too many wrong codes in the
// window; codes.go),
// user_not_found, invalid_password, invalid_parameter, user_disabled, and
// the client's errors.
func (s *Service) ConfirmForgotPassword(ctx context.Context, in ConfirmForgotPasswordInput) error {
	_, p, err := s.resolveClient(ctx, in.Client, in.Username)
	if err != nil {
		return err
	}
	if err := checkCodeInput(in.Code); err != nil {
		return err
	}
	if in.NewPassword == "" {
		return identity.FieldError("password", "A new password is required.")
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if errors.Is(err, errUserNotFound) && p.PreventUserExistenceErrors {
		// Cost what the known path costs (policy check and one hash).
		if perr := password.Validate(p.PasswordPolicy, in.NewPassword, normalizeUsername(in.Username)); perr != nil {
			return perr
		}
		s.cfg.Hasher.VerifyDummy(ctx, in.NewPassword)
		return s.unknownCodeAttempt(ctx, p, identity.PurposeForgot, "user.password_reset_unknown", in.Username)
	}
	if err != nil {
		return err
	}
	if !u.Enabled {
		return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	}
	if err := password.Validate(p.PasswordPolicy, in.NewPassword, u.Username, emailLocal(u.Email)); err != nil {
		return err
	}
	creds, err := s.newCredentials(ctx, p, u, in.NewPassword)
	if err != nil {
		return err
	}
	return s.useCodeTx(ctx, p, u, identity.PurposeForgot, in.Code, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if !cur.Enabled {
			return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
		}
		now := s.now()
		creds.apply(cur)
		cur.PasswordChangedAt = now
		cur.TemporaryPasswordExpiresAt = time.Time{}
		if cur.Status == identity.StatusResetRequired || cur.Status == identity.StatusForceChangePassword {
			cur.Status = identity.StatusConfirmed
		}
		cur.FailedAttempts = 0
		cur.LockedUntil = time.Time{}
		if err := s.revokeSessions(ctx, q, p, cur); err != nil {
			return err
		}
		if err := s.hookPostConfirmation(ctx, q, p, cur, "", hooks.SourcePostConfirmationConfirmForgotPassword); err != nil { // as Cognito
			return err
		}
		if err := s.audit(ctx, q, p.ID, "user.password_reset", "user:"+cur.Sub, nil); err != nil {
			return err
		}
		return s.passwordChangedEmail(ctx, q, p, cur)
	})
}

// passwordChangedEmail tells the user that the password changed.
func (s *Service) passwordChangedEmail(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	if u.Email == "" {
		return nil
	}
	_, err := s.cfg.Mail.Enqueue(ctx, q, p, u.Email, TemplatePasswordChanged, map[string]any{
		"Username": u.Username,
		"PoolName": p.Name,
	})
	if err != nil {
		return fmt.Errorf("enqueue password changed email: %w", err)
	}
	return nil
}
