package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Second factors: user_factors (migration 0016). Single-use values (a
// TOTP step, a recovery code) change only by compare-and-set.

const factorCols = `pool_id, sub, id, type, name, secret, confirmed, enabled, preferred, last_step, used_at, created_at`

// InsertFactor stores f.
func (q *querier) InsertFactor(ctx context.Context, f *identity.Factor) error {
	return q.execGuarded(ctx, `INSERT INTO user_factors (`+factorCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		f.PoolID, f.Sub, f.ID, f.Type, f.Name, f.Secret, b2i(f.Confirmed), b2i(f.Enabled), b2i(f.Preferred),
		f.LastStep, ms(f.UsedAt), ms(f.CreatedAt))
}

// ListFactors returns the user's factors of type typ ("" for all).
func (q *querier) ListFactors(ctx context.Context, poolID, sub, typ string) ([]*identity.Factor, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+factorCols+` FROM user_factors
		WHERE pool_id = ? AND sub = ? AND (type = ? OR ? = '') ORDER BY created_at, id`, poolID, sub, typ, typ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.Factor
	for rows.Next() {
		var (
			f              identity.Factor
			conf, en, pref int
			used, created  int64
		)
		if err := rows.Scan(&f.PoolID, &f.Sub, &f.ID, &f.Type, &f.Name, &f.Secret, &conf, &en, &pref,
			&f.LastStep, &used, &created); err != nil {
			return nil, q.mapErr(err)
		}
		f.Confirmed, f.Enabled, f.Preferred = conf != 0, en != 0, pref != 0
		f.UsedAt, f.CreatedAt = fromMS(used), fromMS(created)
		out = append(out, &f)
	}
	return out, q.mapErr(rows.Err())
}

// UpdateFactor writes Name, Confirmed, Enabled and Preferred.
func (q *querier) UpdateFactor(ctx context.Context, f *identity.Factor) error {
	return q.execOne(ctx, "factor", `UPDATE user_factors SET name = ?, confirmed = ?, enabled = ?, preferred = ?
		WHERE pool_id = ? AND sub = ? AND id = ?`, f.Name, b2i(f.Confirmed), b2i(f.Enabled), b2i(f.Preferred),
		f.PoolID, f.Sub, f.ID)
}

// DeleteFactor removes one factor.
func (q *querier) DeleteFactor(ctx context.Context, poolID, sub, id string) error {
	return q.execOne(ctx, "factor", `DELETE FROM user_factors WHERE pool_id = ? AND sub = ? AND id = ?`, poolID, sub, id)
}

// DeleteFactors removes the user's factors of type typ ("" for all).
func (q *querier) DeleteFactors(ctx context.Context, poolID, sub, typ string) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM user_factors WHERE pool_id = ? AND sub = ? AND (type = ? OR ? = '')`, poolID, sub, typ, typ)
	return int(n), err
}

// UseFactorStep raises last_step to step if it is lower.
func (q *querier) UseFactorStep(ctx context.Context, poolID, sub, id string, step int64) (bool, error) {
	n, err := q.execN(ctx, `UPDATE user_factors SET last_step = ? WHERE pool_id = ? AND sub = ? AND id = ? AND last_step < ?`,
		step, poolID, sub, id, step)
	return n == 1, err
}

// UseRecoveryCode marks the unused recovery code with that hash as used.
func (q *querier) UseRecoveryCode(ctx context.Context, poolID, sub, hash string, now time.Time) (bool, error) {
	n, err := q.execN(ctx, `UPDATE user_factors SET used_at = ? WHERE pool_id = ? AND sub = ? AND type = ? AND secret = ? AND used_at = 0`,
		ms(now), poolID, sub, identity.FactorRecovery, hash)
	return n == 1, err
}
