package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// MessageAction values of AdminCreateUser (Cognito's).
const (
	MessageActionSuppress = "SUPPRESS"
	MessageActionResend   = "RESEND"
)

var (
	errEmailExists = identity.Errorf(identity.CodeAliasExists, "An account with the given email already exists.")
	errUserExists  = identity.Errorf(identity.CodeUsernameExists, "User account already exists.")
)

// AdminCreateUser creates a user in FORCE_CHANGE_PASSWORD with a temporary
// password (in.TemporaryPassword, checked against the pool's policy, or a
// generated one) valid for the policy's TemporaryPasswordValidityDays, and
// emails the invitation (TemplateInvite) unless MessageAction is SUPPRESS.
// In an email-as-username pool the username is the email address; in a
// username pool an email is needed to send the invitation. Attributes may
// include email and email_verified.
//
// MessageAction RESEND re-sends the invitation to an existing
// FORCE_CHANGE_PASSWORD user with a new temporary password (attributes are
// ignored).
//
// Errors: resource_not_found (pool), invalid_parameter, invalid_password,
// username_exists, alias_exists (unique email taken), user_not_found
// (RESEND for an unknown user).
func (s *Service) AdminCreateUser(ctx context.Context, in AdminCreateUserInput) (*UserView, error) {
	if callerSub(ctx) != "" {
		return nil, errPoolAdminOnly // security.md R2
	}
	p, err := s.getPool(ctx, s.cfg.Store, in.PoolID)
	if err != nil {
		return nil, err
	}
	switch in.MessageAction {
	case "", MessageActionSuppress:
	case MessageActionResend:
		return s.resendInvitation(ctx, p, in)
	default:
		return nil, identity.FieldError("message_action", "MessageAction must be empty, SUPPRESS or RESEND.")
	}
	username, err := validateUsername(p, in.Username)
	if err != nil {
		return nil, err
	}
	attrs := make(map[string]string, len(in.Attributes))
	for k, v := range in.Attributes {
		attrs[k] = v
	}
	if err := validateAttributes(p, nil, attrs, attrAdminCreate); err != nil {
		return nil, err
	}
	if p.UsernameMode == identity.UsernameEmail {
		if e, ok := attrs["email"]; ok && strings.ToLower(strings.TrimSpace(e)) != username {
			return nil, identity.FieldError("email", "In this pool the email address is the username; the email attribute must equal it.")
		}
		attrs["email"] = username
	}
	now := s.now()
	u := &identity.User{
		PoolID:    p.ID,
		Username:  username,
		Status:    identity.StatusForceChangePassword,
		Enabled:   true,
		CreatedAt: now,
		UpdatedAt: now,
	}
	applyAttributes(u, attrs)
	if in.MessageAction == "" && u.Email == "" {
		return nil, identity.FieldError("email", "An email address is required to send the invitation; pass MessageAction SUPPRESS to create the user without one.")
	}
	// The sub first: it is the SRP user id in email pools.
	if u.Sub, err = s.newSub(); err != nil {
		return nil, err
	}
	temp, err := s.temporaryPassword(ctx, p, u, in.TemporaryPassword)
	if err != nil {
		return nil, err
	}
	if ctx, err = s.adminCreateHooks(ctx, p, u, in.MessageAction == "", in.ClientMetadata, in.ValidationData); err != nil { // pre_sign_up, custom_message
		return nil, err
	}
	var view *UserView
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := checkUserFree(ctx, q, p, u); err != nil {
			return err
		}
		if err := s.takeAlias(ctx, q, p, u, in.ForceAliasCreation); err != nil {
			return err
		}
		if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errUserExists
			}
			return err
		}
		if err := s.activateUser(ctx, q, p, u, "admin_create"); err != nil {
			return err
		}
		if in.MessageAction == "" {
			if err := s.sendInvitation(ctx, q, p, u, temp); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, q, p.ID, "admin.user_create", "user:"+u.Sub, map[string]string{
			"username": u.Username, "message_action": in.MessageAction,
		}); err != nil {
			return err
		}
		view, err = s.userView(ctx, q, u)
		return err
	})
	if err != nil {
		return nil, wrapStoreErr("admin create user", err)
	}
	return view, nil
}

// resendInvitation handles AdminCreateUser with MessageAction RESEND.
func (s *Service) resendInvitation(ctx context.Context, p *identity.Pool, in AdminCreateUserInput) (*UserView, error) {
	u, err := s.findUser(ctx, s.cfg.Store, p, in.Username)
	if err != nil {
		return nil, err
	}
	if u.Status != identity.StatusForceChangePassword {
		return nil, identity.FieldError("message_action", "Resend not possible. %s status is not FORCE_CHANGE_PASSWORD.", safeEcho(in.Username))
	}
	if u.Email == "" {
		return nil, identity.FieldError("email", "The user has no email address to send the invitation to.")
	}
	temp, err := s.temporaryPassword(ctx, p, u, in.TemporaryPassword)
	if err != nil {
		return nil, err
	}
	if ctx, err = s.prepareMessage(ctx, p, u, "", hooks.SourceCustomMessageAdminCreateUser); err != nil { // hooks: before the tx
		return nil, err
	}
	var view *UserView
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := q.GetUser(ctx, p.ID, u.Sub)
		if err != nil {
			return err
		}
		if cur.Status != identity.StatusForceChangePassword {
			return identity.FieldError("message_action", "Resend not possible. %s status is not FORCE_CHANGE_PASSWORD.", safeEcho(in.Username))
		}
		now := s.now()
		cur.PasswordHash, cur.SRPSalt, cur.SRPVerifier = u.PasswordHash, u.SRPSalt, u.SRPVerifier
		cur.TemporaryPasswordExpiresAt = u.TemporaryPasswordExpiresAt
		cur.UpdatedAt = now
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			return err
		}
		if err := s.sendInvitation(ctx, q, p, cur, temp); err != nil {
			return err
		}
		if err := s.audit(ctx, q, p.ID, "admin.user_resend_invitation", "user:"+cur.Sub, map[string]string{"username": cur.Username}); err != nil {
			return err
		}
		view, err = s.userView(ctx, q, cur)
		return err
	})
	if err != nil {
		return nil, wrapStoreErr("resend invitation", err)
	}
	return view, nil
}

// temporaryPassword checks given (or generates a password when it is
// empty), hashes it and sets u's hash and temporary-password expiry. It
// returns the clear password for the invitation. Hashing happens outside
// any transaction.
func (s *Service) temporaryPassword(ctx context.Context, p *identity.Pool, u *identity.User, given string) (string, error) {
	pw := given
	if pw == "" {
		var err error
		if pw, err = password.Generate(p.PasswordPolicy); err != nil {
			return "", err
		}
	} else if err := password.Validate(p.PasswordPolicy, pw, passwordContext(u)...); err != nil {
		return "", err
	}
	creds, err := s.newCredentials(ctx, p, u, pw)
	if err != nil {
		return "", wrapStoreErr("hash password", err)
	}
	creds.apply(u)
	u.TemporaryPasswordExpiresAt = s.now().Add(tempPasswordValidity(p))
	return pw, nil
}

func tempPasswordValidity(p *identity.Pool) time.Duration {
	days := p.PasswordPolicy.TemporaryPasswordValidityDays
	if days <= 0 {
		days = identity.DefaultPasswordPolicy().TemporaryPasswordValidityDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// passwordContext is what a password must not contain: the user's names.
func passwordContext(u *identity.User) []string {
	ctx := []string{u.Username}
	if u.Email != "" {
		ctx = append(ctx, u.Email)
		if at := strings.LastIndexByte(u.Email, '@'); at > 0 {
			ctx = append(ctx, u.Email[:at])
		}
	}
	for _, a := range []string{"name", "given_name", "family_name", "preferred_username", "nickname"} {
		if v := u.Attributes[a]; v != "" {
			ctx = append(ctx, v)
		}
	}
	return ctx
}

// sendInvitation enqueues the invitation email through q.
func (s *Service) sendInvitation(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, temp string) error {
	days := int(tempPasswordValidity(p) / (24 * time.Hour))
	expires := fmt.Sprintf("%d days", days)
	if days == 1 {
		expires = "1 day"
	}
	_, err := s.enqueueMessage(ctx, q, p, u, TemplateInvite, map[string]any{ // Mail.Enqueue + custom_message hook
		"Username":          displayUsername(p, u),
		"TemporaryPassword": temp,
		"PoolName":          p.Name,
		"SignInURL":         s.Issuer(p),
		"ExpiresIn":         expires,
	})
	if err != nil {
		return wrapStoreErr("enqueue invitation", err)
	}
	return nil
}

// displayUsername is the name a user signs in with.
func displayUsername(p *identity.Pool, u *identity.User) string {
	if p.UsernameMode == identity.UsernameEmail && u.Email != "" {
		return u.Email
	}
	return u.Username
}

// checkUserFree returns username_exists or alias_exists when u's username
// (or, in a unique-email pool, its email) belongs to another user.
func checkUserFree(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	o, err := q.GetUserByUsername(ctx, p.ID, u.Username)
	if err == nil && o.Sub != u.Sub {
		return errUserExists
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := checkUsernameNotSub(ctx, q, p, u.Username); err != nil {
		if errors.Is(err, errUsernameExists) {
			return errUserExists
		}
		return err
	}
	return checkEmailFree(ctx, q, p, u)
}

func checkEmailFree(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	if u.Email == "" || !uniqueEmail(p) {
		return nil
	}
	o, err := q.GetUserByEmail(ctx, p.ID, u.Email, false)
	if err == nil && o.Sub != u.Sub {
		if p.UsernameMode == identity.UsernameEmail {
			return errUserExists
		}
		return errEmailExists
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// AdminGetUser returns the user (found by username, verified email alias
// or sub) with its groups.
//
// Errors: resource_not_found (pool), user_not_found.
func (s *Service) AdminGetUser(ctx context.Context, poolID, username string) (*UserView, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return nil, err
	}
	v, err := s.userView(ctx, s.cfg.Store, u)
	return v, wrapStoreErr("admin get user", err)
}

// AdminGetUserWithMFA is AdminGetUser and AdminGetUserMFA in one read, for
// the Cognito AdminGetUser, whose answer carries the user's attributes and
// MFA settings: the user is found by name, then read once with its groups
// and its TOTP and email-code factors (store.GetUserSessionMFA), outside a
// transaction: three statements. The two calls it replaces cost seven
// SELECTs, four of them between a BEGIN and a COMMIT (on SQLite, the one
// writer's). Passkeys and recovery codes are not read: Cognito's answer
// names MFA settings only.
//
// Errors: resource_not_found, user_not_found, forbidden (as AdminGetUserMFA).
func (s *Service) AdminGetUserWithMFA(ctx context.Context, poolID, username string) (*UserView, *UserMFA, error) {
	p, u, err := s.adminTarget(ctx, s.cfg.Store, poolID, username)
	if err != nil {
		return nil, nil, wrapStoreErr("admin get user", err)
	}
	se, err := s.cfg.Store.GetUserSessionMFA(ctx, p.ID, u.Sub, "")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errUserNotFound // deleted since it was found
	}
	if err != nil {
		return nil, nil, wrapStoreErr("admin get user", err)
	}
	v, m := sessionViews(se)
	return v, m, nil
}

// ListUsers lists a pool's users, optionally filtered (Cognito syntax, see
// parseFilter), limit 1..60 (0: 60), in the store's stable order.
//
// Errors: resource_not_found (pool), invalid_parameter (filter, limit, token).
func (s *Service) ListUsers(ctx context.Context, in ListUsersInput) ([]*identity.User, string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, in.PoolID)
	if err != nil {
		return nil, "", err
	}
	f, err := parseFilter(in.Filter)
	if err != nil {
		return nil, "", err
	}
	n, err := clampLimit(in.Limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	us, next, err := s.cfg.Store.ListUsers(ctx, p.ID, f, page{Limit: n, Token: in.Token})
	if err != nil {
		return nil, "", wrapStoreErr("list users", err)
	}
	return us, next, nil
}

// adminUserTx runs fn in one transaction with the pool and the user
// (looked up as findUser does), then records an audit event. A company
// admin's context gets through only as checkCompanyAdminTarget allows.
func (s *Service) adminUserTx(ctx context.Context, poolID, username, action string, fn func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error)) error {
	return wrapStoreErr(action, s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, u, err := s.adminTarget(ctx, q, poolID, username)
		if err != nil {
			return err
		}
		detail, err := fn(q, p, u)
		if err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, action, "user:"+u.Sub, detail)
	}))
}

// adminTarget reads the pool and the user an administrator names, through
// q, and checks that a company admin's context may act on the user
// (security.md R2).
func (s *Service) adminTarget(ctx context.Context, q store.Querier, poolID, username string) (*identity.Pool, *identity.User, error) {
	p, err := s.getPool(ctx, q, poolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.findUser(ctx, q, p, username)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkCompanyAdminTarget(ctx, q, p, u); err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// AdminDisableUser disables the user and ends all its sessions (refresh
// tokens revoked, earlier access and ID tokens invalid).
//
// Errors: resource_not_found, user_not_found.
func (s *Service) AdminDisableUser(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_disable", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		u.Enabled = false
		u.UpdatedAt = s.now()
		return nil, s.revokeSessions(ctx, q, p, u)
	})
}

// AdminEnableUser enables a disabled user.
//
// Errors: resource_not_found, user_not_found.
func (s *Service) AdminEnableUser(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_enable", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		u.Enabled = true
		u.UpdatedAt = s.now()
		return nil, q.UpdateUser(ctx, u, uniqueEmail(p))
	})
}

// AdminDeleteUser deletes the user with its attributes, memberships, codes
// and refresh tokens.
//
// Errors: resource_not_found, user_not_found.
func (s *Service) AdminDeleteUser(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_delete", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		// The relying parties it signed in to are told first (their
		// sessions go with the user).
		if err := s.enqueueBackchannelLogout(ctx, q, p, u.Sub); err != nil {
			return nil, err
		}
		return map[string]string{"username": u.Username}, q.DeleteUser(ctx, p.ID, u.Sub)
	})
}

// AdminConfirmSignUp confirms an UNCONFIRMED user without a code. The email
// stays as verified or unverified as it was (as in Cognito).
//
// Errors: resource_not_found, user_not_found, not_authorized ("User cannot
// be confirmed. Current status is X") for any other status.
func (s *Service) AdminConfirmSignUp(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_confirm", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		if u.Status != identity.StatusUnconfirmed {
			return nil, identity.Errorf(identity.CodeNotAuthorized, "User cannot be confirmed. Current status is %s", u.Status)
		}
		// An admin's confirmation also approves the user's open
		// registration request, if any (registrations.go).
		if err := s.approveOnAdminConfirm(ctx, q, p, u); err != nil {
			return nil, err
		}
		if err := s.activateUser(ctx, q, p, u, "admin_confirm"); err != nil {
			return nil, err
		}
		return nil, q.DeleteCodes(ctx, p.ID, u.Sub)
	})
}

// AdminResetUserPassword sets RESET_REQUIRED, ends the user's sessions and
// emails a password reset code (PurposeForgot). The old password stops
// working for sign-in (the user must complete ConfirmForgotPassword).
//
// Errors: resource_not_found, user_not_found, invalid_parameter (the user
// has no email to send the code to).
func (s *Service) AdminResetUserPassword(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_reset_password", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		if u.Email == "" {
			return nil, identity.FieldError("email", "Cannot reset password for the user as there is no registered email.")
		}
		u.Status = identity.StatusResetRequired
		u.UpdatedAt = s.now()
		if err := s.revokeSessions(ctx, q, p, u); err != nil {
			return nil, err
		}
		if _, err := s.sendCode(ctx, q, p, u, identity.PurposeForgot); err != nil {
			return nil, err
		}
		return nil, nil
	})
}

// AdminSetUserPassword sets the user's password after checking it against
// the pool's policy. permanent: status CONFIRMED; otherwise
// FORCE_CHANGE_PASSWORD with a new temporary-password expiry. Sessions end,
// outstanding codes are dropped and the failed-attempt counter is cleared.
//
// Errors: resource_not_found, user_not_found, invalid_password.
func (s *Service) AdminSetUserPassword(ctx context.Context, poolID, username, pw string, permanent bool) error {
	if callerSub(ctx) != "" {
		return errPoolAdminOnly // security.md R2
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return err
	}
	if err := password.Validate(p.PasswordPolicy, pw, passwordContext(u)...); err != nil {
		return err
	}
	creds, err := s.newCredentials(ctx, p, u, pw)
	if err != nil {
		return wrapStoreErr("hash password", err)
	}
	sub := u.Sub
	return wrapStoreErr("admin set user password", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		u, err := q.GetUser(ctx, p.ID, sub)
		if errors.Is(err, store.ErrNotFound) {
			return errUserNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		creds.apply(u)
		u.PasswordChangedAt = now
		u.FailedAttempts = 0
		u.LockedUntil = time.Time{}
		u.UpdatedAt = now
		if permanent {
			u.Status = identity.StatusConfirmed
			u.TemporaryPasswordExpiresAt = time.Time{}
		} else {
			u.Status = identity.StatusForceChangePassword
			u.TemporaryPasswordExpiresAt = now.Add(tempPasswordValidity(p))
		}
		if err := q.DeleteCodes(ctx, p.ID, u.Sub); err != nil {
			return err
		}
		if err := s.revokeSessions(ctx, q, p, u); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "admin.user_set_password", "user:"+u.Sub, map[string]string{"permanent": fmt.Sprint(permanent)})
	}))
}

// AdminUpdateUserAttributes changes attributes (an empty value deletes an
// optional one). A changed email becomes unverified, and a verification
// code is emailed to it, unless email_verified=true is passed in the same
// call. In an email-as-username pool the username follows the email. A
// changed company attribute moves the user between the companies' groups
// in the same transaction (moveCompany). Pool admins only: a company
// admin's context is refused.
//
// Errors: resource_not_found, user_not_found, invalid_parameter,
// alias_exists (the email belongs to another user in a unique-email pool),
// forbidden.
func (s *Service) AdminUpdateUserAttributes(ctx context.Context, poolID, username string, attrs map[string]string) error {
	if callerSub(ctx) != "" {
		return errAdminOnly
	}
	if len(attrs) == 0 {
		return identity.FieldError("attributes", "At least one attribute is required.")
	}
	return s.adminUserTx(ctx, poolID, username, "admin.user_update_attributes", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		if err := validateAttributes(p, nil, attrs, attrAdminUpdate); err != nil {
			return nil, err
		}
		for name, v := range attrs {
			if v == "" {
				if d := attrDef(p, name); d != nil && d.Required {
					return nil, identity.FieldError(name, "The attribute %s is required and cannot be emptied.", name)
				}
			}
		}
		oldEmail, oldCompany := u.Email, u.Attributes[p.Settings.SignUp.CompanyAttr()]
		applyAttributes(u, attrs)
		_, written := attrs[p.Settings.SignUp.CompanyAttr()]
		if err := s.moveCompany(ctx, q, p, u, oldCompany, written); err != nil { // security.md A3
			return nil, err
		}
		emailChanged := u.Email != oldEmail
		if _, ok := attrs["email"]; ok {
			u.PendingEmail = "" // an admin's address replaces a pending one
		}
		if emailChanged {
			if attrs["email_verified"] != "true" {
				u.EmailVerified, u.EmailVerifiedFalse = false, true
			}
			if p.UsernameMode == identity.UsernameEmail {
				u.Username = u.Email
			}
			if err := checkEmailFree(ctx, q, p, u); err != nil {
				if identity.ErrorCode(err) == identity.CodeUsernameExists {
					return nil, errEmailExists
				}
				return nil, err
			}
		}
		u.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, u, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, errEmailExists
			}
			return nil, err
		}
		if emailChanged && !u.EmailVerified {
			if _, err := s.sendCode(ctx, q, p, u, identity.PurposeVerifyEmail); err != nil {
				return nil, err
			}
		}
		return map[string]string{"attributes": strings.Join(sortedKeys(attrs), ",")}, nil
	})
}

// AdminDeleteUserAttributes removes attributes. Required attributes, and
// email in an email-as-username pool, cannot be deleted; deleting email
// also clears email_verified; deleting the company attribute takes the
// user out of the company's group (moveCompany). Pool admins only.
//
// Errors: resource_not_found, user_not_found, invalid_parameter, forbidden.
func (s *Service) AdminDeleteUserAttributes(ctx context.Context, poolID, username string, names []string) error {
	if callerSub(ctx) != "" {
		return errAdminOnly
	}
	if len(names) == 0 {
		return identity.FieldError("attribute_names", "At least one attribute name is required.")
	}
	if len(names) > MaxCustomAttributes+len(StandardAttributes) {
		return identity.FieldError("attribute_names", "Too many attribute names.")
	}
	return s.adminUserTx(ctx, poolID, username, "admin.user_delete_attributes", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		for _, name := range names {
			d := attrDef(p, name)
			switch {
			case strings.HasPrefix(name, "custom:") && d == nil, !strings.HasPrefix(name, "custom:") && !StandardAttributes[name]:
				return nil, identity.FieldError(name, "Unknown attribute %s.", safeEcho(name))
			case d != nil && d.Required:
				return nil, identity.FieldError(name, "The attribute %s is required and cannot be deleted.", name)
			case d != nil && !d.Mutable:
				return nil, identity.FieldError(name, "The attribute %s is immutable.", name)
			case name == "email" && p.UsernameMode == identity.UsernameEmail:
				return nil, identity.FieldError(name, "The email address is the username in this pool and cannot be deleted.")
			}
		}
		oldCompany := u.Attributes[p.Settings.SignUp.CompanyAttr()]
		for _, name := range names {
			switch name {
			case "email":
				u.Email = ""
				u.EmailVerified, u.EmailVerifiedFalse = false, false
				u.PendingEmail = ""
			case "email_verified": // deleted: no longer listed, as on AWS
				u.EmailVerified, u.EmailVerifiedFalse = false, false
			case "phone_number": // its verification goes with it
				delete(u.Attributes, name)
				delete(u.Attributes, "phone_number_verified")
			default:
				delete(u.Attributes, name)
			}
		}
		if err := s.moveCompany(ctx, q, p, u, oldCompany, contains(names, p.Settings.SignUp.CompanyAttr())); err != nil { // security.md A3
			return nil, err
		}
		u.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, u, uniqueEmail(p)); err != nil {
			return nil, err
		}
		return map[string]string{"attributes": strings.Join(names, ",")}, nil
	})
}

// AdminUserGlobalSignOut ends all the user's sessions: refresh tokens are
// revoked and access/ID tokens issued before now stop being accepted.
//
// Errors: resource_not_found, user_not_found.
func (s *Service) AdminUserGlobalSignOut(ctx context.Context, poolID, username string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_global_sign_out", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		return nil, s.revokeSessions(ctx, q, p, u)
	})
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// takeAlias makes sure no other user signs in with u's verified email in a
// pool where a verified email is an alias: alias_exists, or with force
// (Cognito's ForceAliasCreation) the alias moves to u: the other user
// keeps the address, unverified, in the same transaction.
func (s *Service) takeAlias(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, force bool) error {
	if p.UsernameMode != identity.UsernameWithEmailAlias || u.Email == "" || !u.EmailVerified {
		return nil
	}
	other, err := q.GetUserByEmail(ctx, p.ID, u.Email, true)
	if errors.Is(err, store.ErrNotFound) || (err == nil && other.Sub == u.Sub) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get user by email: %w", err)
	}
	if !force {
		return errAliasExists
	}
	other.EmailVerified, other.EmailVerifiedFalse = false, true
	other.UpdatedAt = s.now()
	if err := q.UpdateUser(ctx, other, uniqueEmailFor(p, other)); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return s.audit(ctx, q, p.ID, "admin.alias_moved", "user:"+other.Sub, map[string]string{"to": "user:" + u.Sub})
}
