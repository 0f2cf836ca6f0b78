package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// RevokeOrigin records that the sign-in originJTI of the user was revoked
// until expiresAt. A second revocation keeps the later expiry.
// ErrNotFound if the user does not exist.
func (q *querier) RevokeOrigin(ctx context.Context, poolID, sub, originJTI string, now, expiresAt time.Time) error {
	return q.execGuarded(ctx, `INSERT INTO revoked_origins (pool_id, origin_jti, user_sub, revoked_at, expires_at)
		VALUES (?,?,?,?,?)
		ON CONFLICT (pool_id, origin_jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE revoked_origins.expires_at < excluded.expires_at`,
		poolID, originJTI, sub, ms(now), ms(expiresAt))
}

// OriginRevoked reports whether (poolID, originJTI) has a row: one
// primary-key lookup.
func (q *querier) OriginRevoked(ctx context.Context, poolID, originJTI string) (bool, error) {
	var one int
	err := q.queryRow(ctx, q.inTx, `SELECT 1 FROM revoked_origins WHERE pool_id = ? AND origin_jti = ?`, poolID, originJTI).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, q.mapErr(err)
}

// DeleteExpiredRevokedOrigins deletes rows whose expiry is before cutoff
// and returns how many.
func (q *querier) DeleteExpiredRevokedOrigins(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM revoked_origins WHERE expires_at < ?`, ms(cutoff))
	return int(n), err
}
