package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Defaults and limits (Cognito's where it has one; see ../shared/reference/cognito.md).
const (
	DefaultRegion          = "us-east-1"
	DefaultIDTokenTTL      = time.Hour
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	MinTokenTTL            = 5 * time.Minute
	MaxTokenTTL            = 24 * time.Hour
	MinRefreshTTL          = time.Hour
	MaxRefreshTTL          = 3650 * 24 * time.Hour

	SignUpCodeTTL       = 24 * time.Hour
	ForgotCodeTTL       = time.Hour
	VerifyCodeTTL       = 24 * time.Hour
	MaxCodeAttempts     = 5
	DefaultMaxFailures  = 5
	DefaultLockout      = time.Second // doubled per failure past the limit, capped at 15 min by the store's 24h cap or ours
	MaxCustomAttributes = 50
	MaxAttrNameLen      = 20 // custom attribute name, without "custom:"
	MaxAttrValueLen     = 2048
	MaxUsernameLen      = 128
	MaxGroupsPerUser    = 100
	MaxGroupsPerPool    = 10000
	MaxListLimit        = 60
)

// StandardAttributes are the OIDC standard attributes a pool always has.
var StandardAttributes = map[string]bool{
	"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true, "nickname": true,
	"phone_number": true, "phone_number_verified": true, "picture": true, "preferred_username": true,
	"profile": true, "updated_at": true, "website": true, "zoneinfo": true,
}

func (s *Service) init() {
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if s.cfg.Rand == nil {
		s.cfg.Rand = rand.Reader
	}
	if s.cfg.Log == nil {
		s.cfg.Log = slog.Default()
	}
	if s.cfg.Region == "" {
		s.cfg.Region = DefaultRegion
	}
	if s.cfg.Secrets == nil {
		s.cfg.Secrets = secretbox.Ephemeral()
	}
	s.cfg.BaseURL = strings.TrimRight(s.cfg.BaseURL, "/")
}

// now returns the current time, truncated to the store's millisecond precision.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// randomString returns n characters drawn uniformly from alphabet.
func (s *Service) randomString(n int, alphabet string) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(s.cfg.Rand, max)
		if err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b), nil
}

const (
	alnum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	digits     = "0123456789"
)

// randomToken returns a URL-safe token carrying nbytes of entropy.
func (s *Service) randomToken(nbytes int) (string, error) {
	b := make([]byte, nbytes)
	if _, err := s.cfg.Rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Service) newSub() (string, error) {
	u, err := uuid.NewRandomFromReader(s.cfg.Rand)
	if err != nil {
		return "", fmt.Errorf("uuid: %w", err)
	}
	return u.String(), nil
}

// sha256Hex is used for high-entropy secrets (client secrets, API keys,
// refresh tokens, links) where a slow hash adds nothing.
func sha256Hex(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func equalHex(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// getPool returns the pool or resource_not_found.
func (s *Service) getPool(ctx context.Context, q store.Querier, poolID string) (*identity.Pool, error) {
	if poolID == "" {
		return nil, identity.FieldError("pool_id", "A user pool id is required.")
	}
	p, err := q.GetPool(ctx, poolID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "User pool %s does not exist.", safeEcho(poolID))
	}
	if err != nil {
		return nil, fmt.Errorf("get pool: %w", err)
	}
	return p, nil
}

// resolveClient loads the app client and its pool and checks the client
// secret when the client has one. A wrong or missing secret is
// not_authorized, as in Cognito.
func (s *Service) resolveClient(ctx context.Context, c Client, username string) (*identity.AppClient, *identity.Pool, error) {
	if c.ID == "" {
		return nil, nil, identity.FieldError("client_id", "A client id is required.")
	}
	if len(c.ID) > 128 {
		return nil, nil, identity.FieldError("client_id", "The client id is too long.")
	}
	cl, err := s.cfg.Store.GetClient(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, identity.Errorf(identity.CodeResourceNotFound, "User pool client %s does not exist.", safeEcho(c.ID))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get client: %w", err)
	}
	if cl.HasSecret() && !c.Hosted {
		switch {
		case c.Secret != "":
			if !equalHex(sha256Hex(c.Secret), cl.SecretHash) {
				return nil, nil, identity.Errorf(identity.CodeNotAuthorized, "Unable to verify secret for client %s.", cl.ID)
			}
		case c.SecretHash != "" && c.refreshHash:
			// checked by refresh, which knows the user (checkRefreshHash)
		case c.SecretHash != "":
			// Cognito's SECRET_HASH, HMAC(secret, username+clientId).
			if err := s.checkSecretHash(cl, c.SecretHash, username); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, identity.Errorf(identity.CodeNotAuthorized, "Client %s is configured with a secret but none was received.", cl.ID)
		}
	}
	p, err := s.getPool(ctx, s.cfg.Store, cl.PoolID)
	if err != nil {
		return nil, nil, err
	}
	return cl, p, nil
}

// normalizeUsername trims and lower-cases a username. Usernames are
// case-insensitive in every pool (Cognito's default for new pools).
func normalizeUsername(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// validateEmail returns the lower-cased address or an invalid_parameter error.
func validateEmail(field, email string) (string, error) {
	e := strings.TrimSpace(email)
	if e == "" {
		return "", identity.FieldError(field, "An email address is required.")
	}
	if len(e) > 254 {
		return "", identity.FieldError(field, "The email address is too long.")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || !strings.Contains(e, "@") {
		return "", identity.FieldError(field, "Invalid email address format.")
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 || !strings.Contains(e[at+1:], ".") || strings.ContainsAny(e, " \t\r\n<>") {
		return "", identity.FieldError(field, "Invalid email address format.")
	}
	return strings.ToLower(e), nil
}

// validateUsername checks a username for a new user in pool p and returns
// its canonical form, following Cognito's rules for the pool's username
// configuration: an email address where email is the username; in the
// other modes any characters of Cognito's pattern (letters, marks,
// symbols, numbers, punctuation), a UUID-shaped name included, but no
// email address where the email is an alias (it would shadow another
// user's alias). A UUID-shaped name that is already a user's sub is
// refused with the other taken names by SignUp and AdminCreateUser
// (checkUsernameNotSub), as sign-in resolves a UUID to a sub.
func validateUsername(p *identity.Pool, username string) (string, error) {
	u := strings.TrimSpace(username)
	if u == "" {
		return "", identity.FieldError("username", "A username is required.")
	}
	if !utf8.ValidString(u) || utf8.RuneCountInString(u) > MaxUsernameLen {
		return "", identity.FieldError("username", "The username must be valid UTF-8 and at most %d characters.", MaxUsernameLen)
	}
	if p.UsernameMode == identity.UsernameEmail {
		e, err := validateEmail("username", u)
		if err != nil {
			return "", identity.FieldError("username", "Username should be either an email or a phone number.")
		}
		return e, nil
	}
	for _, r := range u {
		if !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return "", identity.FieldError("username", `1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{M}\p{S}\p{N}\p{P}]+`)
		}
	}
	if p.UsernameMode == identity.UsernameWithEmailAlias && strings.Contains(u, "@") {
		if _, err := validateEmail("username", u); err == nil {
			return "", identity.FieldError("username", "Username cannot be of email format, since user pool is configured for email alias.")
		}
	}
	return strings.ToLower(u), nil
}

// checkUsernameNotSub refuses a UUID-shaped username that is already the
// sub of another user of the pool: findUser resolves a UUID to a sub when
// no username matches, so such a name would answer for two users.
func checkUsernameNotSub(ctx context.Context, q store.Querier, p *identity.Pool, username string) error {
	if _, err := uuid.Parse(username); err != nil {
		return nil
	}
	_, err := q.GetUser(ctx, p.ID, username)
	switch {
	case err == nil:
		return errUsernameExists
	case errors.Is(err, store.ErrNotFound):
		return nil
	default:
		return fmt.Errorf("get user by sub: %w", err)
	}
}

// errUserNotFound is what callers see for an unknown user.
var errUserNotFound = identity.Errorf(identity.CodeUserNotFound, "User does not exist.")

// findUser resolves username in pool p: the username itself, then (in
// username mode) a verified email alias, then the sub. It returns
// user_not_found when nothing matches.
func (s *Service) findUser(ctx context.Context, q store.Querier, p *identity.Pool, username string) (*identity.User, error) {
	name := normalizeUsername(username)
	if name == "" {
		return nil, identity.FieldError("username", "A username is required.")
	}
	if len(name) > 2*MaxUsernameLen {
		return nil, errUserNotFound
	}
	u, err := q.GetUserByUsername(ctx, p.ID, name)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if p.UsernameMode == identity.UsernameWithEmailAlias && strings.Contains(name, "@") {
		u, err = q.GetUserByEmail(ctx, p.ID, name, true)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("get user by email: %w", err)
		}
	}
	if _, perr := uuid.Parse(name); perr == nil {
		u, err = q.GetUser(ctx, p.ID, name)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("get user by sub: %w", err)
		}
	}
	return nil, errUserNotFound
}

// attrMode says who sets attributes and when.
type attrMode int

const (
	attrSignUp      attrMode = iota // a user signing up: no *_verified, required ones checked
	attrAdminCreate                 // an admin creating a user: *_verified allowed
	attrUserUpdate                  // a user changing own attributes: mutable only, no *_verified
	attrAdminUpdate                 // an admin changing a user: mutable only, *_verified allowed
)

// attrDef returns the definition of a custom attribute, or nil.
func attrDef(p *identity.Pool, name string) *identity.AttributeDef {
	for i := range p.Schema {
		if p.Schema[i].Name == name {
			return &p.Schema[i]
		}
	}
	return nil
}

// validateAttributes checks names, mutability, client write permissions
// (cl may be nil for admin calls) and values. It changes nothing.
func validateAttributes(p *identity.Pool, cl *identity.AppClient, attrs map[string]string, mode attrMode) error {
	if len(attrs) > MaxCustomAttributes+len(StandardAttributes) {
		return identity.FieldError("attributes", "Too many attributes.")
	}
	for name, value := range attrs {
		if err := validateAttribute(p, cl, name, value, mode); err != nil {
			return err
		}
	}
	if mode == attrSignUp || mode == attrAdminCreate {
		if p.Settings.EmailRequired && p.UsernameMode != identity.UsernameEmail && strings.TrimSpace(attrs["email"]) == "" {
			return identity.FieldError("email", "Attributes did not conform to the schema: email: The attribute is required")
		}
		for _, d := range p.Schema {
			if d.Required && strings.TrimSpace(attrs[d.Name]) == "" {
				return identity.FieldError(d.Name, "The attribute %s is required.", d.Name)
			}
		}
	}
	return nil
}

func validateAttribute(p *identity.Pool, cl *identity.AppClient, name, value string, mode attrMode) error {
	switch name {
	case "sub", "username", "cognito:username", "cognito:user_status", "identities":
		return identity.FieldError(name, "The attribute %s cannot be set.", name)
	}
	if !utf8.ValidString(value) {
		return identity.FieldError(name, "The value of %s must be valid UTF-8.", name)
	}
	if hasControl(value) {
		return identity.FieldError(name, "The value of %s contains a control character (such as a line break or a tab); attribute values are one line of text.", safeEcho(name))
	}
	if len(value) > MaxAttrValueLen {
		return identity.FieldError(name, "The value of %s is longer than %d bytes.", name, MaxAttrValueLen)
	}
	var def *identity.AttributeDef
	if strings.HasPrefix(name, "custom:") {
		def = attrDef(p, name)
		if def == nil {
			return identity.FieldError(name, "The attribute %s is not in the pool's schema.", safeEcho(name))
		}
	} else if !StandardAttributes[name] {
		return identity.FieldError(name, "Unknown attribute %s; custom attributes are named custom:<name>.", safeEcho(name))
	}
	verifiedFlag := name == "email_verified" || name == "phone_number_verified"
	if verifiedFlag && (mode == attrSignUp || mode == attrUserUpdate) {
		return identity.FieldError(name, "The attribute %s can only be set by an administrator.", name)
	}
	if (mode == attrUserUpdate || mode == attrAdminUpdate) && def != nil && !def.Mutable {
		return identity.FieldError(name, "The attribute %s is immutable.", name)
	}
	// The pool's company attribute carries authority (security.md A1): a
	// sign-up may name a company (the request the approvers decide on),
	// an admin may set it, the user never changes it. No client may write
	// it, whatever its WriteAttributes say.
	company := name == p.Settings.SignUp.CompanyAttr()
	if company && mode == attrUserUpdate {
		return errUnauthorizedAttribute(name)
	}
	if cl != nil && len(cl.WriteAttributes) > 0 && !contains(cl.WriteAttributes, name) && !(company && mode == attrSignUp) {
		return errUnauthorizedAttribute(name)
	}
	switch {
	case verifiedFlag:
		if value != "true" && value != "false" {
			return identity.FieldError(name, "The value of %s must be true or false.", name)
		}
	case name == "email":
		if _, err := validateEmail(name, value); err != nil {
			return err
		}
	case name == "phone_number":
		if !validPhone(value) {
			return identity.FieldError(name, "Invalid phone number format; use E.164, e.g. +14325551212.")
		}
	case def != nil:
		return validateCustomValue(def, value)
	}
	return nil
}

// errUnauthorizedAttribute is Cognito's answer to writing an attribute the
// client may not write (NotAuthorizedException); Cognito's message stops
// before the name, Gatehouse names it.
func errUnauthorizedAttribute(name string) error {
	return identity.Errorf(identity.CodeNotAuthorized, "A client attempted to write unauthorized attribute %s.", safeEcho(name))
}

// hasControl reports whether v holds a control character: C0 (NUL, TAB,
// CR, LF, ...), DEL, C1, or the Unicode line and paragraph separators.
// Attribute values are one line of text; a line break in one could start
// a new header or paragraph wherever it is copied (emails, X-Auth-*
// headers, CSV exports, logs).
func hasControl(v string) bool {
	return strings.IndexFunc(v, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}) >= 0
}

func validateCustomValue(d *identity.AttributeDef, value string) error {
	switch d.Type {
	case identity.AttrNumber:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return identity.FieldError(d.Name, "The value of %s must be a whole number.", d.Name)
		}
		if d.MinValue != nil && n < *d.MinValue {
			return identity.FieldError(d.Name, "The value of %s must be at least %d.", d.Name, *d.MinValue)
		}
		if d.MaxValue != nil && n > *d.MaxValue {
			return identity.FieldError(d.Name, "The value of %s must be at most %d.", d.Name, *d.MaxValue)
		}
	case identity.AttrBoolean:
		if value != "true" && value != "false" {
			return identity.FieldError(d.Name, "The value of %s must be true or false.", d.Name)
		}
	case identity.AttrDateTime:
		if _, err := time.Parse(time.RFC3339, value); err != nil {
			return identity.FieldError(d.Name, "The value of %s must be an RFC 3339 date-time.", d.Name)
		}
	default: // String
		n := utf8.RuneCountInString(value)
		if d.MinLength > 0 && n < d.MinLength {
			return identity.FieldError(d.Name, "The value of %s must be at least %d characters.", d.Name, d.MinLength)
		}
		max := d.MaxLength
		if max <= 0 {
			max = MaxAttrValueLen
		}
		if n > max {
			return identity.FieldError(d.Name, "The value of %s must be at most %d characters.", d.Name, max)
		}
	}
	return nil
}

func validPhone(v string) bool {
	if len(v) < 3 || len(v) > 16 || v[0] != '+' {
		return false
	}
	for _, r := range v[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// applyAttributes writes validated attributes onto u. email is lower-cased
// into u.Email; email_verified into u.EmailVerified; an empty value deletes
// an optional attribute.
func applyAttributes(u *identity.User, attrs map[string]string) {
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	// A verified phone number that changes is no longer verified (as on
	// Cognito), unless the same request says otherwise (only an
	// administrator may); one that is removed takes its flag with it.
	if phone, ok := attrs["phone_number"]; ok && phone != u.Attributes["phone_number"] {
		if _, given := attrs["phone_number_verified"]; !given {
			switch {
			case phone == "":
				delete(u.Attributes, "phone_number_verified")
			case u.Attributes["phone_number_verified"] != "":
				u.Attributes["phone_number_verified"] = "false"
			}
		}
	}
	for name, value := range attrs {
		switch name {
		case "email":
			u.Email = strings.ToLower(strings.TrimSpace(value))
		case "email_verified":
			u.EmailVerified, u.EmailVerifiedFalse = value == "true", value != "true"
		default:
			if value == "" {
				delete(u.Attributes, name)
			} else {
				u.Attributes[name] = value
			}
		}
	}
}

// uniqueEmail reports whether the pool requires unique emails.
func uniqueEmail(p *identity.Pool) bool {
	return p.UniqueEmail || p.UsernameMode == identity.UsernameEmail
}

// uniqueEmailFor is uniqueEmail for writing u: a federated user
// (EXTERNAL_PROVIDER) never holds the unique-email slot (federation.go).
func uniqueEmailFor(p *identity.Pool, u *identity.User) bool {
	return uniqueEmail(p) && u.Status != identity.StatusExternalProvider
}

// canHoldTokens reports whether u's status allows sessions and token
// refresh: CONFIRMED, or EXTERNAL_PROVIDER (a federated user).
func canHoldTokens(u *identity.User) bool {
	return u.Status == identity.StatusConfirmed || u.Status == identity.StatusExternalProvider
}

// audit records an event through q (the caller's transaction), by the
// context's actor, else the request's user (identity.AuditActor).
func (s *Service) audit(ctx context.Context, q store.Querier, poolID, action, subject string, detail map[string]string) error {
	a := identity.AuditActor(ctx)
	who, via := a.Recorded(ctx)
	e := &identity.AuditEvent{PoolID: poolID, Time: s.now(), Actor: who, Via: via, Action: action, Subject: subject, Detail: detail, IP: a.IP}
	if err := q.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// normalizeEvents reads events recorded in an older actor form in the
// one form (identity.NormalizeActor); nothing stored changes.
func normalizeEvents(evs []*identity.AuditEvent) []*identity.AuditEvent {
	for _, e := range evs {
		e.Actor, e.Via = identity.NormalizeActor(e.Actor, e.Via)
	}
	return evs
}

// normalizeDecider does the same for a request's decider.
func normalizeDecider(r *identity.RegistrationRequest) *identity.RegistrationRequest {
	if r != nil && r.DecidedBy != "" {
		r.DecidedBy, r.DecidedVia = identity.NormalizeActor(r.DecidedBy, r.DecidedVia)
	}
	return r
}

// maskEmail renders a destination like Cognito does: "j***@e***".
func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 {
		return "***"
	}
	local, domain := e[:at], e[at+1:]
	r, _ := utf8.DecodeRuneInString(local)
	d, _ := utf8.DecodeRuneInString(domain)
	return string(r) + "***@" + string(d) + "***"
}

// userView loads the user's group names.
func (s *Service) userView(ctx context.Context, q store.Querier, u *identity.User) (*UserView, error) {
	gs, err := q.ListGroupsForUser(ctx, u.PoolID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
	}
	return &UserView{User: u, Groups: names}, nil
}

// clampLimit applies the default and maximum page size.
func clampLimit(limit, max int) (int, error) {
	if limit < 0 || limit > max {
		return 0, identity.FieldError("limit", "The limit must be between 1 and %d.", max)
	}
	if limit == 0 {
		return max, nil
	}
	return limit, nil
}

// safeEcho shortens and sanitises a client-supplied value before it is
// echoed in an error message.
func safeEcho(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, v)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
