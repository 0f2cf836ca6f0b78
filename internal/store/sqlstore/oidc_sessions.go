package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// oidcSessionPurgeBatch bounds the rows one DeleteExpiredOIDCSessions
// call deletes.
const oidcSessionPurgeBatch = 1000

// InsertOIDCSession records a relying party's sign-in (migration 0027).
// ErrNotFound if the user does not exist; ErrConflict if the origin is
// already recorded in the pool.
func (q *querier) InsertOIDCSession(ctx context.Context, s *identity.OIDCSession) error {
	return q.execGuarded(ctx, `INSERT INTO oidc_sessions (pool_id, origin_jti, user_sub, client_id, created_at, expires_at)
		VALUES (?,?,?,?,?,?)`, s.PoolID, s.OriginJTI, s.UserSub, s.ClientID, ms(s.CreatedAt), ms(s.ExpiresAt))
}

// ListOIDCSessions returns up to limit sessions of the user that have not
// expired at now, oldest first.
func (q *querier) ListOIDCSessions(ctx context.Context, poolID, sub string, now time.Time, limit int) ([]*identity.OIDCSession, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT origin_jti, client_id, created_at, expires_at FROM oidc_sessions
		WHERE pool_id = ? AND user_sub = ? AND expires_at > ? ORDER BY created_at, origin_jti LIMIT ?`,
		poolID, sub, ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.OIDCSession
	for rows.Next() {
		s := &identity.OIDCSession{PoolID: poolID, UserSub: sub}
		var created, expires int64
		if err := rows.Scan(&s.OriginJTI, &s.ClientID, &created, &expires); err != nil {
			return nil, q.mapErr(err)
		}
		s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
		out = append(out, s)
	}
	return out, q.mapErr(rows.Err())
}

// DeleteOIDCSession deletes the pool's session originJTI, if any.
func (q *querier) DeleteOIDCSession(ctx context.Context, poolID, originJTI string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_sessions WHERE pool_id = ? AND origin_jti = ?`, poolID, originJTI)
	return err
}

// DeleteExpiredOIDCSessions deletes up to oidcSessionPurgeBatch sessions
// expired before cutoff, oldest first, and returns how many.
func (q *querier) DeleteExpiredOIDCSessions(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM oidc_sessions WHERE (pool_id, origin_jti) IN
		(SELECT pool_id, origin_jti FROM oidc_sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`,
		ms(cutoff), oidcSessionPurgeBatch)
	return int(n), err
}
