package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func intp(i int) *int { return &i }

func testGroups(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_grp"
	mustPool(t, s, pool)
	mustPool(t, s, "eu-west-1_gr2")
	g := &identity.Group{PoolID: pool, Name: "admins", Description: "Admins", Precedence: intp(0),
		RoleARN: "arn:aws:iam::1:role/a", CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "CreateGroup", s.CreateGroup(c, g))
	wantErr(t, "CreateGroup duplicate", s.CreateGroup(c, &identity.Group{PoolID: pool, Name: "admins"}), store.ErrConflict)
	noErr(t, "same name in another pool", s.CreateGroup(c, &identity.Group{PoolID: "eu-west-1_gr2", Name: "admins"}))
	wantErr(t, "CreateGroup missing pool", s.CreateGroup(c, &identity.Group{PoolID: "eu-west-1_no", Name: "x"}), store.ErrNotFound)
	got, err := s.GetGroup(c, pool, "admins")
	noErr(t, "GetGroup", err)
	if !reflect.DeepEqual(got, g) {
		t.Fatalf("GetGroup =\n%+v\nwant\n%+v", got, g)
	}
	_, err = s.GetGroup(c, pool, "nope")
	wantErr(t, "GetGroup missing", err, store.ErrNotFound)

	g.Description, g.Precedence, g.RoleARN, g.UpdatedAt = "All admins", nil, "", t0.Add(time.Minute)
	noErr(t, "UpdateGroup", s.UpdateGroup(c, g))
	got, _ = s.GetGroup(c, pool, "admins")
	if !reflect.DeepEqual(got, g) {
		t.Fatalf("GetGroup after update =\n%+v\nwant\n%+v", got, g)
	}
	wantErr(t, "UpdateGroup missing", s.UpdateGroup(c, &identity.Group{PoolID: pool, Name: "nope"}), store.ErrNotFound)

	// Precedence order: 1, 5, 5 (by name), then nil groups by name.
	for _, x := range []*identity.Group{
		{PoolID: pool, Name: "zeta", Precedence: intp(5)},
		{PoolID: pool, Name: "beta", Precedence: intp(5)},
		{PoolID: pool, Name: "gamma", Precedence: intp(1)},
		{PoolID: pool, Name: "alpha"},
	} {
		noErr(t, "CreateGroup", s.CreateGroup(c, x))
	}
	var names []string
	for _, page := range pageAll(t, 2, func(p store.Page) ([]*identity.Group, string, error) { return s.ListGroups(c, pool, p) }) {
		for _, x := range page {
			names = append(names, x.Name)
		}
	}
	if want := []string{"admins", "alpha", "beta", "gamma", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListGroups = %v, want %v", names, want)
	}

	u := mustUser(t, s, pool, "u")
	v := mustUser(t, s, pool, "v")
	v2 := newUser(pool, "w")
	v2.CreatedAt = t0.Add(-time.Hour) // oldest: listed first
	noErr(t, "CreateUser", s.CreateUser(c, v2, false))
	for _, name := range []string{"zeta", "alpha", "beta", "gamma", "admins"} {
		noErr(t, "AddUserToGroup", s.AddUserToGroup(c, pool, u.Sub, name))
	}
	noErr(t, "AddUserToGroup again", s.AddUserToGroup(c, pool, u.Sub, "beta"))
	wantErr(t, "AddUserToGroup missing group", s.AddUserToGroup(c, pool, u.Sub, "nope"), store.ErrNotFound)
	wantErr(t, "AddUserToGroup missing user", s.AddUserToGroup(c, pool, "nope", "beta"), store.ErrNotFound)
	wantErr(t, "AddUserToGroup group of another pool", s.AddUserToGroup(c, "eu-west-1_gr2", u.Sub, "admins"), store.ErrNotFound)

	gs, err := s.ListGroupsForUser(c, pool, u.Sub)
	noErr(t, "ListGroupsForUser", err)
	names = nil
	for _, x := range gs {
		names = append(names, x.Name)
	}
	if want := []string{"gamma", "beta", "zeta", "admins", "alpha"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ListGroupsForUser = %v, want %v", names, want)
	}
	gs, err = s.ListGroupsForUser(c, pool, v.Sub)
	noErr(t, "ListGroupsForUser none", err)
	if len(gs) != 0 {
		t.Errorf("ListGroupsForUser of user without groups = %d", len(gs))
	}
	_, err = s.ListGroupsForUser(c, pool, "nope")
	wantErr(t, "ListGroupsForUser missing user", err, store.ErrNotFound)

	for _, x := range []*identity.User{v, v2} {
		noErr(t, "AddUserToGroup", s.AddUserToGroup(c, pool, x.Sub, "beta"))
	}
	var subs []string
	for _, page := range pageAll(t, 2, func(p store.Page) ([]*identity.User, string, error) { return s.ListUsersInGroup(c, pool, "beta", p) }) {
		for _, x := range page {
			subs = append(subs, x.Sub)
		}
	}
	// Ordered by sub (userlist.go), whatever the creation order.
	if want := []string{u.Sub, v.Sub, v2.Sub}; !reflect.DeepEqual(subs, want) {
		t.Errorf("ListUsersInGroup = %v, want %v", subs, want)
	}
	list, _, err := s.ListUsersInGroup(c, pool, "alpha", store.Page{})
	noErr(t, "ListUsersInGroup", err)
	if len(list) != 1 || list[0].Sub != u.Sub {
		t.Errorf("ListUsersInGroup alpha = %v", list)
	}
	_, _, err = s.ListUsersInGroup(c, pool, "nope", store.Page{})
	wantErr(t, "ListUsersInGroup missing group", err, store.ErrNotFound)

	noErr(t, "RemoveUserFromGroup", s.RemoveUserFromGroup(c, pool, u.Sub, "beta"))
	noErr(t, "RemoveUserFromGroup again", s.RemoveUserFromGroup(c, pool, u.Sub, "beta"))
	gs, _ = s.ListGroupsForUser(c, pool, u.Sub)
	if len(gs) != 4 {
		t.Errorf("after remove: %d groups", len(gs))
	}

	// Deleting a group drops its memberships; deleting a user drops theirs.
	noErr(t, "DeleteGroup", s.DeleteGroup(c, pool, "gamma"))
	wantErr(t, "DeleteGroup again", s.DeleteGroup(c, pool, "gamma"), store.ErrNotFound)
	gs, _ = s.ListGroupsForUser(c, pool, u.Sub)
	if len(gs) != 3 {
		t.Errorf("after DeleteGroup: %d groups", len(gs))
	}
	noErr(t, "CreateGroup gamma again", s.CreateGroup(c, &identity.Group{PoolID: pool, Name: "gamma"}))
	list, _, err = s.ListUsersInGroup(c, pool, "gamma", store.Page{})
	noErr(t, "ListUsersInGroup recreated", err)
	if len(list) != 0 {
		t.Errorf("recreated group has %d members", len(list))
	}
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, v.Sub))
	list, _, _ = s.ListUsersInGroup(c, pool, "beta", store.Page{})
	if len(list) != 1 || list[0].Sub != v2.Sub {
		t.Errorf("after DeleteUser, beta members = %d", len(list))
	}
}
