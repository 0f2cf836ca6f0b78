// Package api is Gatehouse's native JSON API: end-user flows, the caller's
// own account, administration of pools, clients, users and groups, the
// outbox and audit log, and the public per-pool documents (JWKS, OpenID
// discovery). Every route is listed in routes.go and described in
// openapi.yaml (served at GET /api/v1/openapi.json); a test keeps the two
// identical. Handlers call the auth Service and nothing else.
//
// Request flow:
//
//	httpserver.Wrap     request id, client ip, logs, metrics, body cap, recovery
//	API.ServeHTTP       ServeMux; unmatched paths -> 404/405 problems
//	credentials         none (auth/*), access token (me/*), admin API key (pools/*)
//	form.DecodeJSON     application/json only, strict: unknown fields, wrong
//	                    types, trailing data -> 400 naming the field; over the
//	                    cap -> 413; never a 500 for a client's mistake
//	handler             one auth.Service call, then a view (views.go) that
//	                    copies named fields only: no password hash, secret
//	                    hash or private key can leak by accident
//	writeError          the one error path: statusFor maps the code, the
//	                    problem carries the safe message; 5xx causes go to
//	                    the log under the request id
//
// Errors are RFC 9457 problems (application/problem+json):
//
//	{"type":"urn:gatehouse:problem:<code>","title":"...","status":400,
//	 "detail":"...","code":"<code>","field":"username","request_id":"..."}
//
// Status by code (statusFor):
//
//	400 invalid_parameter invalid_password code_mismatch expired_code
//	    user_lambda_validation invalid_user_pool_config
//	401 not_authorized invalid_token unauthenticated
//	403 forbidden user_disabled user_not_confirmed approval_pending
//	    password_reset_required
//	404 user_not_found resource_not_found          405 method_not_allowed
//	409 username_exists alias_exists group_exists conflict
//	413 payload_too_large                          415 unsupported_media_type
//	429 too_many_requests too_many_failed_attempts limit_exceeded
//	500 internal (and any code statusFor does not know; generic detail)
//	501 unsupported_operation                      502 code_delivery_failure
//
// 401 means the credentials presented are missing or wrong, so the client
// should obtain new ones; 403 means they were right but the account or key
// may not do this (a disabled or unconfirmed user, a user who must reset
// the password, a pool-scoped key outside its pool): new credentials will
// not help. Clients switch on code, never on the status or text.
//
// Credentials:
//
//   - End-user routes (/api/v1/auth/*) carry client_id in the body; a
//     confidential client adds client_secret in the body or as HTTP Basic.
//   - /api/v1/me* take "Authorization: Bearer <access token>"; the token is
//     verified (svc.AuthenticateAccessToken) before the handler runs, and
//     the audit actor is "user:<sub>". The service then requires the scope
//     aws.cognito.signin.user.admin (403 insufficient_scope), as Cognito's
//     self-service operations do (docs/security.md T5).
//   - Company and registration routes also take a company admin's access
//     token: one of the route's pool (svc.AuthenticateAccessTokenFor, 401
//     invalid_token otherwise) with the same scope.
//   - Administration routes take "Authorization: Bearer <admin API key>"
//     (svc.AuthenticateAPIKey). A pool-scoped key may use routes of its own
//     pool only (403 elsewhere, decided before any lookup, so it cannot
//     probe which pools exist) and may not list, create or delete pools.
//     The audit actor is "apikey:<id>".
//
// Lists answer {"items":[...],"next_token":"..."}; next_token is present
// only when there are more items. Responses carry Cache-Control: no-store,
// except the public documents (max-age=300).
//
// Mounting: for _, p := range api.MountPatterns { mux.Handle(p, h) }.
package api
