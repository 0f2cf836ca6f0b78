package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const oauthCodeCols = `hash, pool_id, client_id, user_sub, redirect_uri, code_challenge, code_challenge_method,
	nonce, scope, auth_time, expires_at, created_at, used_at, family_id, origin_jti, amr`

// InsertOAuthCode stores c. ErrConflict if the hash exists; ErrNotFound if
// the user does not exist.
func (q *querier) InsertOAuthCode(ctx context.Context, c *identity.OAuthCode) error {
	return q.execGuarded(ctx, `INSERT INTO oauth_codes (`+oauthCodeCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.Hash, c.PoolID, c.ClientID, c.UserSub, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod,
		c.Nonce, c.Scope, ms(c.AuthTime), ms(c.ExpiresAt), ms(c.CreatedAt), ms(c.UsedAt), c.FamilyID, c.OriginJTI, c.AMR)
}

// GetOAuthCode returns the code with that hash, or ErrNotFound.
func (q *querier) GetOAuthCode(ctx context.Context, hash string) (*identity.OAuthCode, error) {
	var (
		c                        identity.OAuthCode
		auth, exp, created, used int64
	)
	err := q.queryRow(ctx, q.inTx, `SELECT `+oauthCodeCols+` FROM oauth_codes WHERE hash = ?`, hash).Scan(
		&c.Hash, &c.PoolID, &c.ClientID, &c.UserSub, &c.RedirectURI, &c.CodeChallenge, &c.CodeChallengeMethod,
		&c.Nonce, &c.Scope, &auth, &exp, &created, &used, &c.FamilyID, &c.OriginJTI, &c.AMR)
	if err != nil {
		return nil, q.scanErr(err, "oauth code")
	}
	c.AuthTime, c.ExpiresAt, c.CreatedAt, c.UsedAt = fromMS(auth), fromMS(exp), fromMS(created), fromMS(used)
	return &c, nil
}

// UseOAuthCode sets UsedAt, FamilyID and OriginJTI only if the code is
// unused, in one conditional UPDATE (compare-and-set); it reports whether
// it did.
func (q *querier) UseOAuthCode(ctx context.Context, hash, familyID, originJTI string, now time.Time) (bool, error) {
	n, err := q.execN(ctx, `UPDATE oauth_codes SET used_at = ?, family_id = ?, origin_jti = ? WHERE hash = ? AND used_at = 0`,
		ms(now), familyID, originJTI, hash)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// DeleteExpiredOAuthCodes removes codes that expired before cutoff.
func (q *querier) DeleteExpiredOAuthCodes(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := q.execN(ctx, `DELETE FROM oauth_codes WHERE expires_at < ?`, ms(cutoff))
	return int(n), err
}
