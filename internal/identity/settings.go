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
	// Retention: how long the pool's audit events, emails, jobs and
	// decided registrations are kept (retention.go).
	Retention RetentionSettings `json:"retention,omitzero"`
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
