// Package oidc is Gatehouse's OpenID Connect / OAuth 2.0 provider: Cognito's
// hosted-UI endpoints, per pool, under the pool's issuer URL
// (auth.Service.Issuer = <base URL>/<pool id>):
//
//	GET|POST /<pool>/oauth2/authorize   authorization code (+ PKCE S256), state, nonce, prompt, max_age,
//	                                    response_mode query|form_post; request objects refused
//	POST     /<pool>/oauth2/token       authorization_code, refresh_token, client_credentials
//	GET|POST /<pool>/oauth2/userInfo    Bearer access token (header, or POST form) → the user's claims;
//	                                    also /oauth2/userinfo
//	POST     /<pool>/oauth2/revoke      RFC 7009: refresh, access or ID token → its sign-in ends
//	POST     /<pool>/oauth2/introspect  RFC 7662, confidential clients
//	GET|POST /<pool>/logout             RP-Initiated Logout 1.0 (id_token_hint, post_logout_redirect_uri,
//	                                    state) and Cognito's client_id + logout_uri; a signed-out page
//	                                    without a redirect; back-channel logout jobs (auth)
//
// On a pool's own domain (Host in Pool.Domains) the same endpoints answer
// at Cognito's bare paths /oauth2/... and /logout (domain.go).
//
// Discovery (/<pool>/.well-known/openid-configuration) and the JWKS are
// served by internal/api; the discovery document lists these endpoints and
// its issuer is the URL it is served from and the iss of every token.
//
// # Flow
//
// /oauth2/authorize validates client_id and redirect_uri first; until both
// are good every error is a page, never a redirect. redirect_uri must be
// byte-for-byte one of the client's CallbackURLs (no case folding, no
// prefix or path matching, no normalisation: fosite CVE-2020-15234, Keycloak
// CVE-2026-7504). Then errors go back to redirect_uri (RFC 6749 §4.1.2.1)
// with state. A browser without a hosted-UI session (web.CurrentSession) is
// sent to the pool's sign-in page (web.SignInPath) with return_to pointing
// back at the same authorize request; prompt=login forces a fresh sign-in
// (the return_to carries gh_login_after, a freshness bound, so the sign-in
// does not loop), prompt=none answers login_required instead. A signed-in
// browser gets a code: 256 random bits, stored hashed for 60 s with the
// client, user, redirect_uri, PKCE challenge, nonce and scope
// (auth.CreateAuthorizationCode). Public clients (no secret) must use PKCE
// S256; plain is refused.
//
// /oauth2/token authenticates the client (client_secret_basic or
// client_secret_post for confidential clients; client_id alone for public
// ones) and redeems the code (auth.RedeemAuthorizationCode: same client,
// same redirect_uri, PKCE verifier, single use by compare-and-set; a code
// presented twice is refused and the refresh family issued from it is
// revoked). Refresh goes through auth's REFRESH_TOKEN_AUTH (rotation with
// reuse detection); client_credentials issues Cognito's client access token
// (sub = client_id, the client's custom scopes). Errors are RFC 6749 JSON
// ({error, error_description}); every answer is Cache-Control: no-store.
//
// # Why not fosite
//
// github.com/ory/fosite was considered (issue 5 suggests it). Its storage
// interfaces want its own session/requester objects persisted per grant
// (authorize codes, PKCE, access and refresh token signatures, OIDC
// sessions), and its token strategies mint their own tokens (HMAC opaque
// or its JWT shape). Gatehouse's tokens must stay exactly the Cognito-shaped
// JWTs auth.Service issues everywhere else (same claims, pre-token hooks,
// origin_jti, refresh families with reuse detection, global sign-out), so
// fosite would have needed custom strategies for every token plus an
// adapter for every storage interface — more code than the protocol itself,
// and a second refresh-token implementation next to auth's. The provider is
// therefore a small hand-written code + PKCE + refresh + client_credentials
// implementation over auth.Service; the protocol checks it needs are few and
// each is tested as an attack (oidc_test.go).
package oidc
