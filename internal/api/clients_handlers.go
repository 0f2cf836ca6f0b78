package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// App clients. The client secret is returned only by create (with
// generate_secret) and by POST .../secret; reads show has_secret.

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	cs, next, err := a.svc.ListClients(r.Context(), r.PathValue("pool"), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(cs, next, appClient))
}

type createClientRequest struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	GenerateSecret  bool           `json:"generate_secret"`
	AuthFlows       []string       `json:"auth_flows"`
	TokenLifetimes  tokenLifetimes `json:"token_lifetimes"`
	ReadAttributes  []string       `json:"read_attributes"`
	WriteAttributes []string       `json:"write_attributes"`
	CallbackURLs    []string       `json:"callback_urls"`
	LogoutURLs      []string       `json:"logout_urls"`
	OAuthFlows      []string       `json:"oauth_flows"`
	OAuthScopes     []string       `json:"oauth_scopes"`
	// OpenID Connect client metadata (Dynamic Client Registration §2,
	// Back-Channel Logout §2.2).
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI     string `json:"backchannel_logout_uri"`
	// Refresh token rotation: on unless false (Gatehouse's default).
	RefreshTokenRotation   *bool `json:"refresh_token_rotation"`
	RefreshTokenRetryGrace int   `json:"refresh_token_retry_grace_seconds"`
}

func (a *API) createClient(w http.ResponseWriter, r *http.Request) error {
	var req createClientRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	toks, err := req.TokenLifetimes.domain("token_lifetimes")
	if err != nil {
		return err
	}
	rotation := identity.RotationAlways
	if req.RefreshTokenRotation != nil && !*req.RefreshTokenRotation {
		rotation = identity.RotationDisabled
	}
	cc, err := a.svc.CreateClient(r.Context(), auth.CreateClientInput{
		PoolID: r.PathValue("pool"), ID: req.ID, Name: req.Name, GenerateSecret: req.GenerateSecret,
		AuthFlows: req.AuthFlows, Tokens: toks, ReadAttributes: req.ReadAttributes, WriteAttributes: req.WriteAttributes,
		CallbackURLs: req.CallbackURLs, LogoutURLs: req.LogoutURLs, OAuthFlows: req.OAuthFlows, OAuthScopes: req.OAuthScopes,
		IDTokenSignedResponseAlg: req.IDTokenSignedResponseAlg, BackchannelLogoutURI: req.BackchannelLogoutURI,
		RefreshRotation:     rotation,
		RefreshGraceSeconds: req.RefreshTokenRetryGrace,
	})
	if err != nil {
		return err
	}
	v := appClient(cc.Client)
	v.ClientSecret = cc.Secret
	return writeJSON(w, http.StatusCreated, v)
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetClient(r.Context(), r.PathValue("pool"), r.PathValue("client"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, appClient(c))
}

// updateClientRequest is a merge patch; absent fields keep their value.
type updateClientRequest struct {
	Name            *string         `json:"name"`
	AuthFlows       *[]string       `json:"auth_flows"`
	TokenLifetimes  *tokenLifetimes `json:"token_lifetimes"`
	ReadAttributes  *[]string       `json:"read_attributes"`
	WriteAttributes *[]string       `json:"write_attributes"`
	CallbackURLs    *[]string       `json:"callback_urls"`
	LogoutURLs      *[]string       `json:"logout_urls"`
	OAuthFlows      *[]string       `json:"oauth_flows"`
	OAuthScopes     *[]string       `json:"oauth_scopes"`

	IDTokenSignedResponseAlg *string `json:"id_token_signed_response_alg"`
	BackchannelLogoutURI     *string `json:"backchannel_logout_uri"`
	RefreshTokenRotation     *bool   `json:"refresh_token_rotation"`
	RefreshTokenRetryGrace   *int    `json:"refresh_token_retry_grace_seconds"`
}

func (a *API) updateClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetClient(r.Context(), r.PathValue("pool"), r.PathValue("client"))
	if err != nil {
		return err
	}
	tl := lifetimes(c.Tokens)
	req := updateClientRequest{TokenLifetimes: &tl}
	if err := a.decode(r, &req); err != nil {
		return err
	}
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = *src
		}
	}
	if req.Name != nil {
		c.Name = *req.Name
	}
	set(&c.AuthFlows, req.AuthFlows)
	set(&c.ReadAttributes, req.ReadAttributes)
	set(&c.WriteAttributes, req.WriteAttributes)
	set(&c.CallbackURLs, req.CallbackURLs)
	set(&c.LogoutURLs, req.LogoutURLs)
	set(&c.OAuthFlows, req.OAuthFlows)
	set(&c.OAuthScopes, req.OAuthScopes)
	if req.IDTokenSignedResponseAlg != nil {
		c.IDTokenSignedResponseAlg = *req.IDTokenSignedResponseAlg
	}
	if req.BackchannelLogoutURI != nil {
		c.BackchannelLogoutURI = *req.BackchannelLogoutURI
	}
	if req.RefreshTokenRotation != nil {
		c.SetRotates(*req.RefreshTokenRotation)
	}
	if req.RefreshTokenRetryGrace != nil {
		c.RefreshGraceSeconds = *req.RefreshTokenRetryGrace
	}
	if req.TokenLifetimes == nil {
		return identity.FieldError("token_lifetimes", "token_lifetimes may not be null.")
	}
	if c.Tokens, err = req.TokenLifetimes.domain("token_lifetimes"); err != nil {
		return err
	}
	c, err = a.svc.UpdateClient(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, appClient(c))
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteClient(r.Context(), r.PathValue("pool"), r.PathValue("client")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) regenerateClientSecret(w http.ResponseWriter, r *http.Request) error {
	cc, err := a.svc.RegenerateClientSecret(r.Context(), r.PathValue("pool"), r.PathValue("client"))
	if err != nil {
		return err
	}
	v := appClient(cc.Client)
	v.ClientSecret = cc.Secret
	return writeJSON(w, http.StatusOK, v)
}
