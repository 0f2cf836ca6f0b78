// Package federation is Gatehouse as a client of an upstream identity
// provider: a generic OpenID Connect provider (Google is one, at its
// documented issuer https://accounts.google.com), or Facebook (OAuth 2.0
// and the Graph API /me).
//
// The flow (docs/federation.md):
//
//  1. The hosted pages (internal/web) make a fresh state, nonce and PKCE
//     verifier (NewRequest), keep them in a sealed, short-lived cookie
//     bound to the browser, and send the browser to AuthCodeURL: the
//     upstream authorization endpoint with response_type=code, state,
//     nonce, code_challenge (S256) and the pool's callback
//     <issuer>/oauth2/idpresponse as redirect_uri.
//  2. The upstream sends the browser back with code and state. The state
//     must equal the cookie's (constant-time) or the callback is refused.
//  3. Exchange redeems the code with the client secret and the PKCE
//     verifier. For OIDC the ID token is verified with go-oidc (signature
//     against the discovered jwks_uri, iss equal to the configured issuer,
//     aud containing the client id, exp), and its nonce must equal the
//     request's. For Facebook the access token reads /me?fields=id,name,
//     email with appsecret_proof.
//  4. The result (Identity: issuer, subject, email, email_verified, raw
//     claims) goes to auth.Service, which finds the linked user by
//     (pool, provider, subject) or creates one (federation*.go in
//     internal/auth).
//
// Nothing here reads the store; the client secret is opened by the caller.
package federation
