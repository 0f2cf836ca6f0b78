package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

const groupCols = `g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created_at, g.updated_at`

func scanGroup(sc interface{ Scan(...any) error }) (*identity.Group, error) {
	var (
		g       identity.Group
		prec    sql.NullInt64
		cr, upd int64
	)
	if err := sc.Scan(&g.PoolID, &g.Name, &g.Description, &prec, &g.RoleARN, &cr, &upd); err != nil {
		return nil, err
	}
	if prec.Valid {
		p := int(prec.Int64)
		g.Precedence = &p
	}
	g.CreatedAt, g.UpdatedAt = fromMS(cr), fromMS(upd)
	return &g, nil
}

func precArg(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// CreateGroup inserts g. ErrConflict if the name is taken in the pool;
// ErrNotFound if the pool does not exist.
func (q *querier) CreateGroup(ctx context.Context, g *identity.Group) error {
	err := q.execGuarded(ctx, `INSERT INTO user_groups (pool_id, name, description, precedence, role_arn, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?)`, g.PoolID, g.Name, g.Description, precArg(g.Precedence), g.RoleARN, ms(g.CreatedAt), ms(g.UpdatedAt))
	return err
}

// GetGroup returns the group or ErrNotFound.
func (q *querier) GetGroup(ctx context.Context, poolID, name string) (*identity.Group, error) {
	g, err := scanGroup(q.queryRow(ctx, false, `SELECT `+groupCols+` FROM user_groups g WHERE g.pool_id = ? AND g.name = ?`, poolID, name))
	if err != nil {
		return nil, q.scanErr(err, "group "+name)
	}
	return g, nil
}

// ListGroups lists the pool's groups ordered by name.
func (q *querier) ListGroups(ctx context.Context, poolID string, page store.Page) ([]*identity.Group, string, error) {
	after := ""
	if page.Token != "" {
		if err := decodeToken(page.Token, &after); err != nil {
			return nil, "", err
		}
	}
	n := page.Size()
	rows, err := q.query(ctx, false, `SELECT `+groupCols+` FROM user_groups g WHERE g.pool_id = ? AND g.name > ?
		ORDER BY g.name LIMIT ?`, poolID, after, n+1)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(rows, scanGroup)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(list[n-1].Name)
	}
	return list, next, nil
}

// UpdateGroup writes description, precedence, role and UpdatedAt.
func (q *querier) UpdateGroup(ctx context.Context, g *identity.Group) error {
	return q.execOne(ctx, "group "+g.Name, `UPDATE user_groups SET description = ?, precedence = ?, role_arn = ?, updated_at = ?
		WHERE pool_id = ? AND name = ?`, g.Description, precArg(g.Precedence), g.RoleARN, ms(g.UpdatedAt), g.PoolID, g.Name)
}

// DeleteGroup deletes the group and its memberships.
func (q *querier) DeleteGroup(ctx context.Context, poolID, name string) error {
	return q.execOne(ctx, "group "+name, `DELETE FROM user_groups WHERE pool_id = ? AND name = ?`, poolID, name)
}

// AddUserToGroup adds the membership; adding it twice is not an error.
// ErrNotFound if the user or the group does not exist.
func (q *querier) AddUserToGroup(ctx context.Context, poolID, sub, group string) error {
	err := q.execGuarded(ctx, `INSERT INTO group_members (pool_id, group_name, sub) VALUES (?,?,?)
		ON CONFLICT (pool_id, group_name, sub) DO NOTHING`, poolID, group, sub)
	return err
}

// RemoveUserFromGroup removes the membership if it exists.
func (q *querier) RemoveUserFromGroup(ctx context.Context, poolID, sub, group string) error {
	_, err := q.exec(ctx, `DELETE FROM group_members WHERE pool_id = ? AND group_name = ? AND sub = ?`, poolID, group, sub)
	return err
}

// ListGroupsForUser returns the user's groups by precedence (lowest first,
// none last), then name.
func (q *querier) ListGroupsForUser(ctx context.Context, poolID, sub string) ([]*identity.Group, error) {
	rows, err := q.query(ctx, false, `SELECT `+groupCols+` FROM user_groups g
		JOIN group_members m ON m.pool_id = g.pool_id AND m.group_name = g.name
		WHERE m.pool_id = ? AND m.sub = ?
		ORDER BY CASE WHEN g.precedence IS NULL THEN 1 ELSE 0 END, g.precedence, g.name`, poolID, sub)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanGroup)
	if err == nil && len(list) == 0 {
		err = q.exists(ctx, "user "+sub, `SELECT COUNT(*) FROM users WHERE pool_id = ? AND sub = ?`, poolID, sub)
	}
	return list, err
}

// ListUsersInGroup lists the group's members ordered by sub (the
// group_members primary key's order, so a page costs the page whatever
// the group's size; userlist.go). ErrNotFound if the group does not
// exist.
func (q *querier) ListUsersInGroup(ctx context.Context, poolID, group string, page store.Page) ([]*identity.User, string, error) {
	list, next, err := q.listUsers(ctx, poolID, userList{
		from:   `FROM group_members m WHERE m.pool_id = ? AND m.group_name = ?`,
		args:   []any{poolID, group},
		keys:   []listKey{{expr: "m.sub"}},
		joined: true,
		bind:   "group\x00" + poolID + "\x00" + group,
	}, page)
	if err == nil && len(list) == 0 {
		err = q.exists(ctx, "group "+group, `SELECT COUNT(*) FROM user_groups WHERE pool_id = ? AND name = ?`, poolID, group)
	}
	return list, next, err
}

// exists runs a COUNT query and returns ErrNotFound (naming what) if it
// counts nothing.
func (q *querier) exists(ctx context.Context, what, query string, args ...any) error {
	var n int
	if err := q.queryRow(ctx, false, query, args...).Scan(&n); err != nil {
		return q.mapErr(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}
