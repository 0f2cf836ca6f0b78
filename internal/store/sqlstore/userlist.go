package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Lists of users (ListUsers, ListUsersInGroup) and their order.
//
// A list reads one index range in the index's order and stops after the
// page: its cost is the page, whatever the pool's size (issue 17). So
// each kind of list has its own order, the order of the index that
// selects its rows:
//
//	no filter                        created_at, sub       users_pool_created
//	email = v                        created_at, sub       users_pool_email_created (PG: users_pool_email_c_created)
//	email ^= p                       email, created_at, sub  the same index
//	username = v, username ^= p      username              UNIQUE (pool_id, username) (PG: users_pool_username_c)
//	sub = v, sub ^= p                sub                   the primary key (PG: users_pool_sub_c)
//	cognito:user_status = v          created_at, sub       users_pool_status (0029)
//	cognito:user_status ^= p         status, created_at, sub  the same index
//	status = Enabled / Disabled      created_at, sub       users_pool_enabled (0029)
//	<attribute> = v                  sub                   user_attributes_name_value (0029; PG user_attributes_value_c_sub)
//	<attribute> ^= p                 value, sub            the same index
//	ListUsersInGroup                 sub                   group_members' primary key
//
// Text compares bytewise (SQLite's BINARY; COLLATE "C" on PostgreSQL,
// whose indexes for these lists are built so), so a prefix is one index
// range and the order is code point order. Cognito documents no order
// for ListUsers: docs/cognito.md states this one.
//
// The pagination token is the last row's position in that order, bound
// to the pool and the list (filter or group): a token of another pool,
// filter or group is refused (invalid_parameter, Cognito's
// InvalidParameterException), never read as a position in this one.
// Rows inserted or deleted between pages move nothing: the next page
// starts after the position, so no row that stayed is repeated or
// skipped.

// listKey is one term of a list's order.
type listKey struct {
	expr string // SQL, selected and ordered by
	num  bool   // an integer (else text)
}

// userList is one list of users: its FROM and WHERE, and its order.
//
// A list whose rows come from another table (attributes, group members)
// reads that table's index in a subquery with the LIMIT, then joins the
// users: written as one join, the planners may walk the users' primary
// key in sub order instead (a.sub = u.sub makes that order the same),
// probing the other table for each user, which costs the pool when the
// matches are few.
type userList struct {
	from string // "FROM ... WHERE ..." selecting users u, or the rows of joined
	args []any
	keys []listKey
	bind string // what its tokens are bound to
	// lower is the prefix's lower bound, for the first page only.
	lower     string
	lowerArgs []any
	// joined: from selects rows of another table, one per user, and the
	// last key is that row's user's sub.
	joined bool
}

var (
	keyCreated = listKey{expr: "u.created_at", num: true}
	keySub     = listKey{expr: "u.sub"}
)

// attrFilterNames are the attributes ListUsers filters through
// user_attributes.
var attrFilterNames = map[string]bool{
	"name": true, "given_name": true, "family_name": true,
	"preferred_username": true, "phone_number": true,
}

// match returns the SQL condition comparing expr (already in the
// dialect's bytewise collation) to value: equality, or a prefix, written
// as the index range [value, successor) and checked exactly with substr,
// which (unlike LIKE) has no wildcards to escape and is case-sensitive.
// A prefix's lower bound is returned apart (lower): a page after the
// first starts at its token's position instead, which is above it, and
// a second lower bound would leave the planners to pick either.
//
// With BytewiseText (SQLite) the range is [value, value+"\xff"), since no
// valid UTF-8 string holds the byte 0xff, so every string starting with
// value sorts below the bound; with PrefixCollate (PostgreSQL, COLLATE
// "C") [value, successor(value)), PostgreSQL refusing invalid UTF-8.
func match(expr string, op store.FilterOp, value string, d *Dialect) (cond string, args []any, lower string, lowerArgs []any) {
	if op != store.FilterPrefix {
		return expr + ` = ?`, []any{value}, "", nil
	}
	c, a := `substr(`+expr+`, 1, ?) = ?`, []any{utf8.RuneCountInString(value), value}
	lower, lowerArgs = expr+` >= ?`, []any{value}
	switch {
	case d.BytewiseText:
		return expr + ` < ? AND ` + c, append([]any{value + "\xff"}, a...), lower, lowerArgs
	default:
		if hi, ok := prefixSuccessor(value); ok {
			return expr + ` < ? AND ` + c, append([]any{hi}, a...), lower, lowerArgs
		}
		return c, a, lower, lowerArgs
	}
}

// prefixSuccessor returns the least string above every string that starts
// with p, in code point (UTF-8 byte) order: p with its last code point
// incremented (past the surrogates), dropping trailing U+10FFFF. ok is
// false when there is none (p empty or only U+10FFFF).
func prefixSuccessor(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		if r == utf8.RuneError && size == 1 {
			continue // not UTF-8: never stored (PostgreSQL refuses it)
		}
		if r >= utf8.MaxRune {
			continue
		}
		r++
		if r >= 0xD800 && r <= 0xDFFF {
			r = 0xE000
		}
		return p + string(r), true
	}
	return "", false
}

// usersList turns a ListUsers filter into its list. An unsupported filter
// is an invalid_parameter *identity.Error.
func usersList(poolID string, f *store.UserFilter, d *Dialect) (userList, error) {
	l := userList{from: `FROM users u WHERE u.pool_id = ?`, args: []any{poolID}, keys: []listKey{keyCreated, keySub}}
	if f == nil {
		l.bind = "users\x00" + poolID
		return l, nil
	}
	if f.Op != store.FilterEquals && f.Op != store.FilterPrefix {
		return l, identity.FieldError("Filter", "Unsupported filter operator %q.", f.Op)
	}
	l.bind = "users\x00" + poolID + "\x00" + f.Attr + "\x00" + string(f.Op) + "\x00" + f.Value
	col := func(c string) string { return c + d.PrefixCollate }
	// column filters a users column; ordered by it (a prefix) or by the
	// rest (equality: the column is constant), then rest.
	column := func(c, value string, rest ...listKey) {
		cond, args, lower, lowerArgs := match(col(c), f.Op, value, d)
		l.from += ` AND ` + cond
		l.args = append(l.args, args...)
		l.lower, l.lowerArgs = lower, lowerArgs
		l.keys = rest
		if f.Op == store.FilterPrefix || len(rest) == 0 {
			l.keys = append([]listKey{{expr: col(c)}}, rest...)
		}
	}
	switch attr := f.Attr; {
	case attr == "username":
		column("u.username", strings.ToLower(f.Value))
	case attr == "email":
		column("u.email", strings.ToLower(f.Value), keyCreated, keySub)
	case attr == "sub":
		column("u.sub", f.Value)
	case attr == "cognito:user_status" || attr == "status_code":
		column("u.status", f.Value, keyCreated, keySub)
	case attr == "status":
		// "Enabled" / "Disabled", matched in Go against both words.
		var on []int
		for i, word := range []string{"Disabled", "Enabled"} {
			if word == f.Value || (f.Op == store.FilterPrefix && strings.HasPrefix(word, f.Value)) {
				on = append(on, i)
			}
		}
		switch len(on) {
		case 0:
			l.from += ` AND 1 = 0`
		case 1:
			l.from += ` AND u.enabled = ?`
			l.args = append(l.args, on[0])
		}
	case attrFilterNames[attr]:
		cond, args, lower, lowerArgs := match(col("a.value"), f.Op, f.Value, d)
		l.from = `FROM user_attributes a WHERE a.pool_id = ? AND a.name = ? AND ` + cond
		l.args = append([]any{poolID, attr}, args...)
		l.lower, l.lowerArgs = lower, lowerArgs
		l.joined = true
		l.keys = []listKey{{expr: "a.sub"}}
		if f.Op == store.FilterPrefix {
			l.keys = []listKey{{expr: col("a.value")}, {expr: "a.sub"}}
		}
	default:
		return l, identity.FieldError("Filter", "Cannot filter on attribute %q.", f.Attr)
	}
	return l, nil
}

// ListUsers lists the pool's users, optionally filtered, in the order of
// the list's index (the table at the top of this file). An unsupported
// filter or a token of another list is an invalid_parameter
// *identity.Error.
func (q *querier) ListUsers(ctx context.Context, poolID string, filter *store.UserFilter, page store.Page) ([]*identity.User, string, error) {
	l, err := usersList(poolID, filter, q.d)
	if err != nil {
		return nil, "", err
	}
	return q.listUsers(ctx, poolID, l, page)
}

// bindTag is the part of a token that names its list: a hash, so the
// token stays short and says nothing of the filter.
func bindTag(bind string) string {
	h := sha256.Sum256([]byte(bind))
	return base64.RawURLEncoding.EncodeToString(h[:9])
}

// listUsers reads one page of l, in l's order, after the page token's
// position.
func (q *querier) listUsers(ctx context.Context, poolID string, l userList, page store.Page) ([]*identity.User, string, error) {
	tag := bindTag(l.bind)
	exprs := make([]string, len(l.keys))
	for i, k := range l.keys {
		exprs[i] = k.expr
	}
	where, args := l.from, l.args
	if page.Token != "" {
		var got string
		dst := []any{&got}
		pos := make([]any, len(l.keys))
		for i, k := range l.keys {
			if k.num {
				pos[i] = new(int64)
			} else {
				pos[i] = new(string)
			}
			dst = append(dst, pos[i])
		}
		if err := decodeToken(page.Token, dst...); err != nil {
			return nil, "", err
		}
		if got != tag {
			return nil, "", errBadToken
		}
		// A row value: both databases read it as the lower bound of
		// the index range.
		where += ` AND (` + strings.Join(exprs, ", ") + `) > (?` + strings.Repeat(", ?", len(exprs)-1) + `)`
		args = append(args[:len(args):len(args)], deref(pos)...)
	} else if l.lower != "" {
		where += ` AND ` + l.lower
		args = append(args[:len(args):len(args)], l.lowerArgs...)
	}
	n := page.Size()
	order := strings.Join(exprs, ", ")
	stmt := `SELECT ` + userCols + `, ` + order + ` ` + where + ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args[:len(args):len(args)], n+1)
	if l.joined {
		outer := make([]string, len(exprs))
		for i := range exprs {
			outer[i] = fmt.Sprintf("x.k%d", i)
			exprs[i] += fmt.Sprintf(" AS k%d", i)
		}
		// The sub is selected once (the last key), so PostgreSQL sees
		// the outer order as the subquery's and does not sort again.
		stmt = `SELECT ` + userCols + `, ` + strings.Join(outer, ", ") + ` FROM (SELECT ` +
			strings.Join(exprs, ", ") + ` ` + where + ` ORDER BY ` + order + ` LIMIT ?) x
			JOIN users u ON u.pool_id = ? AND u.sub = ` + outer[len(outer)-1] + ` ORDER BY ` + strings.Join(outer, ", ")
		args = append(args, poolID)
	}
	rows, err := q.query(ctx, false, stmt, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var list []*identity.User
	var last []any
	for rows.Next() {
		pos := make([]any, len(l.keys))
		ptrs := make([]any, len(l.keys))
		for i, k := range l.keys {
			if k.num {
				ptrs[i] = new(int64)
			} else {
				ptrs[i] = new(string)
			}
		}
		u, err := scanUser(scanPlus{rows, ptrs})
		if err != nil {
			return nil, "", err
		}
		copy(pos, deref(ptrs))
		if len(list) < n {
			list = append(list, u)
			last = pos
		} else {
			list = append(list, nil) // one more: there is a next page
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	var next string
	if len(list) > n {
		list = list[:n]
		next = encodeToken(append([]any{tag}, last...)...)
	}
	if err := q.loadAttributes(ctx, poolID, list); err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// scanPlus scans a row into a scanner's columns and then extra ones.
type scanPlus struct {
	sc    interface{ Scan(...any) error }
	extra []any
}

func (s scanPlus) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.extra...)...) }

// deref returns the values behind *int64 and *string pointers.
func deref(ptrs []any) []any {
	out := make([]any, len(ptrs))
	for i, p := range ptrs {
		switch p := p.(type) {
		case *int64:
			out[i] = *p
		case *string:
			out[i] = *p
		}
	}
	return out
}
