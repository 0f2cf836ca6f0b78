package sqlstore

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

const emailCols = `id, pool_id, to_addr, subject, text_body, html_body, template, status, attempts, last_error, created_at, sent_at, job_id, job_attempt`

func scanEmail(sc interface{ Scan(...any) error }) (*identity.Email, error) {
	var (
		e        identity.Email
		pool     *string
		cr, sent int64
	)
	if err := sc.Scan(&e.ID, &pool, &e.To, &e.Subject, &e.Text, &e.HTML, &e.Template, &e.Status,
		&e.Attempts, &e.LastError, &cr, &sent, &e.JobID, &e.JobAttempt); err != nil {
		return nil, err
	}
	if pool != nil {
		e.PoolID = *pool
	}
	e.CreatedAt, e.SentAt = fromMS(cr), fromMS(sent)
	return &e, nil
}

// InsertEmail stores e (Status "" becomes queued) and sets e.ID.
// ErrNotFound if e.PoolID names no pool.
func (q *querier) InsertEmail(ctx context.Context, e *identity.Email) error {
	if e.Status == "" {
		e.Status = identity.EmailQueued
	}
	return q.guard(ctx, func() error {
		err := q.queryRow(ctx, true, `INSERT INTO emails (pool_id, to_addr, subject, text_body, html_body, template,
			status, attempts, last_error, created_at, sent_at, job_id, job_attempt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			nullStr(e.PoolID), e.To, e.Subject, e.Text, e.HTML, e.Template, e.Status, e.Attempts, e.LastError,
			ms(e.CreatedAt), ms(e.SentAt), e.JobID, e.JobAttempt).Scan(&e.ID)
		return q.mapErr(err)
	})
}

// GetEmail returns the email or ErrNotFound.
func (q *querier) GetEmail(ctx context.Context, id int64) (*identity.Email, error) {
	e, err := scanEmail(q.queryRow(ctx, false, `SELECT `+emailCols+` FROM emails WHERE id = ?`, id))
	if err != nil {
		return nil, q.scanErr(err, "email")
	}
	return e, nil
}

// ListEmails lists emails newest first (by id); poolID and status ""
// match all.
func (q *querier) ListEmails(ctx context.Context, poolID, status string, page store.Page) ([]*identity.Email, string, error) {
	var conds []string
	var args []any
	if poolID != "" {
		conds, args = append(conds, "pool_id = ?"), append(args, poolID)
	}
	if status != "" {
		conds, args = append(conds, "status = ?"), append(args, status)
	}
	if page.Token != "" {
		var before int64
		if err := decodeToken(page.Token, &before); err != nil {
			return nil, "", err
		}
		conds, args = append(conds, "id < ?"), append(args, before)
	}
	query := `SELECT ` + emailCols + ` FROM emails`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	n := page.Size()
	rows, err := q.query(ctx, false, query+` ORDER BY id DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanEmail)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].ID)
	}
	return list, next, nil
}

// UpdateEmail replaces the content of a queued email with no attempt.
func (q *querier) UpdateEmail(ctx context.Context, e *identity.Email) error {
	return q.execOne(ctx, "queued email", `UPDATE emails SET to_addr = ?, subject = ?, text_body = ?, html_body = ?,
		template = ? WHERE id = ? AND status = ? AND attempts = 0`,
		e.To, e.Subject, e.Text, e.HTML, e.Template, e.ID, identity.EmailQueued)
}

// SetEmailJob links the email to its delivery job.
func (q *querier) SetEmailJob(ctx context.Context, id, jobID int64) error {
	return q.execOne(ctx, "email", `UPDATE emails SET job_id = ? WHERE id = ?`, jobID, id)
}

// StartEmailDelivery: see store.Querier. One statement: the email's
// compare-and-set and the check that the attempt still holds its job's
// lease, by the database's clock. An email with no job yet (written before
// emails were linked to their jobs) is adopted by the job that starts it.
func (q *querier) StartEmailDelivery(ctx context.Context, id, jobID int64, attempt int, worker string) (bool, error) {
	n, err := q.execN(ctx, `UPDATE emails SET status = ?, job_id = ?, job_attempt = ?, attempts = attempts + 1
		WHERE id = ? AND (job_id = ? OR job_id = 0) AND status IN (?, ?, ?) AND job_attempt < ?
		AND EXISTS (SELECT 1 FROM jobs WHERE id = ? AND state = ? AND attempts = ? AND locked_by = ? AND locked_until > {now})`,
		identity.EmailSending, jobID, attempt,
		id, jobID, identity.EmailQueued, identity.EmailRetrying, identity.EmailSending, attempt,
		jobID, identity.JobRunning, attempt, worker, nowArg)
	return n == 1, err
}

// TransitionEmail: see store.EmailTransition.
func (q *querier) TransitionEmail(ctx context.Context, t store.EmailTransition) (bool, error) {
	if len(t.From) == 0 || t.To == "" {
		return false, errors.New("sqlstore: TransitionEmail needs From and To")
	}
	set, args := `status = ?, last_error = ?`, []any{t.To, t.LastError}
	if t.To == identity.EmailSent {
		set, args = set+`, sent_at = {now}`, append(args, nowArg)
	}
	args = append(args, t.ID, t.JobID)
	cond := `id = ? AND job_id = ? AND status IN (` + placeholders(len(t.From)) + `)`
	for _, f := range t.From {
		args = append(args, f)
	}
	if t.Attempt > 0 {
		cond, args = cond+` AND job_attempt = ?`, append(args, t.Attempt)
	}
	n, err := q.execN(ctx, `UPDATE emails SET `+set+` WHERE `+cond, args...)
	return n == 1, err
}

// RearmDeadEmails: see store.Querier. The jobs first, then the emails whose
// job that made pending: an email is queued again only with its job.
func (q *querier) RearmDeadEmails(ctx context.Context, poolID, kind string, budget int) (int, error) {
	var n int64
	err := q.atomic(ctx, func(q *querier) error {
		if _, err := q.exec(ctx, `UPDATE jobs SET state = ?, run_at = {now}, max_attempts = attempts + ?, lost = 0,
			locked_by = '', locked_until = 0, updated_at = {now}
			WHERE state = ? AND kind = ? AND id IN (SELECT job_id FROM emails WHERE pool_id = ? AND status = ?)`,
			identity.JobPending, nowArg, budget, nowArg, identity.JobDead, kind, poolID, identity.EmailDead); err != nil {
			return err
		}
		var err error
		n, err = q.execN(ctx, `UPDATE emails SET status = ?, last_error = ''
			WHERE pool_id = ? AND status = ? AND job_id IN (SELECT id FROM jobs WHERE state = ? AND kind = ?)`,
			identity.EmailQueued, poolID, identity.EmailDead, identity.JobPending, kind)
		return err
	})
	return int(n), err
}

// CountEmails counts emails by status.
func (q *querier) CountEmails(ctx context.Context, statuses ...string) (map[string]int, error) {
	return q.countBy(ctx, "emails", "status", statuses)
}

// countBy counts the rows of table by col, for the values given (all
// when none is).
func (q *querier) countBy(ctx context.Context, table, col string, values []string) (map[string]int, error) {
	query, args := `SELECT `+col+`, COUNT(*) FROM `+table, []any(nil)
	if len(values) > 0 {
		query += ` WHERE ` + col + ` IN (` + placeholders(len(values)) + `)`
		for _, v := range values {
			args = append(args, v)
		}
	}
	rows, err := q.query(ctx, false, query+` GROUP BY `+col, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for _, v := range values {
		out[v] = 0
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, q.mapErr(err)
		}
		out[k] = n
	}
	return out, q.mapErr(rows.Err())
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

const jobCols = `id, pool_id, kind, payload, state, run_at, attempts, max_attempts, lost, locked_by, locked_until, last_error, created_at, updated_at`

func scanJob(sc interface{ Scan(...any) error }) (*identity.Job, error) {
	var (
		j                    identity.Job
		pool                 *string
		run, locked, cr, upd int64
	)
	if err := sc.Scan(&j.ID, &pool, &j.Kind, &j.Payload, &j.State, &run, &j.Attempts, &j.MaxAttempts, &j.Lost,
		&j.LockedBy, &locked, &j.LastError, &cr, &upd); err != nil {
		return nil, err
	}
	if pool != nil {
		j.PoolID = *pool
	}
	j.RunAt, j.LockedUntil, j.CreatedAt, j.UpdatedAt = fromMS(run), fromMS(locked), fromMS(cr), fromMS(upd)
	return &j, nil
}

// EnqueueJob stores j (State "" becomes pending) and sets j.ID; CreatedAt
// and UpdatedAt come from the database's clock. ErrNotFound if j.PoolID
// names no pool.
func (q *querier) EnqueueJob(ctx context.Context, j *identity.Job) error {
	if j.State == "" {
		j.State = identity.JobPending
	}
	return q.guard(ctx, func() error {
		var cr int64
		err := q.queryRow(ctx, true, `INSERT INTO jobs (pool_id, kind, payload, state, run_at, attempts, max_attempts,
			lost, locked_by, locked_until, last_error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,{now},{now})
			RETURNING id, created_at`,
			nullStr(j.PoolID), j.Kind, j.Payload, j.State, ms(j.RunAt), j.Attempts, j.MaxAttempts, j.Lost, j.LockedBy,
			ms(j.LockedUntil), j.LastError, nowArg, nowArg).Scan(&j.ID, &cr)
		if err != nil {
			return q.mapErr(err)
		}
		j.CreatedAt = fromMS(cr)
		j.UpdatedAt = j.CreatedAt
		return nil
	})
}

// ClaimJobs leases up to limit due jobs of kinds (see store.Querier) in one
// UPDATE ... WHERE id IN (SELECT ...) statement, with the database's
// clock. On PostgreSQL the inner SELECT takes the rows FOR UPDATE SKIP
// LOCKED, so concurrent claimers (in this or other processes) pick disjoint
// jobs; on SQLite the single writer serialises claims. The SET expressions
// read the row as it was, so "state = running" there means an expired
// lease taken over. Jobs come back ordered by id.
func (q *querier) ClaimJobs(ctx context.Context, worker string, kinds []string, lease time.Duration, limit int) ([]*identity.Job, error) {
	if limit <= 0 || len(kinds) == 0 {
		return nil, nil
	}
	args := []any{identity.JobRunning, worker, nowArg, lease.Milliseconds(),
		identity.JobRunning, identity.JobRunning, nowArg,
		identity.JobPending, nowArg, identity.JobRunning, nowArg}
	for _, k := range kinds {
		args = append(args, k)
	}
	args = append(args, limit)
	rows, err := q.query(ctx, true, `UPDATE jobs SET state = ?, locked_by = ?, locked_until = {now} + ?,
		attempts = attempts + 1,
		lost = CASE WHEN state = ? THEN lost + 1 ELSE lost END,
		max_attempts = CASE WHEN state = ? THEN max_attempts + 1 ELSE max_attempts END,
		updated_at = {now}
		WHERE id IN (SELECT id FROM jobs
			WHERE ((state = ? AND run_at <= {now}) OR (state = ? AND locked_until <= {now}))
			AND kind IN (`+placeholders(len(kinds))+`)
			ORDER BY run_at, id LIMIT ?`+q.d.RowLock+`)
		RETURNING `+jobCols, args...)
	if err != nil {
		return nil, err
	}
	jobs, err := collect(rows, scanJob)
	if err != nil {
		return nil, q.mapErr(err)
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].ID < jobs[k].ID })
	return jobs, nil
}

// CompleteJob marks the job done if attempt, by worker, is still its
// current running attempt; ErrNotFound otherwise (or if there is no such
// job).
func (q *querier) CompleteJob(ctx context.Context, id int64, attempt int, worker string) error {
	return q.execOne(ctx, "job attempt", `UPDATE jobs SET state = ?, locked_by = '', locked_until = 0, lost = 0,
		last_error = '', updated_at = {now}
		WHERE id = ? AND state = ? AND attempts = ? AND locked_by = ?`,
		identity.JobDone, nowArg, id, identity.JobRunning, attempt, worker)
}

// FailJob records lastErr and sends the job back to pending at
// now+retryIn, or to dead when retryIn <= 0, if attempt by worker is still
// its current running attempt; ErrNotFound otherwise.
func (q *querier) FailJob(ctx context.Context, id int64, attempt int, worker, lastErr string, retryIn time.Duration) error {
	set, args := `state = ?`, []any{identity.JobDead}
	if retryIn > 0 {
		set, args = `state = ?, run_at = {now} + ?`, []any{identity.JobPending, nowArg, retryIn.Milliseconds()}
	}
	args = append(args, lastErr, nowArg, id, identity.JobRunning, attempt, worker)
	return q.execOne(ctx, "job attempt", `UPDATE jobs SET `+set+`, last_error = ?, locked_by = '', locked_until = 0,
		lost = 0, updated_at = {now} WHERE id = ? AND state = ? AND attempts = ? AND locked_by = ?`, args...)
}

// GetJob returns the job or ErrNotFound.
func (q *querier) GetJob(ctx context.Context, id int64) (*identity.Job, error) {
	j, err := scanJob(q.queryRow(ctx, false, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, q.scanErr(err, "job")
	}
	return j, nil
}

// ListJobs lists jobs newest first (by id).
func (q *querier) ListJobs(ctx context.Context, f store.JobFilter, page store.Page) ([]*identity.Job, string, error) {
	var conds []string
	var args []any
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if f.PoolID != "" {
		add("pool_id = ?", f.PoolID)
	}
	if f.State != "" {
		add("state = ?", f.State)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if page.Token != "" {
		var before int64
		if err := decodeToken(page.Token, &before); err != nil {
			return nil, "", err
		}
		add("id < ?", before)
	}
	query := `SELECT ` + jobCols + ` FROM jobs`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	n := page.Size()
	rows, err := q.query(ctx, false, query+` ORDER BY id DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanJob)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].ID)
	}
	return list, next, nil
}

// CountJobs counts jobs in state ("" for all).
func (q *querier) CountJobs(ctx context.Context, state string) (int, error) {
	query, args := `SELECT COUNT(*) FROM jobs`, []any(nil)
	if state != "" {
		query, args = query+` WHERE state = ?`, []any{state}
	}
	var n int
	err := q.queryRow(ctx, false, query, args...).Scan(&n)
	return n, q.mapErr(err)
}

// CountJobStates counts jobs by state.
func (q *querier) CountJobStates(ctx context.Context, states ...string) (map[string]int, error) {
	return q.countBy(ctx, "jobs", "state", states)
}

// DiscardJob: see store.Querier. The lease fields stay, so the discarded
// attempt is still named; no outcome can be recorded over it (CompleteJob
// and FailJob want state running).
func (q *querier) DiscardJob(ctx context.Context, id int64, lastErr string) (bool, error) {
	n, err := q.execN(ctx, `UPDATE jobs SET state = ?, last_error = ?, updated_at = {now}
		WHERE id = ? AND state IN (?, ?, ?)`,
		identity.JobDiscarded, lastErr, nowArg, id, identity.JobPending, identity.JobRunning, identity.JobDead)
	return n == 1, err
}

// RearmJob: see store.Querier.
func (q *querier) RearmJob(ctx context.Context, id int64, budget int) (bool, error) {
	n, err := q.execN(ctx, `UPDATE jobs SET state = ?, run_at = {now}, max_attempts = attempts + ?, lost = 0,
		locked_by = '', locked_until = 0, updated_at = {now} WHERE id = ? AND state = ?`,
		identity.JobPending, nowArg, budget, nowArg, id, identity.JobDead)
	return n == 1, err
}

// HastenJob: see store.Querier.
func (q *querier) HastenJob(ctx context.Context, id int64) (bool, error) {
	n, err := q.execN(ctx, `UPDATE jobs SET run_at = CASE WHEN run_at < {now} THEN run_at ELSE {now} END, updated_at = {now}
		WHERE id = ? AND state = ?`, nowArg, nowArg, nowArg, id, identity.JobPending)
	return n == 1, err
}

// InsertAudit stores e and sets e.ID. Audit rows are kept when their pool
// is deleted.
func (q *querier) InsertAudit(ctx context.Context, e *identity.AuditEvent) error {
	detail := e.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	d, err := jsonText(detail)
	if err != nil {
		return err
	}
	err = q.queryRow(ctx, true, `INSERT INTO audit_events (pool_id, occurred_at, actor, via, action, subject, detail, ip)
		VALUES (?,?,?,?,?,?,?,?) RETURNING id`, e.PoolID, ms(e.Time), e.Actor, e.Via, e.Action, e.Subject, d, e.IP).Scan(&e.ID)
	return q.mapErr(err)
}

// ListAudit lists matching events newest first (by id). Since is
// inclusive, Until exclusive.
func (q *querier) ListAudit(ctx context.Context, f store.AuditFilter, page store.Page) ([]*identity.AuditEvent, string, error) {
	var conds []string
	var args []any
	add := func(c string, v any) { conds, args = append(conds, c), append(args, v) }
	if f.PoolID != "" {
		add("pool_id = ?", f.PoolID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("occurred_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("occurred_at < ?", ms(f.Until))
	}
	if page.Token != "" {
		var before int64
		if err := decodeToken(page.Token, &before); err != nil {
			return nil, "", err
		}
		add("id < ?", before)
	}
	query := `SELECT id, pool_id, occurred_at, actor, via, action, subject, detail, ip FROM audit_events`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	n := page.Size()
	rows, err := q.query(ctx, false, query+` ORDER BY id DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanAudit)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].ID)
	}
	return list, next, nil
}
