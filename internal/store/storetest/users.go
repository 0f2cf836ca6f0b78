package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_usr"
	mustPool(t, s, pool)
	u := &identity.User{
		PoolID: pool, Sub: "0b6f3c1e-1111-4222-8333-444455556666", Username: "alice", Email: "alice@example.com",
		EmailVerified: true, Status: identity.StatusForceChangePassword, Enabled: true,
		Attributes: map[string]string{"name": "Alice A", "given_name": "Alice", "custom:company_name": "Acme",
			"phone_number": "+15550100"},
		PasswordHash: "$argon2id$v=19$...",
		SRPSalt:      "0a1b2c", SRPVerifier: "deadbeef",
		TemporaryPasswordExpiresAt: t0.Add(7 * 24 * time.Hour), PasswordChangedAt: t0.Add(-time.Hour),
		FailedAttempts: 2, LockedUntil: t0.Add(time.Minute), TokensValidAfter: t0.Add(-time.Minute),
		CreatedAt: t0, UpdatedAt: t0.Add(time.Millisecond),
	}
	noErr(t, "CreateUser", s.CreateUser(c, u, true))
	got, err := s.GetUser(c, pool, u.Sub)
	noErr(t, "GetUser", err)
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("GetUser =\n%+v\nwant\n%+v", got, u)
	}
	got, err = s.GetUserByUsername(c, pool, "alice")
	noErr(t, "GetUserByUsername", err)
	if got.Sub != u.Sub || got.Attributes["custom:company_name"] != "Acme" {
		t.Errorf("GetUserByUsername = %+v", got)
	}
	_, err = s.GetUser(c, pool, "nope")
	wantErr(t, "GetUser missing", err, store.ErrNotFound)
	_, err = s.GetUser(c, "eu-west-1_other", u.Sub)
	wantErr(t, "GetUser other pool", err, store.ErrNotFound)
	_, err = s.GetUserByUsername(c, pool, "bob")
	wantErr(t, "GetUserByUsername missing", err, store.ErrNotFound)
	wantErr(t, "CreateUser missing pool", s.CreateUser(c, newUser("eu-west-1_nope", "x"), false), store.ErrNotFound)

	// A user without attributes reads back with nil Attributes.
	plain := mustUser(t, s, pool, "plain")
	got, _ = s.GetUser(c, pool, plain.Sub)
	if got.Attributes != nil {
		t.Errorf("Attributes of plain user = %v, want nil", got.Attributes)
	}

	// UpdateUser writes every field and replaces attributes as a set.
	u.Username, u.Email, u.EmailVerified, u.Status, u.Enabled = "alice2", "alice2@example.com", false, identity.StatusConfirmed, false
	u.Attributes = map[string]string{"family_name": "Anders", "custom:company_name": "Acme 2"}
	u.PasswordHash, u.TemporaryPasswordExpiresAt, u.FailedAttempts, u.LockedUntil = "h2", time.Time{}, 0, time.Time{}
	u.SRPSalt, u.SRPVerifier = "", "" // a password imported as a hash: no verifier
	u.UpdatedAt = t0.Add(time.Hour)
	noErr(t, "UpdateUser", s.UpdateUser(c, u, true))
	got, _ = s.GetUser(c, pool, u.Sub)
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("GetUser after update =\n%+v\nwant\n%+v", got, u)
	}
	u.Attributes = nil
	noErr(t, "UpdateUser no attributes", s.UpdateUser(c, u, true))
	got, _ = s.GetUser(c, pool, u.Sub)
	if got.Attributes != nil {
		t.Errorf("Attributes after clearing = %v", got.Attributes)
	}
	missing := newUser(pool, "ghost")
	wantErr(t, "UpdateUser missing", s.UpdateUser(c, missing, false), store.ErrNotFound)

	// email_verified set to false reads back apart from never set, and
	// neither is verified: lookups of verified addresses skip both.
	for _, set := range []bool{true, false} {
		u.EmailVerified, u.EmailVerifiedFalse = false, set
		noErr(t, "UpdateUser email_verified false", s.UpdateUser(c, u, true))
		got, _ = s.GetUser(c, pool, u.Sub)
		if got.EmailVerified || got.EmailVerifiedFalse != set {
			t.Errorf("EmailVerifiedFalse %t read back as verified=%t false=%t", set, got.EmailVerified, got.EmailVerifiedFalse)
		}
		_, err = s.GetUserByEmail(c, pool, u.Email, true)
		wantErr(t, "GetUserByEmail verified of an unverified address", err, store.ErrNotFound)
	}

	// A pending email is kept beside the address in force, never among the
	// attributes, and finds nobody: lookups by email see the address in
	// force only. Clearing it removes it.
	u.PendingEmail = "alice.new@example.com"
	u.Attributes = map[string]string{"name": "Alice"}
	noErr(t, "UpdateUser pending email", s.UpdateUser(c, u, true))
	got, _ = s.GetUser(c, pool, u.Sub)
	if !reflect.DeepEqual(got, u) || len(got.Attributes) != 1 {
		t.Fatalf("GetUser with a pending email =\n%+v\nwant\n%+v", got, u)
	}
	if _, err := s.GetUserByEmail(c, pool, "alice.new@example.com", false); err == nil {
		t.Error("GetUserByEmail found a user by a pending address")
	}
	if list, _, err := s.ListUsers(c, pool, &store.UserFilter{Attr: "email", Op: store.FilterEquals, Value: "alice.new@example.com"}, store.Page{Limit: 10}); err != nil || len(list) != 0 {
		t.Errorf("ListUsers by a pending address = %v, %v", list, err)
	}
	if list, _, err := s.ListUsers(c, pool, nil, store.Page{Limit: 10}); err != nil || len(list) != 2 {
		t.Errorf("ListUsers = %v, %v", list, err)
	} else {
		for _, l := range list {
			if l.Sub == u.Sub && (l.PendingEmail != u.PendingEmail || len(l.Attributes) != 1) {
				t.Errorf("ListUsers user with a pending email = %+v", l)
			}
		}
	}
	u.PendingEmail = ""
	noErr(t, "UpdateUser clears the pending email", s.UpdateUser(c, u, true))
	got, _ = s.GetUser(c, pool, u.Sub)
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("GetUser after clearing the pending email =\n%+v\nwant\n%+v", got, u)
	}

	// Username clash on update.
	clash := *u
	clash.Username = plain.Username
	wantErr(t, "UpdateUser username clash", s.UpdateUser(c, &clash, false), store.ErrConflict)
	got, _ = s.GetUser(c, pool, u.Sub)
	if got.Username != "alice2" {
		t.Errorf("username after failed update = %q", got.Username)
	}

	n, err := s.CountUsers(c, pool)
	noErr(t, "CountUsers", err)
	if n != 2 {
		t.Errorf("CountUsers = %d, want 2", n)
	}
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, u.Sub))
	_, err = s.GetUser(c, pool, u.Sub)
	wantErr(t, "GetUser deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(c, pool, u.Sub), store.ErrNotFound)
	// The deleted user's attributes are gone: a new user with the same sub
	// starts clean.
	again := newUser(pool, "again")
	again.Sub = u.Sub
	noErr(t, "CreateUser reusing sub", s.CreateUser(c, again, false))
	got, _ = s.GetUser(c, pool, u.Sub)
	if got.Attributes != nil {
		t.Errorf("attributes survived DeleteUser: %v", got.Attributes)
	}
	if n, _ := s.CountUsers(c, pool); n != 2 {
		t.Errorf("CountUsers = %d, want 2", n)
	}
	if n, _ := s.CountUsers(c, "eu-west-1_none"); n != 0 {
		t.Errorf("CountUsers of unknown pool = %d", n)
	}
}

func testUserUniqueness(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool, other = "eu-west-1_unq", "eu-west-1_un2"
	mustPool(t, s, pool)
	mustPool(t, s, other)

	a := newUser(pool, "a")
	a.Email = "shared@example.com"
	noErr(t, "CreateUser a", s.CreateUser(c, a, true))

	// Same username, same pool: conflict. Same sub: conflict.
	dupName := newUser(pool, "a")
	dupName.Sub = "other-sub"
	dupName.Email = "x@example.com"
	wantErr(t, "duplicate username", s.CreateUser(c, dupName, true), store.ErrConflict)
	dupSub := newUser(pool, "zz")
	dupSub.Sub = a.Sub
	wantErr(t, "duplicate sub", s.CreateUser(c, dupSub, false), store.ErrConflict)

	// Same email, unique pool: conflict, and nothing half-written.
	b := newUser(pool, "b")
	b.Email = "shared@example.com"
	b.Attributes = map[string]string{"name": "B"}
	wantErr(t, "duplicate unique email", s.CreateUser(c, b, true), store.ErrConflict)
	_, err := s.GetUser(c, pool, b.Sub)
	wantErr(t, "GetUser after failed create", err, store.ErrNotFound)

	// Same email without uniqueness: allowed, in the same pool too.
	noErr(t, "same email, not unique", s.CreateUser(c, b, false))
	// A later unique insert still clashes with the unique one only.
	c2 := newUser(pool, "c")
	c2.Email = "shared@example.com"
	wantErr(t, "unique email vs existing unique", s.CreateUser(c, c2, true), store.ErrConflict)

	// Another pool: same username and email are fine.
	o := newUser(other, "a")
	o.Email = "shared@example.com"
	noErr(t, "same username and email in another pool", s.CreateUser(c, o, true))

	// Users without email never clash.
	for _, n := range []string{"e1", "e2"} {
		u := newUser(pool, n)
		u.Email = ""
		noErr(t, "CreateUser without email", s.CreateUser(c, u, true))
	}

	// UpdateUser with uniqueEmail: moving to a taken address clashes;
	// releasing the address lets another user take it.
	d := newUser(pool, "d")
	noErr(t, "CreateUser d", s.CreateUser(c, d, true))
	d.Email = "shared@example.com"
	wantErr(t, "UpdateUser to taken email", s.UpdateUser(c, d, true), store.ErrConflict)
	a.Email = "a-new@example.com"
	noErr(t, "UpdateUser a releases email", s.UpdateUser(c, a, true))
	noErr(t, "UpdateUser d takes email", s.UpdateUser(c, d, true))
}

func testUserByEmail(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_eml"
	mustPool(t, s, pool)
	first := newUser(pool, "first")
	first.Email, first.CreatedAt = "same@example.com", t0.Add(2*time.Second)
	second := newUser(pool, "second")
	second.Email, second.CreatedAt, second.EmailVerified = "same@example.com", t0.Add(3*time.Second), true
	third := newUser(pool, "third")
	third.Email, third.CreatedAt = "same@example.com", t0.Add(4*time.Second)
	for _, u := range []*identity.User{third, second, first} {
		noErr(t, "CreateUser", s.CreateUser(c, u, false))
	}
	got, err := s.GetUserByEmail(c, pool, "SAME@Example.com", false)
	noErr(t, "GetUserByEmail", err)
	if got.Sub != first.Sub {
		t.Errorf("GetUserByEmail = %s, want oldest %s", got.Sub, first.Sub)
	}
	got, err = s.GetUserByEmail(c, pool, "same@example.com", true)
	noErr(t, "GetUserByEmail verified", err)
	if got.Sub != second.Sub {
		t.Errorf("GetUserByEmail verified = %s, want %s", got.Sub, second.Sub)
	}
	_, err = s.GetUserByEmail(c, pool, "first@example.com", false)
	wantErr(t, "GetUserByEmail unknown", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(c, pool, "", false)
	wantErr(t, "GetUserByEmail empty", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(c, "eu-west-1_zzz", "same@example.com", false)
	wantErr(t, "GetUserByEmail other pool", err, store.ErrNotFound)
}

func testListUsersPagination(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_lst"
	mustPool(t, s, pool)
	mustPool(t, s, "eu-west-1_ls2")
	mustUser(t, s, "eu-west-1_ls2", "elsewhere")
	// 25 users; several share a creation time so the sub tie-break matters.
	var want []string
	for i := 0; i < 25; i++ {
		u := newUser(pool, fmt.Sprintf("u%02d", i))
		u.CreatedAt = t0.Add(time.Duration(i/3) * time.Millisecond)
		u.Attributes = map[string]string{"name": u.Username}
		want = append(want, u.Sub)
	}
	// Insert in a scrambled order.
	for _, i := range []int{24, 3, 17, 0, 9, 21, 12, 1, 5, 23, 8, 14, 2, 19, 6, 11, 22, 4, 16, 7, 10, 20, 13, 18, 15} {
		u := newUser(pool, fmt.Sprintf("u%02d", i))
		u.CreatedAt = t0.Add(time.Duration(i/3) * time.Millisecond)
		u.Attributes = map[string]string{"name": u.Username}
		noErr(t, "CreateUser", s.CreateUser(c, u, false))
	}
	for _, limit := range []int{1, 4, 10, 25, 0} {
		var got []string
		for _, page := range pageAll(t, limit, func(p store.Page) ([]*identity.User, string, error) {
			return s.ListUsers(c, pool, nil, p)
		}) {
			for _, u := range page {
				got = append(got, u.Sub)
				if u.Attributes["name"] != u.Username {
					t.Fatalf("ListUsers attributes of %s = %v", u.Sub, u.Attributes)
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: got %v\nwant %v", limit, got, want)
		}
	}
	// Limit above the cap is capped, not an error.
	list, next, err := s.ListUsers(c, pool, nil, store.Page{Limit: 5000})
	noErr(t, "ListUsers huge limit", err)
	if len(list) != 25 || next != "" {
		t.Errorf("huge limit: %d users, next %q", len(list), next)
	}
	// Unknown pool: empty.
	list, next, err = s.ListUsers(c, "eu-west-1_none", nil, store.Page{})
	noErr(t, "ListUsers unknown pool", err)
	if len(list) != 0 || next != "" {
		t.Errorf("unknown pool: %d users", len(list))
	}
}

func testListUsersFilters(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_flt"
	mustPool(t, s, pool)
	type spec struct {
		n       string
		email   string
		status  identity.UserStatus
		enabled bool
		attrs   map[string]string
	}
	specs := []spec{
		{"ann", "ann@acme.test", identity.StatusConfirmed, true, map[string]string{"name": "Ann Lee", "given_name": "Ann", "family_name": "Lee", "phone_number": "+15550001"}},
		{"bob", "bob_x@acme.test", identity.StatusUnconfirmed, true, map[string]string{"name": "Bob 100%", "given_name": "Bob", "preferred_username": "bobby"}},
		{"carl", "carl@other.test", identity.StatusConfirmed, false, map[string]string{"name": "Carl_Lee", "family_name": "lee"}},
		{"dora", "boba@acme.test", identity.StatusResetRequired, true, map[string]string{"name": "Bob a", "phone_number": "+15550002"}},
		{"erin", "", identity.StatusForceChangePassword, true, nil},
		{"fay", "fay@acme.test", identity.StatusConfirmed, true, map[string]string{"name": "Émile Zoë", "given_name": "日本"}},
	}
	subs := map[string]string{}
	for i, sp := range specs {
		u := newUser(pool, sp.n)
		u.Username, u.Email, u.Status, u.Enabled, u.Attributes = sp.n, sp.email, sp.status, sp.enabled, sp.attrs
		u.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		noErr(t, "CreateUser", s.CreateUser(c, u, false))
		subs[u.Sub] = sp.n
	}
	// A user in another pool with matching values must never appear.
	mustPool(t, s, "eu-west-1_fl2")
	o := newUser("eu-west-1_fl2", "ann")
	o.Attributes = map[string]string{"name": "Ann Lee"}
	noErr(t, "CreateUser other pool", s.CreateUser(c, o, false))

	tests := []struct {
		attr, op, value string
		want            []string
	}{
		{"email", "=", "ann@acme.test", []string{"ann"}},
		{"email", "=", "ANN@ACME.TEST", []string{"ann"}},
		{"email", "^=", "bob", []string{"bob", "dora"}},
		{"email", "^=", "BOB", []string{"bob", "dora"}},
		{"email", "^=", "bob_", []string{"bob"}}, // "_" is not a wildcard
		{"email", "^=", "b_b", nil},
		{"email", "^=", "%", nil}, // "%" is not a wildcard
		{"email", "^=", "", []string{"ann", "bob", "carl", "dora", "erin", "fay"}},
		{"email", "=", "", []string{"erin"}},
		{"username", "=", "carl", []string{"carl"}},
		{"username", "^=", "CA", []string{"carl"}},
		{"username", "^=", "d", []string{"dora"}},
		{"name", "=", "Ann Lee", []string{"ann"}},
		{"name", "=", "ann lee", nil}, // attributes compare exactly
		{"name", "^=", "Bob", []string{"bob", "dora"}},
		{"name", "^=", "Bob 100%", []string{"bob"}},
		{"name", "^=", "Bob 1%", nil},
		{"name", "^=", "Carl_", []string{"carl"}},
		{"name", "^=", "Carl%", nil},
		{"name", "^=", "Ca_l", nil},
		{"given_name", "=", "Bob", []string{"bob"}},
		{"family_name", "=", "Lee", []string{"ann"}},
		{"family_name", "^=", "l", []string{"carl"}},
		{"preferred_username", "=", "bobby", []string{"bob"}},
		{"phone_number", "^=", "+1555000", []string{"ann", "dora"}},
		{"cognito:user_status", "=", "CONFIRMED", []string{"ann", "carl", "fay"}},
		{"status_code", "=", "UNCONFIRMED", []string{"bob"}},
		{"cognito:user_status", "^=", "FORCE", []string{"erin"}},
		{"status", "=", "Enabled", []string{"ann", "bob", "dora", "erin", "fay"}},
		{"status", "=", "Disabled", []string{"carl"}},
		{"status", "^=", "Dis", []string{"carl"}},
		{"status", "=", "enabled", nil},
		{"sub", "=", "sub-dora", []string{"dora"}},
		{"sub", "^=", "sub-", []string{"ann", "bob", "carl", "dora", "erin", "fay"}},
		{"name", "^=", "Ém", []string{"fay"}}, // prefixes count characters, not bytes
		{"name", "^=", "É", []string{"fay"}},
		{"name", "=", "Émile Zoë", []string{"fay"}},
		{"given_name", "^=", "日", []string{"fay"}},
	}
	for _, tc := range tests {
		t.Run(tc.attr+tc.op+tc.value, func(t *testing.T) {
			list, next, err := s.ListUsers(c, pool, &store.UserFilter{Attr: tc.attr, Op: store.FilterOp(tc.op), Value: tc.value}, store.Page{})
			noErr(t, "ListUsers", err)
			if next != "" {
				t.Errorf("next = %q", next)
			}
			var got []string
			for _, u := range list {
				got = append(got, subs[u.Sub])
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s %s %q = %v, want %v", tc.attr, tc.op, tc.value, got, tc.want)
			}
		})
	}
	// Paging through a filtered list.
	var got []string
	for _, page := range pageAll(t, 1, func(p store.Page) ([]*identity.User, string, error) {
		return s.ListUsers(c, pool, &store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Enabled"}, p)
	}) {
		for _, u := range page {
			got = append(got, subs[u.Sub])
		}
	}
	if want := []string{"ann", "bob", "dora", "erin", "fay"}; !reflect.DeepEqual(got, want) {
		t.Errorf("paged filter = %v, want %v", got, want)
	}
	for _, bad := range []store.UserFilter{
		{Attr: "custom:company_name", Op: store.FilterEquals, Value: "x"},
		{Attr: "password_hash", Op: store.FilterEquals, Value: "x"},
		{Attr: "email", Op: "~=", Value: "x"},
	} {
		if _, _, err := s.ListUsers(c, pool, &bad, store.Page{}); err == nil {
			t.Errorf("ListUsers filter %+v: no error", bad)
		}
	}
}

func testFailedAttempts(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_fa"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	lock := time.Minute
	for i := 1; i <= 2; i++ {
		n, until, err := s.RecordFailedAttempt(c, pool, u.Sub, t0, 3, lock)
		noErr(t, "RecordFailedAttempt", err)
		if n != i || !until.IsZero() {
			t.Fatalf("attempt %d: count %d, locked until %v", i, n, until)
		}
	}
	// The third reaches the limit and locks, in the same statement.
	n, until, err := s.RecordFailedAttempt(c, pool, u.Sub, t0, 3, lock)
	noErr(t, "RecordFailedAttempt 3", err)
	if n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	eqTime(t, "locked until after 3", until, t0.Add(lock))
	// While locked: ErrLocked, nothing counted, the lock unchanged.
	for _, at := range []time.Time{t0, t0.Add(lock - time.Millisecond), t0.Add(-time.Hour)} {
		n, until, err = s.RecordFailedAttempt(c, pool, u.Sub, at, 3, lock)
		wantErr(t, "RecordFailedAttempt while locked", err, store.ErrLocked)
		if n != 3 {
			t.Errorf("while locked at %v: count %d, want 3 (not counted)", at, n)
		}
		eqTime(t, "lock reported while locked", until, t0.Add(lock))
	}
	// Each attempt after a lock runs out is counted and doubles the lock.
	now := t0.Add(lock)
	for i, want := range []time.Duration{2 * lock, 4 * lock} {
		n, until, err = s.RecordFailedAttempt(c, pool, u.Sub, now, 3, lock)
		noErr(t, "RecordFailedAttempt after lock", err)
		if n != 4+i {
			t.Errorf("count = %d, want %d", n, 4+i)
		}
		eqTime(t, fmt.Sprintf("locked until after %d", n), until, now.Add(want))
		now = until
	}
	got, _ := s.GetUser(c, pool, u.Sub)
	if got.FailedAttempts != 5 || !got.LockedUntil.Equal(now) {
		t.Errorf("user after failures: %d, %v (want 5, %v)", got.FailedAttempts, got.LockedUntil, now)
	}
	// Capped at 24h, however many failures (the shift is bounded too).
	var last time.Duration
	for i := 0; i < 70; i++ {
		_, until, err = s.RecordFailedAttempt(c, pool, u.Sub, now, 3, lock)
		noErr(t, "RecordFailedAttempt", err)
		last = until.Sub(now)
		if last > 24*time.Hour || last < 8*lock {
			t.Fatalf("failure %d: lock of %v", i, last)
		}
		now = until
	}
	if last != 24*time.Hour {
		t.Errorf("lock after 75 failures = %v, want the 24h cap", last)
	}

	noErr(t, "ResetFailedAttempts", s.ResetFailedAttempts(c, pool, u.Sub))
	got, _ = s.GetUser(c, pool, u.Sub)
	if got.FailedAttempts != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after reset: %d, %v", got.FailedAttempts, got.LockedUntil)
	}
	// maxAttempts 0: count only, never lock.
	n, until, err = s.RecordFailedAttempt(c, pool, u.Sub, t0, 0, lock)
	noErr(t, "RecordFailedAttempt no limit", err)
	if n != 1 || !until.IsZero() {
		t.Errorf("no limit: %d, %v", n, until)
	}
	_, _, err = s.RecordFailedAttempt(c, pool, "nope", t0, 3, lock)
	wantErr(t, "RecordFailedAttempt missing", err, store.ErrNotFound)
	wantErr(t, "ResetFailedAttempts missing", s.ResetFailedAttempts(c, pool, "nope"), store.ErrNotFound)

	// LockUser changes nothing; a missing user is ErrNotFound.
	before, _ := s.GetUser(c, pool, u.Sub)
	noErr(t, "LockUser", s.InTx(c, func(q store.Querier) error { return q.LockUser(c, pool, u.Sub) }))
	after, _ := s.GetUser(c, pool, u.Sub)
	if after.FailedAttempts != before.FailedAttempts || !after.UpdatedAt.Equal(before.UpdatedAt) || !after.LockedUntil.Equal(before.LockedUntil) {
		t.Errorf("LockUser changed the user: %+v -> %+v", before, after)
	}
	wantErr(t, "LockUser missing", s.LockUser(c, pool, "nope"), store.ErrNotFound)
}
