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
	// WebAuthn: the passkey relying party settings (Cognito's
	// WebAuthnConfiguration); nil = Gatehouse's defaults. On a change, nil
	// leaves the pool's settings as they are.
	WebAuthn *WebAuthnSettings `json:"webauthn,omitempty"`
}

// User verification requirements of a pool's passkey ceremonies
// (WebAuthn's UserVerificationRequirement).
const (
	UserVerificationRequired  = "required"
	UserVerificationPreferred = "preferred"
)

// WebAuthnSettings are a pool's passkey relying party settings.
type WebAuthnSettings struct {
	// RelyingPartyID: the RP ID of every ceremony, the host of the pool's
	// base URL or domain or a parent domain of it; "" = the host of the
	// origin the ceremony runs on.
	RelyingPartyID string `json:"relying_party_id,omitempty"`
	// UserVerification: UserVerificationRequired (the default, "") or
	// UserVerificationPreferred (an authenticator that does not verify its
	// user is accepted, and such a sign-in is one factor).
	UserVerification string `json:"user_verification,omitempty"`
}

// UV returns the user verification requirement with the default filled in.
func (w *WebAuthnSettings) UV() string {
	if w == nil || w.UserVerification == "" {
		return UserVerificationRequired
	}
	return w.UserVerification
}

// RPID returns the configured relying party id ("" = none).
func (w *WebAuthnSettings) RPID() string {
	if w == nil {
		return ""
	}
	return w.RelyingPartyID
}

// Mode returns the configuration with the default filled in.
func (m MFASettings) Mode() string {
	if m.Configuration == "" {
		return MFAOff
	}
	return m.Configuration
}
