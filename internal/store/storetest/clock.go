package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Clock is a clock that moves only when told, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockSetter is a store whose database clock a test may replace
// (sqlstore.DB.SetClock).
type clockSetter interface {
	SetClock(now func() time.Time)
}

// UseClock makes now the database's clock of s, the clock leases and due
// times of jobs follow (see store.Querier), for tests that move time.
// Every handle ("node") of one database needs it. It fails the test for a
// store that cannot.
func UseClock(t testing.TB, s store.Store, now func() time.Time) {
	t.Helper()
	cs, ok := s.(clockSetter)
	if !ok {
		t.Fatalf("storetest: %T cannot take a test clock", s)
	}
	cs.SetClock(now)
}

// useClock gives s a new Clock reading t0.
func useClock(t *testing.T, s store.Store) *Clock {
	t.Helper()
	c := NewClock(t0)
	UseClock(t, s, c.Now)
	return c
}
