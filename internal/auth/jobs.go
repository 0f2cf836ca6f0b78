package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Background jobs, for administrators (gatehouse jobs, the native API's
// /api/v1/jobs and /api/v1/pools/{pool}/jobs, the console's jobs page).
// A pool's jobs (emails, hooks, registration deadlines) are its admins';
// global jobs, and the list of every pool's jobs, only global admins'.
// Retry and Discard go through internal/jobs, which keeps a job's rows in
// step (an email.send job's email) in the same transaction.

// Job list limits.
const (
	DefaultJobLimit = 50
	MaxJobLimit     = store.MaxPageLimit
)

// JobStates are the states ListJobs filters on.
var JobStates = []string{identity.JobPending, identity.JobRunning, identity.JobDone, identity.JobDead, identity.JobDiscarded}

// ListJobs lists jobs newest first: poolID's (a pool admin), or with
// poolID "" every job, global or of any pool (a global admin). state ""
// or one of JobStates; kind "" or a job kind; limit 1..1000, 0: 50.
//
// Errors: forbidden; invalid_parameter (state, kind, limit, token).
func (s *Service) ListJobs(ctx context.Context, poolID, state, kind string, limit int, token string) ([]*identity.Job, string, error) {
	if err := s.requireJobAdmin(ctx, poolID); err != nil {
		return nil, "", err
	}
	if state != "" && !contains(JobStates, state) {
		return nil, "", identity.FieldError("state", "The state must be one of %s.", strings.Join(JobStates, ", "))
	}
	if len(kind) > 64 {
		return nil, "", identity.FieldError("kind", "The kind is too long.")
	}
	n := limit
	if n == 0 {
		n = DefaultJobLimit
	}
	if n < 1 || n > MaxJobLimit {
		return nil, "", identity.FieldError("limit", "The limit must be between 1 and %d.", MaxJobLimit)
	}
	list, next, err := s.cfg.Store.ListJobs(ctx, store.JobFilter{PoolID: poolID, State: state, Kind: kind}, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list jobs", err)
	}
	return list, next, nil
}

// GetJob returns job id: of poolID (a pool admin), or any job when poolID
// is "" (a global admin).
//
// Errors: forbidden; resource_not_found.
func (s *Service) GetJob(ctx context.Context, poolID string, id int64) (*identity.Job, error) {
	if err := s.requireJobAdmin(ctx, poolID); err != nil {
		return nil, err
	}
	j, err := s.jobOf(ctx, s.cfg.Store, poolID, id)
	return j, wrapStoreErr("get job", err)
}

// RetryJob runs job id again, never as a second job: a dead job is
// re-armed with a fresh attempt budget (a dead email is queued again with
// it), a pending one becomes due now. Audited as job.retry. It returns the
// job after the change.
//
// Errors: forbidden; resource_not_found; conflict (running, done or
// discarded).
func (s *Service) RetryJob(ctx context.Context, poolID string, id int64) (*identity.Job, error) {
	return s.changeJob(ctx, poolID, id, "job.retry", func(q store.Querier) error {
		_, err := jobs.Retry(ctx, q, id)
		return err
	})
}

// DiscardJob gives up on job id (pending, running or dead): it becomes
// discarded, LastError "discarded by <actor>", and a running attempt can
// no longer record an outcome (an email.send job's email is discarded with
// it, and a send in flight abandoned). Audited as job.discard. It returns
// the job after the change.
//
// Errors: forbidden; resource_not_found; conflict (done or discarded).
func (s *Service) DiscardJob(ctx context.Context, poolID string, id int64) (*identity.Job, error) {
	return s.changeJob(ctx, poolID, id, "job.discard", func(q store.Querier) error {
		_, err := jobs.Discard(ctx, q, id, identity.ActorFrom(ctx).ID)
		return err
	})
}

func (s *Service) changeJob(ctx context.Context, poolID string, id int64, action string, change func(q store.Querier) error) (*identity.Job, error) {
	if err := s.requireJobAdmin(ctx, poolID); err != nil {
		return nil, err
	}
	var after *identity.Job
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		j, err := s.jobOf(ctx, q, poolID, id)
		if err != nil {
			return err
		}
		if err := change(q); err != nil {
			return err
		}
		if after, err = q.GetJob(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, q, j.PoolID, action, "job:"+strconv.FormatInt(id, 10), map[string]string{"kind": j.Kind, "from": j.State})
	})
	if err != nil {
		return nil, wrapStoreErr(action, err)
	}
	s.notifyMail()
	return after, nil
}

// jobOf loads job id, which must belong to poolID unless poolID is "".
func (s *Service) jobOf(ctx context.Context, q store.Querier, poolID string, id int64) (*identity.Job, error) {
	j, err := q.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && poolID != "" && j.PoolID != poolID {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "Job not found.")
	}
	return j, err
}

// requireJobAdmin: poolID's admins for a pool's jobs; for every job
// (poolID ""), an admin that is not bound to a pool: the CLI, the system,
// or a global API key (checked again here, not only by the API's routes).
// Console sign-ins and company admins are pool-bound.
func (s *Service) requireJobAdmin(ctx context.Context, poolID string) error {
	if poolID != "" {
		return s.RequirePoolAdmin(ctx, poolID)
	}
	forbidden := identity.Errorf(identity.CodeForbidden, "Only global admins may see every job.")
	id := identity.ActorFrom(ctx).ID
	if strings.HasPrefix(id, "user:") || strings.HasPrefix(id, ConsoleActorPrefix) {
		return forbidden
	}
	if keyID, ok := strings.CutPrefix(id, "apikey:"); ok {
		k, err := s.cfg.Store.GetAPIKey(ctx, keyID)
		if errors.Is(err, store.ErrNotFound) {
			return forbidden
		}
		if err != nil {
			return wrapStoreErr("check API key", err)
		}
		if k.PoolID != "" || !k.RevokedAt.IsZero() {
			return forbidden
		}
	}
	return nil
}
