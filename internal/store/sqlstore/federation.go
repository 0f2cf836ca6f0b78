package sqlstore

import (
	"context"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const linkedCols = `pool_id, provider_name, subject, provider_type, issuer, user_sub, created_at`

// CreateLinkedIdentity stores l. ErrConflict if (pool, provider, subject)
// is linked already; ErrNotFound if the user does not exist.
func (q *querier) CreateLinkedIdentity(ctx context.Context, l *identity.LinkedIdentity) error {
	return q.execGuarded(ctx, `INSERT INTO linked_identities (`+linkedCols+`) VALUES (?,?,?,?,?,?,?)`,
		l.PoolID, l.ProviderName, l.Subject, l.ProviderType, l.Issuer, l.UserSub, ms(l.CreatedAt))
}

// GetLinkedIdentity returns the link of (pool, provider, subject).
func (q *querier) GetLinkedIdentity(ctx context.Context, poolID, provider, subject string) (*identity.LinkedIdentity, error) {
	var (
		l       identity.LinkedIdentity
		created int64
	)
	err := q.queryRow(ctx, q.inTx, `SELECT `+linkedCols+` FROM linked_identities WHERE pool_id = ? AND provider_name = ? AND subject = ?`,
		poolID, provider, subject).Scan(&l.PoolID, &l.ProviderName, &l.Subject, &l.ProviderType, &l.Issuer, &l.UserSub, &created)
	if err != nil {
		return nil, q.scanErr(err, "linked identity")
	}
	l.CreatedAt = fromMS(created)
	return &l, nil
}

// ListLinkedIdentities returns the user's links, oldest first.
func (q *querier) ListLinkedIdentities(ctx context.Context, poolID, sub string) ([]*identity.LinkedIdentity, error) {
	rows, err := q.query(ctx, q.inTx, `SELECT `+linkedCols+` FROM linked_identities WHERE pool_id = ? AND user_sub = ?
		ORDER BY created_at, provider_name, subject`, poolID, sub)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.LinkedIdentity
	for rows.Next() {
		var (
			l       identity.LinkedIdentity
			created int64
		)
		if err := rows.Scan(&l.PoolID, &l.ProviderName, &l.Subject, &l.ProviderType, &l.Issuer, &l.UserSub, &created); err != nil {
			return nil, q.mapErr(err)
		}
		l.CreatedAt = fromMS(created)
		out = append(out, &l)
	}
	return out, q.mapErr(rows.Err())
}

// DeleteLinkedIdentity removes the link of (pool, provider, subject) if it
// belongs to userSub (one statement: a link that moved to another user in
// between is left alone); ErrNotFound otherwise.
func (q *querier) DeleteLinkedIdentity(ctx context.Context, poolID, provider, subject, userSub string) error {
	return q.execOne(ctx, "linked identity", `DELETE FROM linked_identities WHERE pool_id = ? AND provider_name = ? AND subject = ? AND user_sub = ?`,
		poolID, provider, subject, userSub)
}
