package identity

import "time"

// Identity provider types (Cognito's ProviderType names).
const (
	ProviderOIDC     = "OIDC"     // any OpenID Connect provider (issuer discovery)
	ProviderGoogle   = "Google"   // OIDC at https://accounts.google.com
	ProviderFacebook = "Facebook" // OAuth 2.0 + Graph API /me
	ProviderSAML     = "SAML"     // SAML 2.0 (company providers only; Issuer is the IdP's entity id)
)

// GoogleIssuer is Google's documented OpenID Connect issuer.
const GoogleIssuer = "https://accounts.google.com"

// IdentityProvider is one upstream identity provider of a pool
// (PoolSettings.IdentityProviders). Users who sign in through it are
// identified by (pool, Name, upstream subject): see LinkedIdentity.
type IdentityProvider struct {
	// Name is unique in the pool: [A-Za-z0-9_.-]{1,32}, e.g. "Google",
	// "Facebook", "corp". It is Cognito's ProviderName, the
	// identity_provider parameter of /oauth2/authorize and the prefix of
	// federated usernames ("<name>_<subject>").
	Name string `json:"name"`
	// Type is ProviderOIDC, ProviderGoogle or ProviderFacebook.
	Type string `json:"type"`
	// Issuer is the OIDC issuer (discovery at Issuer +
	// "/.well-known/openid-configuration"); Google: GoogleIssuer.
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"client_id"`
	// ClientSecretSealed is the client secret sealed with the master key
	// (auth.Service.SealProviderSecret), base64url; never the secret.
	ClientSecretSealed string `json:"client_secret_sealed,omitempty"`
	// Scopes requested (default "openid email profile"; Facebook "email
	// public_profile").
	Scopes []string `json:"scopes,omitempty"`
	// AttributeMapping maps a pool attribute (email, name, given_name,
	// custom:company_name, ...) to an upstream claim (Cognito's
	// AttributeMapping direction). Default: email -> email.
	AttributeMapping map[string]string `json:"attribute_mapping,omitempty"`
	// Facebook only: the OAuth dialog, token and Graph API base URLs
	// (defaults https://www.facebook.com/v19.0/dialog/oauth,
	// https://graph.facebook.com/v19.0/oauth/access_token and
	// https://graph.facebook.com/v19.0); tests point them at loopback.
	AuthURL  string `json:"auth_url,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
	GraphURL string `json:"graph_url,omitempty"`
	// Identifiers are Cognito's IdpIdentifiers: other names for the
	// provider, unique in the pool, found by GetIdentityProviderByIdentifier.
	Identifiers []string `json:"identifiers,omitempty"`
	// CreatedAt and UpdatedAt: when the provider was added and last set
	// (zero for providers stored before they were recorded).
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// SAMLMetadata is a SAML IdP's metadata XML (ProviderSAML only).
	SAMLMetadata string `json:"saml_metadata,omitempty"`
	// GroupMapping (company providers only) maps a group the IdP asserts
	// (OIDC "groups" claim; SAML "groups" or "memberOf" attribute) to a
	// pool group, joined while asserted and left when no longer.
	GroupMapping map[string]string `json:"group_mapping,omitempty"`
	// SAML company providers (docs/company-sso.md): the service provider's
	// RSA key (PKCS#8 sealed with the master key, base64url) that signs
	// requests and decrypts assertions, its certificate (DER, base64), the
	// key before the last rotation (still decrypts), and whether assertions
	// must come encrypted.
	SAMLSPKeySealed       string `json:"saml_sp_key_sealed,omitempty"`
	SAMLSPCert            string `json:"saml_sp_cert,omitempty"`
	SAMLOldSPKeySealed    string `json:"saml_old_sp_key_sealed,omitempty"`
	SAMLRequireEncryption bool   `json:"saml_require_encryption,omitempty"`
	// SAMLMetadataURL, when set, is where the IdP's metadata is fetched
	// (and refreshed); SAMLMetadataFetchedAt the last good fetch, and
	// SAMLMetadataError the last failed refresh ("" after a good one).
	SAMLMetadataURL       string    `json:"saml_metadata_url,omitempty"`
	SAMLMetadataFetchedAt time.Time `json:"saml_metadata_fetched_at,omitzero"`
	SAMLMetadataError     string    `json:"saml_metadata_error,omitempty"`
}

// LinkedIdentity ties an upstream identity (provider name, subject) to a
// user of the pool. (PoolID, ProviderName, Subject) is unique.
type LinkedIdentity struct {
	PoolID       string
	ProviderName string
	ProviderType string
	Subject      string // upstream "sub" (Facebook: the Graph id)
	Issuer       string // upstream issuer ("" for Facebook)
	UserSub      string
	CreatedAt    time.Time
}

// Company identity provider kinds (CompanyIdP.Kind).
const (
	CompanyIdPOIDC = "oidc"
	CompanyIdPSAML = "saml"
)

// CompanyIdPPrefix starts the provider name of every company identity
// provider ("sso:<hex>"); no pool provider name can contain ':'.
const CompanyIdPPrefix = "sso:"

// CompanyIdP is a company's own identity provider (docs/company-sso.md),
// set by the company's admin: people signing in through it become members
// of Company without an approval. One per company.
type CompanyIdP struct {
	PoolID  string
	Company string // canonical company name
	// Name is the provider name used by the federation flow, the
	// identity_provider parameter and linked identities: CompanyIdPPrefix
	// + random hex, fixed at creation.
	Name string
	Kind string // CompanyIdPOIDC or CompanyIdPSAML
	// Provider holds the settings (Type ProviderOIDC or ProviderSAML,
	// Name == Name), an OIDC client secret sealed.
	Provider IdentityProvider
	// RequireSSO refuses password sign-in to addresses of the company's
	// email domains.
	RequireSSO bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SCIMGroup is a group a company's IdP pushed over SCIM (migration
// 0026): a SCIM resource bound to the pool group PoolGroup that the
// company provider's group mapping gives for DisplayName. Its members are
// the company's members in PoolGroup.
type SCIMGroup struct {
	PoolID      string
	Company     string
	ID          string
	DisplayName string
	ExternalID  string
	PoolGroup   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
