package auth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func TestGroupsValidation(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		cases := []struct {
			name  string
			g     identity.Group
			field string
		}{
			{"empty", identity.Group{}, "group_name"},
			{"space", identity.Group{Name: "two words"}, "group_name"},
			{"tab", identity.Group{Name: "a\tb"}, "group_name"},
			{"control", identity.Group{Name: "a\x01b"}, "group_name"},
			{"long", identity.Group{Name: strings.Repeat("g", 129)}, "group_name"},
			{"bad utf8", identity.Group{Name: "a\xffb"}, "group_name"},
			{"negative precedence", identity.Group{Name: "g", Precedence: admIntp(-1)}, "precedence"},
			{"long description", identity.Group{Name: "g", Description: strings.Repeat("d", 2049)}, "description"},
			{"role arn", identity.Group{Name: "g", RoleARN: "role/admin"}, "role_arn"},
		}
		for _, c := range cases {
			c.g.PoolID = p.ID
			_, err := e.s.CreateGroup(e.ctx, &c.g)
			ie := admWantCode(t, err, identity.CodeInvalidParameter)
			if ie.Field != c.field {
				t.Errorf("%s: field %q (%s), want %q", c.name, ie.Field, ie.Message, c.field)
			}
		}
		gs, _, _ := e.st.ListGroups(e.ctx, p.ID, store.Page{})
		if len(gs) != 0 {
			t.Errorf("invalid groups wrote %d groups", len(gs))
		}

		g, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: "Admins", Description: "The admins", Precedence: admIntp(0), RoleARN: "arn:aws:iam::123456789012:role/admin"})
		if err != nil {
			t.Fatal(err)
		}
		if g.CreatedAt.IsZero() {
			t.Error("CreatedAt not set")
		}
		_, err = e.s.CreateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: "Admins"})
		ie := admWantCode(t, err, identity.CodeGroupExists)
		if ie.Message != "A group with the name Admins already exists." {
			t.Errorf("message %q", ie.Message)
		}
		_, err = e.s.CreateGroup(e.ctx, &identity.Group{PoolID: "us-east-1_Unknown12", Name: "x"})
		admWantCode(t, err, identity.CodeResourceNotFound)

		g.Description = "Changed"
		g.Precedence = nil
		if _, err := e.s.UpdateGroup(e.ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.GetGroup(e.ctx, p.ID, "Admins")
		if err != nil || got.Description != "Changed" || got.Precedence != nil || got.RoleARN == "" {
			t.Errorf("after update %+v, %v", got, err)
		}
		_, err = e.s.UpdateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: "Nope"})
		admWantCode(t, err, identity.CodeResourceNotFound)
		_, err = e.s.GetGroup(e.ctx, p.ID, "Nope")
		admWantCode(t, err, identity.CodeResourceNotFound)
		if err := e.s.DeleteGroup(e.ctx, p.ID, "Admins"); err != nil {
			t.Fatal(err)
		}
		admWantCode(t, e.s.DeleteGroup(e.ctx, p.ID, "Admins"), identity.CodeResourceNotFound)
		a := e.auditActions(p.ID)
		for _, want := range []string{"admin.group_create", "admin.group_update", "admin.group_delete"} {
			if !contains(a, want) {
				t.Errorf("audit %v lacks %s", a, want)
			}
		}
	})
}

func TestGroupMembership(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		for _, g := range []identity.Group{
			{Name: "zeta", Precedence: admIntp(1)},
			{Name: "alpha"},
			{Name: "beta", Precedence: admIntp(5)},
			{Name: "admins", Precedence: admIntp(0)},
			{Name: "aardvark"},
		} {
			g.PoolID = p.ID
			if _, err := e.s.CreateGroup(e.ctx, &g); err != nil {
				t.Fatal(err)
			}
		}
		u := e.user(p, "ann@example.com", nil)
		for _, g := range []string{"alpha", "beta", "zeta", "admins", "aardvark", "beta"} {
			if err := e.s.AdminAddUserToGroup(e.ctx, p.ID, "ANN@example.com", g); err != nil {
				t.Fatalf("add to %s: %v", g, err)
			}
		}
		want := "admins,zeta,beta,aardvark,alpha" // precedence, none last, then name
		gs, err := e.s.AdminListGroupsForUser(e.ctx, p.ID, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, len(gs))
		for i, g := range gs {
			names[i] = g.Name
		}
		if strings.Join(names, ",") != want {
			t.Errorf("groups = %v, want %s", names, want)
		}
		v, err := e.s.AdminGetUser(e.ctx, p.ID, u.Sub)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(v.Groups, ",") != want {
			t.Errorf("AdminGetUser groups = %v", v.Groups)
		}

		members, _, err := e.s.ListUsersInGroup(e.ctx, p.ID, "beta", 0, "")
		if err != nil || len(members) != 1 || members[0].Sub != u.Sub {
			t.Errorf("members = %v, %v", members, err)
		}
		if err := e.s.AdminRemoveUserFromGroup(e.ctx, p.ID, u.Username, "beta"); err != nil {
			t.Fatal(err)
		}
		if err := e.s.AdminRemoveUserFromGroup(e.ctx, p.ID, u.Username, "beta"); err != nil {
			t.Fatalf("second remove: %v", err)
		}
		members, _, _ = e.s.ListUsersInGroup(e.ctx, p.ID, "beta", 0, "")
		if len(members) != 0 {
			t.Errorf("still a member: %v", members)
		}

		admWantCode(t, e.s.AdminAddUserToGroup(e.ctx, p.ID, u.Username, "missing"), identity.CodeResourceNotFound)
		admWantCode(t, e.s.AdminAddUserToGroup(e.ctx, p.ID, "nobody@example.com", "alpha"), identity.CodeUserNotFound)
		_, _, err = e.s.ListUsersInGroup(e.ctx, p.ID, "missing", 0, "")
		admWantCode(t, err, identity.CodeResourceNotFound)
	})
}

func TestGroupsPerUserLimit(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		u := e.user(p, "many@example.com", nil)
		for i := range MaxGroupsPerUser + 1 {
			name := fmt.Sprintf("g%03d", i)
			if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: p.ID, Name: name}); err != nil {
				t.Fatal(err)
			}
			err := e.s.AdminAddUserToGroup(e.ctx, p.ID, u.Username, name)
			if i < MaxGroupsPerUser && err != nil {
				t.Fatalf("add %d: %v", i, err)
			}
			if i == MaxGroupsPerUser {
				admWantCode(t, err, identity.CodeLimitExceeded)
			}
		}
		// Re-adding an existing membership at the limit is still fine.
		if err := e.s.AdminAddUserToGroup(e.ctx, p.ID, u.Username, "g000"); err != nil {
			t.Errorf("re-add at limit: %v", err)
		}
		gs, _ := e.s.AdminListGroupsForUser(e.ctx, p.ID, u.Username)
		if len(gs) != MaxGroupsPerUser {
			t.Errorf("member of %d groups", len(gs))
		}
	})
}
