package auth

import (
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Challenge names (Cognito's).
const (
	ChallengeNewPasswordRequired = "NEW_PASSWORD_REQUIRED"
	ChallengePasswordVerifier    = "PASSWORD_VERIFIER"
	// The choice-based USER_AUTH flow (userauth.go): SELECT_CHALLENGE
	// offers the first factors, answered with ANSWER = WEB_AUTHN, PASSWORD
	// or PASSWORD_SRP; WEB_AUTHN asks for a passkey assertion.
	ChallengeSelect      = "SELECT_CHALLENGE"
	ChallengeWebAuthn    = "WEB_AUTHN"
	ChallengePassword    = "PASSWORD"
	ChallengePasswordSRP = "PASSWORD_SRP"
)

// Auth flow names accepted by InitiateAuth (Cognito's AuthFlow values).
const (
	AuthUserPassword      = "USER_PASSWORD_AUTH"
	AuthAdminUserPassword = "ADMIN_USER_PASSWORD_AUTH"
	AuthAdminNoSRP        = "ADMIN_NO_SRP_AUTH"
	AuthRefreshToken      = "REFRESH_TOKEN_AUTH"
	AuthRefreshTokenAlias = "REFRESH_TOKEN"
	AuthUserSRP           = "USER_SRP_AUTH"
	AuthUserAuth          = "USER_AUTH"
)

// Client identifies the calling app client. Secret is the raw client secret
// (native API) or empty; SecretHash is Cognito's HMAC-SHA256(username+clientId)
// (Cognito API). One of them must verify when the client has a secret.
type Client struct {
	ID         string
	Secret     string
	SecretHash string
	// Hosted is set only by in-process surfaces that act for the client
	// themselves (the hosted pages, whose OIDC relying party authenticates
	// with its secret at the token endpoint instead): the client secret is
	// then not required, and a password sign-in does not need
	// ALLOW_USER_PASSWORD_AUTH (Cognito's hosted UI ignores
	// ExplicitAuthFlows too). Safe because the tokens of such a sign-in
	// never reach the browser: the pages seal them in the session cookie,
	// and the relying party gets its own only from /oauth2/token, which
	// authenticates the client. No wire format may set it: only
	// internal/auth and internal/web set it, and no other package holds an
	// auth.Client in a struct (internal/web hosted_client_test.go checks
	// both and attacks the native and Cognito APIs with it).
	Hosted bool
	// refreshHash is set by InitiateAuth for a refresh with a SECRET_HASH:
	// the hash is then checked by refresh against the refresh token's
	// user (Cognito's refresh carries no USERNAME), not by resolveClient.
	refreshHash bool
}

// RequestMeta carries facts about the request, for audit and throttling.
type RequestMeta struct {
	IP        string
	UserAgent string
}

// CodeDelivery says where a code was sent, masked (Cognito's CodeDeliveryDetails).
type CodeDelivery struct {
	Destination    string // e.g. "j***@e***.com"
	DeliveryMedium string // "EMAIL"
	AttributeName  string // "email"
}

// SignUpInput is a self-service sign-up.
type SignUpInput struct {
	Client     Client
	Username   string
	Password   string
	Attributes map[string]string
	// ClientMetadata and ValidationData go to the pre_sign_up hook's event
	// as given (Cognito's clientMetadata and validationData): data for the
	// hook to judge, never stored.
	ClientMetadata map[string]string
	ValidationData map[string]string
	Meta           RequestMeta
}

// SignUpOutput is the result of SignUp.
type SignUpOutput struct {
	UserSub       string
	UserConfirmed bool
	CodeDelivery  *CodeDelivery
}

// ConfirmSignUpInput confirms a sign-up with the emailed code.
type ConfirmSignUpInput struct {
	Client   Client
	Username string
	Code     string
	Meta     RequestMeta
}

// InitiateAuthInput starts an authentication.
type InitiateAuthInput struct {
	Client       Client
	Flow         string // AuthUserPassword, AuthRefreshToken, ...
	Username     string
	Password     string
	RefreshToken string
	// Params carries the flow's other AuthParameters as the client sent
	// them (Cognito surface), e.g. SRP_A and DEVICE_KEY for USER_SRP_AUTH.
	// USERNAME, PASSWORD, REFRESH_TOKEN and SECRET_HASH are lifted into the
	// fields above and Client; the map may still hold them.
	Params map[string]string
	// Admin is true for AdminInitiateAuth (the caller has admin rights on
	// the pool); it allows ADMIN_* flows.
	Admin bool
	// ClientMetadata is passed to the user_migration hook.
	ClientMetadata map[string]string
	Meta           RequestMeta
	// RefreshCall names the Cognito operation a refresh came through
	// ("" elsewhere): a client with identity.RotationEnabled refuses
	// RefreshInitiateAuth, as AWS does, and lets RefreshGetTokens refresh
	// without ALLOW_REFRESH_TOKEN_AUTH (AWS tells such clients to turn
	// that flow off).
	RefreshCall string
}

// Cognito operations carrying a refresh (InitiateAuthInput.RefreshCall).
const (
	RefreshInitiateAuth = "InitiateAuth" // and AdminInitiateAuth
	RefreshGetTokens    = "GetTokensFromRefreshToken"
)

// Tokens are the result of a successful authentication.
type Tokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string // "" when not rotated/issued
	ExpiresIn    int    // seconds, of the access token
	TokenType    string // "Bearer"
	// Scope is the scope granted to the sign-in (space-separated): the
	// access token's scope claim before any PreTokenGeneration hook.
	Scope string
}

// Challenge asks the client for another step.
type Challenge struct {
	Name       string            // ChallengeNewPasswordRequired, ...
	Session    string            // opaque, signed, short-lived
	Parameters map[string]string // e.g. USER_ID_FOR_SRP, requiredAttributes
}

// AuthResult is either Tokens or a Challenge.
type AuthResult struct {
	Tokens    *Tokens
	Challenge *Challenge
	// AvailableChallenges lists the first factors the user may choose
	// (USER_AUTH's SELECT_CHALLENGE).
	AvailableChallenges []string
	// NewDevice is Cognito's NewDeviceMetadata, with tokens in a pool
	// that tracks devices (devices.go).
	NewDevice *NewDeviceMetadata
}

// RespondInput answers a challenge.
type RespondInput struct {
	Client        Client
	ChallengeName string
	Session       string
	Responses     map[string]string // USERNAME, NEW_PASSWORD, userAttributes.*
	Admin         bool
	Meta          RequestMeta
}

// ForgotPasswordInput starts a password reset.
type ForgotPasswordInput struct {
	Client   Client
	Username string
	// ClientMetadata is passed to the user_migration hook.
	ClientMetadata map[string]string
	// RefuseInvited is Cognito's rule: a user who has not yet replaced an
	// administrator's temporary password (FORCE_CHANGE_PASSWORD) cannot
	// ask for a reset code (not_authorized "User password cannot be reset
	// in the current state."). Without it (native API, hosted pages) an
	// invited user who lost the temporary password may reset it.
	RefuseInvited bool
	Meta          RequestMeta
}

// ConfirmForgotPasswordInput completes a password reset.
type ConfirmForgotPasswordInput struct {
	Client      Client
	Username    string
	Code        string
	NewPassword string
	Meta        RequestMeta
}

// AttributeUpdate is the answer to UpdateUserAttributes: where codes were
// sent (Cognito's CodeDeliveryDetailsList) and, when the new email waits
// for its code, that address (the verified one stays in force meanwhile).
type AttributeUpdate struct {
	CodeDeliveries []CodeDelivery
	PendingEmail   string
}

// UserView is a user with its groups, as returned to callers.
type UserView struct {
	User   *identity.User
	Groups []string
}

// CreatePoolInput creates or describes a pool. Zero fields take defaults.
type CreatePoolInput struct {
	Name                       string
	Region                     string // default "us-east-1"
	ID                         string // optional: a fixed id (apply, import)
	Domains                    []string
	BaseURL                    string
	UsernameMode               identity.UsernameMode
	UniqueEmail                bool
	PreventUserExistenceErrors bool
	AdminCreateUserOnly        bool
	PasswordPolicy             *identity.PasswordPolicy
	Schema                     []identity.AttributeDef
	Tokens                     identity.TokenLifetimes
	SigningAlg                 string
	MaxFailedAttempts          int
	LockoutDuration            time.Duration
	// EmailUpdateWithoutVerification: a user's new email takes effect at
	// once, unverified (identity.UserAttributeUpdateSettings; Cognito's
	// CreateUserPool default). False: it is pending until confirmed.
	EmailUpdateWithoutVerification bool
	// NoAutoVerify: sign-up sends no code (identity.PoolSettings.NoAutoVerify).
	NoAutoVerify bool
	// EmailRequired: sign-up and admin creation need an email
	// (identity.PoolSettings.EmailRequired).
	EmailRequired bool
	// MFA is the pool's second-factor policy (mfa.go).
	MFA identity.MFASettings
	// Tags label the pool (identity.PoolSettings.Tags; ValidateTags).
	Tags map[string]string
	// Hooks are the pool's webhooks, each with its secret set (NewHookSecret).
	Hooks identity.HookSettings
	// Devices is the pool's device tracking (devices.go).
	Devices identity.DeviceSettings
	// AccountRecovery is Cognito's AccountRecoverySetting
	// (identity.PoolSettings.AccountRecovery).
	AccountRecovery []identity.RecoveryMechanism
}

// CreateClientInput creates an app client.
type CreateClientInput struct {
	PoolID          string
	ID              string // optional: a fixed id (apply)
	Name            string
	GenerateSecret  bool
	AuthFlows       []string
	Tokens          identity.TokenLifetimes
	ReadAttributes  []string
	WriteAttributes []string
	CallbackURLs    []string
	LogoutURLs      []string
	OAuthFlows      []string
	OAuthScopes     []string
	// IDTokenSignedResponseAlg: "", "ES256" or "RS256" (see
	// identity.AppClient).
	IDTokenSignedResponseAlg string
	BackchannelLogoutURI     string
	// RefreshRotation and RefreshGraceSeconds (see identity.AppClient):
	// the zero value is Gatehouse's default, rotation with reuse
	// detection; the Cognito surface passes Cognito's (DISABLED) itself.
	RefreshRotation     identity.RefreshRotation
	RefreshGraceSeconds int
}

// CreatedClient returns the client and, once, its secret.
type CreatedClient struct {
	Client *identity.AppClient
	Secret string
}

// AdminCreateUserInput creates a user with a temporary password.
type AdminCreateUserInput struct {
	PoolID            string
	Username          string
	Attributes        map[string]string // may include "email", "email_verified"
	TemporaryPassword string            // generated when empty
	// MessageAction: "" sends the invitation, "SUPPRESS" sends nothing,
	// "RESEND" re-sends it to an existing FORCE_CHANGE_PASSWORD user.
	MessageAction string
	// ForceAliasCreation: in a pool where a verified email is an alias, a
	// verified email another user holds moves to the new user (the other
	// keeps it unverified and can no longer sign in with it), as Cognito's
	// ForceAliasCreation does; without it that is alias_exists.
	ForceAliasCreation bool
	// ClientMetadata and ValidationData go to the pre_sign_up hook's event
	// (PreSignUp_AdminCreateUser), as on Cognito.
	ClientMetadata map[string]string
	ValidationData map[string]string
}

// ListUsersInput lists users with an optional Cognito-syntax filter.
type ListUsersInput struct {
	PoolID string
	Filter string // e.g. `email ^= "jo"`; "" for all
	Limit  int    // 1..60, default 60
	Token  string
}

// ImportedUser is one line of a users export/import (JSON lines).
type ImportedUser struct {
	Sub           string            `json:"sub"`
	Username      string            `json:"username"`
	Email         string            `json:"email,omitempty"`
	EmailVerified bool              `json:"email_verified"`
	Status        string            `json:"status"`
	Enabled       bool              `json:"enabled"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Groups        []string          `json:"groups,omitempty"`
	// PasswordHash is an argon2id hash in PHC form, or a hash from another
	// system (bcrypt, Django's or Keycloak's PBKDF2, Firebase's scrypt,
	// argon2i; internal/password's foreign.go) verified and rehashed at
	// the next sign-in; users without one are imported as RESET_REQUIRED.
	PasswordHash string    `json:"password_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// page is a helper alias used by list methods.
type page = store.Page
