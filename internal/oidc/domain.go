package oidc

// Cognito's bare paths on a pool's own domain
//
// Cognito serves /oauth2/authorize, /oauth2/token, /oauth2/userInfo,
// /oauth2/revoke and /logout at the root of the pool's domain. Gatehouse
// serves them there too for a request whose Host is one of a pool's
// Domains (identity.Pool.Domains, unique across pools): the request is
// handled exactly as /<pool>/oauth2/... would be, and the sign-in it leads
// to stays on the domain's bare hosted pages (/login, ...: internal/web).
// The Host header only picks the pool here (anyone may reach any pool's
// endpoints by path anyway); it never goes into a URL, an issuer or a
// token. The host -> pool map is internal/pooldomain's, shared with the
// hosted pages (web.Web.PoolDomains).

// domainRoutes are the bare Cognito paths, mounted on the server mux.
var domainRoutes = []string{"GET /oauth2/authorize", "POST /oauth2/authorize", "POST /oauth2/token",
	"GET /oauth2/userInfo", "POST /oauth2/userInfo", "GET /oauth2/userinfo", "POST /oauth2/userinfo",
	"POST /oauth2/revoke", "POST /oauth2/introspect", "GET /logout", "POST /logout"}
