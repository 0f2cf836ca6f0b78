package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Pools (tenants), their custom attributes and signing keys.

// maxListLimit bounds ?limit= before the service applies its own bound.
const maxListLimit = 1000

// pageParams reads ?limit= and ?next_token=.
func pageParams(r *http.Request) (limit int, token string, err error) {
	if limit, err = form.QueryInt(r, "limit", 0, 1, maxListLimit); err != nil {
		return 0, "", err
	}
	token, err = form.QueryString(r, "next_token", 4096)
	return limit, token, err
}

func (a *API) listPools(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	pools, next, err := a.svc.ListPools(r.Context(), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(pools, next, a.pool))
}

type createPoolRequest struct {
	Name                       string                   `json:"name"`
	Region                     string                   `json:"region"`
	ID                         string                   `json:"id"`
	Domains                    []string                 `json:"domains"`
	BaseURL                    string                   `json:"base_url"`
	UsernameMode               string                   `json:"username_mode"`
	UniqueEmail                bool                     `json:"unique_email"`
	PreventUserExistenceErrors bool                     `json:"prevent_user_existence_errors"`
	AdminCreateUserOnly        bool                     `json:"admin_create_user_only"`
	PasswordPolicy             *identity.PasswordPolicy `json:"password_policy"`
	Schema                     []identity.AttributeDef  `json:"schema"`
	TokenLifetimes             tokenLifetimes           `json:"token_lifetimes"`
	SigningAlg                 string                   `json:"signing_alg"`
	MaxFailedAttempts          int                      `json:"max_failed_attempts"`
	LockoutDurationSeconds     int64                    `json:"lockout_duration_seconds"`
	// EmailUpdateWithoutVerification: see identity.UserAttributeUpdateSettings.
	EmailUpdateWithoutVerification bool `json:"email_update_without_verification"`
}

// maxLockoutSeconds bounds lockout_duration_seconds (one day).
const maxLockoutSeconds = 24 * 3600

func lockout(field string, s int64) (time.Duration, error) {
	if s < 0 || s > maxLockoutSeconds {
		return 0, identity.FieldError(field, "%s must be from 0 to %d.", field, maxLockoutSeconds)
	}
	return time.Duration(s) * time.Second, nil
}

func (a *API) createPool(w http.ResponseWriter, r *http.Request) error {
	// A partial password_policy is merged over the defaults.
	pp := identity.DefaultPasswordPolicy()
	req := createPoolRequest{PasswordPolicy: &pp}
	if err := a.decode(r, &req); err != nil {
		return err
	}
	toks, err := req.TokenLifetimes.domain("token_lifetimes")
	if err != nil {
		return err
	}
	lock, err := lockout("lockout_duration_seconds", req.LockoutDurationSeconds)
	if err != nil {
		return err
	}
	p, err := a.svc.CreatePool(r.Context(), auth.CreatePoolInput{
		Name: req.Name, Region: req.Region, ID: req.ID, Domains: req.Domains, BaseURL: req.BaseURL,
		UsernameMode: identity.UsernameMode(req.UsernameMode), UniqueEmail: req.UniqueEmail,
		PreventUserExistenceErrors: req.PreventUserExistenceErrors, AdminCreateUserOnly: req.AdminCreateUserOnly,
		PasswordPolicy: req.PasswordPolicy, Schema: req.Schema, Tokens: toks, SigningAlg: req.SigningAlg,
		MaxFailedAttempts: req.MaxFailedAttempts, LockoutDuration: lock,
		EmailUpdateWithoutVerification: req.EmailUpdateWithoutVerification,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a.pool(p))
}

func (a *API) getPool(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.pool(p))
}

// updatePoolRequest is a merge patch: absent fields keep their value;
// password_policy and token_lifetimes merge field by field. id, region,
// username_mode, unique_email and schema cannot change here (schema grows
// through custom-attributes).
type updatePoolRequest struct {
	Name                           *string                  `json:"name"`
	Domains                        *[]string                `json:"domains"`
	BaseURL                        *string                  `json:"base_url"`
	PreventUserExistenceErrors     *bool                    `json:"prevent_user_existence_errors"`
	AdminCreateUserOnly            *bool                    `json:"admin_create_user_only"`
	PasswordPolicy                 *identity.PasswordPolicy `json:"password_policy"`
	TokenLifetimes                 *tokenLifetimes          `json:"token_lifetimes"`
	SigningAlg                     *string                  `json:"signing_alg"`
	MaxFailedAttempts              *int                     `json:"max_failed_attempts"`
	LockoutDurationSeconds         *int64                   `json:"lockout_duration_seconds"`
	EmailUpdateWithoutVerification *bool                    `json:"email_update_without_verification"`
}

func (a *API) updatePool(w http.ResponseWriter, r *http.Request) error {
	// The body is decoded over the current values (merge semantics).
	p, err := a.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	pp := p.PasswordPolicy
	tl := lifetimes(p.Tokens)
	req := updatePoolRequest{PasswordPolicy: &pp, TokenLifetimes: &tl}
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if req.Name != nil {
		p.Name = *req.Name
	}
	if req.Domains != nil {
		p.Domains = *req.Domains
	}
	if req.BaseURL != nil {
		p.BaseURL = *req.BaseURL
	}
	if req.PreventUserExistenceErrors != nil {
		p.PreventUserExistenceErrors = *req.PreventUserExistenceErrors
	}
	if req.AdminCreateUserOnly != nil {
		p.AdminCreateUserOnly = *req.AdminCreateUserOnly
	}
	if req.PasswordPolicy == nil {
		return identity.FieldError("password_policy", "password_policy may not be null.")
	}
	p.PasswordPolicy = *req.PasswordPolicy
	if req.TokenLifetimes == nil {
		return identity.FieldError("token_lifetimes", "token_lifetimes may not be null.")
	}
	if p.Tokens, err = req.TokenLifetimes.domain("token_lifetimes"); err != nil {
		return err
	}
	if req.SigningAlg != nil {
		p.SigningAlg = *req.SigningAlg
	}
	if req.MaxFailedAttempts != nil {
		p.MaxFailedAttempts = *req.MaxFailedAttempts
	}
	if req.LockoutDurationSeconds != nil {
		if p.LockoutDuration, err = lockout("lockout_duration_seconds", *req.LockoutDurationSeconds); err != nil {
			return err
		}
	}
	if req.EmailUpdateWithoutVerification != nil {
		p.Settings.UserAttributeUpdate.EmailWithoutVerification = *req.EmailUpdateWithoutVerification
	}
	p, err = a.svc.UpdatePool(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.pool(p))
}

func (a *API) deletePool(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeletePool(r.Context(), r.PathValue("pool")); err != nil {
		return err
	}
	return noContent(w)
}

type customAttributesRequest struct {
	Attributes []identity.AttributeDef `json:"attributes"`
}

func (a *API) addCustomAttributes(w http.ResponseWriter, r *http.Request) error {
	var req customAttributesRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if len(req.Attributes) == 0 {
		return identity.FieldError("attributes", "attributes must list at least one attribute.")
	}
	if err := a.svc.AddCustomAttributes(r.Context(), r.PathValue("pool"), req.Attributes); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) rotateKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.svc.RotateSigningKey(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, signingKey(k))
}
