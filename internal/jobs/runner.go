package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Options configure a Runner. Zero fields take the documented defaults.
type Options struct {
	// Worker names this runner in the leases it takes; it must be unique
	// among the runners sharing a database. Default: hostname-pid-random.
	Worker string
	// Lease is how long a claimed job is reserved for this worker (60s).
	// Handlers get a deadline of 80% of it.
	Lease time.Duration
	// Poll is how often Run looks for due jobs when idle (1s).
	Poll time.Duration
	// Batch caps the jobs claimed by one query (default Concurrency).
	Batch int
	// Concurrency caps the handlers running at once (default 4).
	Concurrency int
	// ShutdownGrace bounds how long Run waits for in-flight handlers after
	// its context is done before cancelling theirs (default 10s).
	ShutdownGrace time.Duration
	// Now is the clock for leases and retry times (time.Now).
	Now func() time.Time
	// Log receives job failures (slog.Default()).
	Log *slog.Logger
}

// Runner claims due jobs from the store and runs their handlers.
type Runner struct {
	st             store.Store
	opts           Options
	handlerTimeout time.Duration
	wake           chan struct{}

	mu       sync.RWMutex
	handlers map[string]Handler

	lastCount atomic.Int64 // unix nanos of the last CountJobs
}

// NewRunner returns a Runner over st. Register handlers before Run.
func NewRunner(st store.Store, opts Options) *Runner {
	if opts.Worker == "" {
		opts.Worker = defaultWorker()
	}
	if opts.Lease <= 0 {
		opts.Lease = 60 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Batch <= 0 {
		opts.Batch = opts.Concurrency
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Runner{
		st:             st,
		opts:           opts,
		handlerTimeout: opts.Lease * 4 / 5,
		wake:           make(chan struct{}, 1),
		handlers:       map[string]Handler{},
	}
}

func defaultWorker() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "gatehouse"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Worker returns the name this runner leases jobs under.
func (r *Runner) Worker() string { return r.opts.Worker }

// Register sets the handler for kind, replacing any earlier one. It may be
// called while the runner runs.
func (r *Runner) Register(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = h
}

func (r *Runner) handler(kind string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.handlers[kind]
}

// Notify wakes the poller of Run at once. Call it after committing a
// transaction that enqueued a job; it never blocks.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// RunOnce claims one batch of due jobs (at most Batch), runs them (at most
// Concurrency at a time), records their outcomes and returns how many it
// processed. Handlers get contexts derived from ctx. It is meant for tests
// and for one-shot commands; servers call Run.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	jobs, err := r.st.ClaimJobs(ctx, r.opts.Worker, r.opts.Now(), r.opts.Lease, r.opts.Batch)
	if err != nil {
		return 0, fmt.Errorf("jobs: claim: %w", err)
	}
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.process(ctx, j)
		}()
	}
	wg.Wait()
	r.updatePending(ctx, true)
	return len(jobs), nil
}

// Run polls for due jobs until ctx is done, running up to Concurrency
// handlers at once. On shutdown it stops claiming, waits up to
// ShutdownGrace for in-flight handlers, then cancels their contexts and
// waits a little more; outcomes of finished handlers are still recorded.
// Jobs whose handler did not finish keep their lease and run again after it
// expires. It returns nil after a clean shutdown, or an error naming the
// handlers that did not return.
func (r *Runner) Run(ctx context.Context) error {
	// Handlers outlive ctx during the grace period.
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()

	slots := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C

	r.opts.Log.Debug("jobs: runner started", "worker", r.opts.Worker)
	for ctx.Err() == nil {
		free := r.opts.Concurrency - len(slots)
		limit := min(free, r.opts.Batch)
		claimed := 0
		if limit > 0 {
			jobs, err := r.st.ClaimJobs(ctx, r.opts.Worker, r.opts.Now(), r.opts.Lease, limit)
			if err != nil && ctx.Err() == nil {
				r.opts.Log.Error("jobs: claim failed", "worker", r.opts.Worker, "err", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.process(hctx, j)
					<-slots
					r.Notify() // a slot is free: look for more work
				}()
			}
			claimed = len(jobs)
		}
		r.updatePending(ctx, false)
		if claimed > 0 && claimed == limit {
			continue // there may be more due jobs
		}
		timer.Reset(r.opts.Poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(r.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
	}
	r.opts.Log.Warn("jobs: shutdown grace over, cancelling handlers", "worker", r.opts.Worker, "running", len(slots))
	cancelHandlers()
	// Outcomes are recorded with a bounded context; give them time.
	late := time.NewTimer(5 * time.Second)
	defer late.Stop()
	select {
	case <-done:
		return nil
	case <-late.C:
		return fmt.Errorf("jobs: %d handlers did not return at shutdown", len(slots))
	}
}

// process runs one claimed job and records its outcome.
func (r *Runner) process(ctx context.Context, j *identity.Job) {
	h := r.handler(j.Kind)
	kindLabel := j.Kind
	var err error
	if j.Attempts > MaxAttempts(j) {
		// Claimed again after its last attempt's lease expired: a job that
		// keeps killing or stalling its worker. Do not run it again.
		err = Permanent(fmt.Errorf("jobs: lease expired on the last attempt (%d of %d); not run again", j.Attempts-1, MaxAttempts(j)))
		if h == nil {
			kindLabel = "unknown"
		}
	} else if h == nil {
		kindLabel = "unknown"
		err = fmt.Errorf("jobs: no handler for kind %q on worker %s", j.Kind, r.opts.Worker)
	} else {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, r.handlerTimeout)
		err = call(hctx, h, j)
		cancel()
		jobSeconds.WithLabelValues(kindLabel).Observe(time.Since(start).Seconds())
	}

	// Record the outcome even if ctx was cancelled at shutdown.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := r.opts.Now()
	log := r.opts.Log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "worker", r.opts.Worker)
	var result string
	var serr error
	switch {
	case err == nil:
		result = "done"
		serr = r.st.CompleteJob(rctx, j.ID, r.opts.Worker, now)
	case h == nil && !IsPermanent(err):
		if IsLastAttempt(j) {
			result = "dead"
			serr = r.st.FailJob(rctx, j.ID, r.opts.Worker, truncate(err.Error()), time.Time{}, now)
		} else {
			result = "unknown_kind"
			serr = r.st.FailJob(rctx, j.ID, r.opts.Worker, truncate(err.Error()), now.Add(Backoff(j.Attempts)), now)
		}
		log.Warn("jobs: no handler for job kind; will retry", "err", err)
	case IsPermanent(err) || IsLastAttempt(j):
		result = "dead"
		serr = r.st.FailJob(rctx, j.ID, r.opts.Worker, truncate(err.Error()), time.Time{}, now)
		log.Error("jobs: job dead", "permanent", IsPermanent(err), "err", err)
	default:
		result = "retry"
		retryAt := now.Add(Backoff(j.Attempts))
		serr = r.st.FailJob(rctx, j.ID, r.opts.Worker, truncate(err.Error()), retryAt, now)
		log.Warn("jobs: job failed; will retry", "retry_at", retryAt, "err", err)
	}
	processed.WithLabelValues(kindLabel, result).Inc()
	if serr != nil {
		// Most likely the lease expired and another worker took the job
		// over; it will record its own outcome.
		log.Error("jobs: could not record outcome", "result", result, "err", serr, "lost_lease", errors.Is(serr, store.ErrNotFound) || errors.Is(serr, store.ErrConflict))
	}
}

// call runs h, turning a panic into an error.
func call(ctx context.Context, h Handler, j *identity.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// updatePending refreshes the pending gauge, at most once per Poll unless
// force.
func (r *Runner) updatePending(ctx context.Context, force bool) {
	now := time.Now().UnixNano()
	last := r.lastCount.Load()
	if !force && now-last < int64(r.opts.Poll) {
		return
	}
	r.lastCount.Store(now)
	n, err := r.st.CountJobs(ctx, identity.JobPending)
	if err != nil {
		if ctx.Err() == nil {
			r.opts.Log.Warn("jobs: count pending failed", "err", err)
		}
		return
	}
	pending.Set(float64(n))
}

const maxErrLen = 2000

func truncate(s string) string {
	if len(s) <= maxErrLen {
		return s
	}
	s = s[:maxErrLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
