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
	// Tags are the pool's resource tags (Cognito's UserPoolTags,
	// TagResource): labels for the operator, with no effect on behaviour.
	Tags map[string]string `json:"tags,omitempty"`
	// NoAutoVerify: a pool made or updated through the Cognito API without
	// AutoVerifiedAttributes sends no code at sign-up (the user stays
	// UNCONFIRMED until an admin confirms it), as Cognito does. False (every
	// other pool): sign-up emails a code.
	NoAutoVerify bool `json:"no_auto_verify,omitempty"`
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
