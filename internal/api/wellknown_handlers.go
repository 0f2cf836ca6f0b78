package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// Public per-pool documents: the JWKS and OpenID Connect discovery. Both
// may be cached (keys are pre-published before they sign, so a cached JWKS
// stays valid across a rotation).

const publicCache = "public, max-age=300"

func (a *API) jwks(w http.ResponseWriter, r *http.Request) error {
	b, err := a.svc.JWKS(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", publicCache)
	w.Header().Set("Access-Control-Allow-Origin", "*") // public keys, read by browsers too
	_, _ = w.Write(b)
	return nil
}

// openIDConfiguration is the pool's OIDC discovery document (OpenID
// Connect Discovery 1.0 §3, RFC 8414 for the OAuth fields): the issuer,
// the keys, what the tokens contain, and the endpoints of internal/oidc
// with what each accepts (docs/oidc.md has the table).
type openIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
	// AcrValuesSupported: the acr values of ID tokens issued through OIDC;
	// acr_values naming auth.ACRMFA asks for a second factor (step-up).
	AcrValuesSupported []string `json:"acr_values_supported"`
	// The OAuth 2.0 / OIDC endpoints (internal/oidc), under the issuer.
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserInfoEndpoint                           string   `json:"userinfo_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported          bool     `json:"backchannel_logout_session_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// idTokenAlgs lists RS256 first: OpenID Connect Discovery §3 requires it,
// and RS256 is what a relying party that asks for nothing gets.
var idTokenAlgs = []string{"RS256", "ES256"}

func (a *API) openIDConfiguration(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	iss := a.svc.Issuer(p)
	clientAuth := []string{"client_secret_basic", "client_secret_post", "none"}
	w.Header().Set("Cache-Control", publicCache)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return writeJSON(w, http.StatusOK, openIDConfiguration{
		Issuer:                           iss,
		JWKSURI:                          iss + "/.well-known/jwks.json",
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: idTokenAlgs,
		ClaimsSupported: []string{"sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
			"token_use", "email", "email_verified", "preferred_username", "cognito:username", "cognito:groups", "acr", "amr"},
		AcrValuesSupported:                        auth.ACRValuesSupported,
		AuthorizationEndpoint:                     iss + "/oauth2/authorize",
		TokenEndpoint:                             iss + "/oauth2/token",
		UserInfoEndpoint:                          iss + "/oauth2/userInfo",
		RevocationEndpoint:                        iss + "/oauth2/revoke",
		IntrospectionEndpoint:                     iss + "/oauth2/introspect",
		EndSessionEndpoint:                        iss + "/logout",
		ResponseTypesSupported:                    []string{"code"},
		ResponseModesSupported:                    []string{"query", "form_post"},
		GrantTypesSupported:                       []string{"authorization_code", "refresh_token", "client_credentials"},
		ScopesSupported:                           []string{"openid", "email", "profile", "phone", "offline_access", "aws.cognito.signin.user.admin"},
		TokenEndpointAuthMethodsSupported:         clientAuth,
		RevocationEndpointAuthMethodsSupported:    clientAuth,
		IntrospectionEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:             []string{"S256"},
		PromptValuesSupported:                     []string{"none", "login", "consent", "select_account"},
		BackchannelLogoutSupported:                true,
		BackchannelLogoutSessionSupported:         true,
	})
}
