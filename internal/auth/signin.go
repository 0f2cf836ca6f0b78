package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// InitiateAuth starts an authentication with flow in.Flow:
//
//   - USER_PASSWORD_AUTH (not with in.Admin): USERNAME + PASSWORD;
//   - ADMIN_USER_PASSWORD_AUTH / ADMIN_NO_SRP_AUTH (only with in.Admin,
//     i.e. AdminInitiateAuth): the same, allowed by
//     ALLOW_ADMIN_USER_PASSWORD_AUTH;
//   - REFRESH_TOKEN_AUTH / REFRESH_TOKEN: refreshes with in.RefreshToken,
//     rotating it as the client says (refresh.go);
//   - USER_SRP_AUTH: USERNAME + Params["SRP_A"]; answers the
//     PASSWORD_VERIFIER challenge (srp.go). invalid_user_pool_config when
//     the pool has SRP off; invalid_parameter for a bad SRP_A.
//
// The client must allow the flow (its ALLOW_* AuthFlows), else
// invalid_parameter "<FLOW> flow not enabled for this client" (Cognito's
// InvalidParameterException).
//
// A password sign-in returns tokens for a CONFIRMED user, or a
// NEW_PASSWORD_REQUIRED challenge for FORCE_CHANGE_PASSWORD. Errors, in the
// order they are checked: unknown user — not_authorized "Incorrect username
// or password." with PreventUserExistenceErrors, else user_not_found "User
// does not exist." (after a dummy hash either way); a locked account —
// password_attempts_exceeded "Password attempts exceeded" with RetryAfter
// (the password is not checked); too many checks of the account in
// flight — too_many_requests "Rate exceeded" (retry); with
// PreventUserExistenceErrors both of these answer as an unknown user does
// (throttle.go); a wrong password — not_authorized "Incorrect username or
// password." (counted, see throttle.go); then, only once the password is
// right: user_disabled "User is disabled.", user_not_confirmed "User is not
// confirmed.", password_reset_required "Password reset required for the
// user", not_authorized "Temporary password has expired and must be reset
// by an administrator.", not_authorized for federated users.
func (s *Service) InitiateAuth(ctx context.Context, in InitiateAuthInput) (*AuthResult, error) {
	ctx = withSignInMeta(ctx, in.Meta) // for the sign_ins row (signins.go)
	isRefresh := in.Flow == AuthRefreshToken || in.Flow == AuthRefreshTokenAlias
	c := in.Client
	c.refreshHash = isRefresh && c.Secret == "" && c.SecretHash != ""
	cl, p, err := s.resolveClient(ctx, c, in.Username)
	if err != nil {
		return nil, err
	}
	ctx = withDevice(ctx, deviceCtx{track: !in.Client.Hosted, param: in.Params["DEVICE_KEY"], ip: in.Meta.IP}) // devices.go
	switch in.Flow {
	case AuthRefreshToken, AuthRefreshTokenAlias:
		strict := cl.RefreshRotation == identity.RotationEnabled // Cognito's ENABLED
		if !strict || in.RefreshCall != RefreshGetTokens {
			if err := flowAllowed(cl, in.Flow, identity.FlowRefreshToken); err != nil {
				return nil, err
			}
		}
		if strict && in.RefreshCall == RefreshInitiateAuth {
			return nil, errRefreshFlowRotating
		}
		var hash *refreshHash
		if c.refreshHash {
			hash = &refreshHash{value: c.SecretHash, username: in.Username}
		}
		return s.refresh(ctx, p, cl, in.RefreshToken, hash)
	case AuthUserPassword:
		if in.Admin {
			return nil, identity.FieldError("auth_flow", "Initiate Auth method not supported.")
		}
		// The hosted pages (Client.Hosted) sign in for any client of the
		// pool, as Cognito's hosted UI does whatever ExplicitAuthFlows say.
		if !in.Client.Hosted {
			if err := flowAllowed(cl, in.Flow, identity.FlowUserPassword); err != nil {
				return nil, err
			}
		}
		return s.passwordAuth(ctx, p, cl, in)
	case AuthAdminUserPassword, AuthAdminNoSRP:
		if !in.Admin {
			return nil, identity.FieldError("auth_flow", "Initiate Auth method not supported.")
		}
		if err := flowAllowed(cl, in.Flow, identity.FlowAdminUserPassword); err != nil {
			return nil, err
		}
		return s.passwordAuth(ctx, p, cl, in)
	case AuthUserSRP:
		if err := flowAllowed(cl, in.Flow, identity.FlowUserSRP); err != nil {
			return nil, err
		}
		return s.srpAuth(ctx, p, cl, in)
	case AuthUserAuth:
		if err := flowAllowed(cl, in.Flow, identity.FlowUserAuth); err != nil {
			return nil, err
		}
		return s.userAuth(ctx, p, cl, in) // userauth.go
	case "":
		return nil, identity.FieldError("auth_flow", "An auth flow is required.")
	default:
		return nil, identity.FieldError("auth_flow", "Unsupported auth flow %s.", safeEcho(in.Flow))
	}
}

func flowAllowed(cl *identity.AppClient, flow, allow string) error {
	if !cl.AllowsFlow(allow) {
		return identity.Errorf(identity.CodeInvalidParameter, "%s flow not enabled for this client", flow)
	}
	return nil
}

// passwordAuth is the password sign-in shared by the user and admin flows.
// The user is read and the password verified outside any transaction
// (hashing is slow); the state change (counter reset, new refresh token,
// audit) then runs in one transaction that re-reads the user and checks it
// did not change meanwhile.
func (s *Service) passwordAuth(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in InitiateAuthInput) (*AuthResult, error) {
	if in.Username == "" {
		return nil, identity.FieldError("USERNAME", "Missing required parameter USERNAME")
	}
	if in.Password == "" {
		return nil, identity.FieldError("PASSWORD", "Missing required parameter PASSWORD")
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if errors.Is(err, errUserNotFound) && hookFor(p, identity.TriggerUserMigration) != nil {
		res, merr := s.migrateUser(ctx, p, migrationInput{client: cl, username: in.Username, password: in.Password,
			source: hooks.SourceUserMigrationAuthentication, clientMetadata: in.ClientMetadata, meta: in.Meta})
		if merr != nil {
			return nil, s.migrationFailed(ctx, p, cl, in.Username, merr)
		}
		if !res.raced {
			return s.completeSignIn(ctx, p, cl, res.user, in.Flow)
		}
		u, err = res.user, nil // migrated meanwhile by another request: check the password
	}
	if errors.Is(err, errUserNotFound) {
		s.cfg.Hasher.VerifyDummy(ctx, in.Password)
		s.auditFailure(ctx, p, "username:"+safeEcho(normalizeUsername(in.Username)), "unknown_user", cl.ID)
		if p.PreventUserExistenceErrors {
			return nil, errBadCredentials
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if u.Status == identity.StatusResetRequired && u.PasswordHash == "" && !p.PreventUserExistenceErrors {
		// Imported without a password (a Cognito import job, an export
		// line without a hash): as Cognito, the answer is to reset it.
		s.cfg.Hasher.VerifyDummy(ctx, in.Password)
		return nil, identity.Errorf(identity.CodePasswordResetRequired, "Password reset required for the user")
	}
	if err := s.checkPassword(ctx, p, u, in.Password); err != nil {
		if reason, ok := isThrottleRefusal(err); ok {
			s.auditFailure(ctx, p, "user:"+u.Sub, reason, cl.ID)
		}
		return nil, err
	}
	return s.completeSignIn(ctx, p, cl, s.upgradeCredentials(ctx, p, u, in.Password), in.Flow)
}

// migrationFailed is the sign-in answer when the user_migration hook
// failed or its answer could not be honoured: Cognito's user_not_found
// "Exception migrating user in app client <id>" (not_authorized
// "Incorrect username or password." with PreventUserExistenceErrors),
// audited with the reason. Errors that are not the caller's or the
// hook's (the store's, a saturated hasher) pass through.
func (s *Service) migrationFailed(ctx context.Context, p *identity.Pool, cl *identity.AppClient, username string, err error) error {
	var ie *identity.Error
	if !errors.As(err, &ie) || ie.Code == identity.CodeTooManyRequests {
		return err
	}
	s.cfg.Log.InfoContext(ctx, "user migration failed", "pool", p.ID, "client", cl.ID, "code", string(ie.Code), "reason", ie.Message)
	s.auditFailure(ctx, p, "username:"+safeEcho(normalizeUsername(username)), "migration_failed: "+safeEcho(ie.Message), cl.ID)
	if p.PreventUserExistenceErrors {
		return errBadCredentials
	}
	return errMigration(cl.ID)
}

// upgradeCredentials runs after password (u's, just verified) and
// replaces what the password left in the store when it is not the pool's
// current form: a hash imported from another system (bcrypt, PBKDF2,
// Firebase scrypt, argon2i), an argon2id hash with older parameters, or a
// missing SRP verifier (imported users, or a password set while SRP was
// off). The new credentials are written only if the stored hash is still
// the one verified (compare-and-set under the row lock), with an audit
// entry in the same transaction. It returns the user as stored; a failure
// is logged and the sign-in goes on with the old credentials.
func (s *Service) upgradeCredentials(ctx context.Context, p *identity.Pool, u *identity.User, password string) *identity.User {
	wantSRP := !p.Settings.SRP.Disabled && u.SRPVerifier == ""
	if !s.cfg.Hasher.NeedsRehash(u.PasswordHash) && !wantSRP {
		return u
	}
	c, err := s.newCredentials(ctx, p, u, password)
	if err != nil {
		s.cfg.Log.Warn("rehash password at sign-in", "pool", p.ID, "sub", u.Sub, "err", err)
		return u
	}
	var out *identity.User
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.LockUser(ctx, p.ID, u.Sub); err != nil {
			return err
		}
		cur, err := q.GetUser(ctx, p.ID, u.Sub)
		if err != nil {
			return err
		}
		if cur.PasswordHash != u.PasswordHash {
			out = cur // changed meanwhile: the caller's sameCredentials refuses
			return nil
		}
		from := hashScheme(cur.PasswordHash)
		c.apply(cur)
		cur.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			return err
		}
		out = cur
		return s.audit(ctx, q, p.ID, "user.password_rehashed", "user:"+u.Sub,
			map[string]string{"from": from, "srp_verifier": strconv.FormatBool(c.srpVerifier != "")})
	})
	if err != nil {
		s.cfg.Log.Warn("store rehashed password", "pool", p.ID, "sub", u.Sub, "err", err)
		return u
	}
	return out
}

// hashScheme names the scheme of a stored hash for the audit log.
func hashScheme(h string) string {
	scheme, err := password.Scheme(h)
	if err != nil {
		return "unknown"
	}
	return scheme
}

// completeSignIn finishes a sign-in whose credential (password or SRP
// proof) has just verified: it checks the account's status (signInStatus,
// clearing the failure counter when that refuses), answers a
// FORCE_CHANGE_PASSWORD user with NEW_PASSWORD_REQUIRED, a user the MFA
// policy asks a second factor of with its challenge (mfa.go; the counter
// is left as it is until the factor verifies), and otherwise issues tokens
// and records the sign-in under flow.
func (s *Service) completeSignIn(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, flow string) (*AuthResult, error) {
	if err := s.requireSSO(ctx, p, u); err != nil { // company_sso.go
		s.auditFailure(ctx, p, "user:"+u.Sub, "company_sso_required", cl.ID)
		return nil, err
	}
	if statusErr := s.approvalPending(ctx, p, u, signInStatus(u, s.now())); statusErr != nil {
		err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			if err := q.ResetFailedAttempts(ctx, p.ID, u.Sub); err != nil {
				return fmt.Errorf("reset attempts: %w", err)
			}
			return s.audit(ctx, q, p.ID, "user.sign_in_failed", "user:"+u.Sub,
				map[string]string{"client_id": cl.ID, "reason": identity.ErrorMessage(statusErr)})
		})
		if err != nil {
			return nil, err
		}
		return nil, statusErr
	}
	if u.Status == identity.StatusForceChangePassword {
		return s.newPasswordChallenge(ctx, p, cl, u)
	}
	amr := []string{AMRPassword}
	if res, err := s.deviceChallenge(ctx, p, cl, u, amr); res != nil || err != nil { // devices.go
		return res, err
	}
	if res, err := s.mfaChallenge(ctx, p, cl, u, amr); res != nil || err != nil {
		return res, err
	}
	return s.finishSignIn(ctx, p, cl, u, flow, amr) // e.g. a failing pre_token_generation hook fails here
}

// approvalPending turns statusErr (signInStatus's answer for u) into
// approval_pending when u is UNCONFIRMED only because its registration
// request waits for the approvers (the email is verified): the native API
// tells the two apart, the Cognito surface answers UserNotConfirmedException
// for both. Call it only once the password verified.
func (s *Service) approvalPending(ctx context.Context, p *identity.Pool, u *identity.User, statusErr error) error {
	if identity.ErrorCode(statusErr) != identity.CodeUserNotConfirmed {
		return statusErr
	}
	r, err := s.cfg.Store.GetRegistrationByUser(ctx, p.ID, u.Sub)
	if err != nil || r.State != identity.RegPending {
		return statusErr
	}
	return errApprovalPending
}

// errApprovalPending: see approvalPending.
var errApprovalPending = identity.Errorf(identity.CodeApprovalPending, "User is not confirmed: the sign-up is waiting for approval.")

// signInStatus checks the account once its password verified. It returns
// nil for CONFIRMED and for a FORCE_CHANGE_PASSWORD user whose temporary
// password is still valid (who gets a challenge).
func signInStatus(u *identity.User, now time.Time) error {
	if !u.Enabled {
		return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	}
	switch u.Status {
	case identity.StatusConfirmed:
		return nil
	case identity.StatusUnconfirmed:
		return identity.Errorf(identity.CodeUserNotConfirmed, "User is not confirmed.")
	case identity.StatusResetRequired:
		return identity.Errorf(identity.CodePasswordResetRequired, "Password reset required for the user")
	case identity.StatusForceChangePassword:
		if !u.TemporaryPasswordExpiresAt.IsZero() && !now.Before(u.TemporaryPasswordExpiresAt) {
			return identity.Errorf(identity.CodeNotAuthorized, "Temporary password has expired and must be reset by an administrator.")
		}
		return nil
	default: // EXTERNAL_PROVIDER and anything unknown
		return identity.Errorf(identity.CodeNotAuthorized, "Incorrect username or password.")
	}
}

// sameCredentials re-reads u in the sign-in transaction and refuses if the
// account changed since its password was verified (disabled, password
// changed, status changed, deleted).
func sameCredentials(ctx context.Context, q store.Querier, u *identity.User) error {
	cur, err := q.GetUser(ctx, u.PoolID, u.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return errBadCredentials
	}
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	if !cur.Enabled {
		return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	}
	if cur.PasswordHash != u.PasswordHash || cur.Status != u.Status {
		return errBadCredentials
	}
	return nil
}

// auditFailure records a failed sign-in in its own transaction; a failure
// to record is logged, not returned (the caller's answer must not change).
func (s *Service) auditFailure(ctx context.Context, p *identity.Pool, subject, reason, clientID string) {
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		return s.audit(ctx, q, p.ID, "user.sign_in_failed", subject, map[string]string{"client_id": clientID, "reason": reason})
	})
	if err != nil {
		s.cfg.Log.Error("audit failed sign-in", "pool", p.ID, "err", err)
	}
}
