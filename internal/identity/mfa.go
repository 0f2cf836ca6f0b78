package identity

import "time"

// Factor types (user_factors.type). A passkey joins as FactorWebAuthn.
const (
	FactorTOTP     = "totp"
	FactorEmailOTP = "email_otp"
	FactorRecovery = "recovery"
	FactorWebAuthn = "webauthn"
)

// Factor is one second factor of a user (docs/mfa.md).
type Factor struct {
	PoolID string
	Sub    string
	ID     string
	Type   string // FactorTOTP, FactorEmailOTP, FactorRecovery, FactorWebAuthn
	Name   string // the device name a user gave (Cognito's FriendlyDeviceName)
	// Secret: a TOTP key sealed with the master key; a recovery code's
	// SHA-256; empty for email codes.
	Secret    string
	Confirmed bool // a TOTP factor is usable once a first code verified
	Enabled   bool // Cognito's <Factor>MfaSettings.Enabled
	Preferred bool // Cognito's <Factor>MfaSettings.PreferredMfa
	// LastStep is the last RFC 6238 time step accepted (a code is accepted
	// once).
	LastStep  int64
	UsedAt    time.Time // a spent recovery code
	CreatedAt time.Time
}

// Pool MFA configurations (Cognito's MfaConfiguration).
const (
	MFAOff      = "OFF"
	MFAOptional = "OPTIONAL"
	MFAOn       = "ON"
)

// MFASettings is a pool's MFA policy (Cognito's MfaConfiguration and the
// factors SetUserPoolMfaConfig enables).
type MFASettings struct {
	// Configuration: MFAOff (the default), MFAOptional (users who enabled
	// a factor are asked for it) or MFAOn (every user; a user without a
	// factor enrols at the next sign-in).
	Configuration string `json:"configuration,omitempty"`
	// SoftwareToken and Email: the factors users may use. TOTP is allowed
	// unless SoftwareTokenDisabled; email codes only with Email.
	SoftwareTokenDisabled bool `json:"software_token_disabled,omitempty"`
	Email                 bool `json:"email,omitempty"`
	// TrustUpstreamMFA: a federated sign-in whose upstream ID token says
	// "mfa" (or "otp", "hwk", "swk") in amr counts as MFA.
	TrustUpstreamMFA bool `json:"trust_upstream_mfa,omitempty"`
}

// Mode returns the configuration with the default filled in.
func (m MFASettings) Mode() string {
	if m.Configuration == "" {
		return MFAOff
	}
	return m.Configuration
}
