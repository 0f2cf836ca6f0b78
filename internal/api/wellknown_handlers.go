package api

import (
	"net/http"
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

// openIDConfiguration is the pool's OIDC discovery document: the issuer,
// the keys, what the tokens contain, and the endpoints of internal/oidc.
type openIDConfiguration struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
	// The OAuth 2.0 / OIDC endpoints (internal/oidc), under the issuer.
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
}

func (a *API) openIDConfiguration(w http.ResponseWriter, r *http.Request) error {
	p, err := a.svc.GetPool(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	iss := a.svc.Issuer(p)
	alg := p.SigningAlg
	if alg == "" {
		alg = "ES256"
	}
	w.Header().Set("Cache-Control", publicCache)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return writeJSON(w, http.StatusOK, openIDConfiguration{
		Issuer:                           iss,
		JWKSURI:                          iss + "/.well-known/jwks.json",
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{alg},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "email",
			"email_verified", "cognito:username", "cognito:groups", "nonce"},
		AuthorizationEndpoint:             iss + "/oauth2/authorize",
		TokenEndpoint:                     iss + "/oauth2/token",
		UserInfoEndpoint:                  iss + "/oauth2/userInfo",
		RevocationEndpoint:                iss + "/oauth2/revoke",
		EndSessionEndpoint:                iss + "/logout",
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token", "client_credentials"},
		ScopesSupported:                   []string{"openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
	})
}
