package cognito

import (
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Second factors (docs/mfa.md): TOTP enrolment, the users' preferences and
// the pool's MFA configuration. The challenges themselves go through
// RespondToAuthChallenge.

// mfaSettingsType is Cognito's SoftwareTokenMfaSettingsType /
// EmailMfaSettingsType / SMSMfaSettingsType.
type mfaSettingsType struct {
	Enabled      bool
	PreferredMfa bool
}

func (m *mfaSettingsType) pref() *auth.FactorPreference {
	if m == nil {
		return nil
	}
	return &auth.FactorPreference{Enabled: m.Enabled, Preferred: m.PreferredMfa}
}

func (h *Handler) associateSoftwareToken(c *call) (any, error) {
	var in struct{ AccessToken, Session string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out, err := h.svc.AssociateSoftwareToken(c.ctx, auth.MFAAuth{AccessToken: in.AccessToken, Session: in.Session})
	if err != nil {
		return nil, err
	}
	return struct {
		SecretCode string
		Session    string `json:",omitempty"`
	}{out.SecretCode, out.Session}, nil
}

func (h *Handler) verifySoftwareToken(c *call) (any, error) {
	var in struct{ AccessToken, Session, UserCode, FriendlyDeviceName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	session, err := h.svc.VerifySoftwareToken(c.ctx, auth.VerifyTOTPInput{MFAAuth: auth.MFAAuth{AccessToken: in.AccessToken, Session: in.Session},
		Code: in.UserCode, DeviceName: in.FriendlyDeviceName})
	if err != nil {
		return nil, err
	}
	return struct {
		Status  string
		Session string `json:",omitempty"`
	}{"SUCCESS", session}, nil
}

// mfaPreferenceInput is what SetUserMFAPreference and
// AdminSetUserMFAPreference share.
type mfaPreferenceInput struct {
	AccessToken              string // SetUserMFAPreference
	UserPoolId, Username     string // AdminSetUserMFAPreference
	SMSMfaSettings           *mfaSettingsType
	SoftwareTokenMfaSettings *mfaSettingsType
	EmailMfaSettings         *mfaSettingsType
}

func (in *mfaPreferenceInput) preference() (auth.MFAPreference, error) {
	if s := in.SMSMfaSettings; s != nil && (s.Enabled || s.PreferredMfa) {
		return auth.MFAPreference{}, identity.FieldError("SMSMfaSettings", "SMS MFA is not supported by Gatehouse (docs/cognito.md).")
	}
	return auth.MFAPreference{SoftwareToken: in.SoftwareTokenMfaSettings.pref(), Email: in.EmailMfaSettings.pref()}, nil
}

func (h *Handler) setUserMFAPreference(c *call) (any, error) {
	return h.mfaPreference(c, func(in *mfaPreferenceInput, pref auth.MFAPreference) error {
		return h.svc.SetUserMFAPreference(c.ctx, in.AccessToken, pref)
	})
}

func (h *Handler) adminSetUserMFAPreference(c *call) (any, error) {
	return h.mfaPreference(c, func(in *mfaPreferenceInput, pref auth.MFAPreference) error {
		return h.svc.AdminSetUserMFAPreference(c.ctx, in.UserPoolId, in.Username, pref)
	})
}

// mfaPreference decodes (Admin)SetUserMFAPreference and calls set.
func (h *Handler) mfaPreference(c *call, set func(in *mfaPreferenceInput, pref auth.MFAPreference) error) (any, error) {
	var in mfaPreferenceInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	pref, err := in.preference()
	if err != nil {
		return nil, err
	}
	return struct{}{}, set(&in, pref)
}

// poolMfaConfig is SetUserPoolMfaConfig's request and answer (and
// GetUserPoolMfaConfig's answer).
type poolMfaConfig struct {
	MfaConfiguration              string                             `json:",omitempty"`
	SoftwareTokenMfaConfiguration *struct{ Enabled bool }            `json:",omitempty"`
	EmailMfaConfiguration         *struct{ Message, Subject string } `json:",omitempty"`
	SmsMfaConfiguration           map[string]any                     `json:",omitempty"`
	WebAuthnConfiguration         *webAuthnConfiguration             `json:",omitempty"`
}

// webAuthnConfiguration is Cognito's WebAuthnConfigurationType.
// FactorConfiguration is always MULTI_FACTOR_WITH_USER_VERIFICATION in
// Gatehouse: a passkey that verified its user counts as MFA
// (docs/mfa.md "How passkeys plug in").
type webAuthnConfiguration struct {
	RelyingPartyId      *string `json:",omitempty"`
	UserVerification    string  `json:",omitempty"`
	FactorConfiguration string  `json:",omitempty"`
}

const factorMultiWithUV = "MULTI_FACTOR_WITH_USER_VERIFICATION"

func toPoolMfaConfig(m *auth.PoolMFAConfig) poolMfaConfig {
	out := poolMfaConfig{MfaConfiguration: m.Mode(), SoftwareTokenMfaConfiguration: &struct{ Enabled bool }{!m.SoftwareTokenDisabled},
		WebAuthnConfiguration: &webAuthnConfiguration{UserVerification: m.WebAuthn.UV(), FactorConfiguration: factorMultiWithUV}}
	if rp := m.WebAuthn.RPID(); rp != "" {
		out.WebAuthnConfiguration.RelyingPartyId = &rp
	}
	if m.Email {
		out.EmailMfaConfiguration = &struct{ Message, Subject string }{}
	}
	return out
}

func (h *Handler) getUserPoolMfaConfig(c *call) (any, error) {
	var in struct{ UserPoolId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	m, err := h.svc.GetPoolMFA(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	return toPoolMfaConfig(m), nil
}

func (h *Handler) setUserPoolMfaConfig(c *call) (any, error) {
	var in struct {
		UserPoolId string
		poolMfaConfig
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if len(in.SmsMfaConfiguration) > 0 {
		return nil, identity.FieldError("SmsMfaConfiguration", "SMS MFA is not supported by Gatehouse (docs/cognito.md).")
	}
	m, err := h.svc.GetPoolMFA(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	m.WebAuthn = nil // left out: unchanged
	if w := in.WebAuthnConfiguration; w != nil {
		switch w.FactorConfiguration {
		case "", factorMultiWithUV:
		case "SINGLE_FACTOR":
			return nil, identity.FieldError("WebAuthnConfiguration.FactorConfiguration",
				"FactorConfiguration SINGLE_FACTOR is not supported by Gatehouse: a passkey that verifies its user counts as MFA (docs/cognito.md).")
		default:
			return nil, identity.FieldError("WebAuthnConfiguration.FactorConfiguration",
				"1 validation error detected: Value at 'webAuthnConfiguration.factorConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [SINGLE_FACTOR, MULTI_FACTOR_WITH_USER_VERIFICATION]")
		}
		if w.UserVerification != "" && w.UserVerification != identity.UserVerificationRequired && w.UserVerification != identity.UserVerificationPreferred {
			return nil, identity.FieldError("WebAuthnConfiguration.UserVerification",
				"1 validation error detected: Value at 'webAuthnConfiguration.userVerification' failed to satisfy constraint: Member must satisfy enum value set: [required, preferred]")
		}
		m.WebAuthn = &identity.WebAuthnSettings{UserVerification: w.UserVerification}
		if w.RelyingPartyId != nil {
			m.WebAuthn.RelyingPartyID = *w.RelyingPartyId
		}
	}
	if in.MfaConfiguration != "" {
		m.Configuration = in.MfaConfiguration
	}
	if in.SoftwareTokenMfaConfiguration != nil {
		m.SoftwareTokenDisabled = !in.SoftwareTokenMfaConfiguration.Enabled
	}
	// Email codes are on while EmailMfaConfiguration is sent (Gatehouse's
	// mfa_code template is the message; a pool's template override
	// replaces it); software tokens stay as they are unless named.
	m.Email = in.EmailMfaConfiguration != nil
	m, err = h.svc.SetPoolMFA(c.ctx, in.UserPoolId, *m)
	if err != nil {
		return nil, err
	}
	return toPoolMfaConfig(m), nil
}

// userMFAFields are the MFA members of GetUser and AdminGetUser.
type userMFAFields struct {
	UserMFASettingList  []string `json:",omitempty"`
	PreferredMfaSetting string   `json:",omitempty"`
}

func toUserMFAFields(v *auth.UserMFA) userMFAFields {
	return userMFAFields{UserMFASettingList: v.Settings, PreferredMfaSetting: v.Preferred}
}
