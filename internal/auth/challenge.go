package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Challenge sessions
//
// There is no sessions table: a challenge's Session is a short-lived JWT
// signed with the pool's key (s.cfg.Tokens.Sign), token_use "challenge",
// bound to the client (aud), the user (sub) and the challenge name, valid
// for challengeTTL. It also carries a fingerprint of the user's password
// state (a hash of the password hash and PasswordChangedAt) at the time the
// challenge was issued; answering the challenge changes that state, so a
// session can be used once. A token_use of "challenge" is refused by every
// verifier of ID and access tokens.

const (
	challengeTTL      = 3 * time.Minute
	challengeTokenUse = "challenge"
	maxSessionLen     = 4096
)

var errInvalidSession = identity.Errorf(identity.CodeNotAuthorized, "Invalid session for the user, session is expired.")

// passwordState fingerprints u's current password, for single use.
func passwordState(u *identity.User) string {
	return sha256Hex(u.PasswordHash, strconv.FormatInt(u.PasswordChangedAt.UnixMilli(), 10), string(u.Status))[:32]
}

// challengeSession signs the Session of a challenge of u.
func (s *Service) challengeSession(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, name string) (string, error) {
	return s.challengeSessionWith(ctx, p, cl, u, name, nil)
}

// challengeSessionWith is challengeSession with extra claims (the second
// factor's: amr, mfa_verified), which cannot override the ones set here.
func (s *Service) challengeSessionWith(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, name string, extra map[string]any) (string, error) {
	now := s.now()
	jti, err := s.newJTI(now)
	if err != nil {
		return "", err
	}
	claims := map[string]any{}
	for k, v := range extra {
		claims[k] = v
	}
	for k, v := range map[string]any{
		"iss":            s.Issuer(p),
		"aud":            cl.ID,
		"sub":            u.Sub,
		"token_use":      challengeTokenUse,
		"challenge_name": name,
		"pwd_state":      passwordState(u),
		"iat":            now.Unix(),
		"exp":            now.Add(challengeTTL).Unix(),
		"jti":            jti,
	} {
		claims[k] = v
	}
	return s.cfg.Tokens.Sign(ctx, p, claims)
}

// newPasswordChallenge answers a FORCE_CHANGE_PASSWORD user's sign-in with
// Cognito's NEW_PASSWORD_REQUIRED challenge. Its parameters are
// USER_ID_FOR_SRP, userAttributes (JSON of the user's attributes) and
// requiredAttributes (JSON list of "userAttributes.<name>" still missing).
func (s *Service) newPasswordChallenge(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User) (*AuthResult, error) {
	session, err := s.challengeSession(ctx, p, cl, u, ChallengeNewPasswordRequired)
	if err != nil {
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.ResetFailedAttempts(ctx, p.ID, u.Sub); err != nil {
			return fmt.Errorf("reset attempts: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.sign_in_challenge", "user:"+u.Sub,
			map[string]string{"client_id": cl.ID, "challenge": ChallengeNewPasswordRequired})
	})
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		if readable(cl, k) {
			attrs[k] = v
		}
	}
	// As Cognito sends it: no sub, email_verified only once set (an
	// address nobody verified or unverified has no such attribute on
	// Cognito), and each required attribute still missing with a blank
	// value.
	delete(attrs, "sub")
	if u.Email != "" {
		attrs["email"] = u.Email
		if u.EmailVerified || u.EmailVerifiedFalse {
			attrs["email_verified"] = strconv.FormatBool(u.EmailVerified)
		}
	}
	var required []string
	for _, d := range p.Schema {
		if d.Required && u.Attributes[d.Name] == "" && (d.Name != "email" || u.Email == "") {
			required = append(required, "userAttributes."+d.Name)
			attrs[d.Name] = ""
		}
	}
	attrJSON, _ := json.Marshal(attrs)
	sort.Strings(required)
	if required == nil {
		required = []string{}
	}
	reqJSON, _ := json.Marshal(required)
	return &AuthResult{Challenge: &Challenge{
		Name:    ChallengeNewPasswordRequired,
		Session: session,
		Parameters: map[string]string{
			"USER_ID_FOR_SRP":    cognitoUsername(p, u),
			"userAttributes":     string(attrJSON),
			"requiredAttributes": string(reqJSON),
		},
	}}, nil
}

// RespondToAuthChallenge answers a challenge. NEW_PASSWORD_REQUIRED takes
// the responses USERNAME (must name the challenged user if given),
// NEW_PASSWORD (checked against the pool's policy) and userAttributes.<name>
// (the required attributes still missing, and any other the client may
// write). The user then goes from FORCE_CHANGE_PASSWORD to CONFIRMED and
// gets tokens.
//
// Errors: not_authorized "Invalid session for the user, session is
// expired." (bad, expired, foreign or already used session), invalid_parameter
// (missing responses, attributes), invalid_password, user_disabled,
// alias_exists, and the client's errors.
//
// PASSWORD_VERIFIER (SRP's second round, srp.go) takes
// PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE, TIMESTAMP and
// USERNAME and needs no Session; it answers like a password sign-in
// (tokens, NEW_PASSWORD_REQUIRED, or the same errors).
func (s *Service) RespondToAuthChallenge(ctx context.Context, in RespondInput) (*AuthResult, error) {
	ctx = withSignInMeta(ctx, in.Meta) // for the sign_ins row (signins.go)
	cl, p, err := s.resolveClient(ctx, in.Client, in.Responses["USERNAME"])
	if err != nil {
		return nil, err
	}
	ctx = withDevice(ctx, deviceCtx{track: !in.Client.Hosted, param: in.Responses["DEVICE_KEY"], ip: in.Meta.IP}) // devices.go
	switch in.ChallengeName {
	case ChallengeNewPasswordRequired:
	case ChallengePasswordVerifier:
		return s.passwordVerifier(ctx, p, cl, in)
	case ChallengeDeviceSRP, ChallengeDevicePasswordVerifier:
		return s.respondDevice(ctx, p, cl, in) // devices.go
	case ChallengeSelect, ChallengeWebAuthn:
		return s.respondUserAuth(ctx, p, cl, in) // userauth.go
	case ChallengeEmailOTP:
		claims, err := s.verifyChallengeToken(ctx, p, cl, in)
		if err != nil {
			return nil, err
		}
		if v, _ := claims["first_factor"].(bool); v { // USER_AUTH's passwordless code (useremail.go)
			return s.respondEmailFirstFactor(ctx, p, cl, in, claims)
		}
		return s.respondMFA(ctx, p, cl, in) // mfa.go
	case ChallengeSoftwareTokenMFA, ChallengeSelectMFAType, ChallengeMFASetup:
		return s.respondMFA(ctx, p, cl, in) // mfa.go
	case "":
		return nil, identity.FieldError("challenge_name", "A challenge name is required.")
	default:
		return nil, identity.FieldError("challenge_name", "Unsupported challenge %s.", safeEcho(in.ChallengeName))
	}
	_, u, err := s.verifyChallengeSession(ctx, p, cl, in)
	if err != nil {
		return nil, err
	}
	if u.Status != identity.StatusForceChangePassword {
		return nil, errInvalidSession
	}
	return s.newPassword(ctx, p, cl, u, in)
}

// verifyChallengeToken checks in.Session only as a token: signed by the
// pool, a challenge session of client cl for challenge in.ChallengeName, not
// expired, with a sub. It does not load the user: USER_AUTH's
// SELECT_CHALLENGE sessions of unknown users carry a random sub
// (userauth.go).
func (s *Service) verifyChallengeToken(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (map[string]any, error) {
	if in.Session == "" {
		return nil, identity.FieldError("session", "A session is required.")
	}
	if len(in.Session) > maxSessionLen {
		return nil, errInvalidSession
	}
	claims, err := s.cfg.Tokens.Verify(ctx, p, in.Session, s.Issuer(p))
	if err != nil {
		if identity.ErrorCode(err) == identity.CodeInvalidToken {
			return nil, errInvalidSession
		}
		return nil, err
	}
	if strClaim(claims, "token_use") != challengeTokenUse || !audienceIs(claims, cl.ID) ||
		strClaim(claims, "challenge_name") != in.ChallengeName || strClaim(claims, "sub") == "" {
		return nil, errInvalidSession
	}
	return claims, nil
}

// verifyChallengeSession checks in.Session: signed by the pool, a
// challenge session of client cl for challenge in.ChallengeName, not
// expired, its user still there with the password it had (so a password
// change ends it), and USERNAME, if given, naming that user. It returns the
// session's claims and the user.
func (s *Service) verifyChallengeSession(ctx context.Context, p *identity.Pool, cl *identity.AppClient, in RespondInput) (map[string]any, *identity.User, error) {
	claims, err := s.verifyChallengeToken(ctx, p, cl, in)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, strClaim(claims, "sub"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errInvalidSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get user: %w", err)
	}
	if !equalHex(strClaim(claims, "pwd_state"), passwordState(u)) {
		return nil, nil, errInvalidSession
	}
	if name := in.Responses["USERNAME"]; name != "" {
		n := normalizeUsername(name)
		if n != u.Username && n != u.Sub && (u.Email == "" || n != u.Email) {
			return nil, nil, errInvalidSession
		}
	}
	return claims, u, nil
}

// newPassword answers NEW_PASSWORD_REQUIRED for u (session verified).
func (s *Service) newPassword(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, in RespondInput) (*AuthResult, error) {
	if err := s.approvalPending(ctx, p, u, signInStatus(u, s.now())); err != nil {
		return nil, err
	}
	newPassword := in.Responses["NEW_PASSWORD"]
	if newPassword == "" {
		return nil, identity.FieldError("NEW_PASSWORD", "Missing required parameter NEW_PASSWORD")
	}
	attrs := map[string]string{}
	for k, v := range in.Responses {
		if name, ok := strings.CutPrefix(k, "userAttributes."); ok {
			attrs[name] = v
		}
	}
	if err := validateAttributes(p, cl, attrs, attrUserUpdate); err != nil {
		return nil, err
	}
	if p.UsernameMode == identity.UsernameEmail {
		if e, ok := attrs["email"]; ok && strings.ToLower(strings.TrimSpace(e)) != u.Email {
			return nil, identity.FieldError("email", "The email attribute is the username in this user pool and cannot be changed here.")
		}
	}
	if err := password.Validate(p.PasswordPolicy, newPassword, u.Username, emailLocal(u.Email)); err != nil {
		return nil, err
	}
	creds, err := s.newCredentials(ctx, p, u, newPassword)
	if err != nil {
		return nil, err
	}

	now := s.now()
	change := func(x *identity.User) {
		prevEmail := x.Email
		applyAttributes(x, attrs)
		if x.Email != prevEmail {
			x.EmailVerified, x.EmailVerifiedFalse = false, true
		}
		creds.apply(x)
		x.PasswordChangedAt = now
		x.TemporaryPasswordExpiresAt = time.Time{}
		x.Status = identity.StatusConfirmed
		x.FailedAttempts = 0
		x.LockedUntil = time.Time{}
		x.UpdatedAt = now
	}
	for _, d := range p.Schema {
		if d.Required && u.Attributes[d.Name] == "" && strings.TrimSpace(attrs[d.Name]) == "" {
			return nil, identity.FieldError(d.Name, "The attribute %s is required.", d.Name)
		}
	}
	next := *u
	next.Attributes = make(map[string]string, len(u.Attributes))
	for k, v := range u.Attributes {
		next.Attributes[k] = v
	}
	change(&next)
	// A second factor the policy asks for comes after the new password:
	// no tokens until it verified (mfa.go).
	plan, err := s.planMFA(ctx, s.cfg.Store, p, &next)
	if err != nil {
		return nil, err
	}
	needMFA := plan.required || len(plan.usable) > 0
	amr := []string{AMRPassword}
	var (
		toks      *Tokens
		rt        *identity.RefreshToken
		done      *identity.User
		newDevice *NewDeviceMetadata // devices.go; with MFA, finishSignIn makes it
	)
	if !needMFA {
		if dc := deviceOf(ctx); p.Settings.Devices.Tracked && dc.track && dc.known == "" {
			if newDevice, err = s.newDeviceMetadata(p, u); err != nil {
				return nil, err
			}
			dc.known = newDevice.DeviceKey
			ctx = withDevice(ctx, dc)
		}
		toks, rt, err = s.newSession(withTokenSource(ctx, hooks.SourceTokenNewPasswordChallenge), p, cl, &next, amr)
		if err != nil {
			return nil, err
		}
	}
	state := passwordState(u)
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := reloadUser(ctx, q, u)
		if err != nil {
			return errInvalidSession
		}
		if passwordState(cur) != state || cur.Status != identity.StatusForceChangePassword {
			return errInvalidSession // used meanwhile
		}
		if !cur.Enabled {
			return identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
		}
		change(cur)
		if err := q.UpdateUser(ctx, cur, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errAliasExists
			}
			return fmt.Errorf("update user: %w", err)
		}
		if rt != nil {
			if err := s.insertSignIn(ctx, q, rt); err != nil {
				return fmt.Errorf("insert refresh token: %w", err)
			}
		}
		done = cur
		if err := s.hookPostConfirmation(ctx, q, p, cur, cl.ID, hooks.SourcePostConfirmationConfirmSignUp); err != nil { // an invited user is now active
			return err
		}
		identity.SetUser(ctx, cur.Sub) // the password and the challenge session proved it
		return s.audit(ctx, q, p.ID, "user.new_password", "user:"+cur.Sub, map[string]string{"client_id": cl.ID})
	})
	if err != nil {
		return nil, err
	}
	if needMFA {
		res, err := s.mfaChallenge(ctx, p, cl, done, amr)
		if err != nil || res != nil {
			return res, err
		}
		return s.finishSignIn(withTokenSource(ctx, hooks.SourceTokenNewPasswordChallenge), p, cl, done, "new_password", amr)
	}
	return &AuthResult{Tokens: toks, NewDevice: newDevice}, nil
}

// audienceIs reports whether the aud claim (a string or a list) is id.
func audienceIs(claims map[string]any, id string) bool {
	switch a := claims["aud"].(type) {
	case string:
		return a == id
	case []any:
		return len(a) == 1 && a[0] == id
	case []string:
		return len(a) == 1 && a[0] == id
	}
	return false
}
