package poolcache_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/cluster"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// The wrapped store keeps the store's whole contract (the conformance
// suite), with a TTL far longer than the suite: every read after a write
// through it must see the write.
func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return poolcache.New(storetest.OpenSQLite(t), time.Hour, nil)
	})
}

func TestConformancePostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return poolcache.New(storetest.OpenPostgres(t), time.Hour, nil)
	})
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mkPool(t *testing.T, s store.Store, id string) *identity.Pool {
	t.Helper()
	p := &identity.Pool{
		ID: id, Name: "pool " + id, Domains: []string{"a.example"}, UsernameMode: identity.UsernameEmail,
		PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256",
		Tokens:            identity.TokenLifetimes{Access: time.Hour, ID: time.Hour, Refresh: 24 * time.Hour},
		MaxFailedAttempts: 5, LockoutDuration: time.Minute, CreatedAt: t0, UpdatedAt: t0,
	}
	p.Settings.Tags = map[string]string{"team": "a"}
	if err := s.CreatePool(t.Context(), p); err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	return p
}

func mkClient(t *testing.T, s store.Store, pool, id string) *identity.AppClient {
	t.Helper()
	c := &identity.AppClient{ID: id, PoolID: pool, Name: "c", AuthFlows: []string{"ALLOW_REFRESH_TOKEN_AUTH"},
		Tokens: identity.TokenLifetimes{Access: time.Hour}, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

// A caller that changes what it got changes nothing in the cache.
func TestCopiesAreIndependent(t *testing.T) {
	raw := storetest.OpenSQLite(t)
	s := poolcache.New(raw, time.Hour, nil)
	ctx := t.Context()
	mkPool(t, raw, "eu-west-1_copy")
	mkClient(t, raw, "eu-west-1_copy", "client1")
	p1, err := s.GetPool(ctx, "eu-west-1_copy")
	if err != nil {
		t.Fatal(err)
	}
	want := *p1
	want.Domains = append([]string(nil), p1.Domains...)
	p1.Domains[0] = "evil.example"
	p1.Settings.Tags["team"] = "evil"
	p1.Name = "changed"
	for i := 0; i < 2; i++ { // the first read filled the cache; both must be pristine
		p2, err := s.GetPool(ctx, "eu-west-1_copy")
		if err != nil {
			t.Fatal(err)
		}
		if p2.Domains[0] != "a.example" || p2.Settings.Tags["team"] != "a" || p2.Name != want.Name {
			t.Fatalf("cached pool changed through a caller's copy: %+v", p2)
		}
		p2.Domains[0] = "evil2.example"
	}
	c1, err := s.GetClient(ctx, "client1")
	if err != nil {
		t.Fatal(err)
	}
	c1.AuthFlows[0] = "ALLOW_USER_PASSWORD_AUTH"
	c2, err := s.GetClient(ctx, "client1")
	if err != nil {
		t.Fatal(err)
	}
	if c2.AuthFlows[0] != "ALLOW_REFRESH_TOKEN_AUTH" {
		t.Fatalf("cached client changed through a caller's copy: %v", c2.AuthFlows)
	}
}

// The cache does cache (a write that bypasses it is not seen until the
// TTL or an invalidation), and the TTL bounds it.
func TestTTLAndBypass(t *testing.T) {
	raw := storetest.OpenSQLite(t)
	clock := storetest.NewClock(t0)
	s := poolcache.New(raw, 5*time.Second, clock.Now)
	ctx := t.Context()
	mkPool(t, raw, "eu-west-1_ttl")
	c := mkClient(t, raw, "eu-west-1_ttl", "client1")
	if _, err := s.GetClient(ctx, "client1"); err != nil {
		t.Fatal(err)
	}
	if err := raw.DeleteClient(ctx, c.PoolID, c.ID); err != nil { // another process, no notification
		t.Fatal(err)
	}
	if _, err := s.GetClient(ctx, "client1"); err != nil {
		t.Fatalf("within the TTL the cached client is served: %v", err)
	}
	clock.Advance(5 * time.Second)
	if _, err := s.GetClient(ctx, "client1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the TTL: err = %v, want ErrNotFound", err)
	}
	// Not-found is never cached.
	mkClient(t, raw, "eu-west-1_ttl", "client1")
	if _, err := s.GetClient(ctx, "client1"); err != nil {
		t.Fatalf("a client created after a miss: %v", err)
	}
	// Invalidate(zero) drops everything (a listener's resync).
	if err := raw.DeleteClient(ctx, c.PoolID, c.ID); err != nil {
		t.Fatal(err)
	}
	s.Invalidate(poolcache.Change{})
	if _, err := s.GetClient(ctx, "client1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after a resync: err = %v, want ErrNotFound", err)
	}
}

// Writes through the cache, plain or in a transaction, are seen at once
// and reported once committed; a rolled-back write reports nothing.
func TestWritesInvalidateAndReport(t *testing.T) {
	raw := storetest.OpenSQLite(t)
	s := poolcache.New(raw, time.Hour, nil)
	ctx := t.Context()
	var mu sync.Mutex
	var got []poolcache.Change
	s.OnChange(func(c poolcache.Change) { mu.Lock(); got = append(got, c); mu.Unlock() })
	mkPool(t, raw, "eu-west-1_wr")
	c := mkClient(t, raw, "eu-west-1_wr", "client1")
	if _, err := s.GetClient(ctx, "client1"); err != nil {
		t.Fatal(err)
	}
	p, err := s.GetPool(ctx, "eu-west-1_wr")
	if err != nil {
		t.Fatal(err)
	}
	// Rolled back: nothing reported, and the next read is the database's.
	boom := errors.New("boom")
	err = s.InTx(ctx, func(q store.Querier) error {
		nc := *c
		nc.Tokens.Access = 5 * time.Minute
		if err := q.UpdateClient(ctx, &nc); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Fatalf("rolled back: err %v, reported %v", err, got)
	}
	err = s.InTx(ctx, func(q store.Querier) error {
		nc := *c
		nc.Tokens.Access = 7 * time.Minute
		return q.UpdateClient(ctx, &nc)
	})
	if err != nil {
		t.Fatal(err)
	}
	if cl, err := s.GetClient(ctx, "client1"); err != nil || cl.Tokens.Access != 7*time.Minute {
		t.Fatalf("after an update in a transaction: %v %v", cl, err)
	}
	p.Tokens.Refresh = 48 * time.Hour
	if err := s.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	if np, err := s.GetPool(ctx, p.ID); err != nil || np.Tokens.Refresh != 48*time.Hour {
		t.Fatalf("after UpdatePool: %v %v", np, err)
	}
	if err := s.DeletePool(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClient(ctx, "client1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client of a deleted pool: %v", err)
	}
	want := []poolcache.Change{
		{Kind: poolcache.KindClient, PoolID: p.ID, ClientID: "client1"},
		{Kind: poolcache.KindPool, PoolID: p.ID},
		{Kind: poolcache.KindPool, PoolID: p.ID},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reported %+v, want %+v", got, want)
	}
}

// Two nodes on one PostgreSQL, each with its own cache (TTL an hour, so
// only the notification can make node B see node A's change), wired as
// cmd/gatehouse wires them: a client's changed token validity and its
// deletion on node A hold on node B without a restart.
func TestTwoNodesOnePostgres(t *testing.T) {
	dsn := storetest.PostgresSchemaDSN(t)
	open := func(name string) (*poolcache.Store, store.Store) {
		raw, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		c := poolcache.New(raw, time.Hour, nil)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		pub := cluster.NewPublisher(raw.WriteDB(), name, log)
		c.OnChange(func(ch poolcache.Change) {
			kind := cluster.KindPool
			if ch.Kind == poolcache.KindClient {
				kind = cluster.KindClient
			}
			_ = pub.Publish(context.Background(), cluster.Event{Kind: kind, PoolID: ch.PoolID, ClientID: ch.ClientID})
		})
		connected := make(chan struct{}, 4)
		l := cluster.NewListener(dsn, name, func(ev cluster.Event) {
			switch ev.Kind {
			case cluster.KindPool:
				c.Invalidate(poolcache.Change{Kind: poolcache.KindPool, PoolID: ev.PoolID})
			case cluster.KindClient:
				c.Invalidate(poolcache.Change{Kind: poolcache.KindClient, PoolID: ev.PoolID, ClientID: ev.ClientID})
			case cluster.KindResync:
				c.Invalidate(poolcache.Change{})
			}
		}, log)
		l.OnConnect = func() { connected <- struct{}{} }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = l.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-connected:
		case <-time.After(30 * time.Second): // a bound on a hang
			t.Fatal("listener did not connect")
		}
		return c, raw
	}
	a, rawA := open("node-a-" + t.Name())
	b, _ := open("node-b-" + t.Name())
	ctx := t.Context()
	pool := mkPool(t, rawA, "eu-west-1_two")
	cl := mkClient(t, rawA, pool.ID, "twonodes1")
	for _, n := range []*poolcache.Store{a, b} { // both nodes have them cached
		if _, err := n.GetClient(ctx, cl.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := n.GetPool(ctx, pool.ID); err != nil {
			t.Fatal(err)
		}
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second) // a bound on a hang, not a speed requirement
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("node B never saw: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Changed token validity of the client on A: applied on B.
	err := a.InTx(ctx, func(q store.Querier) error {
		nc := *cl
		nc.Tokens.Access = 5 * time.Minute
		return q.UpdateClient(ctx, &nc)
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually("the client's new access token validity", func() bool {
		c, err := b.GetClient(ctx, cl.ID)
		return err == nil && c.Tokens.Access == 5*time.Minute
	})
	// The pool's refresh validity on A: applied on B.
	np := *pool
	np.Tokens.Refresh = 2 * time.Hour
	if err := a.UpdatePool(ctx, &np); err != nil {
		t.Fatal(err)
	}
	eventually("the pool's new refresh validity", func() bool {
		p, err := b.GetPool(ctx, pool.ID)
		return err == nil && p.Tokens.Refresh == 2*time.Hour
	})
	// The client deleted on A: refused on B.
	if err := a.DeleteClient(ctx, pool.ID, cl.ID); err != nil {
		t.Fatal(err)
	}
	eventually("the client's deletion", func() bool {
		_, err := b.GetClient(ctx, cl.ID)
		return errors.Is(err, store.ErrNotFound)
	})
}
