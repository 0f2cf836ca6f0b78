package sqlstore

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

const emailCols = `id, pool_id, to_addr, subject, text_body, html_body, template, status, attempts, last_error, created_at, sent_at`

func scanEmail(sc interface{ Scan(...any) error }) (*identity.Email, error) {
	var (
		e        identity.Email
		pool     *string
		cr, sent int64
	)
	if err := sc.Scan(&e.ID, &pool, &e.To, &e.Subject, &e.Text, &e.HTML, &e.Template, &e.Status,
		&e.Attempts, &e.LastError, &cr, &sent); err != nil {
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
			status, attempts, last_error, created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			nullStr(e.PoolID), e.To, e.Subject, e.Text, e.HTML, e.Template, e.Status, e.Attempts, e.LastError,
			ms(e.CreatedAt), ms(e.SentAt)).Scan(&e.ID)
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

// UpdateEmail writes every field of e except ID, PoolID and CreatedAt.
func (q *querier) UpdateEmail(ctx context.Context, e *identity.Email) error {
	return q.execOne(ctx, "email", `UPDATE emails SET to_addr = ?, subject = ?, text_body = ?, html_body = ?,
		template = ?, status = ?, attempts = ?, last_error = ?, sent_at = ? WHERE id = ?`,
		e.To, e.Subject, e.Text, e.HTML, e.Template, e.Status, e.Attempts, e.LastError, ms(e.SentAt), e.ID)
}

const jobCols = `id, kind, payload, state, run_at, attempts, max_attempts, locked_by, locked_until, last_error, created_at, updated_at`

func scanJob(sc interface{ Scan(...any) error }) (*identity.Job, error) {
	var (
		j                    identity.Job
		run, locked, cr, upd int64
	)
	if err := sc.Scan(&j.ID, &j.Kind, &j.Payload, &j.State, &run, &j.Attempts, &j.MaxAttempts,
		&j.LockedBy, &locked, &j.LastError, &cr, &upd); err != nil {
		return nil, err
	}
	j.RunAt, j.LockedUntil, j.CreatedAt, j.UpdatedAt = fromMS(run), fromMS(locked), fromMS(cr), fromMS(upd)
	return &j, nil
}

// EnqueueJob stores j (State "" becomes pending) and sets j.ID.
func (q *querier) EnqueueJob(ctx context.Context, j *identity.Job) error {
	if j.State == "" {
		j.State = identity.JobPending
	}
	err := q.queryRow(ctx, true, `INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts,
		locked_by, locked_until, last_error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		j.Kind, j.Payload, j.State, ms(j.RunAt), j.Attempts, j.MaxAttempts, j.LockedBy, ms(j.LockedUntil),
		j.LastError, ms(j.CreatedAt), ms(j.UpdatedAt)).Scan(&j.ID)
	return q.mapErr(err)
}

// ClaimJobs leases up to limit due jobs (pending with RunAt <= now, or
// running with an expired lease) in one UPDATE ... WHERE id IN (SELECT ...)
// statement. On PostgreSQL the inner SELECT takes the rows FOR UPDATE SKIP
// LOCKED, so concurrent claimers (in this or other processes) pick disjoint
// jobs; on SQLite the single writer serialises claims. Jobs come back
// ordered by id.
func (q *querier) ClaimJobs(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*identity.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	t := ms(now)
	rows, err := q.query(ctx, true, `UPDATE jobs SET state = ?, locked_by = ?, locked_until = ?,
		attempts = attempts + 1, updated_at = ?
		WHERE id IN (SELECT id FROM jobs
			WHERE (state = ? AND run_at <= ?) OR (state = ? AND locked_until <= ?)
			ORDER BY run_at, id LIMIT ?`+q.d.RowLock+`)
		RETURNING `+jobCols,
		identity.JobRunning, worker, ms(now.Add(lease)), t,
		identity.JobPending, t, identity.JobRunning, t, limit)
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

// CompleteJob marks the job done if worker still holds its lease;
// ErrNotFound otherwise (or if there is no such job).
func (q *querier) CompleteJob(ctx context.Context, id int64, worker string, now time.Time) error {
	return q.execOne(ctx, "job lease", `UPDATE jobs SET state = ?, locked_by = '', locked_until = 0, updated_at = ?
		WHERE id = ? AND state = ? AND locked_by = ?`, identity.JobDone, ms(now), id, identity.JobRunning, worker)
}

// FailJob records lastErr and sends the job back to pending at retryAt, or
// to dead when retryAt is zero, if worker still holds its lease;
// ErrNotFound otherwise.
func (q *querier) FailJob(ctx context.Context, id int64, worker string, lastErr string, retryAt time.Time, now time.Time) error {
	set, args := `state = ?`, []any{identity.JobDead}
	if !retryAt.IsZero() {
		set, args = `state = ?, run_at = ?`, []any{identity.JobPending, ms(retryAt)}
	}
	args = append(args, lastErr, ms(now), id, identity.JobRunning, worker)
	return q.execOne(ctx, "job lease", `UPDATE jobs SET `+set+`, last_error = ?, locked_by = '', locked_until = 0,
		updated_at = ? WHERE id = ? AND state = ? AND locked_by = ?`, args...)
}

// GetJob returns the job or ErrNotFound.
func (q *querier) GetJob(ctx context.Context, id int64) (*identity.Job, error) {
	j, err := scanJob(q.queryRow(ctx, false, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, q.scanErr(err, "job")
	}
	return j, nil
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
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (*identity.AuditEvent, error) {
		var e identity.AuditEvent
		var at int64
		var detail string
		if err := sc.Scan(&e.ID, &e.PoolID, &at, &e.Actor, &e.Via, &e.Action, &e.Subject, &detail, &e.IP); err != nil {
			return nil, err
		}
		e.Time = fromMS(at)
		if err := fromJSON(detail, &e.Detail); err != nil {
			return nil, err
		}
		if len(e.Detail) == 0 {
			e.Detail = nil
		}
		return &e, nil
	})
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
