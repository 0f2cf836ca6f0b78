package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Options configure the API handler.
type Options struct {
	Log          *slog.Logger // default slog.Default()
	MaxBodyBytes int64        // default 1 MiB; bodies over it answer 413
	// Now is the API's clock (default time.Now). Handlers have no
	// time-dependent logic today (the Service owns expiry); it is here so
	// any that appears is testable without sleeping.
	Now func() time.Time
}

// MountPatterns are the ServeMux patterns under which the handler New
// returns must be mounted on the server's mux:
//
//	for _, p := range api.MountPatterns { mux.Handle(p, h) }
var MountPatterns = []string{"/api/v1/", "GET /{pool}/.well-known/"}

// API is the native JSON API handler.
type API struct {
	svc  *auth.Service
	opts Options
	mux  *http.ServeMux
}

// New returns the native JSON API (routes in routes.go). svc is the only
// thing handlers call. The handler expects to run behind httpserver.Wrap
// (request id, client ip, logs, metrics) but works without it.
func New(svc *auth.Service, opts Options) http.Handler {
	return newAPI(svc, opts)
}

func newAPI(svc *auth.Service, opts Options) *API {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = form.DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{svc: svc, opts: opts, mux: http.NewServeMux()}
	for _, rt := range a.routes() {
		a.mux.Handle(rt.pattern, a.handle(rt.h))
	}
	return a
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Tokens and personal data: no shared cache may keep a response.
		// Public documents (JWKS, discovery, OpenAPI) override this.
		w.Header().Set("Cache-Control", "no-store")
		// Audited as via "api". Copied only after the mux matched, so the
		// access log and metrics keep the matched pattern.
		// A sign-in is audited as its user once the service checked it
		// (identity.SetUser); a route with a credential names its actor.
		r = r.WithContext(identity.WithUserSlot(identity.WithVia(r.Context(), identity.ViaAPI), httpserver.RemoteIP(r)))
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ServeHTTP routes r; requests no route matches get a problem document
// (404 resource_not_found or 405 method_not_allowed with Allow) instead
// of ServeMux's plain-text answers.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// unmatchedWriter replaces ServeMux's 404/405 bodies with problems and
// passes anything else (redirects to a cleaned path) through.
type unmatchedWriter struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (u *unmatchedWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		u.swallow = true
		httpserver.WriteProblem(u.ResponseWriter, u.r, problemFor(u.r, &identity.Error{Code: identity.CodeResourceNotFound, Message: "No such route."}))
	case http.StatusMethodNotAllowed:
		u.swallow = true
		httpserver.WriteProblem(u.ResponseWriter, u.r, problemFor(u.r, &identity.Error{Code: codeMethodNotAllowed, Message: "The method is not allowed on this route."}))
	default:
		u.ResponseWriter.WriteHeader(code)
	}
}

func (u *unmatchedWriter) Write(b []byte) (int, error) {
	if u.swallow {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

// writeJSON writes v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads r's JSON body into dst with the API's rules (package form).
func (a *API) decode(r *http.Request, dst any) error {
	return form.DecodeJSON(r, a.opts.MaxBodyBytes, dst)
}

// meta collects request facts for audit and throttling.
func meta(r *http.Request) auth.RequestMeta {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return auth.RequestMeta{IP: httpserver.RemoteIP(r), UserAgent: ua}
}
