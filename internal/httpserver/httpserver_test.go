package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/httpserver"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

type fixture struct {
	srv *httptest.Server
	log *syncBuffer
	mux *http.ServeMux
}

// setup serves mux behind Wrap on a real listener.
func setup(t *testing.T, cfg httpserver.Config) *fixture {
	t.Helper()
	f := &fixture{log: &syncBuffer{}, mux: http.NewServeMux()}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(f.log, nil))
	}
	f.srv = httptest.NewServer(httpserver.Wrap(cfg, f.mux))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func (f *fixture) get(t *testing.T, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return f.do(t, req)
}

func decodeProblem(t *testing.T, res *http.Response, body []byte) httpserver.Problem {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, body)
	}
	var p httpserver.Problem
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != res.StatusCode {
		t.Fatalf("problem status %d != HTTP status %d", p.Status, res.StatusCode)
	}
	if p.Type != httpserver.ProblemTypePrefix+p.Code || p.Title == "" {
		t.Fatalf("problem type/title: %+v", p)
	}
	return p
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	f := setup(t, httpserver.Config{})
	f.mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, httpserver.RequestID(r.Context()))
	})
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range []struct {
		name, sent string
		keep       bool
	}{
		{"absent", "", false},
		{"safe", "abc-123_X.y", true},
		{"max length", strings.Repeat("a", 64), true},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"unicode", "é", false},
		{"log injection", "x\\n{\"level\":\"ERROR\"}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.sent != "" {
				hdr = []string{"X-Request-Id", tc.sent}
			}
			res, body := f.get(t, "/id", hdr...)
			got := res.Header.Get("X-Request-Id")
			if string(body) != got {
				t.Fatalf("context id %q != header id %q", body, got)
			}
			if tc.keep && got != tc.sent {
				t.Fatalf("id = %q, want the client's %q", got, tc.sent)
			}
			if !tc.keep && !generated.MatchString(got) {
				t.Fatalf("id = %q, want a generated one", got)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"peer only", "203.0.113.7:5555", nil, trusted, "203.0.113.7"},
		{"xff ignored without trusted list", "10.1.1.1:1", []string{"198.51.100.1"}, nil, "10.1.1.1"},
		{"xff ignored from untrusted peer", "203.0.113.7:1", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"one trusted hop", "10.1.1.1:1", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"spoofed left entries skipped", "10.1.1.1:1", []string{"1.1.1.1, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"two trusted hops", "10.1.1.1:1", []string{"198.51.100.1, 10.2.2.2"}, trusted, "198.51.100.1"},
		{"several headers", "10.1.1.1:1", []string{"1.1.1.1", "198.51.100.1, 10.2.2.2"}, trusted, "198.51.100.1"},
		{"all trusted", "10.1.1.1:1", []string{"10.3.3.3, 10.2.2.2"}, trusted, "10.3.3.3"},
		{"garbage stops at last good hop", "10.1.1.1:1", []string{"198.51.100.1, nonsense"}, trusted, "10.1.1.1"},
		{"garbage behind a trusted hop", "10.1.1.1:1", []string{"nonsense, 10.2.2.2"}, trusted, "10.2.2.2"},
		{"hop with port", "10.1.1.1:1", []string{"198.51.100.1:443"}, trusted, "198.51.100.1"},
		{"ipv6 peer", "[2001:db8::1]:1", nil, trusted, "2001:db8::1"},
		{"ipv6 trusted proxy", "[fd00::1]:1", []string{"2001:db8::2"}, trusted, "2001:db8::2"},
		{"ipv4-mapped peer", "[::ffff:10.1.1.1]:1", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			h := httpserver.Wrap(httpserver.Config{TrustedProxies: tc.trusted, Log: slog.New(slog.DiscardHandler)},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpserver.ClientIP(r.Context()) }))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != tc.want {
				t.Fatalf("client ip = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := setup(t, httpserver.Config{})
	f.mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	for _, path := range []string{"/x", "/missing"} {
		res, _ := f.get(t, path)
		for k, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	f := setup(t, httpserver.Config{})
	f.mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		panic("db password is hunter2")
	})
	res, body := f.get(t, "/boom", "X-Request-Id", "req-panic")
	if res.StatusCode != 500 {
		t.Fatalf("status %d", res.StatusCode)
	}
	p := decodeProblem(t, res, body)
	if p.Code != "internal" || p.RequestID != "req-panic" {
		t.Fatalf("problem %+v", p)
	}
	if bytes.Contains(body, []byte("hunter2")) {
		t.Fatalf("panic value leaked to the client: %s", body)
	}
	var sawPanic, sawAccess bool
	for _, l := range f.log.lines(t) {
		if l["msg"] == "panic serving request" && strings.Contains(l["panic"].(string), "hunter2") && l["request_id"] == "req-panic" {
			sawPanic = true
		}
		if l["msg"] == "http request" && l["request_id"] == "req-panic" && l["status"] == float64(500) {
			sawAccess = true
		}
	}
	if !sawPanic || !sawAccess {
		t.Fatalf("panic logged %v, access logged with 500 %v", sawPanic, sawAccess)
	}
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	f := setup(t, httpserver.Config{MaxBodyBytes: 100})
	var called sync.Map
	f.mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		called.Store(r.Header.Get("X-Case"), true)
		b, err := io.ReadAll(r.Body)
		if httpserver.IsBodyTooLarge(err) {
			httpserver.WriteProblem(w, r, httpserver.Problem{Status: 413, Code: "payload_too_large"})
			return
		}
		if err != nil {
			t.Errorf("read: %v", err)
		}
		w.Write(b)
	})
	post := func(name string, body io.Reader, length int64) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/echo", body)
		req.ContentLength = length
		req.Header.Set("X-Case", name)
		return f.do(t, req)
	}

	res, body := post("at cap", strings.NewReader(strings.Repeat("a", 100)), 100)
	if res.StatusCode != 200 || len(body) != 100 {
		t.Fatalf("at cap: %d %q", res.StatusCode, body)
	}

	// Declared too large: refused before the handler runs.
	res, body = post("declared", strings.NewReader(strings.Repeat("a", 101)), 101)
	if res.StatusCode != 413 || decodeProblem(t, res, body).Code != "payload_too_large" {
		t.Fatalf("declared: %d %s", res.StatusCode, body)
	}
	if _, ok := called.Load("declared"); ok {
		t.Fatal("handler ran for a body declared over the cap")
	}

	// Streamed (no Content-Length): the reader stops at the cap.
	res, body = post("chunked", io.MultiReader(strings.NewReader(strings.Repeat("a", 150))), -1)
	if res.StatusCode != 413 || decodeProblem(t, res, body).Code != "payload_too_large" {
		t.Fatalf("chunked: %d %s", res.StatusCode, body)
	}
}

func TestAccessLogAndMetricsUseThePattern(t *testing.T) {
	t.Parallel()
	f := setup(t, httpserver.Config{})
	httpserver.OpsRoutes(f.mux, nil)
	f.mux.HandleFunc("GET /widgets/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A handler that replaces the request, as auth middleware does.
		type replacedKey struct{}
		teapot := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }
		teapot(w, r.WithContext(context.WithValue(r.Context(), replacedKey{}, 1)))
	})
	// A nested mux, as the API is mounted: the inner pattern wins.
	inner := http.NewServeMux()
	inner.HandleFunc("POST /nested/{x}/leaf", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	f.mux.Handle("/nested/", inner)

	for _, id := range []string{"1", "2", "secret-path-value"} {
		res, _ := f.get(t, "/widgets/"+id, "X-Request-Id", "w"+id)
		if res.StatusCode != http.StatusTeapot {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/nested/abc/leaf", nil)
	if res, _ := f.do(t, req); res.StatusCode != 201 {
		t.Fatalf("nested status %d", res.StatusCode)
	}
	f.get(t, "/no/such/thing/12345")

	var widgetLines int
	for _, l := range f.log.lines(t) {
		if l["msg"] != "http request" {
			continue
		}
		if l["route"] == "GET /widgets/{id}" {
			widgetLines++
			if l["status"] != float64(418) || l["method"] != "GET" || l["remote_ip"] != "127.0.0.1" ||
				l["request_id"] == "" || l["duration_ms"] == nil {
				t.Fatalf("access log line %v", l)
			}
		}
	}
	if widgetLines != 3 {
		t.Fatalf("%d access log lines for the widget route, want 3", widgetLines)
	}

	_, metrics := f.get(t, "/metrics")
	m := string(metrics)
	for _, want := range []string{
		`gatehouse_http_requests_total{method="GET",route="GET /widgets/{id}",status="418"} 3`,
		`gatehouse_http_requests_total{method="POST",route="POST /nested/{x}/leaf",status="201"} 1`,
		`gatehouse_http_request_duration_seconds_count{route="GET /widgets/{id}"} 3`,
		`route="unmatched"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, bad := range []string{"secret-path-value", "/no/such/thing", "abc"} {
		if strings.Contains(m, bad) {
			t.Errorf("metrics contain the raw path %q", bad)
		}
	}
}

func TestOpsRoutes(t *testing.T) {
	t.Parallel()
	var fail error
	var mu sync.Mutex
	f := setup(t, httpserver.Config{})
	httpserver.OpsRoutes(f.mux, func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return fail
	})
	check := func(path string, code int, status string) {
		t.Helper()
		res, body := f.get(t, path)
		var got struct{ Status string }
		if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != code || got.Status != status {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	check("/healthz", 200, "ok")
	check("/readyz", 200, "ok")
	mu.Lock()
	fail = errors.New("database is down")
	mu.Unlock()
	check("/readyz", 503, "unavailable")
	check("/healthz", 200, "ok")
	if _, body := f.get(t, "/readyz"); bytes.Contains(body, []byte("database")) {
		t.Fatalf("readyz leaked the cause: %s", body)
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	srv := httpserver.New(httpserver.Config{Log: slog.New(slog.DiscardHandler)}, mux)
	ready := srv.Ready(func(context.Context) error { return nil })
	httpserver.OpsRoutes(mux, ready)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(ln)
	base := "http://" + ln.Addr().String()

	if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz before shutdown: %v %v", res, err)
	}

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{string(b), err}
	}()
	<-entered

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	for !srv.Draining() {
		// Shutdown's first act; yield until the goroutine got there.
		runtime.Gosched()
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v with a request in flight", err)
		default:
		}
	}
	if err := ready(context.Background()); !errors.Is(err, httpserver.ErrDraining) {
		t.Fatalf("ready while draining = %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts requests after Shutdown")
	}
}

func TestListenAndServeStopsOnCancel(t *testing.T) {
	t.Parallel()
	srv := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Log: slog.New(slog.DiscardHandler)}, http.NewServeMux())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.ListenAndServe(ctx); err != nil {
		t.Fatalf("ListenAndServe after cancel: %v", err)
	}
	bad := httpserver.New(httpserver.Config{Addr: "127.0.0.1:-1"}, http.NewServeMux())
	if err := bad.ListenAndServe(context.Background()); err == nil {
		t.Fatal("ListenAndServe on a bad address returned nil")
	}
}
