package web

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The console's jobs page (pool admins): the pool's background jobs —
// email deliveries, post_confirmation hook deliveries, registration
// reminders and expiries — with their state, attempts, last error and next
// run, and Retry/Discard through auth.Service.RetryJob/DiscardJob. Global
// jobs (those of no pool) are never shown here: only global admins see
// them (gatehouse jobs, /api/v1/jobs).

var jobStates = append([]string{""}, auth.JobStates...)

// consoleJobs is GET /{pool}/console/jobs.
func (w *Web) consoleJobs(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	st := r.URL.Query().Get("state")
	list, next, err := w.svc.ListJobs(c.ctx, c.pool.ID, st, "", 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "jobs", map[string]any{"Jobs": list, "Next": next, "State": st,
		"States": jobStates, "Action": c.path("jobs"), "Notice": notice(r)})
}

// consoleJobAction is POST /{pool}/console/jobs/{id}: op retry (a dead
// job is re-armed, a pending one made due now) or discard (a pending,
// running or dead one is given up).
func (w *Web) consoleJobAction(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.consoleError(rw, r, c, identity.Errorf(identity.CodeResourceNotFound, "Job not found."))
		return
	}
	switch r.PostFormValue("op") {
	case "retry":
		_, err = w.svc.RetryJob(c.ctx, c.pool.ID, id)
	case "discard":
		_, err = w.svc.DiscardJob(c.ctx, c.pool.ID, id)
	default:
		err = identity.FieldError("op", "op must be retry or discard.")
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("jobs"), "job_"+r.PostFormValue("op"))
}

// consoleEmailsRetryDead is POST /{pool}/console/emails/retry-dead: every
// dead email of the pool is queued again (after an SMTP outage).
func (w *Web) consoleEmailsRetryDead(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	if _, err := w.svc.RetryDeadEmails(c.ctx, c.pool.ID); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("emails"), "emails_retry_dead")
}
