package pooldomain

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// pools is an in-memory Lister: two pages, and an error switch.
type pools struct {
	mu    sync.Mutex
	list  []*identity.Pool
	fail  bool
	calls int
}

func (p *pools) ListPools(_ context.Context, _ int, token string) ([]*identity.Pool, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail {
		return nil, "", errors.New("store down")
	}
	if token == "" && len(p.list) > 1 {
		return p.list[:1], "page2", nil
	}
	if token == "page2" {
		return p.list[1:], "", nil
	}
	return p.list, "", nil
}

func TestResolver(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &pools{list: []*identity.Pool{{ID: "p1", Domains: []string{"auth.acme.example"}}, {ID: "p2", Domains: []string{"Login.Globex.Example"}}}}
	d := New(src, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	pool := func(host string) string {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Host = host
		id, _ := d.Pool(r)
		return id
	}
	for host, want := range map[string]string{
		"auth.acme.example": "p1", "AUTH.ACME.EXAMPLE:443": "p1", "auth.acme.example.": "p1",
		"login.globex.example": "p2", "x.auth.acme.example": "", "acme.example": "", "": "", "[::1]:8080": "",
	} {
		if got := pool(host); got != want {
			t.Errorf("Host %q: pool %q, want %q", host, got, want)
		}
	}
	// Cached: a change shows after CacheTTL, not before.
	src.mu.Lock()
	src.list[0].Domains = []string{"id.acme.example"}
	src.mu.Unlock()
	if pool("id.acme.example") != "" {
		t.Error("the cache was not used")
	}
	now = now.Add(CacheTTL)
	if pool("id.acme.example") != "p1" || pool("auth.acme.example") != "" {
		t.Error("the cache was not reloaded after CacheTTL")
	}
	// A store error keeps the last map.
	src.mu.Lock()
	src.fail = true
	src.mu.Unlock()
	now = now.Add(CacheTTL)
	if pool("id.acme.example") != "p1" {
		t.Error("a store error dropped the map")
	}
	// Before any load, a store error is "no pool".
	d2 := New(src, nil, slog.New(slog.DiscardHandler))
	r := httptest.NewRequest("GET", "/login", nil)
	r.Host = "id.acme.example"
	if _, ok := d2.Pool(r); ok {
		t.Error("a pool without a loaded map")
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	d := New(&pools{list: []*identity.Pool{{ID: "p1", Domains: []string{"auth.acme.example"}}}}, nil, slog.New(slog.DiscardHandler))
	var gotPool string
	var onDomain bool
	h := d.Handler(func(w http.ResponseWriter, r *http.Request) { gotPool, onDomain = r.PathValue("pool"), OnDomain(r) })
	r := httptest.NewRequest("GET", "/login", nil)
	r.Host = "auth.acme.example"
	w := httptest.NewRecorder()
	h(w, r)
	if gotPool != "p1" || !onDomain || w.Code != 200 {
		t.Fatalf("on the domain: pool %q, OnDomain %v, %d", gotPool, onDomain, w.Code)
	}
	if OnDomain(httptest.NewRequest("GET", "/p1/login", nil)) {
		t.Fatal("OnDomain without Handler")
	}
	gotPool = ""
	r.Host = "other.example"
	w = httptest.NewRecorder()
	h(w, r)
	if w.Code != 404 || gotPool != "" {
		t.Fatalf("another host: %d, handler ran: %v", w.Code, gotPool != "")
	}
}
