package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Registration requests, their approval-link tokens and the notices
// (emails) already sent for them.

const regCols = `r.id, r.pool_id, r.user_sub, r.username, r.email, r.company_name, r.company, r.state, r.reason,
	r.ip, r.user_agent, r.decided_by, r.decided_via, r.decided_at, r.expires_at, r.created_at, r.updated_at`

func scanRegistration(sc interface{ Scan(...any) error }) (*identity.RegistrationRequest, error) {
	var (
		r                     identity.RegistrationRequest
		state                 string
		dec, exp, cr, updated int64
	)
	if err := sc.Scan(&r.ID, &r.PoolID, &r.UserSub, &r.Username, &r.Email, &r.CompanyName, &r.Company, &state, &r.Reason,
		&r.IP, &r.UserAgent, &r.DecidedBy, &r.DecidedVia, &dec, &exp, &cr, &updated); err != nil {
		return nil, err
	}
	r.State = identity.RegistrationState(state)
	r.DecidedAt, r.ExpiresAt, r.CreatedAt, r.UpdatedAt = fromMS(dec), fromMS(exp), fromMS(cr), fromMS(updated)
	return &r, nil
}

// CreateRegistration inserts r. ErrConflict if the id exists; ErrNotFound
// if the pool does not.
func (q *querier) CreateRegistration(ctx context.Context, r *identity.RegistrationRequest) error {
	return q.execGuarded(ctx, `INSERT INTO registrations (id, pool_id, user_sub, username, email, company_name, company_key, company, state, reason,
		ip, user_agent, decided_by, decided_via, decided_at, expires_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.PoolID, r.UserSub, r.Username, r.Email, r.CompanyName, nameKey(r.Company), r.Company, string(r.State), r.Reason,
		r.IP, r.UserAgent, r.DecidedBy, r.DecidedVia, ms(r.DecidedAt), ms(r.ExpiresAt), ms(r.CreatedAt), ms(r.UpdatedAt))
}

// GetRegistration returns the request or ErrNotFound.
func (q *querier) GetRegistration(ctx context.Context, poolID, id string) (*identity.RegistrationRequest, error) {
	r, err := scanRegistration(q.queryRow(ctx, false, `SELECT `+regCols+` FROM registrations r WHERE r.pool_id = ? AND r.id = ?`, poolID, id))
	if err != nil {
		return nil, q.scanErr(err, "registration "+id)
	}
	return r, nil
}

// GetRegistrationByUser returns the user's newest request or ErrNotFound.
func (q *querier) GetRegistrationByUser(ctx context.Context, poolID, sub string) (*identity.RegistrationRequest, error) {
	r, err := scanRegistration(q.queryRow(ctx, false, `SELECT `+regCols+` FROM registrations r WHERE r.pool_id = ? AND r.user_sub = ?
		ORDER BY r.created_at DESC, r.id DESC LIMIT 1`, poolID, sub))
	if err != nil {
		return nil, q.scanErr(err, "registration of user "+sub)
	}
	return r, nil
}

// ListRegistrations lists newest first.
func (q *querier) ListRegistrations(ctx context.Context, poolID string, f store.RegistrationFilter, page store.Page) ([]*identity.RegistrationRequest, string, error) {
	var (
		afterAt int64 = 1<<62 - 1
		afterID       = "\U0010FFFF"
	)
	if page.Token != "" {
		if err := decodeToken(page.Token, &afterAt, &afterID); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	query := `SELECT ` + regCols + ` FROM registrations r WHERE r.pool_id = ?
		AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))`
	args := []any{poolID, afterAt, afterAt, afterID}
	if f.State != "" {
		query += ` AND r.state = ?`
		args = append(args, string(f.State))
	}
	if f.Company != "" {
		query += ` AND r.company_key = ?`
		args = append(args, nameKey(f.Company))
	}
	query += ` ORDER BY r.created_at DESC, r.id DESC LIMIT ?`
	args = append(args, n+1)
	rows, err := q.query(ctx, false, query, args...)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanRegistration)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		last := list[n-1]
		next = encodeToken(ms(last.CreatedAt), last.ID)
	}
	return list, next, nil
}

// TransitionRegistration is a compare-and-set on the state.
func (q *querier) TransitionRegistration(ctx context.Context, r *identity.RegistrationRequest, from identity.RegistrationState) (bool, error) {
	n, err := q.execN(ctx, `UPDATE registrations SET state = ?, company_key = ?, company = ?, reason = ?, decided_by = ?, decided_via = ?, decided_at = ?,
		expires_at = ?, updated_at = ? WHERE pool_id = ? AND id = ? AND state = ?`,
		string(r.State), nameKey(r.Company), r.Company, r.Reason, r.DecidedBy, r.DecidedVia, ms(r.DecidedAt), ms(r.ExpiresAt), ms(r.UpdatedAt),
		r.PoolID, r.ID, string(from))
	return n == 1, err
}

// InsertRegistrationToken stores t. ErrNotFound if the request is missing.
func (q *querier) InsertRegistrationToken(ctx context.Context, t *identity.RegistrationToken) error {
	return q.execGuarded(ctx, `INSERT INTO registration_tokens (hash, request_id, pool_id, approver, action, expires_at, used_at, created_at)
		VALUES (?,?,?,?,?,?,?,?)`, t.Hash, t.RequestID, t.PoolID, t.Approver, string(t.Action), ms(t.ExpiresAt), ms(t.UsedAt), ms(t.CreatedAt))
}

// GetRegistrationToken returns the token with that hash or ErrNotFound.
func (q *querier) GetRegistrationToken(ctx context.Context, hash string) (*identity.RegistrationToken, error) {
	var (
		t             identity.RegistrationToken
		action        string
		exp, used, cr int64
	)
	err := q.queryRow(ctx, false, `SELECT hash, request_id, pool_id, approver, action, expires_at, used_at, created_at
		FROM registration_tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.RequestID, &t.PoolID, &t.Approver, &action, &exp, &used, &cr)
	if err != nil {
		return nil, q.scanErr(err, "registration token")
	}
	t.Action = identity.Decision(action)
	t.ExpiresAt, t.UsedAt, t.CreatedAt = fromMS(exp), fromMS(used), fromMS(cr)
	return &t, nil
}

// UseRegistrationTokens marks the request's unused tokens used.
func (q *querier) UseRegistrationTokens(ctx context.Context, requestID string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE registration_tokens SET used_at = ? WHERE request_id = ? AND used_at = 0`, ms(now), requestID)
	return err
}

// RecordNotice inserts (request, recipient, kind) unless present.
func (q *querier) RecordNotice(ctx context.Context, requestID, recipient, kind string, now time.Time) (bool, error) {
	var n int64
	err := q.guard(ctx, func() error {
		var err error
		n, err = q.execN(ctx, `INSERT INTO registration_notices (request_id, recipient, kind, created_at) VALUES (?,?,?,?)
			ON CONFLICT (request_id, recipient, kind) DO NOTHING`, requestID, recipient, kind, ms(now))
		return err
	})
	return n == 1, err
}
