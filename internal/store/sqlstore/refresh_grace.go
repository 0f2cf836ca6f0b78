package sqlstore

import (
	"context"
	"errors"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// ReissueRefreshToken inserts next as another successor of the used,
// unrevoked token hash: the compare-and-set touches the presented row
// (replaced_by names the newest successor), so on PostgreSQL a concurrent
// RevokeRefreshFamily either waits for it and then revokes next in its
// next pass, or has revoked the row first and the compare-and-set fails.
func (q *querier) ReissueRefreshToken(ctx context.Context, hash string, next *identity.RefreshToken) (bool, error) {
	var ok bool
	err := q.atomic(ctx, func(q *querier) error {
		n, err := q.execN(ctx, `UPDATE refresh_tokens SET replaced_by = ?
			WHERE hash = ? AND used_at > 0 AND revoked_at = 0`, next.Hash, hash)
		if err != nil || n != 1 {
			return err
		}
		ok = true
		return q.InsertRefreshToken(ctx, next)
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ok && err == nil, err
}
