package poolcache

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// DefaultTTL bounds how long an entry is trusted without a notification.
const DefaultTTL = 5 * time.Second

// maxEntries bounds each map; past it the map is emptied (a node serving
// more pools or clients than this at once just reads more often).
const maxEntries = 10000

// Kind says what a Change is about.
type Kind string

const (
	KindPool   Kind = "pool"   // a pool (and so every client in it)
	KindClient Kind = "client" // one app client
)

// Change is a committed write this Store saw.
type Change struct {
	Kind     Kind
	PoolID   string
	ClientID string // KindClient only
}

var lookups = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_pool_cache_lookups_total",
	Help: "Pool and app client reads through the per-node cache, by kind and result (hit, miss).",
}, []string{"kind", "result"})

type entry[T any] struct {
	v       *T
	expires time.Time
}

// Store is a store.Store whose GetPool and GetClient outside transactions
// are served from a per-node cache. Every other method is the wrapped
// store's.
type Store struct {
	store.Store
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	gen      uint64 // bumped by every invalidation
	pools    map[string]entry[identity.Pool]
	clients  map[string]entry[identity.AppClient]
	onChange func(Change)
}

// New wraps s. ttl <= 0 disables the cache (every read goes to s). now may
// be nil (time.Now).
func New(s store.Store, ttl time.Duration, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{Store: s, ttl: ttl, now: now,
		pools:   map[string]entry[identity.Pool]{},
		clients: map[string]entry[identity.AppClient]{}}
}

// OnChange registers f, called after a write through this Store committed
// a change to a pool or client (to tell the other nodes). f runs on the
// writer's goroutine and must not block for long. Call it before use.
func (s *Store) OnChange(f func(Change)) {
	s.mu.Lock()
	s.onChange = f
	s.mu.Unlock()
}

// Invalidate drops what c names: a pool and all its clients (KindPool), one
// client (KindClient), or everything (a zero Change). Safe for concurrent use.
func (s *Store) Invalidate(c Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	switch {
	case c.Kind == KindPool && c.PoolID != "":
		delete(s.pools, c.PoolID)
		for id, e := range s.clients {
			if e.v.PoolID == c.PoolID {
				delete(s.clients, id)
			}
		}
	case c.Kind == KindClient && c.ClientID != "":
		delete(s.clients, c.ClientID)
	default:
		clear(s.pools)
		clear(s.clients)
	}
}

func (s *Store) changed(cs []Change) {
	if len(cs) == 0 {
		return
	}
	for _, c := range cs {
		s.Invalidate(c)
	}
	s.mu.Lock()
	f := s.onChange
	s.mu.Unlock()
	if f != nil {
		for _, c := range cs {
			f(c)
		}
	}
}

// wrote invalidates c after a write outside a transaction, and reports it
// when the write succeeded.
func (s *Store) wrote(err error, c Change) {
	if err != nil {
		s.Invalidate(c)
		return
	}
	s.changed([]Change{c})
}

// GetPool returns a copy of the pool, from the cache when fresh.
func (s *Store) GetPool(ctx context.Context, id string) (*identity.Pool, error) {
	if s.ttl <= 0 {
		return s.Store.GetPool(ctx, id)
	}
	return readThrough(s, s.pools, "pool", id, func() (*identity.Pool, error) { return s.Store.GetPool(ctx, id) })
}

// GetClient returns a copy of the client, from the cache when fresh.
func (s *Store) GetClient(ctx context.Context, clientID string) (*identity.AppClient, error) {
	if s.ttl <= 0 {
		return s.Store.GetClient(ctx, clientID)
	}
	return readThrough(s, s.clients, "client", clientID, func() (*identity.AppClient, error) { return s.Store.GetClient(ctx, clientID) })
}

// readThrough answers key from m (one of s's maps, guarded by s.mu) when
// its entry is fresh, else loads it and keeps a copy — unless an
// invalidation ran meanwhile (s.gen moved), so that a load racing a
// write never stores what the write replaced. Errors (not found among
// them) are never cached.
func readThrough[T any](s *Store, m map[string]entry[T], kind, key string, load func() (*T, error)) (*T, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := m[key]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		lookups.WithLabelValues(kind, "hit").Inc()
		return clone(e.v), nil
	}
	lookups.WithLabelValues(kind, "miss").Inc()
	v, err := load()
	if err != nil {
		return nil, err
	}
	c := clone(v)
	s.mu.Lock()
	if s.gen == gen {
		if len(m) >= maxEntries {
			clear(m)
		}
		m[key] = entry[T]{v: c, expires: now.Add(s.ttl)}
	}
	s.mu.Unlock()
	return v, nil
}

// UpdatePool writes through and invalidates.
func (s *Store) UpdatePool(ctx context.Context, p *identity.Pool) error {
	err := s.Store.UpdatePool(ctx, p)
	s.wrote(err, Change{Kind: KindPool, PoolID: p.ID})
	return err
}

// DeletePool writes through and invalidates.
func (s *Store) DeletePool(ctx context.Context, id string) error {
	err := s.Store.DeletePool(ctx, id)
	s.wrote(err, Change{Kind: KindPool, PoolID: id})
	return err
}

// UpdateClient writes through and invalidates.
func (s *Store) UpdateClient(ctx context.Context, c *identity.AppClient) error {
	err := s.Store.UpdateClient(ctx, c)
	s.wrote(err, Change{Kind: KindClient, PoolID: c.PoolID, ClientID: c.ID})
	return err
}

// DeleteClient writes through and invalidates.
func (s *Store) DeleteClient(ctx context.Context, poolID, clientID string) error {
	err := s.Store.DeleteClient(ctx, poolID, clientID)
	s.wrote(err, Change{Kind: KindClient, PoolID: poolID, ClientID: clientID})
	return err
}

// InTx runs fn on the wrapped store's transaction; the pools and clients
// fn changed are invalidated (and reported) once InTx returns, committed or
// not. Reads inside fn are never cached.
func (s *Store) InTx(ctx context.Context, fn func(q store.Querier) error) error {
	var cs []Change
	err := s.Store.InTx(ctx, func(q store.Querier) error {
		cs = cs[:0] // a retried fn starts over
		return fn(&txQuerier{Querier: q, changes: &cs})
	})
	if err == nil {
		s.changed(cs)
	} else if len(cs) > 0 {
		// Rolled back: nothing changed, but dropping costs one read.
		for _, c := range cs {
			s.Invalidate(c)
		}
	}
	return err
}

// txQuerier records the pools and clients a transaction writes.
type txQuerier struct {
	store.Querier
	changes *[]Change
}

func (q *txQuerier) UpdatePool(ctx context.Context, p *identity.Pool) error {
	*q.changes = append(*q.changes, Change{Kind: KindPool, PoolID: p.ID})
	return q.Querier.UpdatePool(ctx, p)
}

func (q *txQuerier) DeletePool(ctx context.Context, id string) error {
	*q.changes = append(*q.changes, Change{Kind: KindPool, PoolID: id})
	return q.Querier.DeletePool(ctx, id)
}

func (q *txQuerier) UpdateClient(ctx context.Context, c *identity.AppClient) error {
	*q.changes = append(*q.changes, Change{Kind: KindClient, PoolID: c.PoolID, ClientID: c.ID})
	return q.Querier.UpdateClient(ctx, c)
}

func (q *txQuerier) DeleteClient(ctx context.Context, poolID, clientID string) error {
	*q.changes = append(*q.changes, Change{Kind: KindClient, PoolID: poolID, ClientID: clientID})
	return q.Querier.DeleteClient(ctx, poolID, clientID)
}

// SetClock passes a test clock to the wrapped store, when it takes one
// (sqlstore.DB.SetClock; storetest.UseClock).
func (s *Store) SetClock(now func() time.Time) {
	if cs, ok := s.Store.(interface{ SetClock(func() time.Time) }); ok {
		cs.SetClock(now)
	}
}
