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
	"sort"
	"sync"
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
	// Now is this node's clock (time.Now), for log lines only. Leases and
	// due times never use it: they follow the database's clock (see
	// store.Querier), so nodes whose clocks disagree still agree on every
	// lease.
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
	kinds    []string // sorted keys of handlers
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
// called while the runner runs. The runner claims only jobs of the kinds
// it has handlers for: a job of another kind waits, pending and without
// spending attempts, for a node that knows it (a newer node in a rolling
// upgrade; for email.send, a node with a mail server configured).
func (r *Runner) Register(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.handlers[kind]; !ok {
		r.kinds = append(r.kinds, kind)
		sort.Strings(r.kinds)
	}
	r.handlers[kind] = h
}

// Kinds returns the job kinds this runner claims.
func (r *Runner) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.kinds...)
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
	claimed := time.Now()
	jobs, err := r.st.ClaimJobs(ctx, r.opts.Worker, r.Kinds(), r.opts.Lease, r.opts.Batch)
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
			r.process(ctx, j, claimed)
		}()
	}
	wg.Wait()
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
			start := time.Now()
			jobs, err := r.st.ClaimJobs(ctx, r.opts.Worker, r.Kinds(), r.opts.Lease, limit)
			if err != nil && ctx.Err() == nil {
				r.opts.Log.Error("jobs: claim failed", "worker", r.opts.Worker, "err", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					r.process(hctx, j, start)
					<-slots
					r.Notify() // a slot is free: look for more work
				}()
			}
			claimed = len(jobs)
		}
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

// MaxLostLeases is how many attempts in a row a job may lose their lease
// (the worker died or stalled past it) before it is dead without running
// again: a job that keeps killing its worker stops. A lost attempt does
// not count against the job's attempt budget, so a node that crashes
// during a job's last attempt does not make it dead: it runs again.
const MaxLostLeases = 3

// process runs one claimed job and records its outcome. claimed is when
// the claim was asked for: the lease ends at the latest Lease after it.
func (r *Runner) process(ctx context.Context, j *identity.Job, claimed time.Time) {
	h := r.handler(j.Kind)
	kindLabel := j.Kind
	var err error
	switch {
	case j.Lost > MaxLostLeases:
		// Its last attempts all lost their lease: do not run it again.
		err = Permanent(fmt.Errorf("jobs: the lease of %d attempts in a row expired before they ended (the worker died or stalled); not run again", j.Lost))
	case h == nil:
		// Claims ask only for registered kinds; defensive.
		kindLabel = "unknown"
		err = fmt.Errorf("jobs: no handler for kind %q on worker %s", j.Kind, r.opts.Worker)
	default:
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, r.handlerTimeout)
		err = call(hctx, h, j)
		cancel()
		jobSeconds.WithLabelValues(kindLabel).Observe(time.Since(start).Seconds())
	}

	log := r.opts.Log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "worker", r.opts.Worker)
	var o outcome
	switch {
	case err == nil:
		o = outcome{result: "done", event: Succeeded}
	case IsPermanent(err) || IsLastAttempt(j):
		o = outcome{result: "dead", event: Died, detail: truncate(err.Error())}
		log.Error("jobs: job dead", "permanent", IsPermanent(err), "err", err)
	default:
		o = outcome{result: "retry", event: Failed, detail: truncate(err.Error()), retryIn: Backoff(j.Attempts)}
		log.Warn("jobs: job failed; will retry", "retry_at", r.opts.Now().Add(o.retryIn), "err", err)
	}
	processed.WithLabelValues(kindLabel, o.result).Inc()
	// Record the outcome even if ctx was cancelled at shutdown, until the
	// lease ends: after that another worker may run the job again.
	rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimed.Add(r.opts.Lease))
	defer cancel()
	r.record(rctx, j, o, log)
}

// outcome is what process records for an attempt.
type outcome struct {
	result  string // processed metric label: done, retry, dead
	event   Event
	detail  string
	retryIn time.Duration // Failed only
}

// record writes the attempt's outcome and, in the same transaction, what
// the job's follower (Follow) changes with it. A failure to write is
// retried with backoff until ctx's deadline (the end of the lease): a
// sent email whose "sent" is lost would be sent again by the next
// attempt. If the attempt is no longer the job's current one (its lease
// expired and another worker took the job, or an admin discarded it) the
// outcome is dropped: a later attempt or the admin decided.
func (r *Runner) record(ctx context.Context, j *identity.Job, o outcome, log *slog.Logger) {
	wait := 10 * time.Millisecond
	for try := 1; ; try++ {
		err := r.st.InTx(ctx, func(q store.Querier) error {
			var err error
			switch o.event {
			case Succeeded:
				err = q.CompleteJob(ctx, j.ID, j.Attempts, r.opts.Worker)
			case Failed:
				err = q.FailJob(ctx, j.ID, j.Attempts, r.opts.Worker, o.detail, o.retryIn)
			default:
				err = q.FailJob(ctx, j.ID, j.Attempts, r.opts.Worker, o.detail, 0)
			}
			if err != nil {
				return err
			}
			return follow(ctx, q, j, o.event, o.detail)
		})
		switch {
		case err == nil:
			return
		case errors.Is(err, store.ErrNotFound):
			unrecorded.WithLabelValues(j.Kind, "superseded").Inc()
			log.Warn("jobs: outcome not recorded: the attempt is no longer current (lease lost or job discarded)", "result", o.result)
			return
		case ctx.Err() != nil:
			unrecorded.WithLabelValues(j.Kind, "error").Inc()
			log.Error("jobs: outcome not recorded before the lease ended; the job will run again", "result", o.result, "tries", try, "err", err)
			return
		}
		log.Warn("jobs: could not record outcome; retrying", "result", o.result, "try", try, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(2*wait, time.Second)
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
