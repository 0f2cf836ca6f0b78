package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// The reads of the hot token paths, one statement each: a GetUser (access
// token) needs the user, its attributes, its groups and the revocation of
// its sign-in; a refresh needs the token and the same user. Attributes and
// group names come back as JSON arrays built by the database
// (Dialect.JSONAgg), so the row count stays one.

// sessionCols follows userCols: the attributes as [[name, value], ...] and
// the group names in token order, both of the user aliased u.
func (q *querier) sessionCols() string {
	agg, arr := q.d.JSONAgg, q.d.JSONArray
	return userCols + `,
	COALESCE((SELECT ` + agg + `(` + arr + `(a.name, a.value)) FROM user_attributes a
		WHERE a.pool_id = u.pool_id AND a.sub = u.sub), '[]'),
	COALESCE((SELECT ` + agg + `(g.name ORDER BY CASE WHEN g.precedence IS NULL THEN 1 ELSE 0 END, g.precedence, g.name)
		FROM group_members m JOIN user_groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
		WHERE m.pool_id = u.pool_id AND m.sub = u.sub), '[]')`
}

// scanWith scans a row whose columns are pre, then what the inner scan
// function asks for, then post.
type scanWith struct {
	sc        interface{ Scan(...any) error }
	pre, post []any
}

func (s scanWith) Scan(dest ...any) error {
	all := make([]any, 0, len(s.pre)+len(dest)+len(s.post))
	all = append(append(append(all, s.pre...), dest...), s.post...)
	return s.sc.Scan(all...)
}

// finishSession decodes the JSON columns of sessionCols into se.
func finishSession(u *identity.User, attrs, groups []byte, se *store.UserSession) error {
	var pairs [][2]string
	if err := json.Unmarshal(attrs, &pairs); err != nil {
		return fmt.Errorf("decode attributes: %w", err)
	}
	for _, p := range pairs {
		if p[0] == pendingEmailAttr {
			u.PendingEmail = p[1]
			continue
		}
		if u.Attributes == nil {
			u.Attributes = make(map[string]string, len(pairs))
		}
		u.Attributes[p[0]] = p[1]
	}
	se.Groups = []string{}
	if err := json.Unmarshal(groups, &se.Groups); err != nil {
		return fmt.Errorf("decode groups: %w", err)
	}
	se.User = u
	return nil
}

// GetUserSession implements store.Querier.
func (q *querier) GetUserSession(ctx context.Context, poolID, sub, originJTI string) (*store.UserSession, error) {
	var (
		se            store.UserSession
		attrs, groups []byte
	)
	row := q.queryRow(ctx, q.inTx, `SELECT `+q.sessionCols()+`,
		(? <> '' AND EXISTS (SELECT 1 FROM revoked_origins o WHERE o.pool_id = u.pool_id AND o.origin_jti = ?))
		FROM users u WHERE u.pool_id = ? AND u.sub = ?`, originJTI, originJTI, poolID, sub)
	u, err := scanUser(scanWith{sc: row, post: []any{&attrs, &groups, &se.OriginRevoked}})
	if err != nil {
		return nil, q.scanErr(err, "user "+sub)
	}
	if err := finishSession(u, attrs, groups, &se); err != nil {
		return nil, err
	}
	return &se, nil
}

const refreshColsR = `r.hash, r.pool_id, r.client_id, r.user_sub, r.family_id, r.origin_jti, r.auth_time,
	r.issued_at, r.expires_at, r.used_at, r.revoked_at, r.replaced_by, r.scope, r.amr, r.device_key`

// GetRefreshSession implements store.Querier.
func (q *querier) GetRefreshSession(ctx context.Context, hash string) (*identity.RefreshToken, *store.UserSession, error) {
	var (
		t                             identity.RefreshToken
		auth, iss, exp, used, revoked int64
		se                            store.UserSession
		attrs, groups                 []byte
	)
	row := q.queryRow(ctx, q.inTx, `SELECT `+refreshColsR+`, `+q.sessionCols()+`
		FROM refresh_tokens r JOIN users u ON u.pool_id = r.pool_id AND u.sub = r.user_sub
		WHERE r.hash = ?`, hash)
	u, err := scanUser(scanWith{sc: row,
		pre: []any{&t.Hash, &t.PoolID, &t.ClientID, &t.UserSub, &t.FamilyID, &t.OriginJTI,
			&auth, &iss, &exp, &used, &revoked, &t.ReplacedBy, &t.Scope, &t.AMR, &t.DeviceKey},
		post: []any{&attrs, &groups}})
	if err != nil {
		return nil, nil, q.scanErr(err, "refresh token")
	}
	t.AuthTime, t.IssuedAt, t.ExpiresAt = fromMS(auth), fromMS(iss), fromMS(exp)
	t.UsedAt, t.RevokedAt = fromMS(used), fromMS(revoked)
	if err := finishSession(u, attrs, groups, &se); err != nil {
		return nil, nil, err
	}
	return &t, &se, nil
}

// RotateRefreshToken implements store.Querier. With Dialect.ModifyingCTE
// (PostgreSQL) the compare-and-set and the insert are one statement, one
// round trip in its own implicit transaction: the INSERT takes its row
// from the UPDATE's RETURNING, so it inserts nothing when the
// compare-and-set matched nothing. Elsewhere (SQLite) they are two
// statements in one (group-committed) transaction. Inside a transaction
// both run in it, under a savepoint where the dialect needs one.
func (q *querier) RotateRefreshToken(ctx context.Context, hash string, next *identity.RefreshToken, now time.Time) (bool, error) {
	if !q.d.ModifyingCTE {
		var ok bool
		err := q.atomic(ctx, func(q *querier) error {
			var err error
			if ok, err = q.MarkRefreshTokenUsed(ctx, hash, next.Hash, now); err != nil || !ok {
				return err
			}
			return q.InsertRefreshToken(ctx, next)
		})
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return ok && err == nil, err
	}
	var n int64
	err := q.guard(ctx, func() (err error) {
		n, err = q.execN(ctx, `WITH used AS (
			UPDATE refresh_tokens SET used_at = ?, replaced_by = ?
			WHERE hash = ? AND used_at = 0 AND revoked_at = 0 RETURNING 1)
		INSERT INTO refresh_tokens (`+refreshCols+`)
		SELECT ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT),
			CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?, ?, ? FROM used`,
			ms(now), next.Hash, hash,
			next.Hash, next.PoolID, next.ClientID, next.UserSub, next.FamilyID, next.OriginJTI, ms(next.AuthTime),
			ms(next.IssuedAt), ms(next.ExpiresAt), ms(next.UsedAt), ms(next.RevokedAt), next.ReplacedBy, next.Scope, next.AMR, next.DeviceKey)
		return err
	})
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
