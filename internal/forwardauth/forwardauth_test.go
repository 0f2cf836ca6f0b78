package forwardauth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth/forwardauthtest"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// rules are article 003's, as a forward-auth configuration would list them.
func rules() []authz.Rule {
	company := []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}
	readers := []string{"Users", "Managers", "Admins"}
	return []authz.Rule{
		{Methods: []string{"GET"}, Path: "/healthz", Public: true},
		{Methods: []string{"GET"}, Path: "/companies/{company}/documents", Groups: readers, Claims: company},
		{Methods: []string{"GET"}, Path: "/companies/{company}/documents/{id}", Groups: readers, Claims: company},
		{Methods: []string{"POST"}, Path: "/companies/{company}/documents", Groups: []string{"Managers", "Admins"}, Claims: company},
		{Methods: []string{"PUT"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Managers", "Admins"}, Claims: company},
		{Methods: []string{"DELETE"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Admins"}, Claims: company},
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T, ttl time.Duration) (*forwardauthtest.Gatehouse, *clock) {
	t.Helper()
	c := &clock{t: time.Now()}
	return forwardauthtest.Start(t, forwardauthtest.Options{Rules: rules(), CacheTTL: ttl, Now: c.Now}), c
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	mia := g.User(t, "mia@acme.test", "Acme", "Managers")
	ada := g.User(t, "ada@acme.test", "Acme", "Admins")
	bob := g.User(t, "bob@globex.test", "Globex", "Admins")
	nobody := g.User(t, "nobody@acme.test", "Acme")
	tests := []struct {
		name, method, uri, tok string
		want                   int
	}{
		{"public", "GET", "/healthz", "", 200},
		{"no token", "GET", "/companies/Acme/documents", "", 401},
		{"user reads own", "GET", "/companies/Acme/documents", alice.Access, 200},
		{"user reads own doc", "GET", "/companies/Acme/documents/7?x=1", alice.Access, 200},
		{"user reads other company", "GET", "/companies/Globex/documents", alice.Access, 403},
		{"admin reads other company", "GET", "/companies/Acme/documents", bob.Access, 403},
		{"traversal", "GET", "/companies/Acme/../Globex/documents", alice.Access, 403},
		{"encoded traversal", "GET", "/companies/Acme%2F..%2FGlobex/documents", alice.Access, 403},
		{"user creates", "POST", "/companies/Acme/documents", alice.Access, 403},
		{"manager creates", "POST", "/companies/Acme/documents", mia.Access, 200},
		{"manager deletes", "DELETE", "/companies/Acme/documents/1", mia.Access, 403},
		{"user deletes", "DELETE", "/companies/Acme/documents/1", alice.Access, 403},
		{"admin deletes", "DELETE", "/companies/Acme/documents/1", ada.Access, 200},
		{"no group", "GET", "/companies/Acme/documents", nobody.Access, 403},
		{"no rule", "GET", "/admin", ada.Access, 403},
		{"ID token", "GET", "/companies/Acme/documents", alice.ID, 401},
	}
	for _, tt := range tests {
		res := g.Check(t, tt.method, tt.uri, tt.tok)
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, res.StatusCode, tt.want)
		}
		if res.StatusCode != 200 && res.Header.Get(authz.HeaderSub) != "" {
			t.Errorf("%s: identity headers on a refusal", tt.name)
		}
		if res.StatusCode == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
	}
	res := g.Check(t, "GET", "/companies/Acme/documents", alice.Access)
	h := res.Header
	if h.Get(authz.HeaderEmail) != "alice@acme.test" || h.Get(authz.HeaderCompany) != "Acme" ||
		h.Get(authz.HeaderGroups) != "Users" || h.Get(authz.HeaderSub) == "" || h.Get(authz.HeaderUsername) == "" {
		t.Fatalf("identity headers %v", h)
	}
}

// TestTraefikAndCaddyHeaders: both header families; missing, repeated or
// malformed ones are refused. security.md G1 G3
func TestTraefikAndCaddyHeaders(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	send := func(hdr map[string][]string) int {
		req, _ := http.NewRequest("GET", g.CheckURL, nil)
		for k, vs := range hdr {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		req.Header.Set("Authorization", "Bearer "+alice.Access)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	cases := []struct {
		name string
		hdr  map[string][]string
		want int
	}{
		{"traefik", map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/companies/Acme/documents"}}, 200},
		{"traefik other company", map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/companies/Globex/documents"}}, 403},
		{"nginx wins", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/companies/Globex/documents"},
			"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/companies/Acme/documents"}}, 403},
		{"no headers", nil, 403},
		{"method only", map[string][]string{"X-Original-Method": {"GET"}}, 403},
		{"repeated uri", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/companies/Acme/documents", "/companies/Globex/documents"}}, 403},
		{"absolute uri", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"http://evil/companies/Acme/documents"}}, 403},
		{"scheme-relative uri", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"//evil/companies/Acme/documents"}}, 403},
		{"odd method", map[string][]string{"X-Original-Method": {"BREW"}, "X-Original-Uri": {"/companies/Acme/documents"}}, 403},
		{"lowercase method", map[string][]string{"X-Original-Method": {"get"}, "X-Original-Uri": {"/companies/Acme/documents"}}, 403},
		{"huge uri", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/companies/Acme/documents?" + strings.Repeat("a", 10000)}}, 403},
		{"bad escape", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/companies/%zz/documents"}}, 403},
	}
	for _, c := range cases {
		if got := send(c.hdr); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// A pool without rules is refused.
	req, _ := http.NewRequest("GET", g.URL+"/authz/check/us-east-1_nope", nil)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/healthz")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("unknown pool: %d", res.StatusCode)
	}
}

// TestRevocation: after a global sign-out or a disable, the token fails at
// the authorizer once the cache TTL has passed (an injected clock), and at
// once without a cache.
func TestRevocation(t *testing.T) {
	t.Parallel()
	const ttl = 5 * time.Second
	g, c := setup(t, ttl)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	uri := "/companies/Acme/documents"
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 200 {
		t.Fatalf("before sign-out: %d", res.StatusCode)
	}
	g.GlobalSignOut(t, "alice@acme.test")
	// Within the TTL the cached decision stands (the documented delay).
	c.Add(ttl - time.Millisecond)
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 200 {
		t.Fatalf("within the TTL: %d (cache not used?)", res.StatusCode)
	}
	c.Add(time.Millisecond)
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 401 {
		t.Fatalf("after the TTL: %d, want 401", res.StatusCode)
	}
	// A new sign-in works; then a disable ends it within the TTL too.
	fresh := g.SignIn(t, "alice@acme.test")
	if res := g.Check(t, "GET", uri, fresh.Access); res.StatusCode != 200 {
		t.Fatalf("fresh token: %d", res.StatusCode)
	}
	g.Disable(t, "alice@acme.test")
	c.Add(ttl)
	if res := g.Check(t, "GET", uri, fresh.Access); res.StatusCode != 401 {
		t.Fatalf("disabled: %d, want 401", res.StatusCode)
	}
}

func TestRevocationWithoutCache(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	if res := g.Check(t, "GET", "/companies/Acme/documents", alice.Access); res.StatusCode != 200 {
		t.Fatalf("before: %d", res.StatusCode)
	}
	g.GlobalSignOut(t, "alice@acme.test")
	if res := g.Check(t, "GET", "/companies/Acme/documents", alice.Access); res.StatusCode != 401 {
		t.Fatalf("after sign-out: %d", res.StatusCode)
	}
}

// TestCompanyChangeSeen: the company comes from the user record, so a
// changed custom:company_name applies without a new sign-in (after the TTL).
func TestCompanyChangeSeen(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	if err := g.Svc.AdminUpdateUserAttributes(context.Background(), g.Pool.ID, "alice@acme.test", map[string]string{"custom:company_name": "Globex"}); err != nil {
		t.Fatal(err)
	}
	if res := g.Check(t, "GET", "/companies/Acme/documents", alice.Access); res.StatusCode != 403 {
		t.Fatalf("old company: %d", res.StatusCode)
	}
	if res := g.Check(t, "GET", "/companies/Globex/documents", alice.Access); res.StatusCode != 200 {
		t.Fatalf("new company: %d", res.StatusCode)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now()}
	g := forwardauthtest.Start(t, forwardauthtest.Options{Rules: rules()})
	fa := forwardauth.New(g.Svc, forwardauth.Options{
		Pools:    map[string]forwardauth.Pool{g.Pool.ID: {Policy: authz.MustPolicy(rules()...)}},
		CacheTTL: time.Minute, CacheSize: 4, Now: c.Now,
	})
	mux := http.NewServeMux()
	mux.Handle(forwardauth.Pattern, fa)
	g.User(t, "alice@acme.test", "Acme", "Users")
	for i := 0; i < 20; i++ {
		u := g.SignIn(t, "alice@acme.test")
		if w := check(mux, g.Pool.ID, "GET", "/companies/Acme/documents", "Bearer "+u.Access, nil); w.Code != 200 {
			t.Fatalf("check %d: %d", i, w.Code)
		}
		if n := forwardauth.CacheLen(fa); n > 4 {
			t.Fatalf("cache holds %d entries, bound 4", n)
		}
	}
}

// check runs the handler in-process (no HTTP server limits), the nginx way.
func check(h http.Handler, pool, method, uri, authorization string, extra map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/authz/check/"+pool, nil)
	r.Header.Set("X-Original-Method", method)
	r.Header.Set("X-Original-URI", uri)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	for k, v := range extra {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return b64(b)
}

// TestAttacks: each forged or unfit token is answered 401. security.md G1
func TestAttacks(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 5*time.Second)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	ctx := context.Background()
	res, err := http.Get(g.URL + "/" + g.Pool.ID + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks %s: %v", jwks, err)
	}
	kid := set.Keys[0].Kid
	parts := strings.Split(alice.Access, ".")
	var claims map[string]any
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(pb, &claims)
	now := time.Now().Unix()
	sign := func(mod map[string]any) string {
		c := map[string]any{}
		for k, v := range claims {
			c[k] = v
		}
		for k, v := range mod {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		raw, err := g.Tokens.Sign(ctx, g.Pool, c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	hs := func(secret []byte) string {
		in := b64json(map[string]any{"alg": "HS256", "kid": kid}) + "." + parts[1]
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	withHeader := func(h map[string]any) string {
		// The real payload and signature under another header: the
		// signature no longer matches, whatever the header says.
		base := map[string]any{"alg": "ES256", "kid": kid}
		for k, v := range h {
			base[k] = v
		}
		return b64json(base) + "." + parts[1] + "." + parts[2]
	}
	attacks := map[string]string{
		"alg none":                 b64json(map[string]any{"alg": "none", "kid": kid}) + "." + parts[1] + ".",
		"HS256 with the JWKS":      hs(jwks),
		"unknown kid":              withHeader(map[string]any{"kid": "kid-unknown"}),
		"path-like kid":            withHeader(map[string]any{"kid": "../../../etc/passwd"}),
		"jku":                      withHeader(map[string]any{"jku": "http://127.0.0.1:1/evil.json"}),
		"x5u":                      withHeader(map[string]any{"x5u": "http://127.0.0.1:1/evil.pem"}),
		"jwk":                      withHeader(map[string]any{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}),
		"tampered payload":         parts[0] + "." + b64json(map[string]any{"sub": claims["sub"], "token_use": "access"}) + "." + parts[2],
		"expired":                  sign(map[string]any{"exp": now - 1}),
		"not yet valid":            sign(map[string]any{"nbf": now + 3600}),
		"wrong issuer":             sign(map[string]any{"iss": "https://evil.example/" + g.Pool.ID}),
		"wrong client":             sign(map[string]any{"client_id": "someone-else"}),
		"ID token as access token": alice.ID,
		"100000 dots":              strings.Repeat(".", 100000),
		"1 MB":                     strings.Repeat("A", 1<<20),
	}
	for name, tok := range attacks {
		w := check(g.Handler, g.Pool.ID, "GET", "/companies/Acme/documents", "Bearer "+tok, nil)
		if w.Code != 401 || w.Header().Get(authz.HeaderSub) != "" {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	// The good token still passes (the cache was not poisoned).
	if w := check(g.Handler, g.Pool.ID, "GET", "/companies/Acme/documents", "Bearer "+alice.Access, nil); w.Code != 200 {
		t.Fatalf("good token: %d", w.Code)
	}
	// A 1 MB Authorization header over HTTP never reaches a 200 either.
	req, _ := http.NewRequest("GET", g.CheckURL, nil)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/companies/Acme/documents")
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 1<<20))
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("1 MB header over HTTP: 200")
		}
	}
}

// failing is an Authenticator whose store is down, or that panics.
type failing struct{ panics bool }

func (f failing) AuthenticateAccessTokenFor(context.Context, string, string) (*identity.Pool, *identity.User, map[string]any, error) {
	if f.panics {
		panic("boom")
	}
	return nil, nil, nil, errors.New("database is down")
}

type empty struct{}

func (empty) AuthenticateAccessTokenFor(context.Context, string, string) (*identity.Pool, *identity.User, map[string]any, error) {
	return nil, nil, nil, nil
}

// TestFailsClosed: a store failure, a panic or an empty answer is 503,
// never 200. security.md G1
func TestFailsClosed(t *testing.T) {
	t.Parallel()
	pools := map[string]forwardauth.Pool{"p1": {Policy: authz.MustPolicy(rules()...)}}
	for name, svc := range map[string]forwardauth.Authenticator{
		"store down": failing{}, "panic": failing{panics: true}, "no identity": empty{},
	} {
		h := forwardauth.New(svc, forwardauth.Options{Pools: pools})
		w := check(h, "p1", "GET", "/companies/Acme/documents", "Bearer a.b.c", nil)
		if w.Code != 503 {
			t.Errorf("%s: %d, want 503", name, w.Code)
		}
	}
	// The real service with its store closed.
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	g.Store.Close()
	w := check(g.Handler, g.Pool.ID, "GET", "/companies/Acme/documents", "Bearer "+alice.Access, nil)
	if w.Code != 503 {
		t.Fatalf("store closed: %d, want 503", w.Code)
	}
}

// TestHugeTokensBoundedMemory: the largest inputs are refused before any
// work proportional to their size.
func TestHugeTokensBoundedMemory(t *testing.T) {
	g, _ := setup(t, 5*time.Second)
	for name, tok := range map[string]string{
		"100000 dots": strings.Repeat(".", 100000),
		"1 MB":        strings.Repeat("A", 1<<20),
	} {
		r := httptest.NewRequest("GET", "/authz/check/"+g.Pool.ID, nil)
		r.Header.Set("X-Original-Method", "GET")
		r.Header.Set("X-Original-URI", "/companies/Acme/documents")
		r.Header.Set("Authorization", "Bearer "+tok)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < 10; i++ {
			w := httptest.NewRecorder()
			g.Handler.ServeHTTP(w, r)
			if w.Code != 401 {
				t.Fatalf("%s: %d", name, w.Code)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 32<<10 {
			t.Errorf("%s: %d bytes allocated per check, want < 32 KiB", name, per)
		}
	}
}

// TestTokenOfAnotherPool: a token is only good at its own pool's endpoint,
// cached or not.
func TestTokenOfAnotherPool(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 5*time.Second)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	policy := authz.MustPolicy(rules()...)
	h := forwardauth.New(g.Svc, forwardauth.Options{
		Pools:    map[string]forwardauth.Pool{g.Pool.ID: {Policy: policy}, "us-east-1_Other": {Policy: policy}},
		CacheTTL: time.Minute,
	})
	mux := http.NewServeMux()
	mux.Handle(forwardauth.Pattern, h)
	auth := "Bearer " + alice.Access
	if w := check(mux, "us-east-1_Other", "GET", "/companies/Acme/documents", auth, nil); w.Code != 401 {
		t.Fatalf("other pool, not cached: %d", w.Code)
	}
	if w := check(mux, g.Pool.ID, "GET", "/companies/Acme/documents", auth, nil); w.Code != 200 {
		t.Fatalf("own pool: %d", w.Code)
	}
	if w := check(mux, "us-east-1_Other", "GET", "/companies/Acme/documents", auth, nil); w.Code != 401 {
		t.Fatalf("other pool, cached: %d", w.Code)
	}
}

// TestGroupWithCommaLeftOutOfHeader: a group named "Users,Admins" must not
// read as Admins upstream.
func TestGroupWithCommaLeftOutOfHeader(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	if _, err := g.Svc.CreateGroup(context.Background(), &identity.Group{PoolID: g.Pool.ID, Name: "Readers,Admins"}); err != nil {
		t.Fatal(err)
	}
	u := g.User(t, "eve@acme.test", "Acme", "Users", "Readers,Admins")
	res := g.Check(t, "GET", "/companies/Acme/documents", u.Access)
	if res.StatusCode != 200 || res.Header.Get(authz.HeaderGroups) != "Users" {
		t.Fatalf("%d, groups header %q", res.StatusCode, res.Header.Get(authz.HeaderGroups))
	}
}

// TestHostilePaths: the paths of authz's hostile-path table that would
// reach the admin area or another company behind a backend that reads
// them differently are refused through the real endpoint, whichever
// header family names them (nginx or Traefik/Caddy). security.md G2
func TestHostilePaths(t *testing.T) {
	t.Parallel()
	rs := append(rules(),
		authz.Rule{Methods: []string{"GET"}, Path: "/static/", Public: true},
		authz.Rule{Methods: []string{"GET"}, Path: "/admin/", Groups: []string{"Admins"}},
	)
	g := forwardauthtest.Start(t, forwardauthtest.Options{Rules: rs})
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	tests := []struct {
		uri  string
		want int
	}{
		{"/static/app.js", 200},
		{"/companies/Acme/documents/1", 200},
		{"/static/..;/admin/users", 403},
		{"/static/..;jsessionid=x/admin/users", 403},
		{"/static/%2e%2e;/admin/users", 403},
		{"/static/x;y", 403},
		{"/static/a%3Bb", 403},
		{"/static/%252e%252e/admin/users", 403},
		{"/static/%c0%ae%c0%ae/admin/users", 403},
		{"/static/%ef%bc%8e%ef%bc%8e/admin/users", 403},
		{"/static/..%5Cadmin", 403},
		{"/static/..\\admin", 403},
		{"/static//admin/users", 403},
		{"/static/x%00", 403},
		{"/companies/Acme/documents/1%2F..%2F..%2F..%2FGlobex%2Fdocuments", 403},
		{"/companies/Acme./documents/1", 403},
		{"/companies/Acme;x/documents/1", 403},
		{"/companies/Acme/documents/...", 403},
	}
	for _, family := range [][2]string{{"X-Original-Method", "X-Original-Uri"}, {"X-Forwarded-Method", "X-Forwarded-Uri"}} {
		for _, tt := range tests {
			r := httptest.NewRequest("GET", "/authz/check/"+g.Pool.ID, nil)
			r.Header[family[0]] = []string{"GET"}
			r.Header[family[1]] = []string{tt.uri}
			r.Header.Set("Authorization", "Bearer "+alice.Access)
			mux := http.NewServeMux()
			mux.Handle(forwardauth.Pattern, g.Handler)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%s %s: %d, want %d", family[1], tt.uri, w.Code, tt.want)
			}
			if w.Code != 200 && w.Header().Get(authz.HeaderSub) != "" {
				t.Errorf("%s %s: identity headers on a refusal", family[1], tt.uri)
			}
		}
	}
}
