package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Remembered devices: devices (migration 0022), and the device_key of
// refresh_tokens.

const deviceCols = `pool_id, device_key, user_sub, group_key, name, status, salt, verifier, last_ip,
	created_at, updated_at, last_auth_at`

// InsertDevice stores d. ErrConflict if the pool has the key already;
// ErrNotFound if the user does not exist.
func (q *querier) InsertDevice(ctx context.Context, d *identity.Device) error {
	return q.execGuarded(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		d.PoolID, d.Key, d.UserSub, d.GroupKey, d.Name, d.Status, d.Salt, d.Verifier, d.LastIP,
		ms(d.CreatedAt), ms(d.UpdatedAt), ms(d.LastAuthAt))
}

func scanDevice(sc interface{ Scan(...any) error }) (*identity.Device, error) {
	var (
		d                 identity.Device
		cr, upd, lastAuth int64
	)
	if err := sc.Scan(&d.PoolID, &d.Key, &d.UserSub, &d.GroupKey, &d.Name, &d.Status, &d.Salt, &d.Verifier, &d.LastIP,
		&cr, &upd, &lastAuth); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt, d.LastAuthAt = fromMS(cr), fromMS(upd), fromMS(lastAuth)
	return &d, nil
}

// GetDevice returns the pool's device with that key, or ErrNotFound.
func (q *querier) GetDevice(ctx context.Context, poolID, key string) (*identity.Device, error) {
	d, err := scanDevice(q.queryRow(ctx, q.inTx, `SELECT `+deviceCols+` FROM devices WHERE pool_id = ? AND device_key = ?`, poolID, key))
	if err != nil {
		return nil, q.scanErr(err, "device")
	}
	return d, nil
}

// ListDevices returns up to limit of the user's devices whose key sorts
// after after ("" for the first page), by key.
func (q *querier) ListDevices(ctx context.Context, poolID, sub, after string, limit int) ([]*identity.Device, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+deviceCols+` FROM devices
		WHERE pool_id = ? AND user_sub = ? AND device_key > ? ORDER BY device_key LIMIT ?`, poolID, sub, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanDevice)
}

// UpdateDevice writes Name, Status, LastIP, UpdatedAt and LastAuthAt of
// the device, if it still belongs to d.UserSub. ErrNotFound otherwise.
func (q *querier) UpdateDevice(ctx context.Context, d *identity.Device) error {
	return q.execOne(ctx, "device", `UPDATE devices SET name = ?, status = ?, last_ip = ?, updated_at = ?, last_auth_at = ?
		WHERE pool_id = ? AND device_key = ? AND user_sub = ?`,
		d.Name, d.Status, d.LastIP, ms(d.UpdatedAt), ms(d.LastAuthAt), d.PoolID, d.Key, d.UserSub)
}

// DeleteDevice deletes the user's device. ErrNotFound unless the user has it.
func (q *querier) DeleteDevice(ctx context.Context, poolID, sub, key string) error {
	return q.execOne(ctx, "device", `DELETE FROM devices WHERE pool_id = ? AND device_key = ? AND user_sub = ?`, poolID, key, sub)
}

// RevokeDeviceRefreshTokens revokes every not yet revoked refresh token
// issued to the device (index refresh_tokens_device) and returns the
// origin_jti of each sign-in it revoked. Repeated until nothing is left,
// for the reason RevokeRefreshFamily gives.
func (q *querier) RevokeDeviceRefreshTokens(ctx context.Context, poolID, key string, now time.Time) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for range 16 {
		rows, err := q.query(ctx, true, `UPDATE refresh_tokens SET revoked_at = ?
			WHERE pool_id = ? AND device_key = ? AND revoked_at = 0 RETURNING origin_jti`, ms(now), poolID, key)
		if err != nil {
			return nil, err
		}
		origins, err := collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
			var o string
			return o, sc.Scan(&o)
		})
		if err != nil {
			return nil, err
		}
		if len(origins) == 0 {
			break
		}
		for _, o := range origins {
			if o != "" && !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	return out, nil
}
