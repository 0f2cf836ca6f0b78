// Package forwardauth is Gatehouse's forward-auth endpoint, for API
// gateways that ask an authorizer before proxying a request: nginx
// (auth_request), Traefik (ForwardAuth) and Caddy (forward_auth).
//
// Route: Pattern, "/authz/check/{pool}", any method. The proxy sends the
// client's Authorization header and says which request it is asking about:
//
//	X-Original-Method + X-Original-URI     (nginx, set in its config)
//	X-Forwarded-Method + X-Forwarded-Uri   (Traefik, Caddy)
//
// The answer:
//
//	200  allowed; X-Auth-Sub, X-Auth-Username, X-Auth-Email, X-Auth-Groups
//	     (comma-separated; names holding a comma are left out) and X-Auth-Company (the
//	     pool's company attribute as stored, docs/security.md A7) name the
//	     caller, for the proxy to copy onto the upstream request
//	401  no token, or a token that is invalid, expired, of another pool or
//	     client, revoked (global sign-out, or RevokeToken / /oauth2/revoke
//	     of its sign-in's refresh token), or whose user is disabled or
//	     deleted; with WWW-Authenticate
//	403  the pool has no forward-auth rules, no rule matches the request,
//	     the caller is not in the rule's groups or fails its conditions, or
//	     the X-Original-*/X-Forwarded-* headers are missing, repeated or
//	     malformed
//	503  the token could not be checked (database down, a panic)
//
// Nothing unexpected answers 200: every path that is not a full success
// refuses.
//
// Flow of one check:
//
//	pool rules (Options.Pools[{pool}])      none -> 403
//	original method + URI                   missing, malformed -> 403
//	authz.Policy.Check(req, nil)            public rule -> 200 (no identity)
//	                                        no rule, or an ambiguous path
//	                                        (";", %3B, %25, dot segments,
//	                                        invalid UTF-8, ...) -> 403
//	bearer token                            none, malformed -> 401
//	verified-token cache (SHA-256 of token) hit -> identity
//	auth.Service.AuthenticateAccessTokenFor signature, iss (this pool's),
//	                                        exp, token_use,
//	                                        user enabled, not signed out,
//	                                        sign-in (origin_jti) not revoked
//	                                        -> identity = token claims +
//	                                           the user's attributes now;
//	                                           the company (and the claim
//	                                           custom:company_name) is the
//	                                           stored company attribute
//	authz.Policy.Check(req, identity)       groups, claim conditions -> 403
//	200 + X-Auth-* headers
//
// Rules are authz.Rule values (the same engine as the importable authz
// package, so an app and its gateway share one rule list): method and
// ServeMux path patterns, groups (any of), claim conditions, including
// "custom:company_name equals the {company} segment of the path".
//
// Revocation: a verified token is remembered for Options.CacheTTL (5 s in
// the default configuration), and never past its exp. That TTL is the
// longest delay between a global sign-out, a RevokeToken (which ends one
// sign-in: the tokens sharing its origin_jti), a disable or a deletion and
// the authorizer refusing the tokens concerned; with a TTL of zero there is
// no cache and no delay, at the cost of three store reads per check (pool,
// user, and one primary-key lookup of the revoked sign-ins). The cache
// holds at most Options.CacheSize entries, so a check costs at most those
// reads whatever the traffic.
package forwardauth
