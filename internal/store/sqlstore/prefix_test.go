package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// The successor bounds exactly the strings starting with the prefix, in
// UTF-8 byte order (what COLLATE "C" compares), and is valid UTF-8
// (PostgreSQL refuses anything else).
func TestPrefixSuccessor(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ann", "ano", true},
		{"a", "b", true},
		{"user9", "user:", true},
		{"jos\u00e9", "jos\u00ea", true},
		{"x\ud7ff", "x\ue000", true}, // past the surrogates
		{"x\U0010FFFF", "y", true},   // the last code point dropped
		{"\U0010FFFF", "", false},
		{"", "", false},
	} {
		got, ok := sqlstore.PrefixSuccessor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PrefixSuccessor(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && (!utf8.ValidString(got) || got <= tc.in) {
			t.Errorf("PrefixSuccessor(%q) = %q: not valid UTF-8 above the prefix", tc.in, got)
		}
		// Every extension of the prefix sorts below the bound.
		for _, ext := range []string{"", "a", "\x7f", "\u00ff", "\uffff", "\U0010FFFF\U0010FFFF"} {
			s := tc.in + ext
			if ok && s >= got {
				t.Errorf("%q starts with %q but is not below %q", s, tc.in, got)
			}
		}
		if ok && strings.HasPrefix(got, tc.in) {
			t.Errorf("PrefixSuccessor(%q) = %q starts with the prefix", tc.in, got)
		}
	}
}

// A prefix taken for one matching many users (the planner's plan) answers
// what one matching few (the index range, sorted) answers, page by page,
// on both databases.
func TestPrefixDenseAndFew(t *testing.T) {
	for _, be := range storetest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			db := be.Open(t)
			ctx := t.Context()
			const pool = "eu-west-1_prefix"
			now := time.Now().UTC().Truncate(time.Millisecond)
			if err := db.CreatePool(ctx, &identity.Pool{ID: pool, Name: pool, UsernameMode: identity.UsernameEmail,
				PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256", MaxFailedAttempts: 5,
				LockoutDuration: time.Minute, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			names := []string{"ann", "anna", "annabel", "bob", "an\u00e9", "zoe", "anx"}
			for i, n := range names {
				u := &identity.User{PoolID: pool, Sub: fmt.Sprintf("sub-%d", i), Username: n + "@example.com", Email: n + "@example.com",
					Status: identity.StatusConfirmed, Enabled: true, Attributes: map[string]string{"given_name": strings.ToUpper(n[:1]) + n[1:]},
					CreatedAt: now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: now}
				if err := db.CreateUser(ctx, u, true); err != nil {
					t.Fatal(err)
				}
			}
			list := func(f store.UserFilter) []string {
				var out []string
				tok := ""
				for {
					us, next, err := db.ListUsers(ctx, pool, &f, store.Page{Limit: 2, Token: tok})
					if err != nil {
						t.Fatalf("%+v: %v", f, err)
					}
					for _, u := range us {
						out = append(out, u.Username)
					}
					if next == "" {
						return out
					}
					tok = next
				}
			}
			for _, f := range []store.UserFilter{
				{Attr: "email", Op: store.FilterPrefix, Value: "ann"},
				{Attr: "username", Op: store.FilterPrefix, Value: "an"},
				{Attr: "username", Op: store.FilterPrefix, Value: "an\u00e9"},
				{Attr: "given_name", Op: store.FilterPrefix, Value: "An"},
				{Attr: "given_name", Op: store.FilterPrefix, Value: "Zz"},
			} {
				few := list(f)
				sqlstore.SetPrefixFew(t, 1)
				dense := list(f)
				sqlstore.SetPrefixFew(t, 5000)
				if fmt.Sprint(few) != fmt.Sprint(dense) {
					t.Errorf("%+v: few %v, dense %v", f, few, dense)
				}
				want := 0
				for _, n := range names {
					v := n + "@example.com"
					if f.Attr == "given_name" {
						v = strings.ToUpper(n[:1]) + n[1:]
					}
					if strings.HasPrefix(v, f.Value) {
						want++
					}
				}
				if len(few) != want {
					t.Errorf("%+v: %d matches %v, want %d", f, len(few), few, want)
				}
			}
		})
	}
}
