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

// identitiesCol is the user u's linked identities as [[provider_name,
// subject, provider_type, issuer, created_at], ...] in
// ListLinkedIdentities' order.
func (q *querier) identitiesCol() string {
	agg, arr := q.d.JSONAgg, q.d.JSONArray
	return `COALESCE((SELECT ` + agg + `(` + arr + `(l.provider_name, l.subject, l.provider_type, l.issuer, l.created_at)
		ORDER BY l.created_at, l.provider_name, l.subject)
		FROM linked_identities l WHERE l.pool_id = u.pool_id AND l.user_sub = u.sub), '[]')`
}

// factorsCol is the user u's TOTP and email-code factors as [[id, type,
// name, confirmed, enabled, preferred, created_at], ...] in ListFactors'
// order.
func (q *querier) factorsCol() string {
	agg, arr := q.d.JSONAgg, q.d.JSONArray
	return `COALESCE((SELECT ` + agg + `(` + arr + `(f.id, f.type, f.name, f.confirmed, f.enabled, f.preferred, f.created_at)
		ORDER BY f.created_at, f.id)
		FROM user_factors f WHERE f.pool_id = u.pool_id AND f.sub = u.sub AND f.type IN ('` +
		identity.FactorTOTP + `', '` + identity.FactorEmailOTP + `')), '[]')`
}

// decodeIdentities fills se.Identities from identitiesCol.
func decodeIdentities(b []byte, u *identity.User, se *store.UserSession) error {
	var raw [][]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode identities: %w", err)
	}
	se.IdentitiesRead = true
	for _, r := range raw {
		if len(r) != 5 {
			return fmt.Errorf("decode identities: %d columns", len(r))
		}
		l := &identity.LinkedIdentity{PoolID: u.PoolID, UserSub: u.Sub}
		l.ProviderName, _ = r[0].(string)
		l.Subject, _ = r[1].(string)
		l.ProviderType, _ = r[2].(string)
		l.Issuer, _ = r[3].(string)
		created, _ := r[4].(float64)
		l.CreatedAt = fromMS(int64(created))
		se.Identities = append(se.Identities, l)
	}
	return nil
}

// decodeFactors fills se.Factors from factorsCol.
func decodeFactors(b []byte, u *identity.User, se *store.UserSession) error {
	var raw [][]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode factors: %w", err)
	}
	for _, r := range raw {
		if len(r) != 7 {
			return fmt.Errorf("decode factors: %d columns", len(r))
		}
		f := &identity.Factor{PoolID: u.PoolID, Sub: u.Sub}
		f.ID, _ = r[0].(string)
		f.Type, _ = r[1].(string)
		f.Name, _ = r[2].(string)
		conf, _ := r[3].(float64)
		en, _ := r[4].(float64)
		pref, _ := r[5].(float64)
		created, _ := r[6].(float64)
		f.Confirmed, f.Enabled, f.Preferred = conf != 0, en != 0, pref != 0
		f.CreatedAt = fromMS(int64(created))
		se.Factors = append(se.Factors, f)
	}
	return nil
}

// GetUserSession implements store.Querier.
func (q *querier) GetUserSession(ctx context.Context, poolID, sub, originJTI string) (*store.UserSession, error) {
	return q.getUserSession(ctx, poolID, sub, originJTI, false)
}

// GetUserSessionMFA implements store.Querier.
func (q *querier) GetUserSessionMFA(ctx context.Context, poolID, sub, originJTI string) (*store.UserSession, error) {
	return q.getUserSession(ctx, poolID, sub, originJTI, true)
}

func (q *querier) getUserSession(ctx context.Context, poolID, sub, originJTI string, mfa bool) (*store.UserSession, error) {
	var (
		se                     store.UserSession
		attrs, groups, factors []byte
	)
	post := []any{&attrs, &groups, &se.OriginRevoked}
	extra := ""
	if mfa {
		extra = ",\n\t\t" + q.factorsCol()
		post = append(post, &factors)
	}
	row := q.queryRow(ctx, q.inTx, `SELECT `+q.sessionCols()+`,
		(? <> '' AND EXISTS (SELECT 1 FROM revoked_origins o WHERE o.pool_id = u.pool_id AND o.origin_jti = ?))`+extra+`
		FROM users u WHERE u.pool_id = ? AND u.sub = ?`, originJTI, originJTI, poolID, sub)
	u, err := scanUser(scanWith{sc: row, post: post})
	if err != nil {
		return nil, q.scanErr(err, "user "+sub)
	}
	if err := finishSession(u, attrs, groups, &se); err != nil {
		return nil, err
	}
	if mfa {
		if err := decodeFactors(factors, u, &se); err != nil {
			return nil, err
		}
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
		attrs, groups, idents         []byte
	)
	row := q.queryRow(ctx, q.inTx, `SELECT `+refreshColsR+`, `+q.sessionCols()+`,
		`+q.identitiesCol()+`
		FROM refresh_tokens r JOIN users u ON u.pool_id = r.pool_id AND u.sub = r.user_sub
		WHERE r.hash = ?`, hash)
	u, err := scanUser(scanWith{sc: row,
		pre: []any{&t.Hash, &t.PoolID, &t.ClientID, &t.UserSub, &t.FamilyID, &t.OriginJTI,
			&auth, &iss, &exp, &used, &revoked, &t.ReplacedBy, &t.Scope, &t.AMR, &t.DeviceKey},
		post: []any{&attrs, &groups, &idents}})
	if err != nil {
		return nil, nil, q.scanErr(err, "refresh token")
	}
	t.AuthTime, t.IssuedAt, t.ExpiresAt = fromMS(auth), fromMS(iss), fromMS(exp)
	t.UsedAt, t.RevokedAt = fromMS(used), fromMS(revoked)
	if err := finishSession(u, attrs, groups, &se); err != nil {
		return nil, nil, err
	}
	if err := decodeIdentities(idents, u, &se); err != nil {
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
