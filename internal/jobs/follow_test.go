package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// followKind registers a follower for a kind unique to the test that
// writes each event into the job's audit trail (a row in the same
// transaction), so the test sees what committed with the job.
func followKind(t *testing.T, fail func(ev jobs.Event) error) string {
	kind := "follow." + strings.ReplaceAll(t.Name(), "/", ".")
	jobs.Follow(kind, func(ctx context.Context, q store.Querier, j *identity.Job, ev jobs.Event, detail string) error {
		if fail != nil {
			if err := fail(ev); err != nil {
				return err
			}
		}
		return q.InsertAudit(ctx, &identity.AuditEvent{Actor: "system", Action: "job." + ev.String(), Subject: kind, Detail: map[string]string{"detail": detail}})
	})
	return kind
}

func (e *env) followed(t *testing.T, kind string) []string {
	t.Helper()
	list, _, err := e.st.ListAudit(context.Background(), store.AuditFilter{Subject: kind}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].Action)
	}
	return out
}

// The follower runs in the transaction that records each outcome.
func TestFollowerMovesWithTheJob(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		kind := followKind(t, nil)
		r := e.runner("w1")
		var calls atomic.Int32
		r.Register(kind, func(ctx context.Context, j *identity.Job) error {
			if calls.Add(1) == 1 {
				return errors.New("451 later")
			}
			return jobs.Permanent(errors.New("550 never"))
		})
		j := e.enqueue(t, kind, nil)
		runOnce(t, r, 1)
		e.clock.Advance(jobs.BackoffMax * 2)
		runOnce(t, r, 1)
		if got := e.followed(t, kind); strings.Join(got, " ") != "job.failed job.died" {
			t.Fatalf("followed %v", got)
		}
		// Retry re-arms the dead job (a new budget), never a second job.
		ctx := context.Background()
		if err := e.st.InTx(ctx, func(q store.Querier) error { _, err := jobs.Retry(ctx, q, j.ID); return err }); err != nil {
			t.Fatal(err)
		}
		got := e.job(t, j.ID)
		if got.State != identity.JobPending || got.MaxAttempts != 2+jobs.DefaultMaxAttempts || !got.RunAt.Equal(e.clock.Now()) {
			t.Fatalf("rearmed %+v", got)
		}
		// A second Retry of the pending job only makes it due now.
		if err := e.st.InTx(ctx, func(q store.Querier) error { _, err := jobs.Retry(ctx, q, j.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if err := e.st.InTx(ctx, func(q store.Querier) error { _, err := jobs.Discard(ctx, q, j.ID, "cli"); return err }); err != nil {
			t.Fatal(err)
		}
		if got := e.followed(t, kind); strings.Join(got, " ") != "job.failed job.died job.rearmed job.discarded" {
			t.Fatalf("followed %v", got)
		}
		if got := e.job(t, j.ID); got.State != identity.JobDiscarded || got.LastError != jobs.DiscardedPrefix+"cli" {
			t.Fatalf("discarded %+v", got)
		}
		// Discarded and done are final for both.
		for _, op := range []func(q store.Querier) error{
			func(q store.Querier) error { _, err := jobs.Retry(ctx, q, j.ID); return err },
			func(q store.Querier) error { _, err := jobs.Discard(ctx, q, j.ID, "cli"); return err },
		} {
			if err := e.st.InTx(ctx, op); identity.ErrorCode(err) != identity.CodeConflict {
				t.Errorf("change of a discarded job: %v", err)
			}
		}
		if err := e.st.InTx(ctx, func(q store.Querier) error { _, err := jobs.Retry(ctx, q, 999999); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retry of a missing job: %v", err)
		}
		runOnce(t, r, 0)
		if calls.Load() != 2 {
			t.Errorf("handler ran %d times", calls.Load())
		}
	})
}

// A failure to record an outcome (here: the follower's write fails twice)
// is retried, not only logged; the handler does not run again.
func TestOutcomeIsRecordedDespiteTransientFailures(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		var failures atomic.Int32
		kind := followKind(t, func(ev jobs.Event) error {
			if ev == jobs.Succeeded && failures.Add(1) <= 2 {
				return errors.New("database went away")
			}
			return nil
		})
		r := e.runner("w1")
		var calls atomic.Int32
		r.Register(kind, func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		j := e.enqueue(t, kind, nil)
		runOnce(t, r, 1)
		if got := e.job(t, j.ID); got.State != identity.JobDone || calls.Load() != 1 || failures.Load() != 3 {
			t.Fatalf("%+v, calls %d, follower tries %d", got, calls.Load(), failures.Load())
		}
		if got := e.followed(t, kind); strings.Join(got, " ") != "job.succeeded" {
			t.Fatalf("followed %v", got)
		}
	})
}

// An outcome that cannot be recorded before the lease ends (here a lease
// of 100 ms and a follower that always fails) is left to the next
// attempt, which the unrecorded counter shows.
func TestOutcomeNotRecordedBeforeLeaseEndRunsAgain(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		var broken atomic.Bool
		broken.Store(true)
		kind := followKind(t, func(ev jobs.Event) error {
			if broken.Load() {
				return errors.New("database went away")
			}
			return nil
		})
		r := jobs.NewRunner(e.st, jobs.Options{Worker: "w1", Lease: 100 * time.Millisecond, Log: quiet})
		var calls atomic.Int32
		r.Register(kind, func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		j := e.enqueue(t, kind, nil)
		labels := map[string]string{"kind": kind, "reason": "error"}
		before := max(0, metric(t, "gatehouse_jobs_unrecorded_total", labels))
		runOnce(t, r, 1)
		if got := e.job(t, j.ID); got.State != identity.JobRunning {
			t.Fatalf("%+v", got)
		}
		if got := metric(t, "gatehouse_jobs_unrecorded_total", labels) - before; got != 1 {
			t.Errorf("unrecorded grew by %v, want 1", got)
		}
		broken.Store(false)
		e.clock.Advance(time.Second)
		// Another node, with an ordinary lease, takes the job over.
		r2 := jobs.NewRunner(e.st2, jobs.Options{Worker: "w2", Log: quiet})
		r2.Register(kind, func(ctx context.Context, j *identity.Job) error { calls.Add(1); return nil })
		runOnce(t, r2, 1)
		if got := e.job(t, j.ID); got.State != identity.JobDone || calls.Load() != 2 {
			t.Fatalf("%+v, calls %d", got, calls.Load())
		}
	})
}
