package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// cutProxy is a loopback TCP proxy in front of the test database that can
// drop every connection and refuse new ones: the database "goes away" for
// one store without touching the shared server.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = true
	p.mu.Unlock()
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// cut closes every open connection and refuses new ones until restore.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// proxyFor starts a proxy to the server of dsn (a postgres:// URL) and
// returns it with the DSN pointed at it.
func proxyFor(t *testing.T, dsn string) (*cutProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Skipf("the outage test needs a postgres://host:port URL in %s", storetest.PostgresEnv)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := startCutProxy(t, target)
	u.Host = p.ln.Addr().String()
	return p, u.String()
}

// TestOutageFailsFastAndRecovers cuts the connection to the database under
// an open store: reads, writes and transactions fail at once with an error
// that identity.ErrorCode reports as CodeUnavailable (503), nothing is half
// written, and the same store works again when the database is back,
// without being reopened.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresSchemaDSN(t)
	p, proxied := proxyFor(t, dsn)

	ctx := t.Context()
	db, err := postgres.Open(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pool := &identity.Pool{ID: "eu-west-1_outage", Name: "outage", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	pool.UpdatedAt = pool.CreatedAt
	if err := db.CreatePool(ctx, pool); err != nil {
		t.Fatal(err)
	}

	p.cut()
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s succeeded with the database cut off", what)
			return
		}
		if identity.ErrorCode(err) != identity.CodeUnavailable {
			t.Errorf("%s: %v: code %q, want unavailable", what, err, identity.ErrorCode(err))
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: outage reported as a store sentinel: %v", what, err)
		}
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second) // a bound, not a threshold
	defer cancel()
	_, err = db.GetPool(c, pool.ID)
	check("read", err)
	err = db.InsertAudit(c, &identity.AuditEvent{PoolID: pool.ID, Action: "x", Actor: "t", Subject: "s", Time: time.Now()})
	check("write", err)
	err = db.InTx(c, func(q store.Querier) error {
		return q.InsertAudit(c, &identity.AuditEvent{PoolID: pool.ID, Action: "y", Actor: "t", Subject: "s", Time: time.Now()})
	})
	check("transaction", err)
	check("ping", db.Ping(c))
	if c.Err() != nil {
		t.Fatalf("calls hung until the test's bound: %v", c.Err())
	}

	p.restore()
	got, err := db.GetPool(ctx, pool.ID)
	if err != nil || got.Name != "outage" {
		t.Fatalf("after the database came back: %v %+v", err, got)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing the failed calls tried was written.
	evs, _, err := db.ListAudit(ctx, store.AuditFilter{PoolID: pool.ID}, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("%d audit events written during the outage", len(evs))
	}
}

// TestOpenUnreachable: Open against a port nobody listens on fails at
// once with an unavailable error rather than hanging.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = postgres.Open(c, "postgres://postgres@"+addr+"/x?sslmode=disable")
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if c.Err() != nil {
		t.Fatalf("Open hung: %v", err)
	}
}
