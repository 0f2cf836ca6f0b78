// Package authz authorizes HTTP requests with Gatehouse tokens, for API
// gateways and applications written in Go. It imports nothing from
// Gatehouse itself.
//
// Three parts, used together or alone:
//
//   - Verifier checks a pool's tokens offline against the pool's JWKS
//     (<issuer>/.well-known/jwks.json), fetched over HTTP and cached.
//     It checks the size (before parsing), the alg (ES256 or RS256 only;
//     never "none" or HS*), the kid (an unknown one makes it fetch the
//     JWKS again, at most once per RefreshInterval), the signature (keys
//     come only from the JWKS: jku, x5u, jwk and x5c headers are ignored;
//     ES256 signatures only in their low-s form, as Gatehouse issues them),
//     exp, nbf, iat, iss, token_use, and client_id (access tokens) or aud
//     (ID tokens). The JWKS fetch is bounded: a timeout, a size cap, a key
//     count cap, no redirects.
//   - Policy maps method and path patterns (net/http.ServeMux syntax, the
//     most specific pattern wins) to what the caller needs: a group among
//     Groups (cognito:groups), and claim conditions, including one that
//     compares a wildcard of the path with a claim, so that
//     /companies/{company}/documents is open only to callers whose
//     custom:company_name is that company. A request no rule matches is
//     refused, and so is one whose path routers may read differently
//     (".." or "." segments, encoded or not, %2F, %5C, %3B, %25, a ";"
//     matrix parameter unless the rule sets MatrixParams, invalid UTF-8,
//     control characters, and trailing dots or compatibility forms that
//     would select another rule).
//   - Middleware puts them in front of an http.Handler: 401 with
//     WWW-Authenticate for a missing or invalid token, 403 when the rule
//     is not met, 503 when the token cannot be checked, and the verified
//     Identity in the request context (FromContext) otherwise.
//
// The flow of one request through Middleware:
//
//	request -> Policy.Check(r, nil): no rule -> 403; public -> handler
//	        -> Auth.Authenticate(r): no token / invalid -> 401
//	                                 JWKS unreachable, panic -> 503
//	        -> Policy.Check(r, id):  groups or claims unmet -> 403
//	        -> handler, with FromContext(r.Context()) = id
//
// Verifier cannot see revocation: it never asks Gatehouse, so a token
// whose user was signed out globally, disabled or deleted, or whose sign-in
// was ended by revoking its refresh token (RevokeToken, /oauth2/revoke),
// stays valid for it until its exp. Keep access token lifetimes short where
// that matters, or use the forward-auth endpoint, which checks revocation
// (within its cache TTL).
//
// Behind a forward-auth proxy (nginx auth_request, Traefik ForwardAuth or
// Caddy forward_auth asking Gatehouse's /authz/{pool}/check endpoint), the
// proxy has already verified the token, with revocation; ProxyHeaders then
// authenticates by the X-Auth-* headers the proxy copied from Gatehouse's
// answer, from trusted peer addresses only, and the same Policy applies.
//
// Access tokens carry sub, username, client_id and cognito:groups; ID tokens
// also carry the user's attributes (email, custom:company_name). Rules on
// custom:* claims therefore need TokenUse "id" when verifying offline; the
// forward-auth endpoint reads them from the user record instead.
//
// A minimal protected app:
//
//	v, err := authz.NewVerifier(authz.Config{
//		Issuer:    "https://id.example.com/eu-west-1_AbCdEf",
//		ClientIDs: []string{"5f2a..."},
//		TokenUse:  authz.TokenUseID,
//	})
//	if err != nil { ... }
//	policy := authz.MustPolicy(
//		authz.Rule{Methods: []string{"GET"}, Path: "/healthz", Public: true},
//		authz.Rule{Methods: []string{"GET"}, Path: "/companies/{company}/documents/",
//			Groups: []string{"Users", "Managers", "Admins"},
//			Claims: []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}},
//	)
//	mw := &authz.Middleware{Auth: v, Policy: policy}
//	http.ListenAndServe(":8081", mw.Wrap(appHandler))
package authz
