package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// A company's own identity provider (docs/company-sso.md): read, set and
// removed by the company's admins (access token) or the pool's admins.

type companyIdPView struct {
	Company          string            `json:"company"`
	IdentityProvider string            `json:"identity_provider"`
	Kind             string            `json:"kind"`
	Issuer           string            `json:"issuer"`
	ClientID         string            `json:"client_id"`
	HasClientSecret  bool              `json:"has_client_secret"`
	Scopes           []string          `json:"scopes"`
	AttributeMapping map[string]string `json:"attribute_mapping"`
	GroupMapping     map[string]string `json:"group_mapping"`
	RequireSSO       bool              `json:"require_sso"`
	EmailDomains     []string          `json:"email_domains"`
	RedirectURI      string            `json:"redirect_uri"`
	SignInURL        string            `json:"sign_in_url"`
	SAMLEntityID     string            `json:"saml_entity_id,omitempty"`
	SAMLACSURL       string            `json:"saml_acs_url,omitempty"`
	SAMLSLOURL       string            `json:"saml_slo_url,omitempty"`
	SAMLCertificate  string            `json:"saml_sp_certificate,omitempty"`
	SAMLEncryption   bool              `json:"saml_require_encryption,omitempty"`
	SAMLMetadataURL  string            `json:"saml_metadata_url,omitempty"`
	SAMLFetchedAt    *time.Time        `json:"saml_metadata_fetched_at,omitempty"`
	SAMLMetadataErr  string            `json:"saml_metadata_error,omitempty"`
	CreatedAt        *time.Time        `json:"created_at,omitempty"`
	UpdatedAt        *time.Time        `json:"updated_at,omitempty"`
}

func companyIdP(v *auth.CompanyIdPView) companyIdPView {
	out := companyIdPView{Company: v.Company, IdentityProvider: v.Name, Kind: v.Kind, Issuer: v.Issuer, ClientID: v.ClientID,
		HasClientSecret: v.HasClientSecret, Scopes: v.Scopes, AttributeMapping: v.AttributeMapping, GroupMapping: v.GroupMapping, RequireSSO: v.RequireSSO,
		EmailDomains: v.EmailDomains, RedirectURI: v.RedirectURI, SignInURL: v.SignInURL, SAMLEntityID: v.SAMLEntityID, SAMLACSURL: v.SAMLACSURL,
		SAMLSLOURL: v.SAMLSLOURL, SAMLCertificate: v.SAMLSPCertificate, SAMLEncryption: v.SAMLRequireEncryption,
		SAMLMetadataURL: v.SAMLMetadataURL, SAMLFetchedAt: tsp(v.SAMLMetadataFetchedAt), SAMLMetadataErr: v.SAMLMetadataError,
		CreatedAt: tsp(v.CreatedAt), UpdatedAt: tsp(v.UpdatedAt)}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if out.AttributeMapping == nil {
		out.AttributeMapping = map[string]string{}
	}
	if out.GroupMapping == nil {
		out.GroupMapping = map[string]string{}
	}
	if out.EmailDomains == nil {
		out.EmailDomains = []string{}
	}
	return out
}

type companyIdPRequest struct {
	Kind             string            `json:"kind"`
	Issuer           string            `json:"issuer"`
	ClientID         string            `json:"client_id"`
	ClientSecret     string            `json:"client_secret"`
	MetadataXML      string            `json:"metadata_xml"`
	MetadataURL      string            `json:"metadata_url"`
	RequireEncrypt   bool              `json:"require_encryption"`
	RotateSPKey      bool              `json:"rotate_sp_key"`
	Scopes           []string          `json:"scopes"`
	AttributeMapping map[string]string `json:"attribute_mapping"`
	GroupMapping     map[string]string `json:"group_mapping"`
	RequireSSO       bool              `json:"require_sso"`
}

func (a *API) getCompanyIdP(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.GetCompanyIdP(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, companyIdP(v))
}

func (a *API) putCompanyIdP(w http.ResponseWriter, r *http.Request) error {
	var req companyIdPRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	v, err := a.svc.SetCompanyIdP(r.Context(), r.PathValue("pool"), r.PathValue("company"), auth.CompanyIdPInput{
		Kind: req.Kind, Issuer: req.Issuer, ClientID: req.ClientID, ClientSecret: req.ClientSecret, MetadataXML: req.MetadataXML, Scopes: req.Scopes,
		AttributeMapping: req.AttributeMapping, GroupMapping: req.GroupMapping, RequireSSO: req.RequireSSO,
		SAMLInput: auth.SAMLInput{MetadataURL: req.MetadataURL, RequireEncryption: req.RequireEncrypt, RotateSPKey: req.RotateSPKey}})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, companyIdP(v))
}

// refreshCompanyIdPMetadata is POST .../identity-provider/refresh-metadata:
// fetch a SAML provider's metadata from its URL now.
func (a *API) refreshCompanyIdPMetadata(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.RefreshCompanySAMLMetadata(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, companyIdP(v))
}

func (a *API) deleteCompanyIdP(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteCompanyIdP(r.Context(), r.PathValue("pool"), r.PathValue("company")); err != nil {
		return err
	}
	return noContent(w)
}

type scimTokenView struct {
	Token   string `json:"token"`
	BaseURL string `json:"scim_base_url"`
}

// rotateSCIMToken is POST .../companies/{company}/scim-token: a new SCIM
// bearer token for the company (shown once; the previous one stops).
func (a *API) rotateSCIMToken(w http.ResponseWriter, r *http.Request) error {
	tok, err := a.svc.RotateSCIMToken(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	base, err := a.svc.SCIMBaseURL(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, scimTokenView{Token: tok, BaseURL: base})
}
