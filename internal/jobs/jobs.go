package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Handler does the work of one job kind. It must be idempotent (see the
// package documentation): a job may run more than once. ctx carries a
// deadline shorter than the lease. Return nil on success, Permanent(err) for
// a failure that will not go away by retrying, any other error to retry with
// backoff.
type Handler func(ctx context.Context, job *identity.Job) error

// DefaultMaxAttempts is the number of attempts a job gets when Enqueue (or
// the row) does not say otherwise.
const DefaultMaxAttempts = 8

// Backoff bounds: the first retry waits BackoffBase, each further one twice
// as long, never more than BackoffMax (before jitter).
const (
	BackoffBase = 10 * time.Second
	BackoffMax  = time.Hour
)

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the runner dead-letters the job
// at once. Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// MaxAttempts returns the job's attempt budget (DefaultMaxAttempts when the
// row has none).
func MaxAttempts(j *identity.Job) int {
	if j.MaxAttempts > 0 {
		return j.MaxAttempts
	}
	return DefaultMaxAttempts
}

// IsLastAttempt reports whether the current run of a claimed job is its last
// one: if it fails with any error, the job is dead. Handlers use it to
// record a final state (for example an email marked dead).
func IsLastAttempt(j *identity.Job) bool {
	return j.Attempts >= MaxAttempts(j)
}

// Backoff returns how long to wait before retry number attempt (1 for the
// first retry, i.e. after the first failed attempt): BackoffBase *
// 2^(attempt-1), capped at BackoffMax, plus jitter in [0, 25%).
func Backoff(attempt int) time.Duration {
	return backoff(attempt, rand.Float64())
}

func backoff(attempt int, jitter float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := BackoffBase
	for i := 1; i < attempt && d < BackoffMax; i++ {
		d *= 2
	}
	if d > BackoffMax {
		d = BackoffMax
	}
	return d + time.Duration(float64(d)*0.25*jitter)
}

// epoch is the RunAt of jobs enqueued with a zero runAt: "as soon as
// possible", due under any clock (tests inject clocks in the past).
var epoch = time.Unix(0, 0).UTC()

// Enqueue writes a pending global job (one that works for no pool) of
// kind with payload JSON-encoded (pass a json.RawMessage for pre-encoded
// JSON) through q. Call it with the Querier of the caller's InTx so the
// job commits or rolls back with the state change that causes it. runAt
// is when the job becomes due, by the database's clock; the zero time
// means at once. The job gets DefaultMaxAttempts attempts.
//
// After the transaction commits, callers in the same process may call
// Runner.Notify to have the job picked up without waiting for the next poll.
//
// Errors: a JSON encoding error, or the store's error.
func Enqueue(ctx context.Context, q store.Querier, kind string, payload any, runAt time.Time) (*identity.Job, error) {
	return EnqueueForPool(ctx, q, "", kind, payload, runAt)
}

// EnqueueForPool is Enqueue for a job that works for poolID: the pool's
// admins see it (and it is deleted with the pool). "" is a global job.
//
// Errors: those of Enqueue; store.ErrNotFound if the pool does not exist.
func EnqueueForPool(ctx context.Context, q store.Querier, poolID, kind string, payload any, runAt time.Time) (*identity.Job, error) {
	if kind == "" {
		return nil, errors.New("jobs: empty job kind")
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode %s payload: %w", kind, err)
	}
	if runAt.IsZero() {
		runAt = epoch
	}
	j := &identity.Job{
		PoolID:      poolID,
		Kind:        kind,
		Payload:     raw,
		State:       identity.JobPending,
		RunAt:       runAt.UTC(),
		MaxAttempts: DefaultMaxAttempts,
	}
	if err := q.EnqueueJob(ctx, j); err != nil {
		return nil, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return j, nil
}

// DecodePayload unmarshals the job's JSON payload into v; a payload that
// does not decode is wrapped with Permanent (retrying will not fix it).
func DecodePayload(j *identity.Job, v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return Permanent(fmt.Errorf("jobs: decode %s payload of job %d: %w", j.Kind, j.ID, err))
	}
	return nil
}
