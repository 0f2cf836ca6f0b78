package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// errUsernameExists is SignUp's answer for a taken username, also with
// PreventUserExistenceErrors (Cognito answers UsernameExistsException to
// SignUp whatever that setting says).
var errUsernameExists = identity.Errorf(identity.CodeUsernameExists, "User already exists")

// errAliasExists is the answer when an email that must be unique in the
// pool belongs to another user.
var errAliasExists = identity.Errorf(identity.CodeAliasExists, "An account with the given email already exists.")

// emailLocal returns the part of an address before the last '@'.
func emailLocal(e string) string {
	if at := strings.LastIndexByte(e, '@'); at > 0 {
		return e[:at]
	}
	return e
}

// SignUp registers a user with a password: the user is UNCONFIRMED and
// enabled, and a 6-digit code is emailed (TemplateSignUpCode) to confirm
// the address with ConfirmSignUp.
//
// The pool must allow self sign-up. In an email pool the username is the
// email address (an "email" attribute, if given, must be the same); in a
// username pool the "email" attribute is required, as codes go by email.
// Errors: resource_not_found (client), not_authorized (client secret, or
// "SignUp is not permitted for this user pool."), invalid_parameter
// (username, attributes), invalid_password (policy), username_exists
// ("User already exists": a taken username, and in an email pool a taken
// email, since it is the username), alias_exists (a username pool with
// unique emails whose email another user has).
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*SignUpOutput, error) {
	cl, p, err := s.resolveClient(ctx, in.Client, in.Username)
	if err != nil {
		return nil, err
	}
	if p.AdminCreateUserOnly {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "SignUp is not permitted for this user pool.")
	}
	username, err := validateUsername(p, in.Username)
	if err != nil {
		return nil, err
	}
	if err := validateAttributes(p, cl, in.Attributes, attrSignUp); err != nil {
		return nil, err
	}
	attrs := make(map[string]string, len(in.Attributes)+1)
	for k, v := range in.Attributes {
		attrs[k] = v
	}
	if p.UsernameMode == identity.UsernameEmail {
		if e, ok := attrs["email"]; ok && strings.ToLower(strings.TrimSpace(e)) != username {
			return nil, identity.FieldError("email", "The email attribute must be the username in this user pool.")
		}
		attrs["email"] = username
	} else if p.UsernameMode == identity.UsernameWithEmailAlias && strings.TrimSpace(attrs["email"]) == "" {
		return nil, identity.FieldError("email", "The attribute email is required.")
	}
	if in.Password == "" {
		return nil, identity.FieldError("password", "A password is required.")
	}
	email := strings.ToLower(strings.TrimSpace(attrs["email"]))
	if err := s.checkSignUpPolicy(ctx, p, email, attrs); err != nil {
		return nil, err
	}
	if err := password.Validate(p.PasswordPolicy, in.Password, username, emailLocal(email)); err != nil {
		return nil, err
	}
	sub, err := s.newSub()
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &identity.User{
		PoolID:            p.ID,
		Sub:               sub,
		Username:          username,
		Status:            identity.StatusUnconfirmed,
		Enabled:           true,
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	// Hash before the transaction: it is slow, and a duplicate username
	// then costs the same time as a new one.
	creds, err := s.newCredentials(ctx, p, u, in.Password)
	if err != nil {
		return nil, err
	}
	creds.apply(u)
	applyAttributes(u, attrs)
	ctx, autoConfirm, err := s.signUpHooks(ctx, p, cl.ID, u, in.ClientMetadata, in.ValidationData) // pre_sign_up, custom_message: before anything is written
	if err != nil {
		return nil, err
	}
	requested := takeCompany(p, u)

	var cd *CodeDelivery
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := checkUsernameNotSub(ctx, q, p, u.Username); err != nil {
			return err
		}
		if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
			return err
		}
		var err error
		// A user without an email (a plain-username pool whose schema does
		// not require one) gets no code: an admin confirms the account, as
		// in a Cognito pool with no verification channel for the user; nor
		// does anyone in a pool without auto-verification (NoAutoVerify).
		if !autoConfirm && u.Email != "" && !p.Settings.NoAutoVerify {
			if cd, err = s.sendCode(ctx, q, p, u, identity.PurposeSignUp); err != nil {
				return err
			}
		}
		if err := s.startRegistration(ctx, q, p, u, requested, in.Meta); err != nil {
			return err
		}
		if autoConfirm { // the pre_sign_up hook vouched for the user
			if err := s.afterEmailVerified(ctx, q, p, u, in.Meta); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, p.ID, "user.sign_up", "user:"+u.Sub, map[string]string{"client_id": cl.ID, "username": u.Username})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, s.signUpConflict(ctx, p, username)
	}
	if err != nil {
		return nil, err
	}
	return &SignUpOutput{UserSub: u.Sub, UserConfirmed: u.Status == identity.StatusConfirmed, CodeDelivery: cd}, nil
}

// takeCompany removes the pool's company attribute from a user signing up
// and returns it: the company a sign-up names is a request, which goes to
// the registration (startRegistration) for the approvers; only an
// activation (activate.go) or an admin puts a company on the user
// (security.md A2). Hooks that run before (pre_sign_up) still see it.
func takeCompany(p *identity.Pool, u *identity.User) string {
	attr := p.Settings.SignUp.CompanyAttr()
	requested := strings.TrimSpace(u.Attributes[attr])
	delete(u.Attributes, attr)
	return requested
}

// signUpConflict says which unique value a failed insert clashed with. It
// runs after the transaction rolled back (a PostgreSQL transaction is
// unusable after a constraint violation).
func (s *Service) signUpConflict(ctx context.Context, p *identity.Pool, username string) error {
	if p.UsernameMode == identity.UsernameEmail {
		return errUsernameExists
	}
	_, err := s.cfg.Store.GetUserByUsername(ctx, p.ID, username)
	switch {
	case err == nil:
		return errUsernameExists
	case errors.Is(err, store.ErrNotFound):
		return errAliasExists
	default:
		return fmt.Errorf("get user: %w", err)
	}
}

// ResendConfirmationCode emails a new sign-up code to an UNCONFIRMED user,
// replacing the previous code. Errors: user_not_found, invalid_parameter
// "User is already confirmed." for any other status, limit_exceeded (too
// many codes asked for the user or from the address; codes.go),
// resource_not_found / not_authorized for the client. With
// PreventUserExistenceErrors an unknown user and a user who is not
// UNCONFIRMED get a plausible masked CodeDelivery instead and no email is
// sent, throttled like a real request: the three answer alike.
func (s *Service) ResendConfirmationCode(ctx context.Context, c Client, username string, meta RequestMeta) (*CodeDelivery, error) {
	_, p, err := s.resolveClient(ctx, c, username)
	if err != nil {
		return nil, err
	}
	if err := s.checkIssueIP(p, meta); err != nil {
		return nil, err
	}
	if p.Settings.NoAutoVerify { // the pool's setting, the same answer for every username
		return nil, identity.FieldError("username", "Cannot resend codes. Auto verification not turned on.")
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if errors.Is(err, errUserNotFound) {
		if p.PreventUserExistenceErrors {
			return s.fakeDelivery(ctx, p, nil, username, identity.PurposeSignUp, "user.resend_code_unknown")
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if u.Status != identity.StatusUnconfirmed {
		if p.PreventUserExistenceErrors {
			return s.fakeDelivery(ctx, p, u, username, identity.PurposeSignUp, "user.resend_code_refused")
		}
		return nil, errAlreadyConfirmed
	}
	if ctx, err = s.prepareMessage(ctx, p, u, "", hooks.SourceCustomMessageResendCode); err != nil { // hooks: before the tx
		return nil, err
	}
	var cd *CodeDelivery
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if cur.Status != identity.StatusUnconfirmed {
			return errAlreadyConfirmed
		}
		if err := s.countCodeIssue(ctx, q, p, identity.PurposeSignUp, userSubject(cur)); err != nil {
			return err
		}
		if cd, err = s.sendCode(ctx, q, p, cur, identity.PurposeSignUp); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.resend_code", "user:"+cur.Sub, nil)
	})
	if err != nil {
		return nil, err
	}
	return cd, nil
}

var errAlreadyConfirmed = identity.Errorf(identity.CodeInvalidParameter, "User is already confirmed.")

// fakeDelivery is the answer, with PreventUserExistenceErrors, for a code
// request that sends nothing: a name that matches no user (u nil), or a
// user the flow refuses (already confirmed, disabled, no verified email).
// The masked destination looks like a real one and is stable (the user's
// own address when it has one, else derived from the name, so asking
// twice does not tell); the request is counted on the same code-issue
// throttle as a real one (by user, or by name) and audited, in one
// transaction, so it costs about what a real request costs and is
// refused with limit_exceeded after as many requests. No email is sent.
func (s *Service) fakeDelivery(ctx context.Context, p *identity.Pool, u *identity.User, username string, purpose identity.CodePurpose, action string) (*CodeDelivery, error) {
	name := normalizeUsername(username)
	addr, subject, auditSubject := name, nameSubject(p, username), "username:"+safeEcho(name)
	if u != nil {
		addr, subject, auditSubject = u.Email, userSubject(u), "user:"+u.Sub
	}
	if !strings.Contains(addr, "@") || strings.HasPrefix(addr, "@") {
		// A username pool: invent an address from a keyed hash of the
		// name, in the shape maskEmail gives (first letter of each part).
		h := sha256Hex(p.ID, "fake-destination", name)
		addr = string(lowerAlnum[int(h[0])%26]) + "@" + string(lowerAlnum[int(h[1])%26]) + ".com"
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := s.countCodeIssue(ctx, q, p, purpose, subject); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, action, auditSubject, nil)
	})
	if err != nil {
		return nil, err
	}
	return delivery(addr), nil
}
