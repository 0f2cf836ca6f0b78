package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Wrap returns h behind the middleware chain described in the package doc:
// request id, client ip, access log, metrics, panic recovery, security
// headers, body cap and request deadline. Server uses it; tests use it with
// httptest.NewServer(httpserver.Wrap(cfg, h)).
func Wrap(cfg Config, h http.Handler) http.Handler {
	cfg = cfg.withDefaults()
	initMetrics()
	return &chain{cfg: cfg, next: h}
}

type chain struct {
	cfg  Config
	next http.Handler
}

// routeInfo is shared, by pointer in the context, between the outermost
// layer and the innermost one: handlers below replace *http.Request with
// copies (WithContext), so the pattern the ServeMux sets on its own request
// is copied back here when the handler returns.
type routeInfo struct{ pattern string }

type keyRouteInfoT struct{}

var keyRouteInfo keyRouteInfoT

func (c *chain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()

	id := r.Header.Get(HeaderRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	ip := clientIP(r, c.cfg.TrustedProxies)
	info := &routeInfo{}

	ctx := context.WithValue(r.Context(), keyRequestID, id)
	ctx = context.WithValue(ctx, keyClientIP, ip)
	ctx = context.WithValue(ctx, keyRouteInfo, info)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WriteTimeout)
	defer cancel()
	r = r.WithContext(ctx)

	rw := &responseWriter{ResponseWriter: w}
	h := rw.Header()
	h.Set(HeaderRequestID, id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// JSON needs no sources at all; HTML surfaces override this header.
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

	defer func() {
		// Runs after recovery below, so a panicking request is counted
		// and logged with its 500.
		status := rw.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		route := info.pattern
		if route == "" {
			route = routeUnmatched
		}
		d := time.Since(start)
		observe(route, r.Method, status, d.Seconds())
		c.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "http request",
			slog.String("route", route),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rw.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("request_id", id),
			slog.String("remote_ip", ip),
		)
	}()

	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared by identity, as net/http does
			panic(v) // net/http's way to abort a response; keep its meaning
		}
		c.cfg.Log.LogAttrs(ctx, slog.LevelError, "panic serving request",
			slog.String("request_id", id),
			slog.String("panic", fmt.Sprint(v)),
			slog.String("stack", string(debug.Stack())),
		)
		if rw.status != 0 {
			// Headers are gone; the best we can do is cut the response.
			panic(http.ErrAbortHandler)
		}
		WriteProblem(rw, r, Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "An internal error occurred."})
	}()

	maxBody := c.cfg.MaxBodyBytes
	for _, l := range c.cfg.BodyLimits {
		if strings.HasPrefix(r.URL.Path, l.PathPrefix) {
			maxBody = l.Max
		}
	}
	if r.ContentLength > maxBody {
		WriteProblem(rw, r, Problem{
			Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
			Detail: "The request body is larger than " + strconv.FormatInt(maxBody, 10) + " bytes.",
		})
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}

	// The innermost layer: remember the pattern the mux chose on this very
	// request value, even if the handler panics.
	defer func() { info.pattern = r.Pattern }()
	c.next.ServeHTTP(rw, r)
}

// RoutePattern returns the ServeMux pattern recorded so far for the request
// carrying ctx, for handlers that log; "" before routing.
func RoutePattern(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if info, ok := r.Context().Value(keyRouteInfo).(*routeInfo); ok {
		return info.pattern
	}
	return ""
}

// IsBodyTooLarge reports whether err came from reading a body past the cap.
func IsBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// responseWriter records the status and size for logs and metrics.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are informational, not the status
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush() //nolint:errcheck // best effort, as http.Flusher
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
