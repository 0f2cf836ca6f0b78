package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A pool's upstream identity providers (docs/federation.md). Client
// secrets are write-only: sealed with the master key, never returned.

type idpView struct {
	Name             string            `json:"name"`
	Type             string            `json:"type"`
	Issuer           string            `json:"issuer,omitempty"`
	ClientID         string            `json:"client_id"`
	HasClientSecret  bool              `json:"has_client_secret"`
	Scopes           []string          `json:"scopes,omitempty"`
	AttributeMapping map[string]string `json:"attribute_mapping,omitempty"`
	AuthURL          string            `json:"auth_url,omitempty"`
	TokenURL         string            `json:"token_url,omitempty"`
	GraphURL         string            `json:"graph_url,omitempty"`
}

func idp(ip identity.IdentityProvider) idpView {
	return idpView{Name: ip.Name, Type: ip.Type, Issuer: ip.Issuer, ClientID: ip.ClientID, HasClientSecret: ip.ClientSecretSealed != "",
		Scopes: ip.Scopes, AttributeMapping: ip.AttributeMapping, AuthURL: ip.AuthURL, TokenURL: ip.TokenURL, GraphURL: ip.GraphURL}
}

func (a *API) listIdentityProviders(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	out := []idpView{}
	for _, ip := range p.Settings.IdentityProviders {
		out = append(out, idp(ip))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"identity_providers": out, "redirect_uri": a.svc.FederationCallbackURL(p)})
}

type putIDPRequest struct {
	Type             string            `json:"type"`
	Issuer           string            `json:"issuer"`
	ClientID         string            `json:"client_id"`
	ClientSecret     string            `json:"client_secret"`
	Scopes           []string          `json:"scopes"`
	AttributeMapping map[string]string `json:"attribute_mapping"`
	AuthURL          string            `json:"auth_url"`
	TokenURL         string            `json:"token_url"`
	GraphURL         string            `json:"graph_url"`
}

func (a *API) putIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	var req putIDPRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	p, err := a.svc.SetIdentityProvider(r.Context(), r.PathValue("pool"), identity.IdentityProvider{Name: name, Type: req.Type,
		Issuer: req.Issuer, ClientID: req.ClientID, Scopes: req.Scopes, AttributeMapping: req.AttributeMapping,
		AuthURL: req.AuthURL, TokenURL: req.TokenURL, GraphURL: req.GraphURL}, req.ClientSecret)
	if err != nil {
		return err
	}
	for _, ip := range p.Settings.IdentityProviders {
		if ip.Name == name {
			return writeJSON(w, http.StatusOK, idp(ip))
		}
	}
	return identity.Errorf(identity.CodeInternal, "provider %s not stored", name)
}

func (a *API) deleteIdentityProvider(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteIdentityProvider(r.Context(), r.PathValue("pool"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
