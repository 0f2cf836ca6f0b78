package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Second factors (docs/mfa.md): the caller's own factors, the enrolment
// during a sign-in that requires it (MFA_SETUP, with the challenge's
// session), an administrator's view and reset, the pool's policy and a
// company's requirement.

type factorView struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Name      string     `json:"name,omitempty"`
	Confirmed bool       `json:"confirmed"`
	Enabled   bool       `json:"enabled"`
	Preferred bool       `json:"preferred"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

type mfaView struct {
	// EnabledFactors: Cognito's UserMFASettingList.
	EnabledFactors    []string     `json:"enabled_factors"`
	Preferred         string       `json:"preferred,omitempty"`
	Factors           []factorView `json:"factors"`
	RecoveryCodesLeft int          `json:"recovery_codes_left"`
}

func userMFA(v *auth.UserMFA) mfaView {
	out := mfaView{EnabledFactors: v.Settings, Preferred: v.Preferred, Factors: []factorView{}, RecoveryCodesLeft: v.RecoveryCodesLeft}
	if out.EnabledFactors == nil {
		out.EnabledFactors = []string{}
	}
	for _, f := range v.Factors {
		out.Factors = append(out.Factors, factorView{ID: f.ID, Type: f.Type, Name: f.Name, Confirmed: f.Confirmed,
			Enabled: f.Enabled, Preferred: f.Preferred, CreatedAt: tsp(f.CreatedAt)})
	}
	return out
}

func (a *API) getMyMFA(w http.ResponseWriter, r *http.Request, tok string) error {
	v, err := a.svc.GetUserMFA(r.Context(), tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userMFA(v))
}

type totpSetupView struct {
	Secret  string `json:"secret"`
	URI     string `json:"otpauth_uri"`
	Session string `json:"session,omitempty"`
}

func (a *API) associateMyTOTP(w http.ResponseWriter, r *http.Request, tok string) error {
	s, err := a.svc.AssociateSoftwareToken(r.Context(), auth.MFAAuth{AccessToken: tok})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, totpSetupView{s.SecretCode, s.URI, ""})
}

type verifyTOTPRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
}

func (a *API) verifyMyTOTP(w http.ResponseWriter, r *http.Request, tok string) error {
	var req verifyTOTPRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if _, err := a.svc.VerifySoftwareToken(r.Context(), auth.VerifyTOTPInput{MFAAuth: auth.MFAAuth{AccessToken: tok},
		Code: req.Code, DeviceName: req.DeviceName}); err != nil {
		return err
	}
	return noContent(w)
}

type factorPreference struct {
	Enabled   bool `json:"enabled"`
	Preferred bool `json:"preferred"`
}

type mfaPreferenceRequest struct {
	SoftwareToken *factorPreference `json:"software_token"`
	Email         *factorPreference `json:"email"`
}

func (p *factorPreference) pref() *auth.FactorPreference {
	if p == nil {
		return nil
	}
	return &auth.FactorPreference{Enabled: p.Enabled, Preferred: p.Preferred}
}

func (req *mfaPreferenceRequest) preference() auth.MFAPreference {
	return auth.MFAPreference{SoftwareToken: req.SoftwareToken.pref(), Email: req.Email.pref()}
}

func (a *API) setMyMFAPreference(w http.ResponseWriter, r *http.Request, tok string) error {
	var req mfaPreferenceRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.SetUserMFAPreference(r.Context(), tok, req.preference()); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) removeMyFactor(w http.ResponseWriter, r *http.Request, tok string) error {
	if err := a.svc.RemoveFactor(r.Context(), tok, r.PathValue("factor")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) newMyRecoveryCodes(w http.ResponseWriter, r *http.Request, tok string) error {
	codes, err := a.svc.GenerateRecoveryCodes(r.Context(), tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

// Enrolment during a sign-in (the MFA_SETUP challenge's session).

type setupRequest struct {
	clientCreds
	Session string `json:"session"`
	Code    string `json:"code"`
}

func (a *API) setupTOTP(verify bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req setupRequest
		if err := a.decode(r, &req); err != nil {
			return err
		}
		c, err := client(r, req.clientCreds)
		if err != nil {
			return err
		}
		m := auth.MFAAuth{Client: c, Session: req.Session}
		if !verify {
			s, err := a.svc.AssociateSoftwareToken(r.Context(), m)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusOK, totpSetupView{s.SecretCode, s.URI, s.Session})
		}
		session, err := a.svc.VerifySoftwareToken(r.Context(), auth.VerifyTOTPInput{MFAAuth: m, Code: req.Code})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]string{"session": session})
	}
}

// Administration.

func (a *API) getUserMFA(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.AdminGetUserMFA(r.Context(), r.PathValue("pool"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userMFA(v))
}

func (a *API) resetUserMFA(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminResetUserMFA(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) setUserMFAPreference(w http.ResponseWriter, r *http.Request) error {
	var req mfaPreferenceRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.AdminSetUserMFAPreference(r.Context(), r.PathValue("pool"), r.PathValue("username"), req.preference()); err != nil {
		return err
	}
	return noContent(w)
}

type poolMFAView struct {
	Configuration    string `json:"configuration"`
	SoftwareToken    bool   `json:"software_token"`
	Email            bool   `json:"email"`
	TrustUpstreamMFA bool   `json:"trust_upstream_mfa"`
}

func poolMFA(m *auth.PoolMFAConfig) poolMFAView {
	return poolMFAView{m.Mode(), !m.SoftwareTokenDisabled, m.Email, m.TrustUpstreamMFA}
}

func (a *API) getPoolMFA(w http.ResponseWriter, r *http.Request) error {
	m, err := a.svc.GetPoolMFA(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, poolMFA(m))
}

type poolMFARequest struct {
	Configuration    string `json:"configuration"`
	SoftwareToken    *bool  `json:"software_token"`
	Email            bool   `json:"email"`
	TrustUpstreamMFA bool   `json:"trust_upstream_mfa"`
}

func (a *API) putPoolMFA(w http.ResponseWriter, r *http.Request) error {
	var req poolMFARequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if req.Configuration == "" {
		return identity.FieldError("configuration", "The configuration (OFF, OPTIONAL or ON) is required.")
	}
	m := auth.PoolMFAConfig{Configuration: req.Configuration, Email: req.Email, TrustUpstreamMFA: req.TrustUpstreamMFA}
	if req.SoftwareToken != nil {
		m.SoftwareTokenDisabled = !*req.SoftwareToken
	}
	out, err := a.svc.SetPoolMFA(r.Context(), r.PathValue("pool"), m)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, poolMFA(out))
}

type requireMFARequest struct {
	RequireMFA *bool `json:"require_mfa"`
}

func (a *API) setCompanyRequireMFA(w http.ResponseWriter, r *http.Request) error {
	var req requireMFARequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if req.RequireMFA == nil {
		return identity.FieldError("require_mfa", "require_mfa (true or false) is required.")
	}
	if err := a.svc.SetCompanyRequireMFA(r.Context(), r.PathValue("pool"), r.PathValue("company"), *req.RequireMFA); err != nil {
		return err
	}
	c, err := a.svc.GetCompany(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, company(c))
}
