package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// The order of each list (sqlstore/userlist.go, docs/cognito.md "The
// order of ListUsers"): a filtered list is ordered by the filtered value
// (bytewise), then its tie-break; an equality by the tie-break alone.

// listSpec is one list and the order it promises.
type listSpec struct {
	name  string
	f     *store.UserFilter
	group string // ListUsersInGroup instead
	match func(u *identity.User) bool
	less  func(a, b *identity.User) int
}

func byCreated(a, b *identity.User) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Sub, b.Sub))
}
func bySub(a, b *identity.User) int { return strings.Compare(a.Sub, b.Sub) }

func listSpecs() []listSpec {
	attrBy := func(name string) func(a, b *identity.User) int {
		return func(a, b *identity.User) int {
			return cmp.Or(strings.Compare(a.Attributes[name], b.Attributes[name]), bySub(a, b))
		}
	}
	return []listSpec{
		{name: "all", match: func(*identity.User) bool { return true }, less: byCreated},
		{name: "email ^=", f: &store.UserFilter{Attr: "email", Op: store.FilterPrefix, Value: "a"},
			match: func(u *identity.User) bool { return strings.HasPrefix(u.Email, "a") },
			less: func(a, b *identity.User) int {
				return cmp.Or(strings.Compare(a.Email, b.Email), byCreated(a, b))
			}},
		{name: "email =", f: &store.UserFilter{Attr: "email", Op: store.FilterEquals, Value: "shared@example.com"},
			match: func(u *identity.User) bool { return u.Email == "shared@example.com" }, less: byCreated},
		{name: "username ^=", f: &store.UserFilter{Attr: "username", Op: store.FilterPrefix, Value: "u"},
			match: func(u *identity.User) bool { return strings.HasPrefix(u.Username, "u") },
			less:  func(a, b *identity.User) int { return strings.Compare(a.Username, b.Username) }},
		{name: "sub ^=", f: &store.UserFilter{Attr: "sub", Op: store.FilterPrefix, Value: "sub-"},
			match: func(u *identity.User) bool { return strings.HasPrefix(u.Sub, "sub-") }, less: bySub},
		{name: "given_name ^=", f: &store.UserFilter{Attr: "given_name", Op: store.FilterPrefix, Value: "A"},
			match: func(u *identity.User) bool { return strings.HasPrefix(u.Attributes["given_name"], "A") },
			less:  attrBy("given_name")},
		{name: "given_name =", f: &store.UserFilter{Attr: "given_name", Op: store.FilterEquals, Value: "Ann"},
			match: func(u *identity.User) bool { return u.Attributes["given_name"] == "Ann" }, less: bySub},
		{name: "cognito:user_status =", f: &store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "UNCONFIRMED"},
			match: func(u *identity.User) bool { return u.Status == identity.StatusUnconfirmed }, less: byCreated},
		{name: "cognito:user_status ^=", f: &store.UserFilter{Attr: "cognito:user_status", Op: store.FilterPrefix, Value: ""},
			match: func(*identity.User) bool { return true },
			less: func(a, b *identity.User) int {
				return cmp.Or(strings.Compare(string(a.Status), string(b.Status)), byCreated(a, b))
			}},
		{name: "status = Disabled", f: &store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Disabled"},
			match: func(u *identity.User) bool { return !u.Enabled }, less: byCreated},
		{name: "group", group: "g",
			match: func(u *identity.User) bool { return u.Attributes["family_name"] == "InG" }, less: bySub},
	}
}

// listPool fills pool with users that share emails, names, statuses and
// creation times in a scrambled order, so every tie-break is exercised.
func listPool(t *testing.T, s store.Store, pool string) map[string]*identity.User {
	c := ctx(t)
	mustPool(t, s, pool)
	noErr(t, "CreateGroup", s.CreateGroup(c, &identity.Group{PoolID: pool, Name: "g", CreatedAt: t0, UpdatedAt: t0}))
	users := map[string]*identity.User{}
	given := []string{"Ann", "Anna", "Ann", "Bob", "Ana", "Ann", "Åsa", "A"}
	for _, i := range []int{7, 3, 12, 0, 9, 15, 1, 14, 5, 11, 2, 8, 13, 4, 10, 6} {
		u := newUser(pool, fmt.Sprintf("%c%02d", "uau"[i%3], (i*7)%16))
		u.Sub = fmt.Sprintf("sub-%02d", (i*5)%16)
		if i%4 == 0 {
			u.Email = "shared@example.com"
		}
		u.CreatedAt = t0.Add(time.Duration(i/4) * time.Second)
		u.Status = []identity.UserStatus{identity.StatusConfirmed, identity.StatusUnconfirmed, identity.StatusResetRequired}[i%3]
		u.Enabled = i%5 != 0
		u.Attributes = map[string]string{"given_name": given[i%len(given)]}
		if i%2 == 0 {
			u.Attributes["family_name"] = "InG"
		}
		noErr(t, "CreateUser", s.CreateUser(c, u, false))
		if i%2 == 0 {
			noErr(t, "AddUserToGroup", s.AddUserToGroup(c, pool, u.Sub, "g"))
		}
		users[u.Sub] = u
	}
	return users
}

func (sp listSpec) list(s store.Store, t *testing.T, pool string, p store.Page) ([]*identity.User, string, error) {
	if sp.group != "" {
		return s.ListUsersInGroup(ctx(t), pool, sp.group, p)
	}
	return s.ListUsers(ctx(t), pool, sp.f, p)
}

// Every list, paged by 1, 3 and 100, is its matching users in its order.
func testListOrder(t *testing.T, s store.Store) {
	const pool = "eu-west-1_ord"
	users := listPool(t, s, pool)
	for _, sp := range listSpecs() {
		var want []*identity.User
		for _, u := range users {
			if sp.match(u) {
				want = append(want, u)
			}
		}
		slices.SortFunc(want, sp.less)
		if len(want) < 2 {
			t.Fatalf("%s: %d matches: the fixture does not test an order", sp.name, len(want))
		}
		for _, limit := range []int{1, 3, 100} {
			var got []string
			for _, page := range pageAll(t, limit, func(p store.Page) ([]*identity.User, string, error) { return sp.list(s, t, pool, p) }) {
				for _, u := range page {
					got = append(got, u.Sub)
				}
			}
			if w := subsOf(want); !slices.Equal(got, w) {
				t.Errorf("%s, %d a page:\n got %v\nwant %v", sp.name, limit, got, w)
			}
		}
	}
}

func subsOf(us []*identity.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Sub
	}
	return out
}

// Between two pages users are added and deleted, among them the last
// user of the first page (the token's position): the second page goes
// on after the position, every user that stayed is listed exactly once,
// and a deleted one never.
func testListChangesBetweenPages(t *testing.T, s store.Store) {
	c := ctx(t)
	for i, sp := range listSpecs() {
		t.Run(sp.name, func(t *testing.T) {
			pool := fmt.Sprintf("eu-west-1_chg%d", i)
			users := listPool(t, s, pool)
			first, next, err := sp.list(s, t, pool, store.Page{Limit: 2})
			noErr(t, "first page", err)
			if next == "" || len(first) != 2 {
				t.Fatalf("first page: %d users, next %q", len(first), next)
			}
			seen := map[string]int{}
			for _, u := range first {
				seen[u.Sub]++
			}
			// Delete the position, and one user after it.
			var rest []*identity.User
			for _, u := range users {
				if sp.match(u) && seen[u.Sub] == 0 {
					rest = append(rest, u)
				}
			}
			slices.SortFunc(rest, sp.less)
			gone := map[string]bool{first[1].Sub: true, rest[len(rest)-1].Sub: true}
			for sub := range gone {
				noErr(t, "DeleteUser", s.DeleteUser(c, pool, sub))
			}
			// Add users before and after the position in every order:
			// a copy of the first and of the last matching user, with
			// the subs, names and times just below and above theirs.
			for j, base := range []*identity.User{first[0], rest[0]} {
				u := *base
				u.Sub = base.Sub + "x"
				u.Username = fmt.Sprintf("%s-new%d", base.Username, j)
				u.Attributes = map[string]string{}
				for k, v := range base.Attributes {
					u.Attributes[k] = v
				}
				noErr(t, "CreateUser", s.CreateUser(c, &u, false))
				if sp.group != "" {
					noErr(t, "AddUserToGroup", s.AddUserToGroup(c, pool, u.Sub, sp.group))
				}
			}
			tok := next
			for tok != "" {
				page, n, err := sp.list(s, t, pool, store.Page{Limit: 2, Token: tok})
				noErr(t, "next page", err)
				for _, u := range page {
					seen[u.Sub]++
				}
				tok = n
			}
			for sub, n := range seen {
				if n > 1 {
					t.Errorf("%s listed %d times", sub, n)
				}
			}
			for _, u := range rest {
				if !gone[u.Sub] && seen[u.Sub] != 1 {
					t.Errorf("%s stayed but was listed %d times", u.Sub, seen[u.Sub])
				}
			}
			if seen[rest[len(rest)-1].Sub] != 0 {
				t.Errorf("deleted %s was listed", rest[len(rest)-1].Sub)
			}
			// The copy of the last user sorts after the position: listed.
			if seen[rest[0].Sub+"x"] != 1 {
				t.Errorf("%s, added after the position, listed %d times", rest[0].Sub+"x", seen[rest[0].Sub+"x"])
			}
		})
	}
}

// A token works only for the pool and list it came from: another pool,
// another filter (attribute, operator or value), ListUsersInGroup of
// another group, or a list of the other kind refuse it as invalid, and
// none reads it as a position.
func testListTokensBound(t *testing.T, s store.Store) {
	c := ctx(t)
	const a, b = "eu-west-1_tka", "eu-west-1_tkb"
	listPool(t, s, a)
	listPool(t, s, b)
	noErr(t, "CreateGroup", s.CreateGroup(c, &identity.Group{PoolID: a, Name: "h", CreatedAt: t0, UpdatedAt: t0}))
	noErr(t, "AddUserToGroup", s.AddUserToGroup(c, a, "sub-00", "h"))
	specs := listSpecs()
	other := []*store.UserFilter{
		{Attr: "email", Op: store.FilterPrefix, Value: "ab"},
		{Attr: "email", Op: store.FilterEquals, Value: "a"},
		{Attr: "given_name", Op: store.FilterPrefix, Value: "A"},
		{Attr: "family_name", Op: store.FilterPrefix, Value: "A"},
	}
	for _, sp := range specs {
		_, tok, err := sp.list(s, t, a, store.Page{Limit: 1})
		noErr(t, sp.name, err)
		if tok == "" {
			t.Fatalf("%s: no token", sp.name)
		}
		if _, _, err := sp.list(s, t, a, store.Page{Limit: 1, Token: tok}); err != nil {
			t.Errorf("%s: its own token: %v", sp.name, err)
		}
		refused := func(what string, err error) {
			t.Helper()
			if identity.ErrorCode(err) != identity.CodeInvalidParameter {
				t.Errorf("%s token used %s: err = %v, want invalid_parameter", sp.name, what, err)
			}
		}
		_, _, err = sp.list(s, t, b, store.Page{Limit: 1, Token: tok})
		refused("in another pool", err)
		for _, o := range specs {
			if o.name == sp.name {
				continue
			}
			_, _, err = o.list(s, t, a, store.Page{Limit: 1, Token: tok})
			refused("for "+o.name, err)
		}
		for _, f := range other {
			if sp.f != nil && *f == *sp.f {
				continue
			}
			_, _, err = s.ListUsers(c, a, f, store.Page{Limit: 1, Token: tok})
			refused(fmt.Sprintf("for %+v", *f), err)
		}
		_, _, err = s.ListUsersInGroup(c, a, "h", store.Page{Limit: 1, Token: tok})
		refused("for another group", err)
	}
}
