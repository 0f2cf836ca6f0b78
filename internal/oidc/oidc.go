package oidc

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// Options configure the provider.
type Options struct {
	Log *slog.Logger
	Now func() time.Time
	// MaxFormBytes caps a form body at the token and revoke endpoints
	// (default 64 KiB).
	MaxFormBytes int64
}

// Handler serves the OAuth 2.0 / OpenID Connect endpoints of every pool.
type Handler struct {
	svc   *auth.Service
	pages *web.Web
	opts  Options
	mux   *http.ServeMux
	// domains maps a pool's own domains to it (domain.go); the hosted
	// pages' resolver, so both agree.
	domains *pooldomain.Resolver
}

// MountPatterns are the server mux patterns under which New's handler
// must be mounted (see doc.go for the endpoints under them): the
// per-pool paths and Cognito's bare paths on a pool's own domain.
var MountPatterns = append([]string{"/{pool}/oauth2/", "/{pool}/logout"}, domainRoutes...)

// New returns the provider. pages is the hosted pages handler, whose
// sessions /oauth2/authorize reads and /logout ends.
func New(svc *auth.Service, pages *web.Web, opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxFormBytes <= 0 {
		opts.MaxFormBytes = 64 << 10
	}
	h := &Handler{svc: svc, pages: pages, opts: opts, mux: http.NewServeMux(), domains: pages.PoolDomains()}
	routes := []struct {
		pattern string
		f       http.HandlerFunc
	}{
		{"GET /oauth2/authorize", h.authorize},
		{"POST /oauth2/authorize", h.authorize},
		{"POST /oauth2/token", h.token},
		// Cognito spells it userInfo; OpenID libraries and people type
		// userinfo. Both answer.
		{"GET /oauth2/userInfo", h.userInfo},
		{"POST /oauth2/userInfo", h.userInfo},
		{"GET /oauth2/userinfo", h.userInfo},
		{"POST /oauth2/userinfo", h.userInfo},
		{"POST /oauth2/revoke", h.revoke},
		{"POST /oauth2/introspect", h.introspect},
		{"GET /logout", h.logout},
		{"POST /logout", h.logout},
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		h.handle(method+" /{pool}"+path, rt.f)
		// Cognito's bare paths, on a pool's own domain (domain.go).
		h.handle(rt.pattern, h.domains.Handler(rt.f))
	}
	// CORS preflights of browser apps (public clients) calling the token,
	// userInfo and revoke endpoints.
	h.handle("OPTIONS /{pool}/oauth2/{endpoint}", h.preflight)
	// Upstream identity providers' callback (internal/web federation.go).
	h.handle("GET /{pool}/oauth2/idpresponse", pages.FederationCallback)
	return h
}

// handle routes pattern to f; the service audits what f does as via
// "hosted" (the hosted UI's endpoints), by the user of the browser's hosted
// session once the pages opened it (web.CurrentSession, identity.SetUser). The request is copied only here,
// after the mux matched it, so the access log and metrics still see the
// matched pattern on the request they hold.
func (h *Handler) handle(pattern string, f http.HandlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		f(w, r.WithContext(identity.WithUserSlot(identity.WithVia(r.Context(), identity.ViaHosted), httpserver.RemoteIP(r))))
	})
}

// ServeHTTP serves the endpoints.
//
// The token, userInfo and revoke endpoints answer any origin
// (Access-Control-Allow-Origin: *, no credentials): they authenticate by
// what the request carries (code + PKCE verifier, client secret, bearer
// token), never by cookies, so a browser app on any origin may call them
// as it may call Cognito's. authorize and logout are navigations, not
// fetches, and get no CORS headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if corsEndpoint(r.URL.Path) {
		hd.Set("Access-Control-Allow-Origin", "*")
	}
	h.mux.ServeHTTP(w, r)
}

func corsEndpoint(p string) bool {
	for _, e := range []string{"/oauth2/token", "/oauth2/userInfo", "/oauth2/userinfo", "/oauth2/revoke"} {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}

// preflight answers a CORS preflight of the token, userInfo and revoke
// endpoints.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !corsEndpoint(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, POST")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hd.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// oauthError is the JSON error of the token, revoke and userInfo
// endpoints (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) jsonError(w http.ResponseWriter, r *http.Request, status int, code string, err error) {
	desc := ""
	if err != nil {
		if c := identity.ErrorCode(err); c != identity.CodeInternal && c != identity.CodeUnavailable {
			desc = identity.ErrorMessage(err)
		} else {
			h.opts.Log.ErrorContext(r.Context(), "oidc: internal error", "path", r.URL.Path, "err", err)
			status, code, desc = http.StatusInternalServerError, "server_error", "Internal error."
			if identity.ErrorCode(err) == identity.CodeUnavailable {
				status, code = http.StatusServiceUnavailable, "temporarily_unavailable"
			}
		}
	}
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

var errorPageTmpl = template.Must(template.New("e").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in request refused</title></head>
<body><main><h1>Sign-in request refused</h1><p>{{.}}</p>
<p>The application that sent you here is misconfigured or the link was altered. Go back and try again.</p></main></body></html>`))

// errorPage shows an authorization or logout error that must not be
// redirected (unknown client, unregistered redirect_uri or logout_uri).
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = errorPageTmpl.Execute(w, msg)
}

func meta(r *http.Request) auth.RequestMeta {
	return auth.RequestMeta{IP: httpserver.RemoteIP(r), UserAgent: r.UserAgent()}
}

// exactMember reports whether s is byte-for-byte one of list (no case
// folding, no normalisation, no prefix matching).
func exactMember(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasField(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// singleParam returns the one value of name in vals; ok is false when it
// is repeated (RFC 6749 §3.1: parameters must not be included more than once).
func singleParam(vals map[string][]string, name string) (string, bool) {
	v := vals[name]
	switch len(v) {
	case 0:
		return "", true
	case 1:
		return v[0], true
	}
	return "", false
}

func splitScope(s string) []string { return strings.Fields(s) }
