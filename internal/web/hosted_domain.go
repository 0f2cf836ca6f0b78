package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
)

// Hosted pages on a pool's own domain
//
// Cognito serves its hosted UI at the root of the pool's domain (/login,
// /signup, /forgotPassword, /confirmForgotPassword, ...). Gatehouse serves
// the hosted pages there too, for a request whose Host is one of the
// pool's Domains (identity.Pool.Domains, unique across pools): the bare
// path answers exactly as /{pool}/<page> does, form posts, CSRF and rate
// limits included. Another Host gets 404 on the bare paths.
//
// The Host header only picks the pool (pooldomain.Resolver, shared with
// internal/oidc's bare /oauth2/... and /logout). It never goes into a
// link: a page served on a bare path links to, posts to and redirects to
// bare paths (relative, so the browser stays on that domain); return_to
// must be a bare path there (validReturnTo). The one exception is
// federated sign-in: the upstream provider calls back to the pool's
// issuer (<issuer>/oauth2/idpresponse, its registered redirect_uri), so
// the provider buttons lead to <issuer>/federation/<provider>, an absolute
// URL from configuration, and the sign-in finishes there.

// barePaths maps a hosted page (its path under /{pool}/) to its bare path
// on the pool's domain: Cognito's name where Cognito has the page.
var barePaths = map[string]string{
	"login":            "/login",
	"signup":           "/signup",
	"signup/companies": "/signup/companies",
	"confirm":          "/confirmUser",
	"confirm/resend":   "/confirmUser/resend",
	"pending":          "/pending",
	"new-password":     "/new-password",
	"mfa":              "/mfa",
	"forgot":           "/forgotPassword",
	"reset":            "/confirmForgotPassword",
	"account":          "/account",
	"signout":          "/signout",
	"theme.css":        "/theme.css",

	"passkey":                  "/passkey",
	"passkey/options":          "/passkey/options",
	"account/passkeys":         "/account/passkeys",
	"account/passkeys/options": "/account/passkeys/options",
	"account/passkeys/delete":  "/account/passkeys/delete",
	"account/password":         "/account/password",
	"account/email":            "/account/email",
	"account/email/verify":     "/account/email/verify",
	"account/totp":             "/account/totp",
	"account/totp/confirm":     "/account/totp/confirm",
	"account/factors/delete":   "/account/factors/delete",
	"account/recovery-codes":   "/account/recovery-codes",
	"account/sessions/delete":  "/account/sessions/delete",
	"account/sessions/others":  "/account/sessions/others",
	"account/devices/forget":   "/account/devices/forget",
}

// onDomain serves h on a bare path for the pool of the request's host,
// else 404.
func (w *Web) onDomain(h http.HandlerFunc) http.HandlerFunc { return w.domains.Handler(h) }

// PoolDomains is the host -> pool resolver of the bare paths; internal/oidc
// shares it for /oauth2/... and /logout.
func (w *Web) PoolDomains() *pooldomain.Resolver { return w.domains }

// authorizePath is the pool's /oauth2/authorize, bare on its domain.
func (h *hostedReq) authorizePath() string {
	if h.bare {
		return "/oauth2/authorize"
	}
	return "/" + url.PathEscape(h.pool.ID) + "/oauth2/authorize"
}

// validReturnTo checks a return_to: ValidReturnTo under /{pool}/, or on
// the pool's domain ValidDomainReturnTo.
func (h *hostedReq) validReturnTo(s string) bool {
	if h.bare {
		return ValidDomainReturnTo(s)
	}
	return ValidReturnTo(h.pool.ID, s)
}

// signInPath is the sign-in page coming back to returnTo.
func (h *hostedReq) signInPath(returnTo string) string {
	if h.bare {
		return DomainSignInPath(h.clientID, returnTo)
	}
	return SignInPath(h.pool.ID, h.clientID, returnTo)
}

// federationLink is the href of a provider button. On the pool's domain:
// the issuer's federation start (see above), with return_to in its
// /{pool}/ form.
func (h *hostedReq) federationLink(provider string) string {
	if !h.bare || h.issuer == "" {
		return h.link("federation/" + url.PathEscape(provider))
	}
	q := url.Values{}
	q.Set("client_id", h.clientID)
	if rt := prefixReturnTo(h.pool.ID, h.returnTo); rt != "" {
		q.Set("return_to", rt)
	}
	return strings.TrimRight(h.issuer, "/") + "/federation/" + url.PathEscape(provider) + "?" + q.Encode()
}

// prefixReturnTo turns a bare return_to into the same place under
// /{pool}/ ("" when there is none or it does not validate).
func prefixReturnTo(poolID, bare string) string {
	if bare == "" {
		return ""
	}
	p, query, _ := strings.Cut(bare, "?")
	out := ""
	if p == "/oauth2/authorize" {
		out = "/" + url.PathEscape(poolID) + p
	} else {
		for page, bp := range barePaths {
			if bp == p {
				out = "/" + url.PathEscape(poolID) + "/" + page
			}
		}
	}
	if out == "" {
		return ""
	}
	if query != "" {
		out += "?" + query
	}
	if !ValidReturnTo(poolID, out) {
		return ""
	}
	return out
}

// ValidDomainReturnTo reports whether s is a safe return_to on a pool's
// own domain: a same-origin relative reference with the checks of
// ValidReturnTo, whose path is /oauth2/authorize or one of the bare
// hosted pages.
func ValidDomainReturnTo(s string) bool {
	if !strings.HasPrefix(s, "/") || len(s) > 4096 {
		return false
	}
	// The same checks as under a prefix: "/x" + s is under /x/ exactly when
	// s is a clean absolute path (no "//", dot segments, encoded slashes,
	// backslashes or control characters).
	if !ValidReturnTo("x", "/x"+s) {
		return false
	}
	p, _, _ := strings.Cut(s, "?")
	if p == "/oauth2/authorize" {
		return true
	}
	for _, bp := range barePaths {
		if bp == p && bp != "/theme.css" && bp != "/signup/companies" {
			return true
		}
	}
	return false
}

// DomainSignInPath is SignInPath on a pool's own domain: /login, coming
// back to returnTo (validated with ValidDomainReturnTo; an invalid one is
// dropped) after a successful sign-in.
func DomainSignInPath(clientID, returnTo string) string {
	q := url.Values{}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if returnTo != "" && ValidDomainReturnTo(returnTo) {
		q.Set("return_to", returnTo)
	}
	if len(q) == 0 {
		return "/login"
	}
	return "/login?" + q.Encode()
}

// oauthQuery are the authorization request parameters Cognito's hosted UI
// takes on /login, /signup and /forgotPassword.
var oauthQuery = []string{"client_id", "response_type", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "identity_provider", "prompt", "max_age"}

// oauthParams returns the authorization request carried by a hosted page's
// query (Cognito's /login?client_id=&response_type=code&redirect_uri=...),
// encoded, or "" when the query has no response_type nor redirect_uri.
// /oauth2/authorize validates it.
func oauthParams(r *http.Request) string {
	q := r.URL.Query()
	if !q.Has("response_type") && !q.Has("redirect_uri") {
		return ""
	}
	out := url.Values{}
	for _, k := range oauthQuery {
		if v, ok := q[k]; ok {
			out[k] = v
		}
	}
	return out.Encode()
}
