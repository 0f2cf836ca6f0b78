package auth

import (
	"context"
	"sync/atomic"
	"time"
)

// Rows that expire (OAuth codes, revoked sign-ins, refresh tokens) are
// deleted by the nodes themselves, piggybacked on a request of the same
// kind, at most once per interval per Service (docs/operations.md, "Data
// that cleans itself up"). A node that is idle deletes nothing; rows it
// leaves behind match nothing live.
type purge struct {
	what  string        // for the log
	every time.Duration // at most one run per every
	last  atomic.Int64  // Unix seconds of the last run
}

// run calls del if p has not run within p.every of now (one caller wins
// the slot). Best effort: a failure is logged only.
func (s *Service) runPurge(ctx context.Context, p *purge, now time.Time, del func() (int, error)) {
	last := p.last.Load()
	if now.Unix()-last < int64(p.every/time.Second) || !p.last.CompareAndSwap(last, now.Unix()) {
		return
	}
	if n, err := del(); err != nil {
		s.cfg.Log.WarnContext(ctx, "auth: purge "+p.what, "err", err)
	} else if n > 0 {
		s.cfg.Log.InfoContext(ctx, "auth: purged "+p.what, "n", n)
	}
}
