package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// companySSOCommands: `companies sso show|set|remove` (the company's own
// identity provider, docs/company-sso.md) and `companies scim-token
// create|show|revoke`.
func (a *app) companySSOCommands() []*cobra.Command {
	var in auth.CompanyIdPInput
	var secretEnv, secretFile, metadataFile, mappings, groupMappings string
	ssoFields := func(v *auth.CompanyIdPView) fields {
		f := [][2]string{{"Company", v.Company}, {"Provider", v.Name}, {"Kind", v.Kind}}
		if v.Kind == identity.CompanyIdPSAML {
			f = append(f, [2]string{"SP entity id (metadata URL)", v.SAMLEntityID}, [2]string{"ACS URL", v.SAMLACSURL})
		} else {
			f = append(f, [2]string{"Issuer", v.Issuer}, [2]string{"Client id", v.ClientID},
				[2]string{"Client secret", map[bool]string{true: "set", false: "-"}[v.HasClientSecret]},
				[2]string{"Redirect URI", v.RedirectURI})
		}
		f = append(f, [2]string{"Sign-in URL", v.SignInURL}, [2]string{"Require SSO", map[bool]string{true: "yes", false: "no"}[v.RequireSSO]},
			[2]string{"Email domains", fmtList(v.EmailDomains)}, [2]string{"Attribute mapping", fmtPairs(v.AttributeMapping)},
			[2]string{"Group mapping", fmtPairs(v.GroupMapping)})
		return fields{f, ssoJSON{Company: v.Company, Provider: v.Name, Kind: v.Kind, Issuer: v.Issuer, ClientID: v.ClientID,
			HasClientSecret: v.HasClientSecret, RedirectURI: v.RedirectURI, SAMLEntityID: v.SAMLEntityID, SAMLACSURL: v.SAMLACSURL,
			SignInURL: v.SignInURL, RequireSSO: v.RequireSSO, EmailDomains: v.EmailDomains, AttributeMapping: v.AttributeMapping,
			GroupMapping: v.GroupMapping}}
	}
	sso := group("sso", "A company's own identity provider (OIDC or SAML) and the values to give it",
		a.command(spec{use: "show <company>", short: "Show the company's provider and the values to enter at the IdP", pool: true, args: cobra.ExactArgs(1),
			show: func(x call) (shown, error) {
				v, err := x.svc.GetCompanyIdP(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return nil, err
				}
				return ssoFields(v), nil
			}}),
		a.command(spec{use: "set <company>", short: "Create or replace the company's provider", pool: true, args: cobra.ExactArgs(1),
			long: `Create or replace the company's identity provider. OIDC (the default):
--issuer and --client-id; the client secret is read from the environment
variable named by --client-secret-env or the file named by
--client-secret-file, never from the command line (without either a
replaced provider keeps its secret). SAML: --kind saml and --metadata-file
(the IdP's metadata XML). --mapping and --group-mapping are comma-separated
pool_attribute=claim and idp_group=pool_group; a group mapping is the
pool admin's decision of which pool groups the company's IdP may give.
Prints the values to enter at the IdP.`,
			flags: func(c *cobra.Command) {
				f := c.Flags()
				f.StringVar(&in.Kind, "kind", "oidc", "oidc or saml")
				f.StringVar(&in.Issuer, "issuer", "", "OIDC issuer URL")
				f.StringVar(&in.ClientID, "client-id", "", "OIDC client id at the IdP")
				f.StringVar(&secretEnv, "client-secret-env", "", "environment variable holding the OIDC client secret")
				f.StringVar(&secretFile, "client-secret-file", "", "file holding the OIDC client secret")
				f.StringVar(&metadataFile, "metadata-file", "", "SAML: the IdP's metadata XML")
				f.StringSliceVar(&in.Scopes, "scope", nil, "OIDC scope to request (repeatable)")
				f.StringVar(&mappings, "mapping", "", "attribute mapping, e.g. email=email,name=name")
				f.StringVar(&groupMappings, "group-mapping", "", "group mapping, e.g. Engineering=engineers")
				f.BoolVar(&in.RequireSSO, "require-sso", false, "refuse password sign-in to the company's domains")
			},
			do: func(x call) (string, error) {
				v := in
				var err error
				if v.AttributeMapping, err = parsePairs("mapping", mappings); err != nil {
					return "", err
				}
				if v.GroupMapping, err = parsePairs("group-mapping", groupMappings); err != nil {
					return "", err
				}
				if v.ClientSecret, err = secretFrom(secretEnv, secretFile); err != nil {
					return "", err
				}
				if metadataFile != "" {
					b, err := os.ReadFile(metadataFile)
					if err != nil {
						return "", err
					}
					v.MetadataXML = string(b)
				}
				out, err := x.svc.SetCompanyIdP(x.ctx, x.pool.ID, x.args[0], v)
				if err != nil {
					return "", err
				}
				if out.Kind == identity.CompanyIdPSAML {
					return fmt.Sprintf("set %s's provider %s (saml); entity id: %s; ACS URL: %s", out.Company, out.Name, out.SAMLEntityID, out.SAMLACSURL), nil
				}
				return fmt.Sprintf("set %s's provider %s (oidc); redirect URI: %s", out.Company, out.Name, out.RedirectURI), nil
			}}),
		a.command(spec{use: "remove <company>", short: "Remove the company's provider (its members stay)", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "removed the identity provider of " + x.args[0], x.svc.DeleteCompanyIdP(x.ctx, x.pool.ID, x.args[0])
			}}))
	scim := group("scim-token", "The bearer token with which a company's IdP provisions members over SCIM",
		a.command(spec{use: "create <company>", short: "Make a new SCIM token (the previous one stops working); shown once", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				tok, err := x.svc.RotateSCIMToken(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return "", err
				}
				base, err := x.svc.SCIMBaseURL(x.ctx, x.pool.ID, x.args[0])
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("SCIM base URL: %s\nSCIM token (shown once): %s", base, tok), nil
			}}),
		a.command(spec{use: "list", short: "List the companies and whether each has a SCIM token", pool: true, args: cobra.NoArgs,
			show: func(x call) (shown, error) {
				cs, err := allCompanies(x.ctx, x.svc, x.pool.ID)
				if err != nil {
					return nil, err
				}
				var rows [][]string
				type view struct {
					Company  string `json:"company"`
					HasToken bool   `json:"has_token"`
					BaseURL  string `json:"scim_base_url"`
				}
				views := []view{}
				for _, co := range cs {
					has, err := x.svc.HasSCIMToken(x.ctx, x.pool.ID, co.Name)
					if err != nil {
						return nil, err
					}
					base, err := x.svc.SCIMBaseURL(x.ctx, x.pool.ID, co.Name)
					if err != nil {
						return nil, err
					}
					rows = append(rows, []string{co.Name, map[bool]string{true: "yes", false: "no"}[has], base})
					views = append(views, view{co.Name, has, base})
				}
				return table{[]string{"COMPANY", "TOKEN", "SCIM BASE URL"}, rows, views}, nil
			}}),
		a.command(spec{use: "revoke <company>", short: "Remove the company's SCIM token", pool: true, args: cobra.ExactArgs(1),
			do: func(x call) (string, error) {
				return "revoked the SCIM token of " + x.args[0], x.svc.RevokeSCIMToken(x.ctx, x.pool.ID, x.args[0])
			}}))
	return []*cobra.Command{sso, scim}
}

// secretFrom reads a secret from an environment variable or a file
// (trailing newline removed); "" when neither is named.
func secretFrom(env, file string) (string, error) {
	switch {
	case env != "" && file != "":
		return "", identity.FieldError("client-secret-env", "Name the secret by --client-secret-env or --client-secret-file, not both.")
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s is not set", env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// parsePairs reads a=b,c=d (nil for "").
func parsePairs(field, s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || v == "" {
			return nil, identity.FieldError(field, "Write %s as a=b, comma-separated.", field)
		}
		m[k] = v
	}
	return m, nil
}

func fmtPairs(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// ssoJSON is `companies sso show -o json`.
type ssoJSON struct {
	Company          string            `json:"company"`
	Provider         string            `json:"identity_provider"`
	Kind             string            `json:"kind"`
	Issuer           string            `json:"issuer,omitempty"`
	ClientID         string            `json:"client_id,omitempty"`
	HasClientSecret  bool              `json:"has_client_secret"`
	RedirectURI      string            `json:"redirect_uri,omitempty"`
	SAMLEntityID     string            `json:"saml_entity_id,omitempty"`
	SAMLACSURL       string            `json:"saml_acs_url,omitempty"`
	SignInURL        string            `json:"sign_in_url"`
	RequireSSO       bool              `json:"require_sso"`
	EmailDomains     []string          `json:"email_domains"`
	AttributeMapping map[string]string `json:"attribute_mapping"`
	GroupMapping     map[string]string `json:"group_mapping"`
}
