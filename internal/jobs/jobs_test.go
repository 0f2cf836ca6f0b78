package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// clock is the database's clock in these tests (storetest.UseClock): it
// moves only when told.
type clock = storetest.Clock

func newClock() *clock { return storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	st    store.Store // node 1
	st2   store.Store // node 2: a second connection pool on the same database
	clock *clock
}

// backend opens two handles ("nodes") on one fresh database.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, store.Store)
}

func backends() []backend {
	b := []backend{{"sqlite", func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "gatehouse.db")
		return openSQLite(t, path), openSQLite(t, path)
	}}}
	if os.Getenv(storetest.PostgresEnv) != "" {
		b = append(b, backend{"postgres", func(t *testing.T) (store.Store, store.Store) {
			dsn := storetest.PostgresSchemaDSN(t)
			return openPostgres(t, dsn), openPostgres(t, dsn)
		}})
	}
	return b
}

func openSQLite(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB, dsn string) store.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// run runs test once per backend (SQLite always, PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set), each on a fresh database.
func run(t *testing.T, test func(t *testing.T, e *env)) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st, st2 := b.open(t)
			c := newClock()
			storetest.UseClock(t, st, c.Now)
			storetest.UseClock(t, st2, c.Now)
			test(t, &env{st: st, st2: st2, clock: c})
		})
	}
}

func (e *env) runner(worker string) *jobs.Runner {
	return jobs.NewRunner(e.st, jobs.Options{Worker: worker, Now: e.clock.Now, Log: quiet, Concurrency: 2})
}

func (e *env) enqueue(t testing.TB, kind string, payload any) *identity.Job {
	t.Helper()
	var j *identity.Job
	err := e.st.InTx(context.Background(), func(q store.Querier) error {
		var err error
		j, err = jobs.Enqueue(context.Background(), q, kind, payload, time.Time{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (e *env) job(t testing.TB, id int64) *identity.Job {
	t.Helper()
	j, err := e.st.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func runOnce(t testing.TB, r *jobs.Runner, want int) {
	t.Helper()
	n, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("RunOnce processed %d jobs, want %d", n, want)
	}
}

func TestRunOnceRunsHandlerWithPayload(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.runner("w1")
		var got struct{ Name string }
		var deadline time.Duration
		r.Register("greet", func(ctx context.Context, j *identity.Job) error {
			dl, ok := ctx.Deadline()
			if !ok {
				return errors.New("no deadline")
			}
			deadline = time.Until(dl)
			return jobs.DecodePayload(j, &got)
		})
		j := e.enqueue(t, "greet", map[string]string{"Name": "jo"})
		if j.ID == 0 || j.State != identity.JobPending || j.MaxAttempts != jobs.DefaultMaxAttempts || j.PoolID != "" {
			t.Fatalf("enqueued %+v", j)
		}
		runOnce(t, r, 1)
		if got.Name != "jo" {
			t.Fatalf("payload %+v", got)
		}
		// Handlers must finish before the 60s lease runs out.
		if deadline <= 0 || deadline >= 60*time.Second {
			t.Fatalf("handler deadline %v, want within the 60s lease", deadline)
		}
		j = e.job(t, j.ID)
		if j.State != identity.JobDone || j.Attempts != 1 {
			t.Fatalf("job %+v", j)
		}
		runOnce(t, r, 0)
	})
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.runner("w1")
		var calls atomic.Int32
		r.Register("flaky", func(ctx context.Context, j *identity.Job) error {
			if calls.Add(1) <= 2 {
				return errors.New("451 try again later")
			}
			return nil
		})
		j := e.enqueue(t, "flaky", nil)

		for attempt, base := range []time.Duration{10 * time.Second, 20 * time.Second} {
			now := e.clock.Now()
			runOnce(t, r, 1)
			got := e.job(t, j.ID)
			if got.State != identity.JobPending || got.Attempts != attempt+1 || !strings.Contains(got.LastError, "451") {
				t.Fatalf("after attempt %d: %+v", attempt+1, got)
			}
			wait := got.RunAt.Sub(now)
			if wait < base || wait > base+base/4 {
				t.Fatalf("attempt %d: retry after %v, want %v plus up to 25%% jitter", attempt+1, wait, base)
			}
			// Not due yet: nothing runs.
			e.clock.Set(got.RunAt.Add(-time.Millisecond))
			runOnce(t, r, 0)
			e.clock.Set(got.RunAt)
		}
		runOnce(t, r, 1)
		got := e.job(t, j.ID)
		if got.State != identity.JobDone || got.Attempts != 3 || calls.Load() != 3 {
			t.Fatalf("final %+v, calls %d", got, calls.Load())
		}
	})
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.runner("w1")
		var calls atomic.Int32
		r.Register("doomed", func(ctx context.Context, j *identity.Job) error {
			calls.Add(1)
			return jobs.Permanent(errors.New("550 no such user"))
		})
		j := e.enqueue(t, "doomed", nil)
		runOnce(t, r, 1)
		got := e.job(t, j.ID)
		if got.State != identity.JobDead || got.Attempts != 1 || !strings.Contains(got.LastError, "550 no such user") {
			t.Fatalf("%+v", got)
		}
		e.clock.Advance(24 * time.Hour)
		runOnce(t, r, 0)
		if calls.Load() != 1 {
			t.Fatalf("%d calls", calls.Load())
		}
	})
}

func TestExhaustedAttemptsDeadLetter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.runner("w1")
		var calls atomic.Int32
		var lastSeen atomic.Bool
		r.Register("always", func(ctx context.Context, j *identity.Job) error {
			calls.Add(1)
			lastSeen.Store(jobs.IsLastAttempt(j))
			return fmt.Errorf("attempt %d failed", j.Attempts)
		})
		j := &identity.Job{Kind: "always", Payload: []byte(`{}`), MaxAttempts: 3}
		if err := e.st.EnqueueJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			runOnce(t, r, 1)
			got := e.job(t, j.ID)
			want := identity.JobPending
			if i == 3 {
				want = identity.JobDead
			}
			if got.State != want || got.Attempts != i {
				t.Fatalf("after attempt %d: %+v", i, got)
			}
			e.clock.Advance(jobs.BackoffMax * 2)
		}
		runOnce(t, r, 0)
		if calls.Load() != 3 || !lastSeen.Load() {
			t.Fatalf("calls %d, last attempt seen %v", calls.Load(), lastSeen.Load())
		}
	})
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{0, 10 * time.Second},
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{8, 1280 * time.Second},
		{9, 2560 * time.Second},
		{10, time.Hour},
		{1000, time.Hour},
	}
	for _, tt := range tests {
		for range 50 {
			d := jobs.Backoff(tt.attempt)
			if d < tt.base || d >= tt.base+tt.base/4 {
				t.Fatalf("Backoff(%d) = %v, want [%v, %v)", tt.attempt, d, tt.base, tt.base+tt.base/4)
			}
		}
	}
}

func TestLeaseExpiryLetsAnotherWorkerRerun(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		j := e.enqueue(t, "work", nil)

		// Worker "crashed" claims the job and dies without an outcome.
		claimed, err := e.st.ClaimJobs(ctx, "crashed", []string{"work"}, time.Minute, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v, %d jobs", err, len(claimed))
		}

		r := jobs.NewRunner(e.st2, jobs.Options{Worker: "rescuer", Lease: time.Minute, Now: e.clock.Now, Log: quiet})
		var calls atomic.Int32
		r.Register("work", func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })

		e.clock.Advance(59 * time.Second)
		runOnce(t, r, 0) // the lease still holds
		e.clock.Advance(time.Second)
		runOnce(t, r, 1)
		got := e.job(t, j.ID)
		if got.State != identity.JobDone || got.Attempts != 2 || calls.Load() != 1 {
			t.Fatalf("%+v, calls %d", got, calls.Load())
		}
		// The crashed worker, back from the dead, cannot record an outcome.
		if err := e.st.CompleteJob(ctx, j.ID, 1, "crashed"); err == nil {
			t.Fatal("a worker that lost its lease completed the job")
		}
		if err := e.st.FailJob(ctx, j.ID, 1, "crashed", "late", time.Minute); err == nil {
			t.Fatal("a worker that lost its lease failed the job")
		}
		if got := e.job(t, j.ID); got.State != identity.JobDone {
			t.Fatalf("state %s after the late worker", got.State)
		}
	})
}

func TestJobThatKeepsLosingItsLeaseIsNotRunForever(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		j := &identity.Job{Kind: "poison", Payload: []byte(`{}`), MaxAttempts: 2}
		if err := e.st.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		// Workers claim it and die (e.g. the handler crashes the process),
		// one more time than MaxLostLeases allows.
		for i := range jobs.MaxLostLeases + 1 {
			if c, err := e.st.ClaimJobs(ctx, fmt.Sprint("dies-", i), []string{"poison"}, time.Minute, 1); err != nil || len(c) != 1 {
				t.Fatalf("claim %d: %v %d", i, err, len(c))
			}
			e.clock.Advance(time.Minute)
		}
		r := e.runner("c")
		var calls atomic.Int32
		r.Register("poison", func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		runOnce(t, r, 1)
		got := e.job(t, j.ID)
		if got.State != identity.JobDead || calls.Load() != 0 || !strings.Contains(got.LastError, "lease of 4 attempts in a row expired") {
			t.Fatalf("%+v, calls %d", got, calls.Load())
		}
	})
}

// Issue 21 item 3: a node killed during a job's last attempt does not make
// the job dead unseen: the lost attempt is given back and the job runs
// again.
func TestCrashDuringLastAttemptRunsAgain(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		j := &identity.Job{Kind: "last", Payload: []byte(`{}`), MaxAttempts: 1}
		if err := e.st.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if c, err := e.st.ClaimJobs(ctx, "killed", []string{"last"}, time.Minute, 1); err != nil || len(c) != 1 || !jobs.IsLastAttempt(c[0]) {
			t.Fatalf("claim: %v %+v", err, c)
		}
		e.clock.Advance(time.Minute)
		r := e.runner("restarted")
		var calls atomic.Int32
		r.Register("last", func(ctx context.Context, j *identity.Job) error {
			calls.Add(1)
			if !jobs.IsLastAttempt(j) {
				t.Errorf("attempt %d of %d is not the last", j.Attempts, j.MaxAttempts)
			}
			return nil
		})
		runOnce(t, r, 1)
		if got := e.job(t, j.ID); got.State != identity.JobDone || calls.Load() != 1 || got.Attempts != 2 || got.Lost != 0 {
			t.Fatalf("%+v, calls %d", got, calls.Load())
		}
	})
}

func TestRolledBackEnqueueNeverRuns(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rollback := errors.New("flow step failed")
		var id int64
		err := e.st.InTx(ctx, func(q store.Querier) error {
			j, err := jobs.Enqueue(ctx, q, "work", map[string]int{"n": 1}, time.Time{})
			if err != nil {
				return err
			}
			id = j.ID
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx: %v", err)
		}
		r := e.runner("w1")
		var calls atomic.Int32
		r.Register("work", func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		e.clock.Advance(time.Hour)
		runOnce(t, r, 0)
		if calls.Load() != 0 {
			t.Fatal("handler ran for a rolled-back job")
		}
		if _, err := e.st.GetJob(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetJob after rollback: %v", err)
		}
		if n, err := e.st.CountJobs(ctx, ""); err != nil || n != 0 {
			t.Fatalf("CountJobs = %d, %v", n, err)
		}
	})
}

// A node claims only the kinds it has handlers for: a job of another kind
// waits, without spending attempts, for a node that knows it.
func TestUnknownKindWaitsForANodeThatKnowsIt(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		j := e.enqueue(t, "from.the.future", nil)
		old := e.runner("old-node")
		old.Register("something.else", func(ctx context.Context, j *identity.Job) error { return nil })
		runOnce(t, old, 0)
		e.clock.Advance(24 * time.Hour)
		runOnce(t, old, 0)
		if got := e.job(t, j.ID); got.State != identity.JobPending || got.Attempts != 0 {
			t.Fatalf("%+v", got)
		}
		// A newer node knows the kind.
		upgraded := e.runner("new-node")
		var calls atomic.Int32
		upgraded.Register("from.the.future", func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		runOnce(t, upgraded, 1)
		if got := e.job(t, j.ID); got.State != identity.JobDone || calls.Load() != 1 || got.Attempts != 1 {
			t.Fatalf("%+v", got)
		}
	})
}

func TestPanickingHandlerIsRetried(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.runner("w1")
		r.Register("boom", func(ctx context.Context, j *identity.Job) error { panic("nil map") })
		j := e.enqueue(t, "boom", nil)
		runOnce(t, r, 1)
		got := e.job(t, j.ID)
		if got.State != identity.JobPending || !strings.Contains(got.LastError, "panic: nil map") {
			t.Fatalf("%+v", got)
		}
	})
}

func TestEnqueueFutureRunAt(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		at := e.clock.Now().Add(time.Hour)
		var j *identity.Job
		if err := e.st.InTx(ctx, func(q store.Querier) error {
			var err error
			j, err = jobs.Enqueue(ctx, q, "later", nil, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r := e.runner("w1")
		r.Register("later", func(ctx context.Context, j *identity.Job) error { return nil })
		runOnce(t, r, 0)
		e.clock.Set(at)
		runOnce(t, r, 1)
		if got := e.job(t, j.ID); got.State != identity.JobDone {
			t.Fatalf("%+v", got)
		}
		if _, err := jobs.Enqueue(ctx, e.st, "bad", func() {}, time.Time{}); err == nil {
			t.Fatal("Enqueue accepted a payload JSON cannot encode")
		}
	})
}

// waitFor polls cond until it holds, failing the test after a generous
// bound (a hang guard, not a timing assertion).

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunNotifyAndGracefulShutdown(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		// Poll is an hour: only Notify can wake the runner after its first look.
		r := jobs.NewRunner(e.st, jobs.Options{Worker: "w1", Poll: time.Hour, Log: quiet, ShutdownGrace: time.Minute})
		release := make(chan struct{})
		started := make(chan int64, 10)
		r.Register("slow", func(ctx context.Context, j *identity.Job) error {
			started <- j.ID
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		r.Register("probe", func(ctx context.Context, j *identity.Job) error { return nil })
		probe := e.enqueue(t, "probe", nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		// Let the runner go idle after its first polls, then enqueue and notify.
		waitFor(t, "probe job done", func() bool { return e.job(t, probe.ID).State == identity.JobDone })
		time.Sleep(20 * time.Millisecond)
		j := e.enqueue(t, "slow", nil)
		r.Notify()
		select {
		case id := <-started:
			if id != j.ID {
				t.Fatalf("started job %d, want %d", id, j.ID)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Notify did not wake the runner")
		}

		// Shut down while the handler runs: Run waits for it.
		cancel()
		select {
		case err := <-done:
			t.Fatalf("Run returned %v with a handler in flight", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := e.job(t, j.ID); got.State != identity.JobDone {
			t.Fatalf("in-flight job not completed at shutdown: %+v", got)
		}
	})
}

func TestShutdownCancelsHandlersAfterGrace(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := jobs.NewRunner(e.st, jobs.Options{Worker: "w1", Poll: 10 * time.Millisecond, Log: quiet, ShutdownGrace: time.Millisecond})
		started := make(chan struct{}, 1)
		r.Register("stuck", func(ctx context.Context, j *identity.Job) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		})
		j := e.enqueue(t, "stuck", nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		<-started
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		// The cancelled handler's failure is recorded: the job will be retried.
		if got := e.job(t, j.ID); got.State != identity.JobPending || got.LockedBy != "" {
			t.Fatalf("%+v", got)
		}
	})
}

func TestTwoRunnersNeverRunAJobTwiceConcurrently(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		// Node 2 uses its own handle on the database, as a second process would.
		st2 := e.st2
		const n = 60
		ids := make([]int64, 0, n)
		for i := range n {
			ids = append(ids, e.enqueue(t, "count", map[string]int{"i": i}).ID)
		}

		var mu sync.Mutex
		running := map[int64]int{}
		runs := map[int64]int{}
		byWorker := map[string]int{}
		var overlap atomic.Int32
		handler := func(worker string) jobs.Handler {
			return func(ctx context.Context, j *identity.Job) error {
				mu.Lock()
				running[j.ID]++
				if running[j.ID] > 1 {
					overlap.Add(1)
				}
				runs[j.ID]++
				byWorker[worker]++
				mu.Unlock()
				time.Sleep(time.Millisecond) // widen the window for overlaps
				mu.Lock()
				running[j.ID]--
				mu.Unlock()
				return nil
			}
		}
		r1 := jobs.NewRunner(e.st, jobs.Options{Worker: "node-1", Poll: 5 * time.Millisecond, Concurrency: 4, Log: quiet})
		r2 := jobs.NewRunner(st2, jobs.Options{Worker: "node-2", Poll: 5 * time.Millisecond, Concurrency: 4, Log: quiet})
		r1.Register("count", handler("node-1"))
		r2.Register("count", handler("node-2"))

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, r := range []*jobs.Runner{r1, r2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Run(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		waitFor(t, "all jobs done", func() bool {
			c, err := e.st.CountJobs(context.Background(), identity.JobDone)
			return err == nil && c == n
		})
		cancel()
		wg.Wait()

		if overlap.Load() != 0 {
			t.Fatalf("%d overlapping runs", overlap.Load())
		}
		for _, id := range ids {
			if runs[id] != 1 {
				t.Errorf("job %d ran %d times", id, runs[id])
			}
		}
		t.Logf("jobs per worker: %v", byWorker)
	})
}
