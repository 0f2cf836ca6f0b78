package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const webauthnCols = `pool_id, credential_id, user_sub, relying_party_id, public_key, sign_count,
	transports, aaguid, name, record, created_at, last_used_at`

// InsertWebAuthnCredential stores a new passkey. ErrConflict if the pool
// has the credential id already; ErrNotFound if the user does not exist.
func (q *querier) InsertWebAuthnCredential(ctx context.Context, c *identity.WebAuthnCredential) error {
	tr, err := jsonText(append([]string{}, c.Transports...))
	if err != nil {
		return err
	}
	return q.execGuarded(ctx, `INSERT INTO webauthn_credentials (`+webauthnCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.PoolID, c.ID, c.Sub, c.RPID, base64.RawURLEncoding.EncodeToString(c.PublicKey), int64(c.SignCount),
		tr, c.AAGUID, c.Name, c.Record, ms(c.CreatedAt), ms(c.LastUsedAt))
}

// GetWebAuthnCredential returns the pool's credential with that id, or
// ErrNotFound.
func (q *querier) GetWebAuthnCredential(ctx context.Context, poolID, credentialID string) (*identity.WebAuthnCredential, error) {
	c, err := scanWebAuthn(q.queryRow(ctx, q.inTx, `SELECT `+webauthnCols+` FROM webauthn_credentials
		WHERE pool_id = ? AND credential_id = ?`, poolID, credentialID))
	if err != nil {
		return nil, q.scanErr(err, "webauthn credential")
	}
	return c, nil
}

// ListWebAuthnCredentials returns the user's credentials, oldest first.
func (q *querier) ListWebAuthnCredentials(ctx context.Context, poolID, sub string) ([]*identity.WebAuthnCredential, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+webauthnCols+` FROM webauthn_credentials
		WHERE pool_id = ? AND user_sub = ? ORDER BY created_at, credential_id`, poolID, sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.WebAuthnCredential
	for rows.Next() {
		c, err := scanWebAuthn(rows)
		if err != nil {
			return nil, q.mapErr(err)
		}
		out = append(out, c)
	}
	return out, q.mapErr(rows.Err())
}

// UseWebAuthnCredential records a sign-in with the credential: the sign
// count moves from oldCount to newCount only while it is still oldCount.
func (q *querier) UseWebAuthnCredential(ctx context.Context, poolID, credentialID string, oldCount, newCount uint32, now time.Time) (bool, error) {
	n, err := q.execN(ctx, `UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ?
		WHERE pool_id = ? AND credential_id = ? AND sign_count = ?`,
		int64(newCount), ms(now), poolID, credentialID, int64(oldCount))
	return n == 1, err
}

// DeleteWebAuthnCredential removes the user's credential; ErrNotFound if
// the user has no credential with that id.
func (q *querier) DeleteWebAuthnCredential(ctx context.Context, poolID, sub, credentialID string) error {
	return q.execOne(ctx, "webauthn credential", `DELETE FROM webauthn_credentials
		WHERE pool_id = ? AND user_sub = ? AND credential_id = ?`, poolID, sub, credentialID)
}

// PutWebAuthnChallenge stores a ceremony's challenge and prunes expired
// ones (an indexed range delete). ErrNotFound if the pool does not exist.
func (q *querier) PutWebAuthnChallenge(ctx context.Context, c *identity.WebAuthnChallenge, now time.Time) error {
	if _, err := q.exec(ctx, `DELETE FROM webauthn_challenges WHERE expires_at < ?`, ms(now)); err != nil {
		return err
	}
	return q.execGuarded(ctx, `INSERT INTO webauthn_challenges (challenge_hash, pool_id, purpose, user_sub, origin, session, expires_at)
		VALUES (?,?,?,?,?,?,?)`, c.Hash, c.PoolID, c.Purpose, c.Sub, c.Origin, c.Session, ms(c.ExpiresAt))
}

// TakeWebAuthnChallenge deletes the challenge with that hash and returns
// it, unless it expired at now (then it is deleted all the same and the
// answer is ErrNotFound). One DELETE ... RETURNING: single use.
func (q *querier) TakeWebAuthnChallenge(ctx context.Context, hash string, now time.Time) (*identity.WebAuthnChallenge, error) {
	var c identity.WebAuthnChallenge
	var exp int64
	err := q.queryRow(ctx, true, `DELETE FROM webauthn_challenges WHERE challenge_hash = ?
		RETURNING challenge_hash, pool_id, purpose, user_sub, origin, session, expires_at`, hash).
		Scan(&c.Hash, &c.PoolID, &c.Purpose, &c.Sub, &c.Origin, &c.Session, &exp)
	if err != nil {
		return nil, q.scanErr(err, "webauthn challenge")
	}
	c.ExpiresAt = fromMS(exp)
	if !now.Before(c.ExpiresAt) {
		return nil, q.scanErr(sql.ErrNoRows, "webauthn challenge")
	}
	return &c, nil
}

func scanWebAuthn(r interface{ Scan(...any) error }) (*identity.WebAuthnCredential, error) {
	var c identity.WebAuthnCredential
	var pk, tr string
	var count, created, used int64
	err := r.Scan(&c.PoolID, &c.ID, &c.Sub, &c.RPID, &pk, &count, &tr, &c.AAGUID, &c.Name, &c.Record, &created, &used)
	if err != nil {
		return nil, err
	}
	if c.PublicKey, err = base64.RawURLEncoding.DecodeString(pk); err != nil {
		return nil, fmt.Errorf("sqlstore: decode public key: %w", err)
	}
	if err := fromJSON(tr, &c.Transports); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	c.CreatedAt, c.LastUsedAt = fromMS(created), fromMS(used)
	return &c, nil
}
