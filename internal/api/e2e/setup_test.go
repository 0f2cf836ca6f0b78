package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// tinyHash keeps argon2id cheap in tests.
var tinyHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	baseURL = "https://id.example.test"
	// Passwords long enough for the default NIST policy (15+).
	goodPassword  = testenv.Password
	otherPassword = "a different long passphrase 7"
)

type env struct {
	t        testing.TB
	svc      *auth.Service
	db       store.Store
	srv      *httptest.Server
	client   *http.Client // validates every call against the OpenAPI document
	adminKey string
	stack    *testenv.Stack
}

// setup wires the real thing (internal/testenv: a real database, argon2id
// hasher, token manager, mail outbox, the auth Service, the API and the
// ops routes behind httpserver.Wrap, wall-clock time) and a global admin
// API key. wrap, if given, wraps the mux inside the middleware (to
// observe routing).
func setup(t testing.TB, wrap ...func(http.Handler) http.Handler) *env {
	t.Helper()
	return setupHooks(t, nil, wrap...)
}

// setupHooks is setup with the given hooks client (its network policy);
// nil is testenv's default, which lets the tests' receivers on 127.0.0.1
// through.
func setupHooks(t testing.TB, hc *hooks.Client, wrap ...func(http.Handler) http.Handler) *env {
	t.Helper()
	return setupOptions(t, testenv.Options{HooksClient: hc,
		Wrap: func(h http.Handler) http.Handler {
			for _, w := range wrap {
				h = w(h)
			}
			return h
		}})
}

// setupOptions is setup with more testenv options (SMTP, hooks, a wrap).
func setupOptions(t testing.TB, o testenv.Options) *env {
	t.Helper()
	o.BaseURL, o.Now, o.Hash, o.AdminKey, o.Surfaces = baseURL, time.Now, &tinyHash, true, testenv.API|testenv.Ops
	s := testenv.New(t, o)
	return &env{t: t, svc: s.Svc, db: s.Store, srv: s.Server, adminKey: s.AdminKey, stack: s,
		client: contractClient(t, s.Server.Client())}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

type problem struct {
	Type, Title, Detail, Code, Field string
	Status                           int
	RequestID                        string `json:"request_id"`
}

func (r response) problem(t testing.TB) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("want a problem, got %d %s: %s", r.status, ct, r.body)
	}
	var p problem
	r.json(t, &p)
	if p.Status != r.status || p.Code == "" || p.RequestID == "" {
		t.Fatalf("bad problem %s", r.body)
	}
	return p
}

// do sends method path with body (nil: none; string: raw; else JSON) and
// the Authorization header auth ("" for none).
func (e *env) do(method, path, authz string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return e.send(req)
}

// send sends req and reads the whole answer.
func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// must asserts the status of r and returns it.
func (e *env) must(status int, r response) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (e *env) admin(method, path string, body any) response {
	e.t.Helper()
	return e.do(method, path, "Bearer "+e.adminKey, body)
}

// newPool creates a pool and a public client allowing passwords and refresh.
func (e *env) newPool(name string) (poolID, clientID string) {
	e.t.Helper()
	var p struct{ ID string }
	e.must(201, e.admin("POST", "/api/v1/pools", map[string]any{"name": name})).json(e.t, &p)
	var c struct {
		ID           string
		ClientSecret string `json:"client_secret"`
	}
	e.must(201, e.admin("POST", "/api/v1/pools/"+p.ID+"/clients", map[string]any{
		"name": name + "-app", "auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	})).json(e.t, &c)
	if p.ID == "" || c.ID == "" || c.ClientSecret != "" {
		e.t.Fatalf("pool %q client %q secret %q", p.ID, c.ID, c.ClientSecret)
	}
	return p.ID, c.ID
}

// lastCode reads the newest email to addr in the pool's outbox (through
// the Service, as the dev mailbox does) and returns the 6-digit code in it.
func (e *env) lastCode(poolID, addr string) string {
	e.t.Helper()
	return e.stack.With(e.t).OutboxCode(poolID, addr)
}

// userCount counts the pool's users through the Service.
func (e *env) userCount(poolID string) int {
	e.t.Helper()
	us, _, err := e.svc.ListUsers(context.Background(), auth.ListUsersInput{PoolID: poolID})
	if err != nil {
		e.t.Fatalf("ListUsers: %v", err)
	}
	return len(us)
}

func mustPool(t *testing.T, e *env, id string) *identity.Pool {
	t.Helper()
	p, err := e.svc.GetPool(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
