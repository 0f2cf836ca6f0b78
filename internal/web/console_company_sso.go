package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The company page's single sign-on section (docs/company-sso.md): the
// company's admin (or a pool admin) sets the company's OpenID Connect
// provider and reads the values to enter at the provider.
//
//	POST /{pool}/console/companies/{name}/sso         set (or replace)
//	POST /{pool}/console/companies/{name}/sso/delete  remove
//	POST /{pool}/console/companies/{name}/sso/refresh fetch SAML metadata now

func init() {
	for k, v := range map[string]string{
		"console.sso":                    "Single sign-on",
		"console.sso.intro":              "People with an address of this company's domains sign in through the company's own OpenID Connect provider, and become members without an approval.",
		"console.sso.give":               "Enter these at your identity provider",
		"console.sso.redirect_uri":       "Redirect URI (sign-in redirect URI)",
		"console.sso.sign_in_url":        "Initiate login URI",
		"console.sso.provider":           "identity_provider parameter",
		"console.sso.kind":               "Protocol",
		"console.sso.metadata":           "SAML: the identity provider's metadata XML",
		"console.sso.entity_id":          "SAML entity ID (audience) and metadata URL",
		"console.sso.acs_url":            "SAML assertion consumer service (ACS) URL",
		"console.sso.slo_url":            "SAML single logout URL",
		"console.sso.sp_cert":            "SAML service provider certificate (signs requests; assertions are encrypted to it)",
		"console.sso.metadata_url":       "SAML metadata fetched from",
		"console.sso.metadata_url.input": "SAML: the identity provider's metadata URL (https; refreshed every 12 hours)",
		"console.sso.fetched":            "last fetched",
		"console.sso.metadata_error":     "The last metadata refresh failed (the previous metadata is kept)",
		"console.sso.require_encryption": "SAML: require encrypted assertions",
		"console.sso.rotate_sp_key":      "SAML: make a new service provider key (the previous one still decrypts)",
		"console.sso.refresh":            "Fetch the metadata now",
		"console.notice.sso_refreshed":   "Metadata fetched.",
		"console.sso.issuer":             "OpenID Connect: issuer URL",
		"console.sso.client_id":          "Client ID",
		"console.sso.client_secret":      "Client secret",
		"console.sso.client_secret.set":  "A secret is stored; leave blank to keep it.",
		"console.sso.mapping":            "Attribute mapping",
		"console.sso.mapping.hint":       "One per line: pool attribute = provider claim (e.g. name = name). The company attribute cannot be mapped.",
		"console.sso.groups":             "Group mapping",
		"console.sso.groups.hint":        "One per line: IdP group = pool group (an existing group; not the console's admins or another company's group).",
		"console.sso.require":            "Require single sign-on (refuse password sign-in for the company's addresses)",
		"console.sso.delete":             "Remove the identity provider",
		"console.notice.sso_saved":       "Single sign-on saved.",
		"console.scim":                   "Provisioning (SCIM 2.0)",
		"console.scim.intro":             "Your identity provider can create, update, deactivate and delete the company's members. Give it this base URL and a token.",
		"console.scim.base_url":          "SCIM base URL",
		"console.scim.rotate":            "Make a new SCIM token",
		"console.scim.token":             "The new token (shown only now; the previous one no longer works)",
		"console.notice.sso_deleted":     "Identity provider removed.",
	} {
		text[k] = v
	}
}

// companySSOData is the company page's data for the section.
func (w *Web) companySSOData(c *consoleReq, co *identity.Company) (map[string]any, error) {
	v, err := w.svc.GetCompanyIdP(c.ctx, c.pool.ID, co.Name)
	if err != nil && identity.ErrorCode(err) != identity.CodeResourceNotFound {
		return nil, err
	}
	scimBase, err := w.svc.SCIMBaseURL(c.ctx, c.pool.ID, co.Name)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"SSOAction": c.path("companies", co.Name, "sso"), "SCIMBase": scimBase,
		"SCIMAction":  c.path("companies", co.Name, "scim-token"),
		"SSODelete":   c.path("companies", co.Name, "sso", "delete"),
		"SSORefresh":  c.path("companies", co.Name, "sso", "refresh"),
		"RedirectURI": w.svc.FederationCallbackURL(c.pool)}
	if v != nil {
		var m []string
		for k, claim := range v.AttributeMapping {
			m = append(m, k+" = "+claim)
		}
		sort.Strings(m)
		var g []string
		for k, to := range v.GroupMapping {
			g = append(g, k+" = "+to)
		}
		sort.Strings(g)
		data["SSO"], data["MappingText"], data["GroupText"] = v, strings.Join(m, "\n"), strings.Join(g, "\n")
	}
	return data, nil
}

// consoleCompanySSO is POST /{pool}/console/companies/{name}/sso.
func (w *Web) consoleCompanySSO(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	mapping, err := pairs(r.PostFormValue("mapping"), "attribute_mapping")
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	groups, err := pairs(r.PostFormValue("group_mapping"), "group_mapping")
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	_, err = w.svc.SetCompanyIdP(c.ctx, c.pool.ID, r.PathValue("name"), auth.CompanyIdPInput{GroupMapping: groups,
		Kind: r.PostFormValue("kind"), MetadataXML: strings.TrimSpace(r.PostFormValue("metadata_xml")),
		Issuer: strings.TrimSpace(r.PostFormValue("issuer")), ClientID: strings.TrimSpace(r.PostFormValue("client_id")),
		ClientSecret: r.PostFormValue("client_secret"), AttributeMapping: mapping, RequireSSO: r.PostFormValue("require_sso") == "on",
		SAMLInput: auth.SAMLInput{MetadataURL: metadataURL(r), RequireEncryption: r.PostFormValue("require_encryption") == "on",
			RotateSPKey: r.PostFormValue("rotate_sp_key") == "on"}})
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", r.PathValue("name")), "sso_saved")
}

// metadataURL is the form's metadata URL, unless XML was pasted (which
// replaces the URL).
func metadataURL(r *http.Request) string {
	if strings.TrimSpace(r.PostFormValue("metadata_xml")) != "" {
		return ""
	}
	return strings.TrimSpace(r.PostFormValue("metadata_url"))
}

// consoleCompanySSORefresh is POST /{pool}/console/companies/{name}/sso/refresh.
func (w *Web) consoleCompanySSORefresh(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	if _, err := w.svc.RefreshCompanySAMLMetadata(c.ctx, c.pool.ID, r.PathValue("name")); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", r.PathValue("name")), "sso_refreshed")
}

// consoleCompanySSODelete is POST /{pool}/console/companies/{name}/sso/delete.
func (w *Web) consoleCompanySSODelete(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	if err := w.svc.DeleteCompanyIdP(c.ctx, c.pool.ID, r.PathValue("name")); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", r.PathValue("name")), "sso_deleted")
}

// consoleCompanySCIMToken is POST /{pool}/console/companies/{name}/scim-token:
// a new token, shown once on the company page.
func (w *Web) consoleCompanySCIMToken(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	tok, err := w.svc.RotateSCIMToken(c.ctx, c.pool.ID, r.PathValue("name"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	rw.Header().Set("Cache-Control", "no-store")
	w.renderCompany(rw, r, c, map[string]any{"SCIMToken": tok})
}

// pairs reads a textarea of "name = value" lines.
func pairs(text, field string) (map[string]string, error) {
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, identity.FieldError(field, "Write each mapping as name = value.")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}
