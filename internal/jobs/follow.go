package jobs

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Event is a change of a job's state that the rows the job works on
// follow (see Follow).
type Event int

const (
	// Succeeded: the attempt j.Attempts succeeded; the job is done.
	Succeeded Event = iota + 1
	// Failed: the attempt j.Attempts failed; the job is pending again.
	Failed
	// Died: the job is dead (a permanent failure, its last attempt
	// failed, or it lost its lease MaxLostLeases times in a row).
	Died
	// Discarded: an admin discarded the job.
	Discarded
	// Rearmed: an admin re-armed a dead job; it is pending again.
	Rearmed
)

func (e Event) String() string {
	switch e {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Died:
		return "died"
	case Discarded:
		return "discarded"
	case Rearmed:
		return "rearmed"
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// Follower keeps the rows a job works on in step with the job. It runs in
// the transaction that changes the job's state (q), after the change; j is
// the job as it was claimed (for Succeeded and Failed: Attempts is the
// attempt that ended) or as read before the admin's change. detail is the
// error or the admin's note. An error rolls the job's change back too.
// Followers must use compare-and-set writes: they may be called for a
// row that has moved on (they then change nothing).
type Follower func(ctx context.Context, q store.Querier, j *identity.Job, ev Event, detail string) error

var followers sync.Map // kind -> Follower

// Follow sets the follower of kind. Packages call it from init, so every
// process that can see a job of the kind (a runner, the CLI, the console)
// keeps the job's rows in step, whether or not it runs such jobs.
func Follow(kind string, f Follower) { followers.Store(kind, f) }

func follow(ctx context.Context, q store.Querier, j *identity.Job, ev Event, detail string) error {
	f, ok := followers.Load(j.Kind)
	if !ok {
		return nil
	}
	if err := f.(Follower)(ctx, q, j, ev, detail); err != nil {
		return fmt.Errorf("jobs: %s follower (%s) of job %d: %w", j.Kind, ev, j.ID, err)
	}
	return nil
}

// DiscardedPrefix starts the LastError of a job (or email) an admin
// discarded: "discarded by <actor>".
const DiscardedPrefix = "discarded by "

// Discard gives up on job id for the admin by (an actor id) through q, the
// caller's transaction: a pending, running or dead job becomes discarded,
// and its follower follows (a discarded email.send job discards its
// email). A running attempt of it can no longer record an outcome. It
// returns the job as it was before.
//
// Errors: *identity.Error conflict when the job is done or already
// discarded; store.ErrNotFound; the store's errors.
func Discard(ctx context.Context, q store.Querier, id int64, by string) (*identity.Job, error) {
	j, err := q.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	note := DiscardedPrefix + by
	ok, err := q.DiscardJob(ctx, id, note)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, identity.Errorf(identity.CodeConflict, "Only a pending, running or dead job can be discarded; this one is %s.", j.State)
	}
	return j, follow(ctx, q, j, Discarded, note)
}

// Retry runs job id again through q, the caller's transaction, never as a
// second job: a dead job is re-armed (pending, due now, DefaultMaxAttempts
// more attempts; its follower follows: a dead email is queued again); a
// pending job (waiting for a retry) becomes due now. It returns the job as
// it was before.
//
// Errors: *identity.Error conflict for a running, done or discarded job;
// store.ErrNotFound; the store's errors.
func Retry(ctx context.Context, q store.Querier, id int64) (*identity.Job, error) {
	j, err := q.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	var ok bool
	switch j.State {
	case identity.JobDead:
		if ok, err = q.RearmJob(ctx, id, DefaultMaxAttempts); err == nil && ok {
			err = follow(ctx, q, j, Rearmed, "")
		}
	case identity.JobPending:
		ok, err = q.HastenJob(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, identity.Errorf(identity.CodeConflict, "Only a dead job, or one waiting for a retry, can be retried; this one is %s.", j.State)
	}
	return j, nil
}
