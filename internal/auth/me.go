package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
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

// Operations of a signed-in user, authorised by an access token that
// carries the scope aws.cognito.signin.user.admin (authenticateSelf): their
// errors are those of AuthenticateAccessToken plus insufficient_scope
// "Access Token does not have required scopes".

const maxAccessTokenLen = 32 << 10 // 100 groups of 128 characters fit

var (
	errInvalidAccessToken = identity.Errorf(identity.CodeInvalidToken, "Invalid Access Token")
	errRevokedAccessToken = identity.Errorf(identity.CodeNotAuthorized, "Access Token has been revoked")
	// errExpiredAccessToken: a genuine access token past its exp, in
	// Cognito's words.
	errExpiredAccessToken = identity.Errorf(identity.CodeInvalidToken, "Access Token has expired")
)

// peekIssuer reads the iss claim of a compact JWT without verifying it, to
// find the pool whose keys verify it. Anything unexpected is refused before
// any work proportional to the input beyond one pass.
func peekIssuer(raw string) (string, bool) {
	if len(raw) > maxAccessTokenLen || strings.Count(raw, ".") != 2 {
		return "", false
	}
	parts := strings.SplitN(raw, ".", 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Iss == "" {
		return "", false
	}
	return c.Iss, true
}

// AuthenticateAccessToken verifies an access token and returns its pool,
// its user and its claims. The token's iss names the pool (its last path
// segment is the pool id); the signature, alg, exp and iss are then checked
// with that pool's keys and issuer (s.Issuer). It must have token_use
// "access"; its user must exist and be enabled, it must not have been
// issued before the user's TokensValidAfter (see session.go), and its
// sign-in (origin_jti) must not have been ended by RevokeToken, a replayed
// authorization code or a reused refresh token (one primary-key lookup,
// store.OriginRevoked; see refresh.go). No scope is required: callers that
// need one check it (RequireScope; the self-service operations need
// aws.cognito.signin.user.admin, docs/security.md T5).
//
// Use it only where the request names no pool (Cognito's token-authorised
// operations, /api/v1/me); a surface under /<pool>/ uses
// AuthenticateAccessTokenFor.
//
// Errors: invalid_token "Invalid Access Token" (malformed, bad signature,
// foreign issuer, not an access token) or "Access Token has expired" (an
// access token that verifies but for its exp), not_authorized "Access
// Token has been revoked", user_not_found "User does not exist.",
// user_disabled "User is disabled.".
func (s *Service) AuthenticateAccessToken(ctx context.Context, accessToken string) (*identity.Pool, *identity.User, map[string]any, error) {
	return s.authenticateAccess(ctx, "", accessToken)
}

// AuthenticateAccessTokenFor is AuthenticateAccessToken for an endpoint of
// pool poolID (a /<pool>/ path, a pool's own domain, /authz/check/<pool>):
// a token whose issuer is not that pool's is invalid_token "Invalid Access
// Token", however valid in its own pool (docs/security.md T2). The pool is
// compared before anything is read, then the issuer in full with the
// signature.
func (s *Service) AuthenticateAccessTokenFor(ctx context.Context, poolID, accessToken string) (*identity.Pool, *identity.User, map[string]any, error) {
	if poolID == "" {
		return nil, nil, nil, errInvalidAccessToken
	}
	return s.authenticateAccess(ctx, poolID, accessToken)
}

// errInsufficientScope is Cognito's answer to an access token without the
// scope an operation needs.
var errInsufficientScope = identity.Errorf(identity.CodeInsufficientScope, "Access Token does not have required scopes")

// RequireScope checks that verified access token claims carry scope in
// their space-separated scope claim. Error: insufficient_scope "Access
// Token does not have required scopes" (Cognito's NotAuthorizedException).
func RequireScope(claims map[string]any, scope string) error {
	if !hasScope(strClaim(claims, "scope"), scope) {
		return errInsufficientScope
	}
	return nil
}

// authenticateSelf authenticates the access token of a self-service
// operation (GetUser, ChangePassword, the attribute operations,
// DeleteUser, GlobalSignOut): AuthenticateAccessToken plus the scope
// aws.cognito.signin.user.admin, as Cognito requires. A token a relying
// party got with "openid email" reads userInfo, never changes the account.
func (s *Service) authenticateSelf(ctx context.Context, accessToken string) (*identity.Pool, *identity.User, map[string]any, error) {
	p, u, claims, err := s.AuthenticateAccessToken(ctx, accessToken)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := RequireScope(claims, ScopeUserAdmin); err != nil {
		return nil, nil, nil, err
	}
	// The caller is the token's user: audited as "user:<sub>" where the
	// surface named no actor (Cognito's user-token operations).
	identity.SetUser(ctx, u.Sub)
	return p, u, claims, nil
}

// authenticateAccess does the work of both: wantPool "" accepts the pool
// the token names.
func (s *Service) authenticateAccess(ctx context.Context, wantPool, accessToken string) (*identity.Pool, *identity.User, map[string]any, error) {
	p, se, claims, err := s.authenticateSession(ctx, wantPool, accessToken, false)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, se.User, claims, nil
}

// authenticateSession is authenticateAccess that also returns the user's
// groups, read with the user and the revocation check in one query
// (store.GetUserSession).
//
// With mfa the same query also reads the user's TOTP and email-code
// factors (store.GetUserSessionMFA).
func (s *Service) authenticateSession(ctx context.Context, wantPool, accessToken string, mfa bool) (*identity.Pool, *store.UserSession, map[string]any, error) {
	iss, ok := peekIssuer(accessToken)
	if !ok {
		return nil, nil, nil, errInvalidAccessToken
	}
	poolID := iss[strings.LastIndexByte(iss, '/')+1:]
	if poolID == "" || len(poolID) > 64 || (wantPool != "" && poolID != wantPool) {
		return nil, nil, nil, errInvalidAccessToken
	}
	p, err := s.cfg.Store.GetPool(ctx, poolID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, errInvalidAccessToken
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get pool: %w", err)
	}
	claims, err := s.cfg.Tokens.Verify(ctx, p, accessToken, s.Issuer(p))
	if err != nil {
		if identity.ErrorCode(err) == identity.CodeInvalidToken {
			// Expired is said only of a token that verifies otherwise
			// and is an access token; anything else is just invalid.
			if old, verr := s.cfg.Tokens.VerifyExpired(ctx, p, accessToken, s.Issuer(p)); verr == nil && strClaim(old, "token_use") == "access" {
				return nil, nil, nil, errExpiredAccessToken
			}
			return nil, nil, nil, errInvalidAccessToken
		}
		return nil, nil, nil, err
	}
	sub := strClaim(claims, "sub")
	iat, iatOK := numClaim(claims["iat"])
	if strClaim(claims, "token_use") != "access" || sub == "" || !iatOK {
		return nil, nil, nil, errInvalidAccessToken
	}
	read := s.cfg.Store.GetUserSession
	if mfa {
		read = s.cfg.Store.GetUserSessionMFA
	}
	se, err := read(ctx, p.ID, sub, strClaim(claims, "origin_jti"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, errUserNotFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get user: %w", err)
	}
	u := se.User
	if revokedBefore(u, iat, strClaim(claims, "jti")) || se.OriginRevoked {
		return nil, nil, nil, errRevokedAccessToken
	}
	if !u.Enabled {
		return nil, nil, nil, identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	}
	return p, se, claims, nil
}

// GetUser returns the token's user with its groups. Errors: those of
// AuthenticateAccessToken.
func (s *Service) GetUser(ctx context.Context, accessToken string) (*UserView, error) {
	_, se, claims, err := s.authenticateSession(ctx, "", accessToken, false)
	if err != nil {
		return nil, err
	}
	if err := RequireScope(claims, ScopeUserAdmin); err != nil {
		return nil, err
	}
	return &UserView{User: se.User, Groups: se.Groups}, nil
}

// GetUserWithMFA is GetUser that also returns the token's pool and the
// user's MFA settings (GetUserMFA's Settings and Preferred; its Factors
// hold the TOTP and email-code factors only, RecoveryCodesLeft is not
// counted), as Cognito's GetUser answers: one token verification and one
// read (store.GetUserSessionMFA) where GetUser, GetPool and GetUserMFA
// verify twice and read four times. Errors: those of GetUser.
func (s *Service) GetUserWithMFA(ctx context.Context, accessToken string) (*UserView, *identity.Pool, *UserMFA, error) {
	p, se, claims, err := s.authenticateSession(ctx, "", accessToken, true)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := RequireScope(claims, ScopeUserAdmin); err != nil {
		return nil, nil, nil, err
	}
	v, m := sessionViews(se)
	return v, p, m, nil
}

// sessionViews is the user with its groups and the MFA settings of a
// store.UserSession read with its factors (GetUserSessionMFA).
func sessionViews(se *store.UserSession) (*UserView, *UserMFA) {
	m := &UserMFA{}
	for _, f := range se.Factors {
		m.add(f)
	}
	return &UserView{User: se.User, Groups: se.Groups}, m
}

// tokenClient returns the app client named by the token's client_id, for
// its write permissions. A deleted client is not_authorized.
func (s *Service) tokenClient(ctx context.Context, p *identity.Pool, claims map[string]any) (*identity.AppClient, error) {
	id := strClaim(claims, "client_id")
	cl, err := s.cfg.Store.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cl.PoolID != p.ID) {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The app client of this token no longer exists.")
	}
	if err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	return cl, nil
}

// ChangePassword replaces the token's user's password. The previous
// password must verify, under the same throttle as sign-in (throttle.go);
// the proposed one must meet the pool's policy. Sessions are kept (as
// Cognito): the user is told by a TemplatePasswordChanged email, and can
// end other sessions with GlobalSignOut.
//
// Errors: those of AuthenticateAccessToken, not_authorized "Incorrect
// username or password.", password_attempts_exceeded, too_many_requests
// (throttle.go), invalid_password, invalid_parameter.
func (s *Service) ChangePassword(ctx context.Context, accessToken, previous, proposed string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.changePassword(ctx, p, u, previous, proposed, nil)
}

// ChangeUserPasswordInput is ChangeUserPassword's request.
type ChangeUserPasswordInput struct {
	PoolID, Sub        string
	Previous, Proposed string
	// Keep is the caller's own sign-in; every other session ends.
	Keep SessionRef
}

// ChangeUserPassword is ChangePassword for the hosted account page, whose
// session proved the user: the same checks, throttle, audit and email,
// and in the same transaction every other sign-in of the user ends (its
// refresh tokens revoked, its access and ID tokens refused; endSessions),
// all but in.Keep. Errors: those of ChangePassword, user_not_found.
func (s *Service) ChangeUserPassword(ctx context.Context, in ChangeUserPasswordInput) error {
	p, u, err := s.userBySub(ctx, in.PoolID, in.Sub)
	if err != nil {
		return err
	}
	return s.changePassword(ctx, p, u, in.Previous, in.Proposed, &in.Keep)
}

// userBySub reads the pool and the user sub. Errors: resource_not_found,
// user_not_found.
func (s *Service) userBySub(ctx context.Context, poolID, sub string) (*identity.Pool, *identity.User, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.cfg.Store.GetUser(ctx, poolID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errUserNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get user: %w", err)
	}
	return p, u, nil
}

// changePassword is ChangePassword's flow for u; with keep, the other
// sign-ins of u end in the same transaction.
func (s *Service) changePassword(ctx context.Context, p *identity.Pool, u *identity.User, previous, proposed string, keep *SessionRef) error {
	if previous == "" {
		return identity.FieldError("previous_password", "The previous password is required.")
	}
	if proposed == "" {
		return identity.FieldError("proposed_password", "The proposed password is required.")
	}
	// The policy first: it is cheap, and a refused proposal then neither
	// costs a hash nor counts as an attempt.
	if err := password.Validate(p.PasswordPolicy, proposed, u.Username, emailLocal(u.Email)); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, p, u, previous); err != nil {
		if _, ok := isThrottleRefusal(err); ok {
			s.auditFailure(ctx, p, "user:"+u.Sub, "change_password_wrong_previous", "")
		}
		return err
	}
	creds, err := s.newCredentials(ctx, p, u, proposed)
	if err != nil {
		return err
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if cur.PasswordHash != u.PasswordHash {
			return errBadCredentials // changed meanwhile
		}
		now := s.now()
		creds.apply(cur)
		cur.PasswordChangedAt = now
		cur.FailedAttempts = 0
		cur.LockedUntil = time.Time{}
		cur.UpdatedAt = now
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if err := s.audit(ctx, q, p.ID, "user.change_password", "user:"+cur.Sub, nil); err != nil {
			return err
		}
		if keep != nil {
			family, err := s.keepFamily(ctx, q, p, cur, *keep)
			if err != nil {
				return err
			}
			if _, err := s.endSessions(ctx, q, p, cur, "user.sessions_revoked", func(si *store.SignIn) bool { return si.FamilyID != family }); err != nil {
				return err
			}
		}
		return s.passwordChangedEmail(ctx, q, p, cur)
	})
}

// UpdateUserAttributes changes the token's user's attributes (mutable ones,
// those the token's client may write; not *_verified, never the pool's
// company attribute: security.md A1). A changed email gets a code
// (TemplateVerifyEmail) to confirm with VerifyUserAttribute; the answer
// says where. With the pool's default (UserAttributeUpdateSettings), a
// verified email stays in force until then: the new address is pending
// (User.PendingEmail, in the answer's PendingEmail) and only the code
// makes it the email (security.md A5). With EmailWithoutVerification, or
// when the current email is not verified, the new address replaces it at
// once, unverified. In an email pool the username stays the address the
// user signed up with (as Cognito), and the new address must still be
// unique in the pool.
//
// Errors: those of AuthenticateAccessToken, invalid_parameter,
// not_authorized (attribute the client may not write), alias_exists (email
// of another user where emails are unique).
func (s *Service) UpdateUserAttributes(ctx context.Context, accessToken string, attrs map[string]string) (*AttributeUpdate, error) {
	p, u, claims, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	cl, err := s.tokenClient(ctx, p, claims)
	if err != nil {
		return nil, err
	}
	return s.updateAttributes(ctx, p, u, cl, attrs, false)
}

// ChangeUserEmailInput is ChangeUserEmail's request.
type ChangeUserEmailInput struct {
	PoolID, Sub, ClientID string
	Email                 string
	// AuthTime is when the caller's session signed in: at most
	// PasskeyFreshness ago.
	AuthTime time.Time
}

// ChangeUserEmail is the hosted account page's "Change email": the flow of
// UpdateUserAttributes for the email alone, through the page's client,
// for a sign-in at most PasskeyFreshness old. A verified address stays in
// force and the new one pending until the code sent to it is entered
// (VerifyUserEmail; security.md A5), and the address in force is told of
// the request (TemplateEmailChangeRequested). Errors: those of
// UpdateUserAttributes; not_authorized "Sign in again to change this."
// for an older sign-in.
func (s *Service) ChangeUserEmail(ctx context.Context, in ChangeUserEmailInput) (*AttributeUpdate, error) {
	if err := s.requireFresh(in.AuthTime); err != nil {
		return nil, err
	}
	p, u, err := s.userBySub(ctx, in.PoolID, in.Sub)
	if err != nil {
		return nil, err
	}
	cl, err := s.getPoolClient(ctx, s.cfg.Store, p.ID, in.ClientID)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(in.Email)
	if email == "" {
		return nil, identity.FieldError("email", "Enter the new email address.")
	}
	return s.updateAttributes(ctx, p, u, cl, map[string]string{"email": email}, true)
}

// errStale answers a change that needs a recent sign-in.
var errStale = identity.Errorf(identity.CodeNotAuthorized, "Sign in again to change this.")

// requireFresh refuses a sign-in older than PasskeyFreshness.
func (s *Service) requireFresh(authTime time.Time) error {
	if authTime.IsZero() || s.now().Sub(authTime) > PasskeyFreshness {
		return errStale
	}
	return nil
}

// VerifyUserEmail is VerifyUserAttribute("email") for the hosted account
// page's user sub: the code makes a pending address the email, verified.
// Errors: those of VerifyUserAttribute, user_not_found.
func (s *Service) VerifyUserEmail(ctx context.Context, poolID, sub, code string) error {
	p, u, err := s.userBySub(ctx, poolID, sub)
	if err != nil {
		return err
	}
	return s.verifyEmail(ctx, p, u, "email", code)
}

// updateAttributes is UpdateUserAttributes' flow for u through client cl;
// tellOld emails the address in force when a new one becomes pending.
func (s *Service) updateAttributes(ctx context.Context, p *identity.Pool, u *identity.User, cl *identity.AppClient, attrs map[string]string, tellOld bool) (*AttributeUpdate, error) {
	if err := validateAttributes(p, cl, attrs, attrUserUpdate); err != nil {
		return nil, err
	}
	for name, v := range attrs {
		if v == "" && p.UsernameMode == identity.UsernameEmail && name == "email" {
			return nil, identity.FieldError("email", "The email cannot be removed in this user pool.")
		}
		if v == "" {
			if d := attrDef(p, name); d != nil && d.Required {
				return nil, identity.FieldError(name, "The attribute %s is required.", name)
			}
		}
	}
	out := &AttributeUpdate{}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		prevEmail, prevVerified := cur.Email, cur.EmailVerified
		applyAttributes(cur, attrs)
		var codeTo *identity.User // the user as the code sees it
		switch {
		case cur.Email == prevEmail:
			if _, ok := attrs["email"]; ok {
				cur.PendingEmail = "" // asking for the address in force cancels a pending one
			}
		case prevVerified && prevEmail != "" && cur.Email != "" && !p.Settings.UserAttributeUpdate.EmailWithoutVerification:
			pending := cur.Email
			cur.Email = prevEmail
			if err := checkPendingEmailFree(ctx, q, p, cur, pending); err != nil {
				return err
			}
			cur.PendingEmail = pending
			to := *cur
			to.Email = pending
			codeTo, out.PendingEmail = &to, pending
		default:
			// The new address is unverified, and says so (Cognito lists
			// email_verified "false" after a change).
			cur.EmailVerified, cur.EmailVerifiedFalse = false, true
			cur.PendingEmail = ""
			if cur.Email != "" {
				codeTo = cur
			}
		}
		cur.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errAliasExists
			}
			return fmt.Errorf("update user: %w", err)
		}
		if codeTo != nil {
			cd, err := s.sendCode(ctx, q, p, codeTo, identity.PurposeVerifyEmail)
			if err != nil {
				return err
			}
			out.CodeDeliveries = append(out.CodeDeliveries, *cd)
		}
		names := make([]string, 0, len(attrs))
		for k := range attrs {
			names = append(names, k)
		}
		detail := map[string]string{"attributes": strings.Join(sortedCopy(names), ",")}
		if out.PendingEmail != "" {
			detail["pending_email"] = out.PendingEmail
			if tellOld {
				if _, err := s.cfg.Mail.Enqueue(ctx, q, p, cur.Email, TemplateEmailChangeRequested, map[string]any{
					"Username": cur.Username, "PoolName": p.Name, "NewEmail": maskEmail(out.PendingEmail)}); err != nil {
					return fmt.Errorf("enqueue %s email: %w", TemplateEmailChangeRequested, err)
				}
			}
		}
		return s.audit(ctx, q, p.ID, "user.update_attributes", "user:"+cur.Sub, detail)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkPendingEmailFree refuses a pending address that another user
// already has where emails are unique (or signs in with, verified, in a
// username pool), so a user learns at once rather than at confirmation.
// VerifyUserAttribute checks again: two users may ask for one address.
func checkPendingEmailFree(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, pending string) error {
	if !uniqueEmail(p) && p.UsernameMode != identity.UsernameWithEmailAlias {
		return nil
	}
	o, err := q.GetUserByEmail(ctx, p.ID, pending, !uniqueEmail(p))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("get user by email: %w", err)
	case o.Sub != u.Sub:
		return errAliasExists
	}
	return nil
}

// DeleteUserAttributes removes optional attributes of the token's user.
// The email can be removed only in a username pool (it is the username in
// an email pool); required, immutable and *_verified attributes cannot.
func (s *Service) DeleteUserAttributes(ctx context.Context, accessToken string, names []string) error {
	p, u, claims, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	cl, err := s.tokenClient(ctx, p, claims)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return identity.FieldError("attribute_names", "At least one attribute name is required.")
	}
	if len(names) > MaxCustomAttributes+len(StandardAttributes) {
		return identity.FieldError("attribute_names", "Too many attributes.")
	}
	attrs := make(map[string]string, len(names))
	for _, name := range names {
		switch {
		case name == "email":
			if p.UsernameMode == identity.UsernameEmail {
				return identity.FieldError("email", "The email cannot be removed in this user pool.")
			}
		case name == "email_verified" || name == "phone_number_verified":
			return identity.FieldError(name, "The attribute %s can only be set by an administrator.", name)
		case strings.HasPrefix(name, "custom:"):
			d := attrDef(p, name)
			if d == nil {
				return identity.FieldError(name, "The attribute %s is not in the pool's schema.", safeEcho(name))
			}
			if !d.Mutable {
				return identity.FieldError(name, "The attribute %s is immutable.", name)
			}
			if d.Required {
				return identity.FieldError(name, "The attribute %s is required.", name)
			}
		case !StandardAttributes[name]:
			return identity.FieldError(name, "Unknown attribute %s.", safeEcho(name))
		}
		if name == p.Settings.SignUp.CompanyAttr() || (len(cl.WriteAttributes) > 0 && !contains(cl.WriteAttributes, name)) {
			return errUnauthorizedAttribute(name) // the company attribute: security.md A1
		}
		attrs[name] = ""
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		for name := range attrs {
			if name == "email" {
				cur.Email = ""
				cur.EmailVerified, cur.EmailVerifiedFalse = false, false
				cur.PendingEmail = ""
				continue
			}
			delete(cur.Attributes, name)
			if name == "phone_number" { // its verification goes with it
				delete(cur.Attributes, "phone_number_verified")
			}
		}
		cur.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.delete_attributes", "user:"+cur.Sub, map[string]string{"attributes": strings.Join(sortedCopy(names), ",")})
	})
}

// GetUserAttributeVerificationCode emails a code to verify the user's email
// (attr must be "email"; phone numbers are not supported): the pending
// address when there is one, else the email. Errors: those of
// AuthenticateAccessToken, invalid_parameter (other attribute, no email),
// limit_exceeded (too many codes asked for the user or from the address
// meta.IP; codes.go).
func (s *Service) GetUserAttributeVerificationCode(ctx context.Context, accessToken, attr string, meta RequestMeta) (*CodeDelivery, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	if err := s.checkIssueIP(p, meta); err != nil {
		return nil, err
	}
	if err := verifiableAttr(attr); err != nil {
		return nil, err
	}
	if u.Email == "" && u.PendingEmail == "" {
		return nil, identity.FieldError("attribute", "The user has no email address.")
	}
	var cd *CodeDelivery
	if ctx, err = s.prepareMessage(ctx, p, emailToVerify(u), "", hooks.SourceCustomMessageVerifyUserAttribute); err != nil { // hooks: before the tx
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if err := s.countCodeIssue(ctx, q, p, identity.PurposeVerifyEmail, userSubject(cur)); err != nil {
			return err
		}
		if cd, err = s.sendCode(ctx, q, p, emailToVerify(cur), identity.PurposeVerifyEmail); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.verification_code", "user:"+cur.Sub, map[string]string{"attribute": attr})
	})
	if err != nil {
		return nil, err
	}
	return cd, nil
}

// emailToVerify is u as a verification code sees it: with the pending
// address as its email when one is pending (the code is sent to it and
// bound to it), else u itself.
func emailToVerify(u *identity.User) *identity.User {
	if u.PendingEmail == "" {
		return u
	}
	c := *u
	c.Email = u.PendingEmail
	return &c
}

func verifiableAttr(attr string) error {
	switch attr {
	case "email":
		return nil
	case "":
		return identity.FieldError("attribute", "An attribute name is required.")
	case "phone_number":
		return identity.Errorf(identity.CodeInvalidParameter, "Phone number verification is not supported.")
	}
	return identity.FieldError("attribute", "Only the email attribute can be verified.")
}

// VerifyUserAttribute confirms the email with the code sent by
// GetUserAttributeVerificationCode or UpdateUserAttributes (bound to the
// address it was sent to): a pending address becomes the email, verified;
// otherwise the email is marked verified. Errors: those of
// AuthenticateAccessToken, code_mismatch, expired_code,
// too_many_failed_attempts, alias_exists (another user has the address
// where emails are unique, or verified in a username pool),
// invalid_parameter.
func (s *Service) VerifyUserAttribute(ctx context.Context, accessToken, attr, code string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.verifyEmail(ctx, p, u, attr, code)
}

// verifyEmail is VerifyUserAttribute's flow for u.
func (s *Service) verifyEmail(ctx context.Context, p *identity.Pool, u *identity.User, attr, code string) error {
	if err := verifiableAttr(attr); err != nil {
		return err
	}
	if err := checkCodeInput(code); err != nil {
		return err
	}
	target := emailToVerify(u)
	return s.useCodeTx(ctx, p, target, identity.PurposeVerifyEmail, code, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if emailToVerify(cur).Email != target.Email {
			return errCodeMismatch // the address changed since: the code was for another one
		}
		if cur.PendingEmail != "" {
			cur.Email, cur.PendingEmail = cur.PendingEmail, ""
		}
		if err := checkAliasFree(ctx, q, p, cur); err != nil {
			return err
		}
		cur.EmailVerified = true
		cur.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errAliasExists
			}
			return fmt.Errorf("update user: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.verify_email", "user:"+cur.Sub, nil)
	})
}

// DeleteUser deletes the token's user, with its refresh tokens, codes and
// memberships. Errors: those of AuthenticateAccessToken.
func (s *Service) DeleteUser(ctx context.Context, accessToken string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.RevokeUserRefreshTokens(ctx, p.ID, u.Sub, s.now()); err != nil {
			return fmt.Errorf("revoke refresh tokens: %w", err)
		}
		if err := s.enqueueBackchannelLogout(ctx, q, p, u.Sub); err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, p.ID, u.Sub); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errUserNotFound
			}
			return fmt.Errorf("delete user: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.delete", "user:"+u.Sub, map[string]string{"username": u.Username, "by": "self"})
	})
}

// GlobalSignOut ends every session of the token's user (revokeSessions):
// refresh tokens are revoked and access tokens issued until now are
// refused, this one included. Errors: those of AuthenticateAccessToken.
func (s *Service) GlobalSignOut(ctx context.Context, accessToken string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return err
		}
		if err := s.revokeSessions(ctx, q, p, cur); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.global_sign_out", "user:"+cur.Sub, nil)
	})
}

func sortedCopy(v []string) []string {
	c := append([]string(nil), v...)
	sort.Strings(c)
	return c
}
