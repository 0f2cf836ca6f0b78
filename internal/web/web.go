package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// pages are the templates each page needs besides the layout. New fails if
// one is missing or does not parse.
var pages = []string{"approval", "result", "error",
	"signup", "confirm", "message", "login", "newpassword", "forgot", "reset", "account", "signout", "federation", "mfa",
	"account_totp", "account_codes"}

// Options configure the pages.
type Options struct {
	Log *slog.Logger
	// CSRFKey keys the HMAC of form tokens (at least 32 bytes). Derive it
	// from a secret shared by every node; nil: a random key (tokens then
	// break on restart).
	CSRFKey []byte
	// MaxFormBytes caps a form body (default 64 KiB).
	MaxFormBytes int64
	Now          func() time.Time
	// BaseURL is the server's public base URL. When it is https the pages
	// set __Host- Secure cookies and HSTS; over http (development) the
	// cookies lose the prefix and the Secure flag (see session.go). Never
	// derived from request headers.
	BaseURL string
	// SessionTTL is how long a hosted sign-in lasts (default 8 h).
	SessionTTL time.Duration
	// RateBurst and RateEvery limit sign-in, sign-up, code and
	// forgot-password posts per pool and client address: RateBurst at
	// once, then one per RateEvery (defaults 10 and 6 s). The type-ahead
	// gets 5 times as many.
	RateBurst int
	RateEvery time.Duration
}

// Web is the pages handler.
type Web struct {
	svc   *auth.Service
	opts  Options
	mux   *http.ServeMux
	pages map[string]*template.Template
	box   *secretbox.Box
	// limits are the per-address rate limits by action.
	limits map[string]*limiter
	// domains maps a pool's own domains to it, for the bare paths
	// (hosted_domain.go); shared with internal/oidc.
	domains *pooldomain.Resolver
}

// MountPatterns are the patterns under which New's handler must be
// mounted on the server mux.
var MountPatterns = []string{"/{pool}/approval/{token}", "GET /-/static/{file}",
	"/{pool}/signup", "GET /{pool}/signup/companies", "/{pool}/confirm", "POST /{pool}/confirm/resend",
	"GET /{pool}/pending", "/{pool}/login", "POST /{pool}/new-password", "POST /{pool}/mfa", "/{pool}/forgot", "/{pool}/reset",
	"GET /{pool}/account", "/{pool}/signout", "GET /{pool}/theme.css",
	"/{pool}/console", "/{pool}/console/", "/{pool}/federation/", "/{pool}/saml/",
	"POST /{pool}/passkey", "POST /{pool}/passkey/options", "POST /{pool}/account/passkeys", "POST /{pool}/account/passkeys/",
	// Each account POST by name: a subtree pattern would answer a POST to
	// the account page itself with a redirect instead of 405.
	"POST /{pool}/account/password", "POST /{pool}/account/email", "POST /{pool}/account/email/verify", "POST /{pool}/account/totp",
	"POST /{pool}/account/totp/confirm", "POST /{pool}/account/factors/delete", "POST /{pool}/account/recovery-codes",
	"POST /{pool}/account/sessions/delete", "POST /{pool}/account/sessions/others", "POST /{pool}/account/devices/forget",
	// The hosted pages' bare paths on a pool's own domain (hosted_domain.go).
	"/login", "/signup", "GET /signup/companies", "/confirmUser", "POST /confirmUser/resend", "GET /pending",
	"POST /new-password", "POST /mfa", "/forgotPassword", "/confirmForgotPassword", "GET /account", "/signout", "GET /theme.css",
	"POST /passkey", "POST /passkey/options", "POST /account/passkeys", "POST /account/passkeys/",
	"POST /account/password", "POST /account/email", "POST /account/email/verify", "POST /account/totp", "POST /account/totp/confirm", "POST /account/factors/delete", "POST /account/recovery-codes", "POST /account/sessions/delete", "POST /account/sessions/others", "POST /account/devices/forget"}

// New returns the pages handler (routes in routes.go).
//
// Errors: a missing or broken template, a short CSRF key.
func New(svc *auth.Service, opts Options) (*Web, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxFormBytes <= 0 {
		opts.MaxFormBytes = 64 << 10
	}
	if opts.CSRFKey == nil {
		opts.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(opts.CSRFKey); err != nil {
			return nil, err
		}
	}
	if len(opts.CSRFKey) < 32 {
		return nil, fmt.Errorf("web: the CSRF key must be at least 32 bytes")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	box, err := newSessionBox(opts.CSRFKey)
	if err != nil {
		return nil, err
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = 10
	}
	if opts.RateEvery <= 0 {
		opts.RateEvery = 6 * time.Second
	}
	w := &Web{svc: svc, opts: opts, mux: http.NewServeMux(), pages: map[string]*template.Template{}, box: box,
		limits: map[string]*limiter{}, domains: pooldomain.New(svc, opts.Now, opts.Log)}
	for _, a := range []string{"login", "signup", "forgot", "confirm"} {
		w.limits[a] = newLimiter(opts.RateBurst, opts.RateEvery)
	}
	w.limits["lookup"] = newLimiter(5*opts.RateBurst, opts.RateEvery/5)
	funcs := template.FuncMap{
		"t":  func(k string) string { return text[k] },
		"tf": func(k string, args ...any) string { return fmt.Sprintf(text[k], args...) },
	}
	for _, name := range pages {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		if t.Lookup("layout") == nil || t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s: missing layout or content", name)
		}
		w.pages[name] = t
	}
	for _, rt := range w.routes() {
		h := rt.h
		if strings.Contains(rt.pattern, "/{pool}/") {
			h = w.poolByName(h)
		}
		w.mux.Handle(rt.pattern, w.secure(h))
	}
	return w, nil
}

// poolByName sends a GET or HEAD whose {pool} is the name of exactly one
// pool, not an id (/Acme Shop/signup, as the CLI accepts names), to the
// canonical URL with the pool's id: 303, the rest of the path and the
// query string kept. An ambiguous or unknown name goes on to next, which
// answers 404 as for any unknown pool; a POST is never redirected (forms
// post to the canonical URL they were served from).
func (w *Web) poolByName(next http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if id, ok := w.domains.ByName(r.Context(), r.PathValue("pool")); ok {
				// The path after its first segment, as it was escaped.
				rest := ""
				if p := strings.TrimPrefix(r.URL.EscapedPath(), "/"); strings.Contains(p, "/") {
					rest = p[strings.Index(p, "/"):]
				}
				to := "/" + url.PathEscape(id) + rest
				if r.URL.RawQuery != "" {
					to += "?" + r.URL.RawQuery
				}
				http.Redirect(rw, r, to, http.StatusSeeOther)
				return
			}
		}
		next(rw, r)
	}
}

// ServeHTTP serves the pages.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// secure sets the security headers of every response.
func (w *Web) secure(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		if w.secureCookies() && w.opts.BaseURL != "" {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		// Audited as via "hosted"; the console's actor says "console", an
		// approval link's "email-link". Audited by the user of the
		// browser's hosted session once CurrentSession opened it
		// (identity.SetUser), else "system". Copied after the mux matched,
		// so the access log and metrics keep the matched pattern.
		ctx := identity.WithUserSlot(identity.WithVia(r.Context(), identity.ViaHosted), httpserver.RemoteIP(r))
		h(rw, r.WithContext(ctx))
	})
}

// render writes page with data (buffered, so a template error becomes a
// clean 500).
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	var b bytes.Buffer
	if err := w.pages[page].ExecuteTemplate(&b, "layout", data); err != nil {
		w.opts.Log.ErrorContext(r.Context(), "web: render", "page", page, "err", err)
		http.Error(rw, text["error.internal"], http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(b.Bytes())
	}
}

// errorPage maps an error to a page, in this one place.
func (w *Web) errorPage(rw http.ResponseWriter, r *http.Request, err error) {
	status, key := http.StatusInternalServerError, "error.internal"
	switch identity.ErrorCode(err) {
	case identity.CodeInvalidToken:
		status, key = http.StatusNotFound, "error.invalid_link"
	case identity.CodeExpiredCode:
		status, key = http.StatusGone, "error.expired_link"
	case identity.CodeResourceNotFound, identity.CodeUserNotFound:
		status, key = http.StatusNotFound, "error.not_found"
	case identity.CodeForbidden:
		status, key = http.StatusForbidden, "error.csrf"
	case identity.CodeUnavailable:
		// The database is unreachable: a retryable 503, as on the API.
		status, key = http.StatusServiceUnavailable, "error.unavailable"
		rw.Header().Set("Retry-After", "5")
	}
	msg := text[key]
	if status == http.StatusServiceUnavailable {
		w.opts.Log.WarnContext(r.Context(), "web: unavailable", "path", r.URL.Path, "err", err)
	} else if status == http.StatusInternalServerError {
		w.opts.Log.ErrorContext(r.Context(), "web: error", "path", r.URL.Path, "err", err)
	} else if e, ok := err.(*identity.Error); ok && key == "error.not_found" {
		msg = e.Message
	}
	w.render(rw, r, status, "error", map[string]any{"Title": text["error.title"], "Message": msg})
}

func meta(r *http.Request) auth.RequestMeta {
	return auth.RequestMeta{IP: httpserver.RemoteIP(r), UserAgent: r.UserAgent()}
}

func staticFile(name string) ([]byte, bool) {
	b, err := fs.ReadFile(staticFS, "static/"+name)
	return b, err == nil
}
