package identity

// PoolSettings holds a pool's policy documents: how people sign up and which
// webhooks the pool calls. The store keeps it as one JSON value, so adding a
// setting needs no migration; each part validates itself in the auth service.
type PoolSettings struct {
	SignUp SignUpPolicy `json:"sign_up"`
	Hooks  HookSettings `json:"hooks"`
	SRP    SRPSettings  `json:"srp"`
	// Theme styles the pool's hosted pages (theme.go).
	Theme Theme `json:"theme,omitzero"`
	// Console configures the admin console (console.go).
	Console ConsoleSettings `json:"console,omitzero"`
	// IdentityProviders are the pool's upstream identity providers
	// (federation.go, docs/federation.md).
	IdentityProviders []IdentityProvider `json:"identity_providers,omitempty"`
	// UserAttributeUpdate says when a user's new email takes effect
	// (Cognito's UserAttributeUpdateSettings).
	UserAttributeUpdate UserAttributeUpdateSettings `json:"user_attribute_update,omitzero"`
	// MFA is the pool's second-factor policy (mfa.go, docs/mfa.md).
	MFA MFASettings `json:"mfa,omitzero"`
	// AllowedFirstAuthFactors is Cognito's SignInPolicy: the first
	// factors USER_AUTH offers (PASSWORD, EMAIL_OTP, WEB_AUTHN). Empty:
	// PASSWORD and WEB_AUTHN (Gatehouse's default, passkeys on in every
	// pool); EMAIL_OTP only when listed.
	AllowedFirstAuthFactors []string `json:"allowed_first_auth_factors,omitempty"`
	// Tags are the pool's resource tags (Cognito's UserPoolTags,
	// TagResource): labels for the operator, with no effect on behaviour.
	Tags map[string]string `json:"tags,omitempty"`
	// NoAutoVerify: a pool made or updated through the Cognito API without
	// AutoVerifiedAttributes sends no code at sign-up (the user stays
	// UNCONFIRMED until an admin confirms it), as Cognito does. False (every
	// other pool): sign-up emails a code.
	NoAutoVerify bool `json:"no_auto_verify,omitempty"`
	// EmailRequired: the Cognito API's CreateUserPool marked the standard
	// email attribute Required in its Schema, so SignUp and
	// AdminCreateUser without an email are refused, as Cognito refuses
	// them (pools where the email is the username always have one).
	EmailRequired bool `json:"email_required,omitempty"`
	// UserPoolDomain is the Cognito API's domain of the pool
	// (CreateUserPoolDomain): a prefix, whose host <prefix>.<suffix> is
	// in Pool.Domains, and a custom domain (itself in Pool.Domains) with
	// the certificate ARN it was given.
	UserPoolDomain UserPoolDomain `json:"user_pool_domain,omitzero"`
	// ResourceServers name the pool's custom scopes ("<identifier>/<scope>",
	// for client_credentials), as Cognito's resource servers do.
	ResourceServers []ResourceServer `json:"resource_servers,omitempty"`
	// Retention: how long the pool's audit events, emails, jobs and
	// decided registrations are kept (retention.go).
	Retention RetentionSettings `json:"retention,omitzero"`
	// Devices is the pool's device tracking (Cognito's DeviceConfiguration,
	// device.go).
	Devices DeviceSettings `json:"devices,omitzero"`
	// AccountRecovery is Cognito's AccountRecoverySetting as CreateUserPool
	// or UpdateUserPool gave it; empty when not given (Cognito's legacy
	// choice, which for Gatehouse means the verified email).
	AccountRecovery []RecoveryMechanism `json:"account_recovery,omitempty"`
}

// RecoveryMechanism is one of Cognito's account recovery mechanisms:
// Name "verified_email", "verified_phone_number" or "admin_only", with its
// Priority (1 first).
type RecoveryMechanism struct {
	Name     string `json:"name"`
	Priority int    `json:"priority"`
}

// RecoveryAdminOnly names the mechanism that turns self-service password
// recovery off: only an administrator resets a password.
const RecoveryAdminOnly = "admin_only"

// AdminOnlyRecovery reports whether the pool allows no self-service
// password recovery (AccountRecoverySetting admin_only): ForgotPassword is
// refused, an administrator's reset still works.
func (s PoolSettings) AdminOnlyRecovery() bool {
	for _, m := range s.AccountRecovery {
		if m.Name == RecoveryAdminOnly {
			return true
		}
	}
	return false
}

// ResourceServer is an API whose scopes app clients may be granted.
type ResourceServer struct {
	Identifier string                `json:"identifier"`
	Name       string                `json:"name"`
	Scopes     []ResourceServerScope `json:"scopes,omitempty"`
}

// ResourceServerScope is one scope of a resource server.
type ResourceServerScope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// UserPoolDomain records the domains the Cognito API gave the pool.
type UserPoolDomain struct {
	Prefix         string `json:"prefix,omitempty"`
	PrefixHost     string `json:"prefix_host,omitempty"`
	Custom         string `json:"custom,omitempty"`
	CertificateARN string `json:"certificate_arn,omitempty"`
}

// UserAttributeUpdateSettings says how a user's change of their own email
// takes effect.
type UserAttributeUpdateSettings struct {
	// EmailWithoutVerification: the new email replaces the old one at
	// once, unverified (Cognito's behaviour when
	// AttributesRequireVerificationBeforeUpdate does not name email, as
	// for a pool made by CreateUserPool without it). False, Gatehouse's
	// default: a verified email stays in force until the code sent to the
	// new address is confirmed (User.PendingEmail).
	EmailWithoutVerification bool `json:"email_without_verification,omitempty"`
}

// SRPSettings controls Cognito's SRP sign-in (USER_SRP_AUTH). With SRP on
// (the default, as on Cognito) an SRP verifier is stored beside each
// password hash when the password is set; a verifier allows an offline
// guessing attack far cheaper than argon2id (one modular exponentiation per
// guess), so a pool that does not need SRP can turn it off: no verifiers are
// stored and USER_SRP_AUTH is refused.
type SRPSettings struct {
	Disabled bool `json:"disabled,omitempty"`
}
