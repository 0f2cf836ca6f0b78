package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Background jobs (email deliveries, post_confirmation hooks, registration
// reminders and expiries) and the outbox's Retry and Discard. A pool's
// jobs are under /api/v1/pools/{pool}/jobs (pool keys); every job, global
// or of any pool, under /api/v1/jobs (global keys only). Retry and Discard
// go through auth.Service, which keeps an email and its job in step.

type jobView struct {
	ID          int64           `json:"id"`
	PoolID      string          `json:"pool_id,omitempty"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LostLeases  int             `json:"lost_leases"`
	RunAt       *time.Time      `json:"run_at,omitempty"`
	LockedBy    string          `json:"locked_by,omitempty"`
	LockedUntil *time.Time      `json:"locked_until,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   *time.Time      `json:"created_at,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
	Payload     json.RawMessage `json:"payload,omitempty"`
}

func job(j *identity.Job) jobView {
	v := jobView{ID: j.ID, PoolID: j.PoolID, Kind: j.Kind, State: j.State, Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		LostLeases: j.Lost, RunAt: tsp(j.RunAt), LockedBy: j.LockedBy, LockedUntil: tsp(j.LockedUntil), LastError: j.LastError,
		CreatedAt: tsp(j.CreatedAt), UpdatedAt: tsp(j.UpdatedAt)}
	if j.RunAt.Unix() <= 0 {
		v.RunAt = nil // "at once"
	}
	if len(j.Payload) > 0 && json.Valid(j.Payload) {
		v.Payload = json.RawMessage(j.Payload)
	}
	return v
}

// jobID parses the {job} (or {email}) path value; a malformed one is a
// job (email) that does not exist.
func pathID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, identity.Errorf(identity.CodeResourceNotFound, "%s not found.", what)
	}
	return id, nil
}

// listJobs serves GET /api/v1/jobs (pool "") and /api/v1/pools/{pool}/jobs.
func (a *API) listJobs(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	state, err := form.QueryString(r, "state", 32)
	if err != nil {
		return err
	}
	if state != "" && !slices.Contains(auth.JobStates, state) {
		return identity.FieldError("state", "state must be one of %s.", strings.Join(auth.JobStates, ", "))
	}
	kind, err := form.QueryString(r, "kind", 64)
	if err != nil {
		return err
	}
	list, next, err := a.svc.ListJobs(r.Context(), r.PathValue("pool"), state, kind, limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list, next, job))
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "job", "Job")
	if err != nil {
		return err
	}
	j, err := a.svc.GetJob(r.Context(), r.PathValue("pool"), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, job(j))
}

func (a *API) retryJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "job", "Job")
	if err != nil {
		return err
	}
	j, err := a.svc.RetryJob(r.Context(), r.PathValue("pool"), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, job(j))
}

func (a *API) discardJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "job", "Job")
	if err != nil {
		return err
	}
	j, err := a.svc.DiscardJob(r.Context(), r.PathValue("pool"), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, job(j))
}

func (a *API) retryEmail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "email", "Email")
	if err != nil {
		return err
	}
	if err := a.svc.RetryEmail(r.Context(), r.PathValue("pool"), id); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) discardEmail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "email", "Email")
	if err != nil {
		return err
	}
	if err := a.svc.DiscardEmail(r.Context(), r.PathValue("pool"), id); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) retryDeadEmails(w http.ResponseWriter, r *http.Request) error {
	n, err := a.svc.RetryDeadEmails(r.Context(), r.PathValue("pool"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"queued": n})
}
