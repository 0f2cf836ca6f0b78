package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOptionsDefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; "" = valid
	}{
		{"empty is the local default", Options{}, ""},
		{"ipv4 loopback", Options{BaseURL: "http://127.0.0.1:9999"}, ""},
		{"other 127/8 address", Options{BaseURL: "http://127.1.2.3:80/"}, ""},
		{"ipv6 loopback", Options{BaseURL: "http://[::1]:8080"}, ""},
		{"localhost", Options{BaseURL: "https://localhost:8443"}, ""},
		{"remote host", Options{BaseURL: "https://id.example.com"}, "refusing non-loopback"},
		{"private address", Options{BaseURL: "http://10.0.0.5:8080"}, "refusing non-loopback"},
		{"unspecified address", Options{BaseURL: "http://0.0.0.0:8080"}, "refusing non-loopback"},
		{"localhost lookalike", Options{BaseURL: "http://localhost.evil.com"}, "refusing non-loopback"},
		{"userinfo trick", Options{BaseURL: "http://127.0.0.1@evil.com/"}, "refusing non-loopback"},
		{"no scheme", Options{BaseURL: "127.0.0.1:8080"}, "must be http(s)"},
		{"ftp", Options{BaseURL: "ftp://127.0.0.1"}, "must be http(s)"},
		{"unknown phase", Options{Phases: []string{"signin", "login"}}, `unknown phase "login"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := tc.opts.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if o.Duration != DefaultDuration && tc.opts.Duration == 0 {
				t.Errorf("Duration = %v", o.Duration)
			}
			if o.Concurrency <= 0 || o.Users != DefaultUsers || o.HashMemoryKiB != 19456 || o.HashTime != 2 || o.HashThreads != 1 {
				t.Errorf("defaults not applied: %+v", o)
			}
			if len(o.Phases) != 3 && len(tc.opts.Phases) == 0 {
				t.Errorf("Phases = %v", o.Phases)
			}
		})
	}
}

func TestRunRefusesRemoteBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := Run(context.Background(), Options{BaseURL: "http://192.0.2.1:8080"}, &out)
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("wrote output before refusing: %q", out.String())
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 90, 4 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 90, 90 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := percentile(tc.in, tc.q); got != tc.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(tc.in), tc.q, got, tc.want)
		}
	}
}

func TestErrorKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&httpError{Status: 429, Code: errorCode([]byte(`{"code":"too_many_requests","message":"slow down"}`))}, "429 too_many_requests"},
		{&httpError{Status: 400, Code: errorCode([]byte(`{"error":{"code":"invalid_token"}}`))}, "400 invalid_token"},
		{&httpError{Status: 400, Code: errorCode([]byte(`{"error":"invalid_grant"}`))}, "400 invalid_grant"},
		{&httpError{Status: 502, Code: errorCode([]byte(`<html>bad gateway</html>`))}, "502"},
		{fmt.Errorf("wrapped: %w", &httpError{Status: 500}), "500"},
		{errors.New("dial tcp: connection refused"), "transport"},
	}
	for _, tc := range tests {
		if got := errorKey(tc.err); got != tc.want {
			t.Errorf("errorKey(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// fakeGatehouse is a small stand-in for the native API that enforces the
// properties the load driver depends on: admin calls need the key, sign-in
// needs the password set through the admin API, and refresh tokens rotate
// with reuse detection (presenting a used token fails), so a driver that did
// not chain the rotated tokens would show errors.
type fakeGatehouse struct {
	key string

	mu       sync.Mutex
	pools    map[string]bool
	users    map[string]string // username -> password ("" until set)
	refresh  map[string]bool   // token -> already used
	signUps  atomic.Int64
	signIns  atomic.Int64
	refreshs atomic.Int64
	n        int
}

func newFake(key string) *fakeGatehouse {
	return &fakeGatehouse{key: key, pools: map[string]bool{}, users: map[string]string{}, refresh: map[string]bool{}}
}

func (f *fakeGatehouse) handler() http.Handler {
	mux := http.NewServeMux()
	admin := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+f.key {
				writeJSON(w, 401, map[string]any{"error": map[string]string{"code": "unauthenticated"}})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /api/v1/pools", admin(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		id := fmt.Sprintf("us-east-1_pool%d", f.n)
		f.pools[id] = true
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"id": id})
	}))
	mux.HandleFunc("DELETE /api/v1/pools/{pool}", admin(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		delete(f.pools, r.PathValue("pool"))
		f.mu.Unlock()
		w.WriteHeader(204)
	}))
	mux.HandleFunc("POST /api/v1/pools/{pool}/clients", admin(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, map[string]any{"client": map[string]any{"id": "client1"}})
	}))
	mux.HandleFunc("POST /api/v1/pools/{pool}/users", admin(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.users[in.Username] = ""
		f.mu.Unlock()
		writeJSON(w, 201, map[string]any{"username": in.Username})
	}))
	mux.HandleFunc("PUT /api/v1/pools/{pool}/users/{user}/password", admin(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Password  string
			Permanent bool
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.users[r.PathValue("user")] = in.Password
		f.mu.Unlock()
		w.WriteHeader(204)
	}))
	mux.HandleFunc("POST /api/v1/auth/sign-up", func(w http.ResponseWriter, r *http.Request) {
		f.signUps.Add(1)
		writeJSON(w, 201, map[string]any{"user_sub": "x", "user_confirmed": false})
	})
	mux.HandleFunc("POST /api/v1/auth/sign-in", func(w http.ResponseWriter, r *http.Request) {
		var in signInRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		pw, ok := f.users[in.Username]
		f.mu.Unlock()
		if !ok || pw == "" || pw != in.Password || in.ClientID != "client1" {
			writeJSON(w, 400, map[string]any{"error": map[string]string{"code": "not_authorized"}})
			return
		}
		f.signIns.Add(1)
		writeJSON(w, 200, f.issue())
	})
	mux.HandleFunc("POST /api/v1/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		var in refreshRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		used, known := f.refresh[in.RefreshToken]
		f.refresh[in.RefreshToken] = true
		f.mu.Unlock()
		if !known || used {
			writeJSON(w, 400, map[string]any{"error": map[string]string{"code": "invalid_token"}})
			return
		}
		f.refreshs.Add(1)
		writeJSON(w, 200, f.issue())
	})
	return mux
}

func (f *fakeGatehouse) issue() tokensResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	rt := fmt.Sprintf("rt-%d", f.n)
	f.refresh[rt] = false
	return tokensResponse{IDToken: "id", AccessToken: "at", RefreshToken: rt, ExpiresIn: 3600, TokenType: "Bearer"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// TestRunAgainstFake checks the driver's bookkeeping: every phase runs,
// every request the server answered is counted, rotated refresh tokens are
// chained (no reuse errors), and the pool it created is deleted.
func TestRunAgainstFake(t *testing.T) {
	t.Parallel()
	f := newFake("admin-secret")
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	opts := Options{
		BaseURL: srv.URL, AdminKey: "admin-secret",
		Duration: 150 * time.Millisecond, Concurrency: 3, Users: 5,
		// cheap hash parameters: the fake does not hash
		HashMemoryKiB: 64, HashTime: 1, HashThreads: 1,
	}
	rep, err := measure(context.Background(), opts, &out)
	if err != nil {
		t.Fatalf("measure: %v\n%s", err, out.String())
	}
	if err := rep.write(&out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())

	if len(rep.phases) != 3 {
		t.Fatalf("phases = %d, want 3", len(rep.phases))
	}
	for _, p := range rep.phases {
		if p.OK == 0 || p.ErrorCount() != 0 {
			t.Errorf("phase %s: ok=%d errors=%v", p.Name, p.OK, p.Errors)
		}
		if p.P50 <= 0 || p.P50 > p.P90 || p.P90 > p.P99 || p.P99 > p.Max {
			t.Errorf("phase %s: percentiles out of order: %v %v %v %v", p.Name, p.P50, p.P90, p.P99, p.Max)
		}
	}
	// Requests cut by the end of a phase are not counted, so the server
	// may have answered a few more than the report shows, never fewer.
	if got, srvN := rep.phase(PhaseSignUp).OK, int(f.signUps.Load()); got > srvN || got < srvN-opts.Concurrency {
		t.Errorf("sign-ups: report %d, server %d", got, srvN)
	}
	// The server also counts the one sign-in per worker made before the
	// refresh phase.
	if got, srvN := rep.phase(PhaseSignIn).OK, int(f.signIns.Load())-opts.Concurrency; got > srvN || got < srvN-opts.Concurrency {
		t.Errorf("sign-ins: report %d, server %d", got, srvN)
	}
	if got, srvN := rep.phase(PhaseRefresh).OK, int(f.refreshs.Load()); got > srvN || got < srvN-opts.Concurrency {
		t.Errorf("refreshes: report %d, server %d", got, srvN)
	}
	if rep.rawRate <= 0 {
		t.Errorf("raw rate not measured")
	}
	f.mu.Lock()
	left := len(f.pools)
	f.mu.Unlock()
	if left != 0 {
		t.Errorf("%d pools left behind", left)
	}
	for _, want := range []string{"sign-ins/s ÷ raw hashes/s", "sign-ups/s ÷ raw hashes/s", "refreshes/s", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestRunSetupFailureIsReported: a wrong admin key stops the run with the
// server's answer rather than running phases against nothing.
func TestRunSetupFailureIsReported(t *testing.T) {
	t.Parallel()
	f := newFake("right")
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	err := Run(context.Background(), Options{BaseURL: srv.URL, AdminKey: "wrong", Duration: 50 * time.Millisecond}, &bytes.Buffer{})
	var he *httpError
	if !errors.As(err, &he) || he.Status != 401 {
		t.Fatalf("err = %v, want the 401 from creating the pool", err)
	}
}

// TestRunStopsWithContext: a cancelled context ends the run early with
// ctx's error, and the pool is still cleaned up.
func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	f := newFake("k")
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{BaseURL: srv.URL, AdminKey: "k", Duration: time.Hour, Concurrency: 2, Users: 2, Phases: []string{PhaseSignUp}}, &out)
	}()
	// cancel once the phase is under way
	for f.signUps.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pools) != 0 {
		t.Errorf("pool left behind after cancel")
	}
}
