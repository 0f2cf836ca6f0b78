// Package ratelimit is the in-memory, per-process rate limiter shared by
// the surfaces and the auth service for limits keyed by client address
// (docs/security.md, section L): a token bucket per key, a bounded number
// of keys with least-recently-used eviction, and IPv6 clients keyed by
// their /64.
//
// Limits that protect an account (the sign-in lockout, failed code
// guesses, codes sent per user) are not here: they live in the database
// (store.ReserveAttempt, store.HitThrottle) so that every node shares
// them. An address limit is per process on purpose: it is a cheap first
// filter against one client hammering one node, and N nodes behind a load
// balancer allow N times its rate.
package ratelimit

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the keys a Limiter tracks (about 100 bytes each).
const DefaultMaxKeys = 100000

// Limiter is a token bucket per key: burst requests at once, then one
// every per. At most maxKeys buckets are kept; a new key past that evicts
// the least recently used one, so a flood of new keys costs only the
// buckets nobody touched for longest, never everyone's at once. A Limiter
// is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	burst   float64
	per     time.Duration
	maxKeys int
	lru     *list.List // of *bucket, most recently used first
	keys    map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// New returns a Limiter; maxKeys <= 0 means DefaultMaxKeys.
func New(burst int, per time.Duration, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if burst < 1 {
		burst = 1
	}
	if per <= 0 {
		per = time.Second
	}
	return &Limiter{burst: float64(burst), per: per, maxKeys: maxKeys, lru: list.New(), keys: map[string]*list.Element{}}
}

// Allow takes a token for key at now. It reports whether one was left
// and, when none was, how long until the next one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*bucket)
	} else {
		for l.lru.Len() >= l.maxKeys {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.keys, old.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens += float64(el) / float64(l.per)
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
		b.last = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.per))
	}
	b.tokens--
	return true, 0
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// IPKey returns the rate-limit key of a client address: an IPv4 address
// (also IPv4-mapped IPv6) as it is, an IPv6 address by its /64 ("2001:db8:1:2::/64"),
// since one subscriber usually holds a whole /64 and could otherwise
// rotate through endless addresses. Anything that does not parse is
// returned unchanged (lower-cased).
func IPKey(ip string) string {
	a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		return strings.ToLower(ip)
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
