package web

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/ratelimit"
)

// limiter is the hosted pages' per-address limit for one action: an
// in-memory token bucket per (pool, client address) from
// internal/ratelimit (IPv6 keyed by /64, least-recently-used eviction).
// Each node counts for itself; the limits that protect an account (the
// sign-in lockout, code guesses and code emails per user) are in auth and
// shared through the database (docs/security.md, section L).
type limiter struct{ l *ratelimit.Limiter }

func newLimiter(burst int, per time.Duration) *limiter {
	return &limiter{l: ratelimit.New(burst, per, ratelimit.DefaultMaxKeys)}
}

// allow takes a token for key at now, reporting false when none is left.
func (l *limiter) allow(key string, now time.Time) bool {
	ok, _ := l.l.Allow(key, now)
	return ok
}

// limitKey is the limiter key of r's client on poolID.
func limitKey(poolID string, r *http.Request) string {
	return poolID + "|" + ratelimit.IPKey(meta(r).IP)
}
