package identity

import (
	"context"
	"strings"
	"sync"
	"time"
)

// UserStatus is a user's account status, with Cognito's names.
type UserStatus string

const (
	StatusUnconfirmed         UserStatus = "UNCONFIRMED"
	StatusConfirmed           UserStatus = "CONFIRMED"
	StatusForceChangePassword UserStatus = "FORCE_CHANGE_PASSWORD"
	StatusResetRequired       UserStatus = "RESET_REQUIRED"
	StatusExternalProvider    UserStatus = "EXTERNAL_PROVIDER"
)

// Valid reports whether s is one of the statuses Gatehouse stores.
func (s UserStatus) Valid() bool {
	switch s {
	case StatusUnconfirmed, StatusConfirmed, StatusForceChangePassword, StatusResetRequired, StatusExternalProvider:
		return true
	}
	return false
}

// UsernameMode says how users are named in a pool.
type UsernameMode string

const (
	// UsernameEmail: the email address is the username (case-insensitive),
	// Cognito's UsernameAttributes=[email]. cognito:username is then the sub.
	UsernameEmail UsernameMode = "email"
	// UsernameWithEmailAlias: a chosen username, and the verified email may be
	// used to sign in too (Cognito's AliasAttributes=[email]).
	UsernameWithEmailAlias UsernameMode = "username"
	// UsernamePlain: a chosen username and nothing else signs in; the email
	// is an ordinary attribute, optional unless the schema requires it
	// (Cognito's pool with neither UsernameAttributes nor AliasAttributes,
	// the default of CreateUserPool). Any username Cognito accepts is
	// accepted, an email- or UUID-shaped one included.
	UsernamePlain UsernameMode = "plain"
)

// Pool is a tenant: an isolated user directory.
type Pool struct {
	ID      string // <region>_<9 alphanumerics>, e.g. eu-west-1_AbC123xyZ
	Name    string
	Domains []string // host names that resolve to this pool (hosted pages, OIDC)
	// BaseURL, when set, overrides the server's base URL for this pool's
	// links and token issuer. Never derived from request headers.
	BaseURL      string
	UsernameMode UsernameMode
	// UniqueEmail makes the email address unique in the pool even when it is
	// not the username; enforced by a database unique constraint.
	UniqueEmail bool
	// PreventUserExistenceErrors makes sign-in, sign-up confirmation and
	// recovery answer the same for unknown users as for known ones.
	PreventUserExistenceErrors bool
	// AdminCreateUserOnly: self sign-up is refused (invite-only).
	AdminCreateUserOnly bool
	PasswordPolicy      PasswordPolicy
	Schema              []AttributeDef // custom attributes ("custom:..."); standard ones are built in
	Tokens              TokenLifetimes
	SigningAlg          string // "ES256" (default) or "RS256"
	// Lockout: after MaxFailedAttempts consecutive failures the account is
	// throttled for LockoutDuration (doubling per further failure, capped).
	MaxFailedAttempts int
	LockoutDuration   time.Duration
	// Settings: sign-up policy and hooks (see PoolSettings).
	Settings  PoolSettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Region returns the region part of the pool id.
func (p *Pool) Region() string {
	for i := 0; i < len(p.ID); i++ {
		if p.ID[i] == '_' {
			return p.ID[:i]
		}
	}
	return ""
}

// PasswordPolicy has Cognito's fields plus NIST SP 800-63B-4 defaults.
type PasswordPolicy struct {
	MinimumLength                 int  `json:"minimum_length"` // 6..99; default 15
	MaximumLength                 int  `json:"maximum_length"` // >= 64; default 256 (Cognito's cap)
	RequireUppercase              bool `json:"require_uppercase"`
	RequireLowercase              bool `json:"require_lowercase"`
	RequireNumbers                bool `json:"require_numbers"`
	RequireSymbols                bool `json:"require_symbols"`
	TemporaryPasswordValidityDays int  `json:"temporary_password_validity_days"` // default 7
	// BlockCommonPasswords rejects passwords from the built-in list of
	// common passwords. BlockedWords adds the pool's own words (its product
	// and company names): a password containing one is refused.
	BlockCommonPasswords bool     `json:"block_common_passwords"`
	BlockedWords         []string `json:"blocked_words,omitempty"`
}

// DefaultPasswordPolicy follows NIST SP 800-63B-4 for single-factor passwords.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{MinimumLength: 15, MaximumLength: 256, TemporaryPasswordValidityDays: 7, BlockCommonPasswords: true}
}

// AttributeType is a custom attribute's data type (Cognito's names).
type AttributeType string

const (
	AttrString   AttributeType = "String"
	AttrNumber   AttributeType = "Number"
	AttrDateTime AttributeType = "DateTime"
	AttrBoolean  AttributeType = "Boolean"
)

// AttributeDef describes one attribute in a pool's schema. Name carries the
// full name, e.g. "custom:company_name". Values are always strings on the
// wire, as in Cognito.
type AttributeDef struct {
	Name      string        `json:"name"`
	Type      AttributeType `json:"type"`
	Mutable   bool          `json:"mutable"`
	Required  bool          `json:"required"`
	MinLength int           `json:"min_length,omitempty"`
	MaxLength int           `json:"max_length,omitempty"` // default 2048
	// MinLengthGiven and MaxLengthGiven say which of a String's lengths
	// its creator gave through the Cognito API, which answers only those
	// (StringAttributeConstraints {"MaxLength": "10"} reads back so).
	MinLengthGiven bool   `json:"min_length_given,omitempty"`
	MaxLengthGiven bool   `json:"max_length_given,omitempty"`
	MinValue       *int64 `json:"min_value,omitempty"`
	MaxValue       *int64 `json:"max_value,omitempty"`
}

// TokenLifetimes; zero means "use the default" (ID/access 1h, refresh 30d).
type TokenLifetimes struct {
	ID      time.Duration `json:"id"`
	Access  time.Duration `json:"access"`
	Refresh time.Duration `json:"refresh"`
	// Units are the units a Cognito client's lifetimes were given in
	// (TokenValidityUnits), so that the Cognito API answers in them; nil
	// for lifetimes set any other way. Presentation only.
	Units *TokenUnits `json:"units,omitempty"`
}

// TokenUnits are Cognito's TokenValidityUnits: "seconds", "minutes",
// "hours" or "days" per token ("" : not given).
type TokenUnits struct {
	ID      string `json:"id,omitempty"`
	Access  string `json:"access,omitempty"`
	Refresh string `json:"refresh,omitempty"`
}

// Auth flows an app client may allow (Cognito's ExplicitAuthFlows names).
const (
	FlowUserPassword      = "ALLOW_USER_PASSWORD_AUTH"
	FlowUserSRP           = "ALLOW_USER_SRP_AUTH"
	FlowRefreshToken      = "ALLOW_REFRESH_TOKEN_AUTH"
	FlowAdminUserPassword = "ALLOW_ADMIN_USER_PASSWORD_AUTH"
	FlowCustomAuth        = "ALLOW_CUSTOM_AUTH"
	FlowUserAuth          = "ALLOW_USER_AUTH" // the choice-based USER_AUTH flow
)

// AppClient is an application allowed to use a pool.
type AppClient struct {
	ID     string // 26 lowercase alphanumerics, globally unique
	PoolID string
	Name   string
	// SecretHash is the hash of the client secret; empty for public clients.
	// The secret itself is shown once, at creation or regeneration.
	SecretHash string
	// SecretSealed is the secret itself sealed with the master key
	// (internal/secretbox), base64; Cognito's SECRET_HASH needs the raw
	// secret to verify. "" for public clients and secrets made before it
	// existed.
	SecretSealed    string
	AuthFlows       []string
	Tokens          TokenLifetimes // zero fields fall back to the pool's
	ReadAttributes  []string       // empty: all
	WriteAttributes []string       // empty: all mutable
	CallbackURLs    []string       // exact match
	LogoutURLs      []string       // exact match
	OAuthFlows      []string       // "code", "client_credentials"
	OAuthScopes     []string
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens
	// (OpenID Connect Dynamic Client Registration §2): "ES256" or
	// "RS256"; "" is RS256, the OpenID default every relying party
	// accepts. Access tokens use the pool's SigningAlg.
	IDTokenSignedResponseAlg string
	// BackchannelLogoutURI receives OpenID Connect Back-Channel Logout
	// 1.0 logout tokens when a user of the client signs out, is disabled
	// or is signed out everywhere ("" : none).
	BackchannelLogoutURI string
	// RefreshRotation is how the client's refresh tokens rotate (Cognito's
	// RefreshTokenRotation Feature); RefreshGraceSeconds (0..60, Cognito's
	// RetryGracePeriodSeconds) is how long a rotated refresh token keeps
	// working, for a client's retries, before presenting it is reuse.
	RefreshRotation     RefreshRotation
	RefreshGraceSeconds int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// RefreshRotation is an app client's refresh token rotation.
type RefreshRotation string

// Refresh token rotation modes (docs/cognito.md "Refresh tokens").
const (
	// RotationAlways is Gatehouse's default (native API, apply, console,
	// and every client stored before the setting existed): each refresh,
	// on every path, returns a new refresh token and uses up the old one;
	// a used one presented again ends the sign-in (reuse detection).
	RotationAlways RefreshRotation = ""
	// RotationEnabled is Cognito's ENABLED: rotation as RotationAlways,
	// but, as on AWS, Cognito's InitiateAuth/AdminInitiateAuth
	// REFRESH_TOKEN_AUTH is refused (GetTokensFromRefreshToken and the
	// OAuth token endpoint rotate).
	RotationEnabled RefreshRotation = "ENABLED"
	// RotationDisabled is Cognito's DISABLED (the default of clients made
	// through CreateUserPoolClient): a refresh returns new ID and access
	// tokens only, and the refresh token keeps working until it expires or
	// is revoked.
	RotationDisabled RefreshRotation = "DISABLED"
)

// MaxRefreshGraceSeconds bounds RefreshGraceSeconds (Cognito's limit).
const MaxRefreshGraceSeconds = 60

// InRetryGrace reports whether a refresh token used at usedAt may still be
// presented at now as a retry (within RefreshGraceSeconds) rather than as
// reuse.
func (c *AppClient) InRetryGrace(usedAt, now time.Time) bool {
	return now.Before(usedAt.Add(time.Duration(c.RefreshGraceSeconds) * time.Second))
}

// Rotates reports whether a refresh returns a new refresh token.
func (c *AppClient) Rotates() bool { return c.RefreshRotation != RotationDisabled }

// SetRotates turns rotation off (RotationDisabled) or on: a client that
// rotates keeps its mode (Cognito's ENABLED stays so), one that did not
// gets Gatehouse's default, RotationAlways. For the surfaces that show
// rotation as on or off (native API, apply, console).
func (c *AppClient) SetRotates(on bool) {
	switch {
	case !on:
		c.RefreshRotation = RotationDisabled
	case !c.Rotates():
		c.RefreshRotation = RotationAlways
	}
}

// HasSecret reports whether the client is confidential.
func (c *AppClient) HasSecret() bool { return c.SecretHash != "" }

// AllowsFlow reports whether flow (an ALLOW_* name) is enabled.
func (c *AppClient) AllowsFlow(flow string) bool {
	for _, f := range c.AuthFlows {
		if f == flow {
			return true
		}
	}
	return false
}

// User is a member of a pool.
type User struct {
	PoolID        string
	Sub           string // UUID, immutable
	Username      string // canonical (lower-cased when it is an email)
	Email         string // lower-cased; "" if none
	EmailVerified bool
	// EmailVerifiedFalse: email_verified was set to false (by an
	// administrator, or by an email change that left the new address
	// unverified), as opposed to never set. Meaningful only while
	// EmailVerified is false; every decision treats both as unverified,
	// only Cognito's listings tell them apart (AWS lists an attribute only
	// once it was set).
	EmailVerifiedFalse bool
	// PendingEmail is a new address the user asked for and has not yet
	// confirmed (lower-cased; "" if none). While it is pending, Email
	// stays the address in force (in tokens, sign-in by alias and password
	// recovery); confirming the code sent to PendingEmail makes it the
	// Email (Cognito's AttributesRequireVerificationBeforeUpdate).
	PendingEmail string
	Status       UserStatus
	Enabled      bool
	// Attributes holds every other attribute by its full name: standard
	// ones (name, given_name, phone_number, ...) and custom:* ones.
	// It never holds sub, email, email_verified or username.
	Attributes map[string]string
	// PasswordHash is the encoded argon2id hash; "" for users without a
	// password (federated).
	PasswordHash string
	// SRPSalt and SRPVerifier (lower-case hex) are the user's SRP salt and
	// verifier v = g^x mod N (internal/srp), set with the password; ""
	// when the pool has SRP off or the password was imported as a hash.
	SRPSalt     string
	SRPVerifier string
	// TemporaryPasswordExpiresAt is set while Status is FORCE_CHANGE_PASSWORD.
	TemporaryPasswordExpiresAt time.Time
	PasswordChangedAt          time.Time
	FailedAttempts             int
	LockedUntil                time.Time
	// TokensValidAfter: access and ID tokens issued before this instant are
	// no longer valid (global sign-out, disable, password reset).
	TokensValidAfter time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Group is a named set of users in a pool.
type Group struct {
	PoolID      string
	Name        string
	Description string
	Precedence  *int
	RoleARN     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CodePurpose binds a one-time code to what it may be used for.
type CodePurpose string

const (
	PurposeSignUp      CodePurpose = "signup"
	PurposeForgot      CodePurpose = "forgot_password"
	PurposeVerifyEmail CodePurpose = "verify_email"
	PurposeMFAEmail    CodePurpose = "mfa_email" // a sign-in code (EMAIL_OTP)
	// PurposeSignInEmail: a passwordless sign-in code (USER_AUTH's EMAIL_OTP
	// first factor); never accepted as a second factor, nor the reverse.
	PurposeSignInEmail CodePurpose = "signin_email"
)

// OneTimeCode is a one-time code sent to a user; only its hash is stored.
type OneTimeCode struct {
	PoolID    string
	UserSub   string
	Purpose   CodePurpose
	Hash      string // hex SHA-256 of pool|sub|purpose|code
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// RefreshToken is an opaque refresh token; only its hash is stored. Tokens of
// one sign-in form a family; rotating marks the old one used; presenting a
// used one revokes the family.
type RefreshToken struct {
	Hash      string // hex SHA-256 of the token
	PoolID    string
	ClientID  string
	UserSub   string
	FamilyID  string
	OriginJTI string // the jti shared by the tokens of this sign-in
	// Scope is the access token scope granted at the sign-in
	// (space-separated), reissued exactly by every refresh of the family.
	// "" only on tokens written before migration 0009 (or by a node not
	// yet upgraded): auth reads it as aws.cognito.signin.user.admin, the
	// scope those nodes issued.
	Scope    string
	AuthTime time.Time
	// AMR is how the user signed in (RFC 8176 values, space-separated),
	// reissued by every refresh of the family.
	AMR        string
	IssuedAt   time.Time
	ExpiresAt  time.Time // absolute expiry of the family
	UsedAt     time.Time // zero until rotated
	RevokedAt  time.Time // zero unless revoked
	ReplacedBy string    // hash of the successor, once rotated
	// DeviceKey is the device the sign-in was issued to (Cognito's
	// device_key claim), "" for none; forgetting the device revokes the
	// family.
	DeviceKey string
}

// OIDCSession is a user's sign-in at a relying party: the client an
// authorization code was redeemed by, and the origin_jti the sign-in's
// tokens share (its ID tokens' sid). Back-channel logout tells exactly the
// clients of a user's sessions (migration 0027).
type OIDCSession struct {
	PoolID    string
	OriginJTI string
	UserSub   string
	ClientID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Signing key states.
const (
	KeyNext    = "next"    // published in JWKS, not yet signing
	KeyActive  = "active"  // signing
	KeyRetired = "retired" // published until RetireAt, verifying only
)

// SigningKey is a pool's JWT signing key. The private key is encrypted at rest.
type SigningKey struct {
	PoolID        string
	KID           string
	Alg           string // ES256 or RS256
	PrivateKeyEnc []byte // AES-256-GCM sealed PKCS#8 DER
	PublicJWK     []byte // JSON
	State         string
	CreatedAt     time.Time
	ActivatedAt   time.Time
	RetiredAt     time.Time
	RemoveAfter   time.Time // once retired: dropped from JWKS after this
}

// APIKey authenticates administration calls. The secret is shown once;
// only its hash is kept.
type APIKey struct {
	ID         string // public prefix, e.g. "ghk_3f9c..."
	PoolID     string // "" for a global key
	Name       string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Email statuses: the delivery state machine of internal/mail (doc.go).
const (
	EmailQueued    = "queued"    // waiting for its first attempt
	EmailSending   = "sending"   // an attempt of its job is handing it to the relay
	EmailSent      = "sent"      // the relay accepted it (final)
	EmailRetrying  = "retrying"  // an attempt failed; its job runs again later
	EmailDead      = "dead"      // given up; an admin's Retry queues it again
	EmailDiscarded = "discarded" // an admin gave up on it (final)
)

// Email is an outgoing message in the outbox. It is written in the same
// transaction as the state change that causes it and delivered by a job.
type Email struct {
	ID        int64
	PoolID    string
	To        string
	Subject   string
	Text      string
	HTML      string
	Template  string // template name, e.g. "signup_code"
	Status    string
	Attempts  int // delivery attempts started (SMTP transactions tried)
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
	// JobID is the email's one delivery job (re-armed by a Retry, never
	// doubled); JobAttempt the attempt of that job that last moved it to
	// sending, the only one whose outcome may be written over it.
	JobID      int64
	JobAttempt int
}

// Job states.
const (
	JobPending   = "pending"   // due at RunAt
	JobRunning   = "running"   // leased to LockedBy until LockedUntil
	JobDone      = "done"      // final
	JobDead      = "dead"      // failed for good; an admin's Retry re-arms it
	JobDiscarded = "discarded" // an admin gave up on it (final)
)

// Job is a durable unit of background work, enqueued in the caller's
// transaction and claimed by one worker at a time under a lease.
type Job struct {
	ID          int64
	PoolID      string // the pool it works for; "" for a global job
	Kind        string // e.g. "email.send"
	Payload     []byte // JSON
	State       string
	RunAt       time.Time
	Attempts    int // claims so far: the current attempt's number
	MaxAttempts int
	// Lost counts the attempts in a row whose lease expired before they
	// recorded an outcome (their worker died or stalled); each gave its
	// attempt back (MaxAttempts grew by one). Reset by an outcome.
	Lost        int
	LockedBy    string
	LockedUntil time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// AuditEvent records who did what to whom.
type AuditEvent struct {
	ID     int64
	PoolID string
	Time   time.Time
	// Actor is who acted, in one form whatever the surface (Actor.Who):
	// "user:<sub>", "admin-key:<id>", "cli", "system",
	// "approver-link:<email>". Via is the surface: "api", "cognito",
	// "console", "hosted", "email-link", "cli", "system" ("" on rows
	// written before it was recorded; NormalizeActor reads those).
	Actor   string
	Via     string
	Action  string // e.g. "user.sign_up", "user.disable"
	Subject string // e.g. "user:<sub>", "client:<id>"
	Detail  map[string]string
	IP      string
}

// Actor is who performs a call; carried in the context for authorization
// and audit.
type Actor struct {
	// ID is the caller as the service authorizes it: "apikey:<id>",
	// "sigv4:<access key id>", "console:<sub>" (a pool admin in the
	// console), "user:<sub>" (a user: a company admin, or acting on their
	// own account), "approver:<email>" (the holder of an emailed approval
	// link), "cli", "system".
	ID string
	IP string
	// Via is the surface the call came through ("api", "cognito",
	// "console", "hosted", "email-link", "cli", "system"); "" takes the
	// context's (WithVia), else what ID implies.
	Via string
	// As, when set, is who is recorded instead of ID's own form: the user
	// behind an emailed link sent to their address ("user:<sub>").
	As string
}

// Surfaces an actor acts through (Actor.Via, AuditEvent.Via).
const (
	ViaAPI       = "api"
	ViaCognito   = "cognito"
	ViaConsole   = "console"
	ViaHosted    = "hosted"
	ViaEmailLink = "email-link"
	ViaCLI       = "cli"
	ViaSystem    = "system"
)

// Who is the actor as audit events and decisions record it — one form
// for one person whatever the surface: "user:<sub>" (console pool admins
// too), "admin-key:<id>" (admin API keys and the Cognito surface's SigV4
// access keys), "approver-link:<email>" (an emailed link's holder who is
// no user), "cli", "system".
func (a Actor) Who() string {
	if a.As != "" {
		return a.As
	}
	who, _ := NormalizeActor(a.ID, "")
	return who
}

// NormalizeActor reads an actor recorded in any form — the one form of
// Who, or the surface-dependent forms written before it ("console:<sub>",
// "apikey:<id>", "sigv4:<id>", "approver:<email>", with no via) — as the
// one form and its surface. A via already recorded is kept.
func NormalizeActor(actor, via string) (string, string) {
	pick := func(v string) string {
		if via != "" {
			return via
		}
		return v
	}
	kind, rest, _ := strings.Cut(actor, ":")
	switch kind {
	case "console":
		return "user:" + rest, pick(ViaConsole)
	case "apikey":
		return "admin-key:" + rest, pick(ViaAPI)
	case "sigv4":
		return "admin-key:" + rest, pick(ViaCognito)
	case "approver":
		return "approver-link:" + rest, pick(ViaEmailLink)
	case "approver-link":
		return actor, pick(ViaEmailLink)
	case "cli":
		return actor, pick(ViaCLI)
	case "system", "":
		if actor == "" {
			actor = "system"
		}
		return actor, pick(ViaSystem)
	}
	return actor, via
}

// Recorded returns who (Who) and through which surface the actor acts:
// the actor's own Via, else the context's (WithVia), else what its ID
// implies.
func (a Actor) Recorded(ctx context.Context) (who, via string) {
	who = a.Who()
	via = a.Via
	if via == "" {
		via, _ = ctx.Value(viaKey{}).(string)
	}
	if via == "" {
		_, via = NormalizeActor(a.ID, "")
	}
	return who, via
}

type actorKey struct{}
type viaKey struct{}

// WithActor returns ctx carrying actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// WithVia returns ctx marked as coming through surface via (set by each
// surface on every request, before it knows the caller).
func WithVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

// ActorFrom returns the actor in ctx, or "system".
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{ID: "system"}
}

// The request's user. On the Cognito surface and the hosted pages a
// request names no actor the surface could check before the service does:
// the access token is verified inside the service method, and the hosted
// session is opened by the page. The surface installs an empty slot on
// every request (WithUserSlot); whoever verifies the credential fills it
// (SetUser: auth's access-token check, web's CurrentSession), and audit
// events without an explicit actor record that user (AuditActor). The slot
// only names who is recorded: authorization keeps reading ActorFrom, so a
// filled slot grants nothing.
type userSlotKey struct{}

// userSlot is the context carrying the slot itself (one allocation per
// request rather than a context.WithValue and a slot).
type userSlot struct {
	context.Context
	ip  string
	mu  sync.Mutex
	sub string
}

func (s *userSlot) Value(key any) any {
	if key == (userSlotKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// WithUserSlot returns ctx with an empty slot for the request's user,
// calling from ip.
func WithUserSlot(ctx context.Context, ip string) context.Context {
	return &userSlot{Context: ctx, ip: ip}
}

// SetUser records that the request acts as the user sub, whose credential
// (an access token, a hosted session) was just verified. Without a slot
// in ctx it does nothing; a later call replaces an earlier one.
func SetUser(ctx context.Context, sub string) {
	if s, ok := ctx.Value(userSlotKey{}).(*userSlot); ok && sub != "" {
		s.mu.Lock()
		s.sub = sub
		s.mu.Unlock()
	}
}

// AuditActor is the actor audit events record: the context's actor
// (WithActor) when one was set, else the request's user (SetUser) as
// "user:<sub>", else "system" — from the slot's IP when the request has a
// slot (so a failed sign-in, which proves no one, still records where it
// came from).
func AuditActor(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	if s, ok := ctx.Value(userSlotKey{}).(*userSlot); ok {
		s.mu.Lock()
		sub := s.sub
		s.mu.Unlock()
		if sub != "" {
			return Actor{ID: "user:" + sub, IP: s.ip}
		}
		return Actor{ID: "system", IP: s.ip}
	}
	return Actor{ID: "system"}
}
