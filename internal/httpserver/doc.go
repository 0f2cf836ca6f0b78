// Package httpserver runs Gatehouse's HTTP listener and the middleware every
// surface shares.
//
// Request flow through Wrap (outermost first):
//
//	request id      X-Request-Id from the client if it is short and safe
//	                ([A-Za-z0-9._-], 1..64 bytes), generated otherwise; echoed
//	                in the response and available through RequestID(ctx)
//	client ip       the TCP peer; X-Forwarded-For is believed only when the
//	                peer is inside Config.TrustedProxies (ClientIP(ctx))
//	access log      one JSON line per request: route pattern, method, path,
//	                status, bytes, duration, request id, remote ip
//	metrics         gatehouse_http_requests_total{route,method,status} and
//	                gatehouse_http_request_duration_seconds{route}; route is
//	                the ServeMux pattern (r.Pattern), never the raw path
//	recover         a panic becomes a 500 problem without internals; the
//	                panic value and stack go to the log
//	security hdrs   nosniff, no-referrer, DENY framing, strict CSP for JSON;
//	                handlers that serve HTML set their own CSP over it
//	body cap        Content-Length over MaxBodyBytes -> 413 problem
//	                payload_too_large; otherwise the body is wrapped in
//	                http.MaxBytesReader so streaming bodies stop at the cap
//	deadline        the request context ends after WriteTimeout, so slow
//	                store calls are abandoned once the client cannot be
//	                answered anyway
//
// Server adds the listener, the http.Server timeouts and graceful shutdown:
// Shutdown first marks the server as draining (Ready then fails, so /readyz
// answers 503), then waits for in-flight requests to finish.
//
// OpsRoutes registers /healthz, /readyz and /metrics.
//
// Problems (RFC 9457, application/problem+json) written here and by the
// surfaces share one shape: {type, title, status, detail, code, field?,
// request_id}; see Problem and WriteProblem.
package httpserver
