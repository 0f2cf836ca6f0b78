package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Lazy migration (the user_migration hook, Cognito's migrate-user trigger)
//
// When a name the pool does not know signs in with a password
// (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the hosted pages) or asks
// for a password reset, and the pool has a user_migration hook, the hook
// is asked (UserMigration_Authentication with the password, or
// UserMigration_ForgotPassword without) whether the old system knows the
// user. Its answer creates the user, in one transaction with its audit
// entry; the password is the one just proven to the old system, hashed
// with the pool's argon2id, with its SRP verifier. USER_SRP_AUTH never
// reaches the hook (the password never leaves the client), as in Cognito:
// clients migrating users sign in with USER_PASSWORD_AUTH.
//
// The hook's answer is data, not a decision (security.md A): the pool's
// company attribute in userAttributes is the company the user asks for,
// and the pool's sign-up policy applies as to any sign-up — a domain
// allow-list refuses, an approval pool leaves the user UNCONFIRMED with a
// registration request for the approvers, and company groups come only
// from activateUser. A user whose email the hook does not mark verified
// stays UNCONFIRMED and gets a sign-up code to prove it (Cognito would
// make such a user CONFIRMED; docs/cognito.md). A user with no email at
// all, in a pool of plain usernames whose schema and sign-up policy do not
// need one, is CONFIRMED at once, as on Cognito (RESET_REQUIRED still
// needs a verified email: the reset code has to go somewhere).
//
// Failures answer as Cognito does: at sign-in, user_not_found "Exception
// migrating user in app client <id>" (or "Incorrect username or
// password." with PreventUserExistenceErrors), whatever the reason; at
// ForgotPassword, the hook's own error (UserLambdaValidationException
// "UserMigration failed with error ...") or, for an answer Gatehouse
// cannot honour, user_not_found.

// migrationResult is what migrateUser created.
type migrationResult struct {
	user *identity.User
	// raced is set when another request created the user first: the
	// caller goes on with the stored user.
	raced bool
}

// migrationInput is one call of the hook.
type migrationInput struct {
	client         *identity.AppClient
	username       string
	password       string // "" for UserMigration_ForgotPassword
	source         string
	clientMetadata map[string]string
	meta           RequestMeta
}

// errMigration is what a failed migration at sign-in answers (Cognito's).
func errMigration(clientID string) error {
	return identity.Errorf(identity.CodeUserNotFound, "Exception migrating user in app client %s", clientID)
}

// migrateUser calls p's user_migration hook for in.username and creates
// the user it describes. It returns (nil, nil) when the pool has no such
// hook. Errors: the hook's (*identity.Error from hooks.Error.Identity),
// invalid_lambda_response for an answer that cannot be honoured, the
// sign-up policy's, username_exists / alias_exists, the store's.
func (s *Service) migrateUser(ctx context.Context, p *identity.Pool, in migrationInput) (*migrationResult, error) {
	h := hookFor(p, identity.TriggerUserMigration)
	if h == nil {
		return nil, nil
	}
	username, err := validateUsername(p, in.username)
	if err != nil {
		return nil, err
	}
	ev := hooks.UserMigrationEvent{}
	ev.CognitoEventUserPoolsHeader = hooks.Header(p, in.client.ID, in.source, username, "1")
	ev.CognitoEventUserPoolsMigrateUserRequest.Password = in.password
	ev.CognitoEventUserPoolsMigrateUserRequest.ValidationData = map[string]string{}
	ev.CognitoEventUserPoolsMigrateUserRequest.ClientMetadata = in.clientMetadata
	if ev.CognitoEventUserPoolsMigrateUserRequest.ClientMetadata == nil {
		ev.CognitoEventUserPoolsMigrateUserRequest.ClientMetadata = map[string]string{}
	}
	var resp hooks.UserMigrationResponse
	if err := s.callHook(ctx, p, h, identity.TriggerUserMigration, in.source, ev, &resp); err != nil {
		return nil, err
	}
	u, requested, final, err := s.migratedUser(ctx, p, username, in, &resp)
	if err != nil {
		return nil, err
	}
	if in.password != "" {
		creds, err := s.newCredentials(ctx, p, u, in.password)
		if err != nil {
			return nil, err
		}
		creds.apply(u)
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
			return err
		}
		if err := s.startRegistration(ctx, q, p, u, requested, in.meta); err != nil {
			return err
		}
		if !u.EmailVerified && u.Email != "" {
			// Prove the address first, as a sign-up does; the policy
			// runs at ConfirmSignUp.
			if _, err := s.sendCode(ctx, q, p, u, identity.PurposeSignUp); err != nil {
				return err
			}
		} else if final == identity.StatusResetRequired {
			u.Status = identity.StatusResetRequired
			if err := s.activateUser(ctx, q, p, u, "migrated"); err != nil {
				return err
			}
		} else if err := s.afterEmailVerified(ctx, q, p, u, in.meta); err != nil && !errors.Is(err, errApprovalPending) {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.migrated", "user:"+u.Sub, map[string]string{
			"client_id": in.client.ID, "username": u.Username, "source": in.source, "status": string(u.Status)})
	})
	if errors.Is(err, store.ErrConflict) {
		if cur, ferr := s.findUser(ctx, s.cfg.Store, p, username); ferr == nil {
			return &migrationResult{user: cur, raced: true}, nil
		}
		return nil, s.signUpConflict(ctx, p, username)
	}
	if err != nil {
		return nil, err
	}
	cur, err := s.cfg.Store.GetUser(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, wrapStoreErr("get user", err)
	}
	return &migrationResult{user: cur}, nil
}

// migratedUser checks the hook's answer and builds the user to create (not
// written), the company it asks for, and the status the answer asked for.
func (s *Service) migratedUser(ctx context.Context, p *identity.Pool, username string, in migrationInput, resp *hooks.UserMigrationResponse) (*identity.User, string, identity.UserStatus, error) {
	bad := func(format string, args ...any) error {
		return (&hooks.Error{Kind: hooks.KindInvalidResponse, Trigger: identity.TriggerUserMigration, Reason: fmt.Sprintf(format, args...)}).Identity()
	}
	if resp.EnableSMSMFA {
		return nil, "", "", bad("enableSMSMFA: MFA settings cannot be migrated yet (docs/migration.md)")
	}
	final := identity.UserStatus(resp.FinalUserStatus)
	switch final {
	case "", identity.StatusConfirmed:
		final = identity.StatusConfirmed
	case identity.StatusResetRequired:
	default:
		return nil, "", "", bad("finalUserStatus must be CONFIRMED or RESET_REQUIRED")
	}
	if in.password == "" {
		final = identity.StatusResetRequired // a reset: the password is not known
	}
	if resp.MessageAction != "" && resp.MessageAction != "SUPPRESS" {
		return nil, "", "", bad("messageAction must be SUPPRESS or absent")
	}
	for _, m := range resp.DesiredDeliveryMediums {
		if m != "EMAIL" && m != "SMS" {
			return nil, "", "", bad("desiredDeliveryMediums must be EMAIL or SMS")
		}
	}
	if len(resp.UserAttributes) == 0 {
		return nil, "", "", bad("userAttributes is required")
	}
	attrs := make(map[string]string, len(resp.UserAttributes)+1)
	for k, v := range resp.UserAttributes {
		if k == "sub" || k == "cognito:user_status" || k == "cognito:username" {
			continue // the old system's, not ours
		}
		attrs[k] = v
	}
	if err := validateAttributes(p, nil, attrs, attrAdminCreate); err != nil {
		return nil, "", "", bad("userAttributes: %s", identity.ErrorMessage(err))
	}
	if p.UsernameMode == identity.UsernameEmail {
		if e, ok := attrs["email"]; ok && strings.ToLower(strings.TrimSpace(e)) != username {
			return nil, "", "", bad("userAttributes: email must be the username in this user pool")
		}
		attrs["email"] = username
	}
	email := strings.ToLower(strings.TrimSpace(attrs["email"]))
	if email == "" {
		// Cognito migrates a user with no address at all in a pool of
		// plain usernames (CONFIRMED: the old password was proved).
		// Gatehouse needs one where the email signs in, the schema
		// requires it, or the sign-up policy decides by it.
		switch {
		case p.UsernameMode != identity.UsernamePlain, p.Settings.EmailRequired:
			return nil, "", "", bad("userAttributes: email is required")
		case p.Settings.SignUp.Approval != nil, p.Settings.SignUp.DomainAllowList:
			return nil, "", "", bad("userAttributes: email is required by this pool's sign-up policy")
		}
	}
	if final == identity.StatusResetRequired && p.Settings.SignUp.Approval != nil {
		// A reset would confirm the user without the approvers; the
		// user signs in with the old password instead.
		return nil, "", "", bad("RESET_REQUIRED cannot be honoured in a pool whose sign-ups need approval")
	}
	if err := s.checkSignUpPolicy(ctx, p, email, attrs); err != nil {
		return nil, "", "", err
	}
	sub, err := s.newSub()
	if err != nil {
		return nil, "", "", err
	}
	now := s.now()
	u := &identity.User{PoolID: p.ID, Sub: sub, Username: username, Status: identity.StatusUnconfirmed, Enabled: true,
		PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	applyAttributes(u, attrs)
	if final == identity.StatusResetRequired && !u.EmailVerified {
		return nil, "", "", bad("a user who must reset the password needs a verified email (email_verified true)")
	}
	return u, takeCompany(p, u), final, nil
}
