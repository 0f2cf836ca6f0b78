package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// ReserveAttempt reserves one credential check of a user (migration
// 0010). In one transaction it takes the user's row lock (an UPDATE that
// changes nothing), so reservations of one user are decided one at a
// time on every node; drops the user's expired reservations; and inserts
// the new one only if the failures already counted plus the live
// reservations stay within what the account may still fail before it
// locks (maxAttempts - failed_attempts, or one at a time once past the
// limit). ErrLocked (with the lock's end) while locked, ErrBusy when the
// checks in flight fill that allowance, ErrNotFound without such a user.
func (q *querier) ReserveAttempt(ctx context.Context, poolID, sub, id string, now time.Time, maxAttempts int, ttl time.Duration) (time.Time, error) {
	var lockedUntil time.Time
	err := q.atomic(ctx, func(q *querier) error {
		var failed int
		var locked int64
		err := q.queryRow(ctx, true, `UPDATE users SET failed_attempts = failed_attempts
			WHERE pool_id = ? AND sub = ? RETURNING failed_attempts, locked_until`, poolID, sub).Scan(&failed, &locked)
		if err != nil {
			return q.scanErr(err, "user "+sub)
		}
		if locked > ms(now) {
			lockedUntil = fromMS(locked)
			return store.ErrLocked
		}
		if _, err := q.exec(ctx, `DELETE FROM attempt_reservations WHERE pool_id = ? AND sub = ? AND expires_at <= ?`,
			poolID, sub, ms(now)); err != nil {
			return err
		}
		if maxAttempts > 0 {
			var live int
			if err := q.queryRow(ctx, true, `SELECT COUNT(*) FROM attempt_reservations WHERE pool_id = ? AND sub = ?`,
				poolID, sub).Scan(&live); err != nil {
				return q.mapErr(err)
			}
			allowed := maxAttempts - failed
			if allowed < 1 {
				allowed = 1 // past the limit: one check per lockout
			}
			if live >= allowed {
				return store.ErrBusy
			}
		}
		_, err = q.exec(ctx, `INSERT INTO attempt_reservations (pool_id, sub, id, expires_at) VALUES (?,?,?,?)`,
			poolID, sub, id, ms(now.Add(ttl)))
		return err
	})
	return lockedUntil, err
}

// takeReservation deletes the reservation if it is still live at now; it
// reports whether it did.
func (q *querier) takeReservation(ctx context.Context, poolID, sub, id string, now time.Time) (bool, error) {
	n, err := q.execN(ctx, `DELETE FROM attempt_reservations WHERE pool_id = ? AND sub = ? AND id = ? AND expires_at > ?`,
		poolID, sub, id, ms(now))
	return n == 1, err
}

// ReleaseAttempt ends a reservation without counting a failure.
// ErrNotFound if it is no longer live (expired, or never made).
func (q *querier) ReleaseAttempt(ctx context.Context, poolID, sub, id string, now time.Time) error {
	ok, err := q.takeReservation(ctx, poolID, sub, id, now)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: attempt reservation", store.ErrNotFound)
	}
	return nil
}

// FailAttempt turns a live reservation into a counted failure, in one
// transaction: the reservation is deleted and the counter incremented,
// locking the account as RecordFailedAttempt does when the count reaches
// maxAttempts. ErrNotFound (nothing counted) if the reservation is no
// longer live.
func (q *querier) FailAttempt(ctx context.Context, poolID, sub, id string, now time.Time, maxAttempts int, lockout time.Duration) (int, time.Time, error) {
	var count int
	var locked int64
	err := q.atomic(ctx, func(q *querier) error {
		ok, err := q.takeReservation(ctx, poolID, sub, id, now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: attempt reservation", store.ErrNotFound)
		}
		nowMS := ms(now)
		if maxAttempts > 0 && lockout > 0 {
			lockMS, capMS := lockout.Milliseconds(), maxLockout.Milliseconds()
			lockMS = max(1, min(lockMS, capMS))
			const shift = `(CASE WHEN failed_attempts + 1 - CAST(? AS INTEGER) > 30 THEN 30 ELSE failed_attempts + 1 - CAST(? AS INTEGER) END)`
			const d = `(CAST(? AS BIGINT) << ` + shift + `)`
			err = q.queryRow(ctx, true, `UPDATE users SET failed_attempts = failed_attempts + 1,
				locked_until = CASE WHEN failed_attempts + 1 >= CAST(? AS INTEGER)
					THEN CAST(? AS BIGINT) + CASE WHEN `+d+` > CAST(? AS BIGINT) THEN CAST(? AS BIGINT) ELSE `+d+` END
					ELSE locked_until END
				WHERE pool_id = ? AND sub = ?
				RETURNING failed_attempts, locked_until`,
				maxAttempts, nowMS, lockMS, maxAttempts, maxAttempts, capMS, capMS, lockMS, maxAttempts, maxAttempts,
				poolID, sub).Scan(&count, &locked)
		} else {
			err = q.queryRow(ctx, true, `UPDATE users SET failed_attempts = failed_attempts + 1
				WHERE pool_id = ? AND sub = ? RETURNING failed_attempts, locked_until`,
				poolID, sub).Scan(&count, &locked)
		}
		if err != nil {
			return q.scanErr(err, "user "+sub)
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, fromMS(locked), nil
}

// HitThrottle counts one hit on the counter name of the pool in one
// upsert (atomic on both databases: PostgreSQL's ON CONFLICT DO UPDATE
// locks the row, SQLite has one writer). A counter whose window ended
// starts a new one of length window at now. It returns the hits in the
// current window, this one included, and the window's end.
func (q *querier) HitThrottle(ctx context.Context, poolID, name string, now time.Time, window time.Duration) (int, time.Time, error) {
	nowMS, endMS := ms(now), ms(now.Add(window))
	var hits int
	var end int64
	err := q.queryRow(ctx, true, `INSERT INTO throttles (pool_id, name, hits, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (pool_id, name) DO UPDATE SET
			hits = CASE WHEN throttles.expires_at <= ? THEN 1 ELSE throttles.hits + 1 END,
			expires_at = CASE WHEN throttles.expires_at <= ? THEN excluded.expires_at ELSE throttles.expires_at END
		RETURNING hits, expires_at`, poolID, name, endMS, nowMS, nowMS).Scan(&hits, &end)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, time.Time{}, fmt.Errorf("sqlstore: throttle upsert returned no row")
		}
		return 0, time.Time{}, q.scanErr(err, "pool "+poolID)
	}
	return hits, fromMS(end), nil
}

// UndoThrottle takes one hit back from the counter's current window (not
// below zero); nothing if the window ended or the counter does not exist.
func (q *querier) UndoThrottle(ctx context.Context, poolID, name string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE throttles SET hits = hits - 1
		WHERE pool_id = ? AND name = ? AND hits > 0 AND expires_at > ?`, poolID, name, ms(now))
	return err
}

// DeleteExpiredThrottles removes counters whose window ended, and
// reservations that expired, before cutoff.
func (q *querier) DeleteExpiredThrottles(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM throttles WHERE expires_at < ?`, ms(cutoff))
	if err != nil {
		return 0, err
	}
	m, err := q.execN(ctx, `DELETE FROM attempt_reservations WHERE expires_at < ?`, ms(cutoff))
	return int(n + m), err
}
