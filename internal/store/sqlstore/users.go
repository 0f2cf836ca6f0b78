package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// users.email_verified holds three states, so that "never set" and
// "set to false" differ (identity.User.EmailVerifiedFalse; Cognito lists
// email_verified only once set): verifiedUnset (0, what every row written
// before held for false), verifiedTrue, verifiedFalse. Only verifiedTrue
// is a verified address (the queries test "= 1"). No migration: the
// column was an INTEGER already.
const (
	verifiedUnset = 0
	verifiedTrue  = 1
	verifiedFalse = 2
)

func verifiedCol(u *identity.User) int {
	switch {
	case u.EmailVerified:
		return verifiedTrue
	case u.EmailVerifiedFalse:
		return verifiedFalse
	}
	return verifiedUnset
}

const userCols = `u.pool_id, u.sub, u.username, u.email, u.email_verified, u.status,
	u.enabled, u.password_hash, u.temp_password_expires_at, u.password_changed_at,
	u.failed_attempts, u.locked_until, u.tokens_valid_after, u.created_at, u.updated_at,
	u.srp_salt, u.srp_verifier`

func scanUser(sc interface{ Scan(...any) error }) (*identity.User, error) {
	var (
		u                                  identity.User
		status                             string
		verified, enabled                  int
		tmp, changed, locked, tva, cr, upd int64
	)
	if err := sc.Scan(&u.PoolID, &u.Sub, &u.Username, &u.Email, &verified, &status, &enabled,
		&u.PasswordHash, &tmp, &changed, &u.FailedAttempts, &locked, &tva, &cr, &upd,
		&u.SRPSalt, &u.SRPVerifier); err != nil {
		return nil, err
	}
	u.Status = identity.UserStatus(status)
	u.EmailVerified, u.EmailVerifiedFalse, u.Enabled = verified == verifiedTrue, verified == verifiedFalse, enabled != 0
	u.TemporaryPasswordExpiresAt, u.PasswordChangedAt = fromMS(tmp), fromMS(changed)
	u.LockedUntil, u.TokensValidAfter = fromMS(locked), fromMS(tva)
	u.CreatedAt, u.UpdatedAt = fromMS(cr), fromMS(upd)
	return &u, nil
}

// emailUnique is the value of the email_unique column: the email when the
// pool wants unique emails, NULL otherwise (NULLs never clash).
func emailUnique(u *identity.User, unique bool) any {
	if unique && u.Email != "" {
		return u.Email
	}
	return nil
}

// CreateUser inserts u and its attributes in one transaction. ErrConflict
// when the username (or, with uniqueEmail, the email) is taken in the pool;
// ErrNotFound when the pool does not exist.
func (q *querier) CreateUser(ctx context.Context, u *identity.User, uniqueEmail bool) error {
	return q.atomic(ctx, func(q *querier) error {
		_, err := q.exec(ctx, `INSERT INTO users (pool_id, sub, username, email, email_unique,
			email_verified, status, enabled, password_hash, temp_password_expires_at,
			password_changed_at, failed_attempts, locked_until, tokens_valid_after,
			created_at, updated_at, srp_salt, srp_verifier) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.PoolID, u.Sub, u.Username, u.Email, emailUnique(u, uniqueEmail), verifiedCol(u),
			string(u.Status), b2i(u.Enabled), u.PasswordHash, ms(u.TemporaryPasswordExpiresAt),
			ms(u.PasswordChangedAt), u.FailedAttempts, ms(u.LockedUntil), ms(u.TokensValidAfter),
			ms(u.CreatedAt), ms(u.UpdatedAt), u.SRPSalt, u.SRPVerifier)
		if err != nil {
			return err
		}
		return q.insertAttributes(ctx, u)
	})
}

// pendingEmailAttr is the user_attributes row that holds User.PendingEmail.
// No attribute can have this name (custom attributes start with
// "custom:", standard ones are a fixed list), so it never shows up in
// Attributes, and a pending address needs no column of its own.
const pendingEmailAttr = "gatehouse:pending_email"

func (q *querier) insertAttributes(ctx context.Context, u *identity.User) error {
	for name, value := range u.Attributes {
		if name == pendingEmailAttr {
			continue
		}
		if _, err := q.exec(ctx, `INSERT INTO user_attributes (pool_id, sub, name, value) VALUES (?,?,?,?)`,
			u.PoolID, u.Sub, name, value); err != nil {
			return err
		}
	}
	if u.PendingEmail != "" {
		if _, err := q.exec(ctx, `INSERT INTO user_attributes (pool_id, sub, name, value) VALUES (?,?,?,?)`,
			u.PoolID, u.Sub, pendingEmailAttr, u.PendingEmail); err != nil {
			return err
		}
	}
	return nil
}

// loadAttributes fills the Attributes of users (all of one pool).
func (q *querier) loadAttributes(ctx context.Context, poolID string, users []*identity.User) error {
	if len(users) == 0 {
		return nil
	}
	bySub := make(map[string]*identity.User, len(users))
	args := make([]any, 0, len(users)+1)
	args = append(args, poolID)
	for _, u := range users {
		bySub[u.Sub] = u
		args = append(args, u.Sub)
	}
	rows, err := q.query(ctx, false, `SELECT sub, name, value FROM user_attributes
		WHERE pool_id = ? AND sub IN (?`+strings.Repeat(",?", len(users)-1)+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sub, name, value string
		if err := rows.Scan(&sub, &name, &value); err != nil {
			return err
		}
		if u := bySub[sub]; u != nil {
			if name == pendingEmailAttr {
				u.PendingEmail = value
				continue
			}
			if u.Attributes == nil {
				u.Attributes = map[string]string{}
			}
			u.Attributes[name] = value
		}
	}
	return rows.Err()
}

func (q *querier) getUserWhere(ctx context.Context, what, where string, args ...any) (*identity.User, error) {
	u, err := scanUser(q.queryRow(ctx, false, `SELECT `+userCols+` FROM users u WHERE `+where, args...))
	if err != nil {
		return nil, q.scanErr(err, what)
	}
	if err := q.loadAttributes(ctx, u.PoolID, []*identity.User{u}); err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns the user with that sub, or ErrNotFound.
func (q *querier) GetUser(ctx context.Context, poolID, sub string) (*identity.User, error) {
	return q.getUserWhere(ctx, "user "+sub, `u.pool_id = ? AND u.sub = ?`, poolID, sub)
}

// GetUserByUsername returns the user with that username (compared as
// stored; callers canonicalise), or ErrNotFound.
func (q *querier) GetUserByUsername(ctx context.Context, poolID, username string) (*identity.User, error) {
	return q.getUserWhere(ctx, "user", `u.pool_id = ? AND u.username = ?`, poolID, username)
}

// GetUserByEmail returns the oldest user with that email (lower-cased),
// only a verified one if verifiedOnly, or ErrNotFound.
func (q *querier) GetUserByEmail(ctx context.Context, poolID, email string, verifiedOnly bool) (*identity.User, error) {
	where := `u.pool_id = ? AND u.email = ?`
	if verifiedOnly {
		where += ` AND u.email_verified = 1`
	}
	email = strings.ToLower(email)
	if email == "" {
		return nil, fmt.Errorf("%w: user with empty email", store.ErrNotFound)
	}
	// The sort keys are expressions so that SQLite's planner looks the
	// email up in users_pool_email and sorts the few matches, instead of
	// walking users_pool_created for the ORDER BY (a scan of the pool per
	// lookup: quadratic in a bulk import).
	return q.getUserWhere(ctx, "user", where+` ORDER BY u.created_at + 0, u.sub || '' LIMIT 1`, poolID, email)
}

// UpdateUser writes every field of u and replaces its attributes.
// ErrNotFound if the user does not exist; ErrConflict on a username or
// (with uniqueEmail) email clash.
func (q *querier) UpdateUser(ctx context.Context, u *identity.User, uniqueEmail bool) error {
	return q.atomic(ctx, func(q *querier) error {
		err := q.execOne(ctx, "user "+u.Sub, `UPDATE users SET username = ?, email = ?, email_unique = ?,
			email_verified = ?, status = ?, enabled = ?, password_hash = ?,
			temp_password_expires_at = ?, password_changed_at = ?, failed_attempts = ?,
			locked_until = ?, tokens_valid_after = ?, updated_at = ?, srp_salt = ?, srp_verifier = ?
			WHERE pool_id = ? AND sub = ?`,
			u.Username, u.Email, emailUnique(u, uniqueEmail), verifiedCol(u), string(u.Status),
			b2i(u.Enabled), u.PasswordHash, ms(u.TemporaryPasswordExpiresAt), ms(u.PasswordChangedAt),
			u.FailedAttempts, ms(u.LockedUntil), ms(u.TokensValidAfter), ms(u.UpdatedAt),
			u.SRPSalt, u.SRPVerifier, u.PoolID, u.Sub)
		if err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM user_attributes WHERE pool_id = ? AND sub = ?`, u.PoolID, u.Sub); err != nil {
			return err
		}
		return q.insertAttributes(ctx, u)
	})
}

// DeleteUser deletes the user; attributes, memberships, codes and refresh
// tokens go with it, and so does its place among the approvers of the
// pool's companies, in the same transaction: a company admin's authority
// ends with the account, and a user made later with the same sub (an
// import that keeps subs) does not inherit it (security.md R6).
func (q *querier) DeleteUser(ctx context.Context, poolID, sub string) error {
	return q.atomic(ctx, func(q *querier) error {
		if err := q.execOne(ctx, "user "+sub, `DELETE FROM users WHERE pool_id = ? AND sub = ?`, poolID, sub); err != nil {
			return err
		}
		cs, err := q.ListCompaniesApprovedBy(ctx, poolID, sub)
		if err != nil {
			return err
		}
		for _, c := range cs {
			c.Approvers = slices.DeleteFunc(c.Approvers, func(a identity.Approver) bool { return a.Sub == sub })
			if err := q.UpdateCompany(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountUsers returns the number of users in the pool.
func (q *querier) CountUsers(ctx context.Context, poolID string) (int, error) {
	var n int
	err := q.queryRow(ctx, false, `SELECT COUNT(*) FROM users WHERE pool_id = ?`, poolID).Scan(&n)
	return n, q.mapErr(err)
}

// maxLockout caps the doubling lockout.
const maxLockout = 24 * time.Hour

// RecordFailedAttempt counts an attempt and sets the lock in one UPDATE
// that only matches an unlocked row, so the decision "may this attempt be
// checked" is made by the database, atomically, for every node: there is
// no window between counting and locking for a concurrent attempt (or a
// crash) to slip through. The lock doubles per failure past maxAttempts:
// now + lockout << (count - maxAttempts), the shift bounded so the product
// fits in 64 bits, then capped at maxLockout. ErrLocked when the row is
// locked, ErrNotFound if the user does not exist.
func (q *querier) RecordFailedAttempt(ctx context.Context, poolID, sub string, now time.Time, maxAttempts int, lockout time.Duration) (int, time.Time, error) {
	var count int
	var locked int64
	nowMS := ms(now)
	var err error
	if maxAttempts > 0 && lockout > 0 {
		lockMS, capMS := lockout.Milliseconds(), maxLockout.Milliseconds()
		lockMS = max(1, min(lockMS, capMS))
		// shift = min(count - max, 30); d = lock << shift; until = now + min(d, cap).
		const shift = `(CASE WHEN failed_attempts + 1 - CAST(? AS INTEGER) > 30 THEN 30 ELSE failed_attempts + 1 - CAST(? AS INTEGER) END)`
		const d = `(CAST(? AS BIGINT) << ` + shift + `)`
		err = q.queryRow(ctx, true, `UPDATE users SET failed_attempts = failed_attempts + 1,
			locked_until = CASE WHEN failed_attempts + 1 >= CAST(? AS INTEGER)
				THEN CAST(? AS BIGINT) + CASE WHEN `+d+` > CAST(? AS BIGINT) THEN CAST(? AS BIGINT) ELSE `+d+` END
				ELSE locked_until END
			WHERE pool_id = ? AND sub = ? AND locked_until <= ?
			RETURNING failed_attempts, locked_until`,
			maxAttempts, nowMS, lockMS, maxAttempts, maxAttempts, capMS, capMS, lockMS, maxAttempts, maxAttempts,
			poolID, sub, nowMS).Scan(&count, &locked)
	} else {
		err = q.queryRow(ctx, true, `UPDATE users SET failed_attempts = failed_attempts + 1
			WHERE pool_id = ? AND sub = ? AND locked_until <= ? RETURNING failed_attempts, locked_until`,
			poolID, sub, nowMS).Scan(&count, &locked)
	}
	if errors.Is(err, sql.ErrNoRows) {
		// Locked, or no such user: tell them apart (rare path).
		var n int
		if err := q.queryRow(ctx, true, `SELECT failed_attempts, locked_until FROM users WHERE pool_id = ? AND sub = ?`,
			poolID, sub).Scan(&n, &locked); err != nil {
			return 0, time.Time{}, q.scanErr(err, "user "+sub)
		}
		return n, fromMS(locked), store.ErrLocked
	}
	if err != nil {
		return 0, time.Time{}, q.scanErr(err, "user "+sub)
	}
	return count, fromMS(locked), nil
}

// LockUser updates the user's row to itself: PostgreSQL holds the row
// lock until the transaction ends; SQLite's single writer serialises
// anyway.
func (q *querier) LockUser(ctx context.Context, poolID, sub string) error {
	return q.execOne(ctx, "user "+sub, `UPDATE users SET failed_attempts = failed_attempts WHERE pool_id = ? AND sub = ?`, poolID, sub)
}

// ResetFailedAttempts clears the counter and the lock.
func (q *querier) ResetFailedAttempts(ctx context.Context, poolID, sub string) error {
	return q.execOne(ctx, "user "+sub, `UPDATE users SET failed_attempts = 0, locked_until = 0
		WHERE pool_id = ? AND sub = ?`, poolID, sub)
}
