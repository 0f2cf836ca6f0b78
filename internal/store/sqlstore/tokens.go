package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// PutCode stores c, replacing any code of the same (pool, user, purpose).
// ErrNotFound if the user does not exist.
func (q *querier) PutCode(ctx context.Context, c *identity.OneTimeCode) error {
	err := q.execGuarded(ctx, `INSERT INTO codes (pool_id, sub, purpose, hash, attempts, expires_at, created_at)
		VALUES (?,?,?,?,?,?,?)
		ON CONFLICT (pool_id, sub, purpose) DO UPDATE SET hash = excluded.hash,
		attempts = excluded.attempts, expires_at = excluded.expires_at, created_at = excluded.created_at`,
		c.PoolID, c.UserSub, string(c.Purpose), c.Hash, c.Attempts, ms(c.ExpiresAt), ms(c.CreatedAt))
	return err
}

// UseCode checks hash against the stored code. Each submission first
// reserves one attempt with a single conditional UPDATE (attempts still
// under maxAttempts, code not expired), so however many guesses arrive at
// once, at most maxAttempts of them are ever compared. A match then
// deletes the code with a compare-and-set DELETE on its hash, so of several
// concurrent correct submissions exactly one sees CodeOK (the others
// CodeMissing). Without a reservation the outcome is, in order: missing,
// expired, exhausted. maxAttempts <= 0 means no limit.
func (q *querier) UseCode(ctx context.Context, poolID, sub string, purpose identity.CodePurpose, hash string, now time.Time, maxAttempts int) (store.CodeOutcome, error) {
	limit := maxAttempts
	if limit <= 0 {
		limit = int(^uint32(0) >> 1)
	}
	var stored string
	err := q.queryRow(ctx, true, `UPDATE codes SET attempts = attempts + 1
		WHERE pool_id = ? AND sub = ? AND purpose = ? AND attempts < ? AND (expires_at = 0 OR expires_at > ?)
		RETURNING hash`, poolID, sub, string(purpose), limit, ms(now)).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		// Say why: no code, expired, or out of attempts.
		var attempts int
		var expires int64
		err := q.queryRow(ctx, true, `SELECT attempts, expires_at FROM codes
			WHERE pool_id = ? AND sub = ? AND purpose = ?`, poolID, sub, string(purpose)).Scan(&attempts, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.CodeMissing, nil
		case err != nil:
			return 0, q.mapErr(err)
		case expires != 0 && expires <= ms(now):
			return store.CodeExpired, nil
		case attempts >= limit:
			return store.CodeExhausted, nil
		}
		// Replaced between the two statements: a fresh code, so this
		// submission was for an older one.
		return store.CodeMissing, nil
	}
	if err != nil {
		return 0, q.mapErr(err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 {
		return store.CodeMismatch, nil
	}
	n, err := q.execN(ctx, `DELETE FROM codes WHERE pool_id = ? AND sub = ? AND purpose = ? AND hash = ?`,
		poolID, sub, string(purpose), hash)
	if err != nil {
		return 0, err
	}
	if n == 1 {
		return store.CodeOK, nil
	}
	return store.CodeMissing, nil // a concurrent submission consumed it
}

// DeleteCodes deletes every code of the user.
func (q *querier) DeleteCodes(ctx context.Context, poolID, sub string) error {
	_, err := q.exec(ctx, `DELETE FROM codes WHERE pool_id = ? AND sub = ?`, poolID, sub)
	return err
}

const refreshCols = `hash, pool_id, client_id, user_sub, family_id, origin_jti, auth_time,
	issued_at, expires_at, used_at, revoked_at, replaced_by, scope, amr, device_key`

// InsertRefreshToken stores t. ErrConflict if the hash exists; ErrNotFound
// if the user does not exist.
func (q *querier) InsertRefreshToken(ctx context.Context, t *identity.RefreshToken) error {
	err := q.execGuarded(ctx, `INSERT INTO refresh_tokens (`+refreshCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		t.Hash, t.PoolID, t.ClientID, t.UserSub, t.FamilyID, t.OriginJTI, ms(t.AuthTime),
		ms(t.IssuedAt), ms(t.ExpiresAt), ms(t.UsedAt), ms(t.RevokedAt), t.ReplacedBy, t.Scope, t.AMR, t.DeviceKey)
	return err
}

// GetRefreshToken returns the token with that hash, or ErrNotFound.
func (q *querier) GetRefreshToken(ctx context.Context, hash string) (*identity.RefreshToken, error) {
	var (
		t                             identity.RefreshToken
		auth, iss, exp, used, revoked int64
	)
	err := q.queryRow(ctx, q.inTx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = ?`, hash).Scan(
		&t.Hash, &t.PoolID, &t.ClientID, &t.UserSub, &t.FamilyID, &t.OriginJTI, &auth, &iss, &exp, &used, &revoked, &t.ReplacedBy, &t.Scope, &t.AMR, &t.DeviceKey)
	if err != nil {
		return nil, q.scanErr(err, "refresh token")
	}
	t.AuthTime, t.IssuedAt, t.ExpiresAt = fromMS(auth), fromMS(iss), fromMS(exp)
	t.UsedAt, t.RevokedAt = fromMS(used), fromMS(revoked)
	return &t, nil
}

// MarkRefreshTokenUsed sets UsedAt and ReplacedBy if the token is neither
// used nor revoked, in one conditional UPDATE (compare-and-set); it reports
// whether it did. ErrNotFound if no such token exists.
func (q *querier) MarkRefreshTokenUsed(ctx context.Context, hash, replacedBy string, now time.Time) (bool, error) {
	n, err := q.execN(ctx, `UPDATE refresh_tokens SET used_at = ?, replaced_by = ?
		WHERE hash = ? AND used_at = 0 AND revoked_at = 0`, ms(now), replacedBy, hash)
	if err != nil {
		return false, err
	}
	if n == 1 {
		return true, nil
	}
	return false, q.refreshExists(ctx, hash)
}

func (q *querier) refreshExists(ctx context.Context, hash string) error {
	var n int
	if err := q.queryRow(ctx, true, `SELECT COUNT(*) FROM refresh_tokens WHERE hash = ?`, hash).Scan(&n); err != nil {
		return q.mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: refresh token", store.ErrNotFound)
	}
	return nil
}

// RevokeRefreshToken sets RevokedAt (kept if already revoked). ErrNotFound
// if no such token exists.
func (q *querier) RevokeRefreshToken(ctx context.Context, hash string, now time.Time) error {
	n, err := q.execN(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE hash = ? AND revoked_at = 0`, ms(now), hash)
	if err != nil || n == 1 {
		return err
	}
	return q.refreshExists(ctx, hash)
}

// RevokeRefreshFamily revokes every not yet revoked token of the family.
//
// The UPDATE runs again until it finds nothing left: on PostgreSQL (READ
// COMMITTED) a statement that waited for a concurrent rotation's row lock
// re-checks only the rows of its own snapshot, so the successor that
// rotation inserted would escape it; the next statement sees it. On SQLite
// (one writer) the second statement finds nothing. Bounded: each extra
// round needs another rotation to commit meanwhile.
func (q *querier) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	for range 16 {
		n, err := q.execN(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0`, ms(now), familyID)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// RevokeRefreshOrigin revokes every not yet revoked token of the sign-in
// (index refresh_tokens_origin, migration 0013).
func (q *querier) RevokeRefreshOrigin(ctx context.Context, poolID, originJTI string, now time.Time) error {
	if originJTI == "" {
		return nil
	}
	_, err := q.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE pool_id = ? AND origin_jti = ? AND revoked_at = 0`, ms(now), poolID, originJTI)
	return err
}

// RevokeUserRefreshTokens revokes every not yet revoked token of the user.
func (q *querier) RevokeUserRefreshTokens(ctx context.Context, poolID, sub string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE pool_id = ? AND user_sub = ? AND revoked_at = 0`, ms(now), poolID, sub)
	return err
}

// refreshPurgeBatch bounds one DeleteExpiredRefreshTokens call, so a
// backlog is worked off in short write transactions instead of one long one.
const refreshPurgeBatch = 1000

// DeleteExpiredRefreshTokens deletes up to refreshPurgeBatch tokens whose
// ExpiresAt is before cutoff (oldest first, by the expires_at index) and
// returns how many.
func (q *querier) DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM refresh_tokens WHERE hash IN
		(SELECT hash FROM refresh_tokens WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, ms(cutoff), refreshPurgeBatch)
	return int(n), err
}

const keyCols = `pool_id, kid, alg, private_key_enc, public_jwk, state, created_at, activated_at, retired_at, remove_after`

// InsertSigningKey stores k. ErrConflict if the kid exists in the pool;
// ErrNotFound if the pool does not exist.
func (q *querier) InsertSigningKey(ctx context.Context, k *identity.SigningKey) error {
	err := q.execGuarded(ctx, `INSERT INTO signing_keys (`+keyCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		k.PoolID, k.KID, k.Alg, k.PrivateKeyEnc, k.PublicJWK, k.State, ms(k.CreatedAt),
		ms(k.ActivatedAt), ms(k.RetiredAt), ms(k.RemoveAfter))
	return err
}

// ListSigningKeys returns the pool's keys, oldest first.
func (q *querier) ListSigningKeys(ctx context.Context, poolID string) ([]*identity.SigningKey, error) {
	rows, err := q.query(ctx, false, `SELECT `+keyCols+` FROM signing_keys WHERE pool_id = ? ORDER BY created_at, kid`, poolID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (*identity.SigningKey, error) {
		var k identity.SigningKey
		var cr, act, ret, rem int64
		if err := sc.Scan(&k.PoolID, &k.KID, &k.Alg, &k.PrivateKeyEnc, &k.PublicJWK, &k.State, &cr, &act, &ret, &rem); err != nil {
			return nil, err
		}
		k.CreatedAt, k.ActivatedAt, k.RetiredAt, k.RemoveAfter = fromMS(cr), fromMS(act), fromMS(ret), fromMS(rem)
		return &k, nil
	})
}

// UpdateSigningKey writes every field of k except its ids and CreatedAt.
func (q *querier) UpdateSigningKey(ctx context.Context, k *identity.SigningKey) error {
	return q.execOne(ctx, "signing key "+k.KID, `UPDATE signing_keys SET alg = ?, private_key_enc = ?, public_jwk = ?,
		state = ?, activated_at = ?, retired_at = ?, remove_after = ? WHERE pool_id = ? AND kid = ?`,
		k.Alg, k.PrivateKeyEnc, k.PublicJWK, k.State, ms(k.ActivatedAt), ms(k.RetiredAt), ms(k.RemoveAfter), k.PoolID, k.KID)
}

// DeleteSigningKey deletes the key.
func (q *querier) DeleteSigningKey(ctx context.Context, poolID, kid string) error {
	return q.execOne(ctx, "signing key "+kid, `DELETE FROM signing_keys WHERE pool_id = ? AND kid = ?`, poolID, kid)
}

const apiKeyCols = `id, pool_id, name, secret_hash, created_at, last_used_at, revoked_at`

func scanAPIKey(sc interface{ Scan(...any) error }) (*identity.APIKey, error) {
	var (
		k             identity.APIKey
		pool          *string
		cr, used, rev int64
	)
	if err := sc.Scan(&k.ID, &pool, &k.Name, &k.SecretHash, &cr, &used, &rev); err != nil {
		return nil, err
	}
	if pool != nil {
		k.PoolID = *pool
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMS(cr), fromMS(used), fromMS(rev)
	return &k, nil
}

// CreateAPIKey stores k (PoolID "" for a global key). ErrConflict if the
// id exists; ErrNotFound if the pool does not exist.
func (q *querier) CreateAPIKey(ctx context.Context, k *identity.APIKey) error {
	err := q.execGuarded(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?,?,?,?,?,?,?)`,
		k.ID, nullStr(k.PoolID), k.Name, k.SecretHash, ms(k.CreatedAt), ms(k.LastUsedAt), ms(k.RevokedAt))
	return err
}

// GetAPIKey returns the key or ErrNotFound.
func (q *querier) GetAPIKey(ctx context.Context, id string) (*identity.APIKey, error) {
	k, err := scanAPIKey(q.queryRow(ctx, false, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, q.scanErr(err, "api key")
	}
	return k, nil
}

// ListAPIKeys lists the pool's keys (every key for poolID ""), oldest first.
func (q *querier) ListAPIKeys(ctx context.Context, poolID string) ([]*identity.APIKey, error) {
	query, args := `SELECT `+apiKeyCols+` FROM api_keys`, []any(nil)
	if poolID != "" {
		query += ` WHERE pool_id = ?`
		args = append(args, poolID)
	}
	rows, err := q.query(ctx, false, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAPIKey)
}

// RevokeAPIKey sets RevokedAt (kept if already revoked). ErrNotFound if no
// such key.
func (q *querier) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	return q.execOne(ctx, "api key", `UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE id = ?`, ms(now), id)
}

// TouchAPIKey records a use. ErrNotFound if no such key.
func (q *querier) TouchAPIKey(ctx context.Context, id string, now time.Time) error {
	return q.execOne(ctx, "api key", `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, ms(now), id)
}

// InsertSignIn stores si. ErrNotFound if the user does not exist;
// ErrConflict if the family has a row already.
func (q *querier) InsertSignIn(ctx context.Context, si *store.SignIn) error {
	return q.execGuarded(ctx, `INSERT INTO sign_ins (pool_id, family_id, user_sub, client_id, user_agent, ip, created_at, expires_at)
		VALUES (?,?,?,?,?,?,?,?)`, si.PoolID, si.FamilyID, si.UserSub, si.ClientID, si.UserAgent, si.IP,
		ms(si.CreatedAt), ms(si.ExpiresAt))
}

// maxSignIns bounds ListSignIns.
const maxSignIns = 200

// ListSignIns returns the user's families that have a live token (one
// per family: rotation marks the old token used as it inserts the next),
// through index refresh_tokens_user, newest use first.
func (q *querier) ListSignIns(ctx context.Context, poolID, sub string, now time.Time) ([]*store.SignIn, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT t.family_id, t.client_id, t.origin_jti, t.auth_time, t.issued_at, t.expires_at,
		COALESCE(s.user_agent, ''), COALESCE(s.ip, ''), COALESCE(s.created_at, 0)
		FROM refresh_tokens t LEFT JOIN sign_ins s ON s.pool_id = t.pool_id AND s.family_id = t.family_id
		WHERE t.pool_id = ? AND t.user_sub = ? AND t.used_at = 0 AND t.revoked_at = 0 AND t.expires_at > ?
		ORDER BY t.issued_at DESC, t.family_id LIMIT ?`, poolID, sub, ms(now), maxSignIns)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (*store.SignIn, error) {
		si := store.SignIn{PoolID: poolID, UserSub: sub}
		var auth, iss, exp, created int64
		if err := sc.Scan(&si.FamilyID, &si.ClientID, &si.OriginJTI, &auth, &iss, &exp, &si.UserAgent, &si.IP, &created); err != nil {
			return nil, err
		}
		si.AuthTime, si.LastUsed, si.ExpiresAt, si.CreatedAt = fromMS(auth), fromMS(iss), fromMS(exp), fromMS(created)
		return &si, nil
	})
}

// DeleteExpiredSignIns deletes up to refreshPurgeBatch sign-ins whose
// family expired before cutoff (by index sign_ins_expires).
func (q *querier) DeleteExpiredSignIns(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM sign_ins WHERE (pool_id, family_id) IN
		(SELECT pool_id, family_id FROM sign_ins WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, ms(cutoff), refreshPurgeBatch)
	return int(n), err
}
