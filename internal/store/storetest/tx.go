package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testTxRollback(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_tx"
	mustPool(t, s, pool)
	boom := errors.New("boom")

	// fn's error comes back unchanged and nothing it wrote remains.
	err := s.InTx(c, func(q store.Querier) error {
		u := newUser(pool, "rolled")
		u.Attributes = map[string]string{"name": "R"}
		if err := q.CreateUser(c, u, true); err != nil {
			return err
		}
		if err := q.CreateGroup(c, &identity.Group{PoolID: pool, Name: "g"}); err != nil {
			return err
		}
		if err := q.AddUserToGroup(c, pool, u.Sub, "g"); err != nil {
			return err
		}
		if err := q.EnqueueJob(c, &identity.Job{Kind: "email.send", RunAt: t0}); err != nil {
			return err
		}
		if err := q.InsertEmail(c, &identity.Email{PoolID: pool, To: "x@example.com"}); err != nil {
			return err
		}
		// Reads inside the transaction see its own writes.
		if _, err := q.GetUser(c, pool, u.Sub); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx error = %v, want boom", err)
	}
	assertEmpty(t, s, pool, "sub-rolled")

	// A store error inside fn (a conflict midway) also rolls back the
	// writes before it.
	mustUser(t, s, pool, "taken")
	err = s.InTx(c, func(q store.Querier) error {
		if err := q.EnqueueJob(c, &identity.Job{Kind: "k", RunAt: t0}); err != nil {
			return err
		}
		return q.CreateUser(c, newUser(pool, "taken"), false)
	})
	wantErr(t, "InTx conflict", err, store.ErrConflict)
	if n, _ := s.CountJobs(c, ""); n != 0 {
		t.Errorf("job survived a rolled back tx: %d", n)
	}

	// Commit: everything is there.
	var id int64
	err = s.InTx(c, func(q store.Querier) error {
		if err := q.CreateUser(c, newUser(pool, "kept"), false); err != nil {
			return err
		}
		j := &identity.Job{Kind: "k", RunAt: t0}
		if err := q.EnqueueJob(c, j); err != nil {
			return err
		}
		id = j.ID
		return nil
	})
	noErr(t, "InTx commit", err)
	_, err = s.GetUser(c, pool, "sub-kept")
	noErr(t, "GetUser committed", err)
	_, err = s.GetJob(c, id)
	noErr(t, "GetJob committed", err)

	// The store is still usable after all that (connections released).
	for i := 0; i < 20; i++ {
		_ = s.InTx(c, func(q store.Querier) error { return boom })
	}
	_, err = s.GetPool(c, pool)
	noErr(t, "GetPool after many rollbacks", err)
}

func assertEmpty(t *testing.T, s store.Store, pool, sub string) {
	t.Helper()
	c := ctx(t)
	if _, err := s.GetUser(c, pool, sub); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user survived rollback: %v", err)
	}
	if _, err := s.GetGroup(c, pool, "g"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("group survived rollback: %v", err)
	}
	if n, _ := s.CountJobs(c, ""); n != 0 {
		t.Errorf("jobs survived rollback: %d", n)
	}
	if list, _, _ := s.ListEmails(c, "", "", store.Page{}); len(list) != 0 {
		t.Errorf("emails survived rollback: %d", len(list))
	}
	if n, _ := s.CountUsers(c, pool); n != 0 {
		t.Errorf("users survived rollback: %d", n)
	}
}

func testTxPanic(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_txp"
	mustPool(t, s, pool)
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Errorf("recovered %v, want the original panic", r)
			}
		}()
		_ = s.InTx(c, func(q store.Querier) error {
			if err := q.CreateUser(c, newUser(pool, "panicky"), false); err != nil {
				t.Errorf("CreateUser: %v", err)
			}
			panic("kaboom")
		})
		t.Error("InTx returned after a panic")
	}()
	assertEmpty(t, s, pool, "sub-panicky")
	// The connection went back: the writer is free again.
	noErr(t, "InTx after panic", s.InTx(c, func(q store.Querier) error {
		return q.CreateUser(c, newUser(pool, "after"), false)
	}))
}

func testDeletePoolCascade(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool, keep = "eu-west-1_del", "eu-west-1_kep"
	for _, p := range []string{pool, keep} {
		mustPool(t, s, p)
		noErr(t, "CreateClient", s.CreateClient(c, &identity.AppClient{ID: "client-" + p, PoolID: p}))
		u := newUser(p, "u")
		u.Attributes = map[string]string{"name": "U"}
		noErr(t, "CreateUser", s.CreateUser(c, u, true))
		noErr(t, "CreateGroup", s.CreateGroup(c, &identity.Group{PoolID: p, Name: "g"}))
		noErr(t, "AddUserToGroup", s.AddUserToGroup(c, p, u.Sub, "g"))
		noErr(t, "PutCode", s.PutCode(c, &identity.OneTimeCode{PoolID: p, UserSub: u.Sub, Purpose: identity.PurposeSignUp, Hash: "h", ExpiresAt: t0.Add(time.Hour)}))
		mustRefresh(t, s, p, u.Sub, "rt-"+p, "fam-"+p)
		noErr(t, "InsertSigningKey", s.InsertSigningKey(c, &identity.SigningKey{PoolID: p, KID: "k", Alg: "ES256", State: identity.KeyActive}))
		noErr(t, "CreateAPIKey", s.CreateAPIKey(c, &identity.APIKey{ID: "key-" + p, PoolID: p, SecretHash: "h"}))
		noErr(t, "InsertEmail", s.InsertEmail(c, &identity.Email{PoolID: p, To: "u@example.com"}))
		noErr(t, "InsertAudit", s.InsertAudit(c, &identity.AuditEvent{PoolID: p, Time: t0, Action: "x"}))
	}
	noErr(t, "CreateAPIKey global", s.CreateAPIKey(c, &identity.APIKey{ID: "key-global", SecretHash: "h"}))
	noErr(t, "DeletePool", s.DeletePool(c, pool))

	_, err := s.GetClient(c, "client-"+pool)
	wantErr(t, "client", err, store.ErrNotFound)
	_, err = s.GetUser(c, pool, "sub-u")
	wantErr(t, "user", err, store.ErrNotFound)
	_, err = s.GetGroup(c, pool, "g")
	wantErr(t, "group", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(c, "rt-"+pool)
	wantErr(t, "refresh token", err, store.ErrNotFound)
	_, err = s.GetAPIKey(c, "key-"+pool)
	wantErr(t, "api key", err, store.ErrNotFound)
	if keys, _ := s.ListSigningKeys(c, pool); len(keys) != 0 {
		t.Errorf("signing keys survived: %d", len(keys))
	}
	if list, _, _ := s.ListEmails(c, pool, "", store.Page{}); len(list) != 0 {
		t.Errorf("emails survived: %d", len(list))
	}
	if audit, _, _ := s.ListAudit(c, store.AuditFilter{PoolID: pool}, store.Page{}); len(audit) != 1 {
		t.Errorf("audit rows of deleted pool = %d, want kept (1)", len(audit))
	}
	// Recreating the pool and user shows no leftovers (attributes, codes,
	// memberships).
	mustPool(t, s, pool)
	noErr(t, "CreateUser again", s.CreateUser(c, newUser(pool, "u"), true))
	noErr(t, "CreateGroup again", s.CreateGroup(c, &identity.Group{PoolID: pool, Name: "g"}))
	got, _ := s.GetUser(c, pool, "sub-u")
	if got.Attributes != nil {
		t.Errorf("attributes survived: %v", got.Attributes)
	}
	if gs, _ := s.ListGroupsForUser(c, pool, "sub-u"); len(gs) != 0 {
		t.Errorf("memberships survived: %d", len(gs))
	}
	if out, _ := s.UseCode(c, pool, "sub-u", identity.PurposeSignUp, "h", t0, 5); out != store.CodeMissing {
		t.Errorf("code survived: outcome %d", out)
	}

	// The other pool is untouched.
	_, err = s.GetClient(c, "client-"+keep)
	noErr(t, "other client", err)
	u, err := s.GetUser(c, keep, "sub-u")
	noErr(t, "other user", err)
	if u.Attributes["name"] != "U" {
		t.Errorf("other user's attributes: %v", u.Attributes)
	}
	if gs, _ := s.ListGroupsForUser(c, keep, "sub-u"); len(gs) != 1 {
		t.Errorf("other memberships: %d", len(gs))
	}
	_, err = s.GetRefreshToken(c, "rt-"+keep)
	noErr(t, "other refresh token", err)
	_, err = s.GetAPIKey(c, "key-global")
	noErr(t, "global api key", err)
	if keys, _ := s.ListSigningKeys(c, keep); len(keys) != 1 {
		t.Errorf("other signing keys: %d", len(keys))
	}
}

func testTimeRoundTrip(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_tim"
	mustPool(t, s, pool)
	// Sub-millisecond parts are dropped, other zones come back as UTC, the
	// zero time stays zero, and times before 1970 survive.
	local := time.FixedZone("UTC+5:30", 5*3600+1800)
	tests := []struct {
		in, want time.Time
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)},
		{time.Date(2026, 1, 2, 8, 34, 5, 1_000_000, local), time.Date(2026, 1, 2, 3, 4, 5, 1_000_000, time.UTC)},
		{time.Time{}, time.Time{}},
		{time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC), time.Date(2262, 4, 11, 23, 47, 16, 0, time.UTC)},
	}
	for i, tc := range tests {
		u := newUser(pool, string(rune('a'+i)))
		u.CreatedAt, u.LockedUntil, u.TokensValidAfter = tc.in, tc.in, tc.in
		noErr(t, "CreateUser", s.CreateUser(c, u, false))
		got, err := s.GetUser(c, pool, u.Sub)
		noErr(t, "GetUser", err)
		eqTime(t, "CreatedAt", got.CreatedAt, tc.want)
		eqTime(t, "LockedUntil", got.LockedUntil, tc.want)
		eqTime(t, "TokensValidAfter", got.TokensValidAfter, tc.want)
		if !tc.want.IsZero() && got.CreatedAt != tc.want {
			t.Errorf("CreatedAt %#v is not == %#v (monotonic or location differ)", got.CreatedAt, tc.want)
		}
	}
}

// A caller may handle ErrConflict or ErrNotFound inside InTx and go on:
// the failed statement leaves the transaction usable on every backend
// (PostgreSQL would otherwise abort the whole transaction).
func testTxContinuesAfterError(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_txc"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	noErr(t, "CreateGroup", s.CreateGroup(c, &identity.Group{PoolID: pool, Name: "existing"}))
	err := s.InTx(c, func(q store.Querier) error {
		steps := []struct {
			what string
			err  error
			want error
		}{
			{"CreatePool dup", q.CreatePool(c, &identity.Pool{ID: pool}), store.ErrConflict},
			{"CreateUser dup", q.CreateUser(c, newUser(pool, "u"), false), store.ErrConflict},
			{"CreateGroup dup", q.CreateGroup(c, &identity.Group{PoolID: pool, Name: "existing"}), store.ErrConflict},
			{"CreateGroup", q.CreateGroup(c, &identity.Group{PoolID: pool, Name: "new"}), nil},
			{"AddUserToGroup missing group", q.AddUserToGroup(c, pool, u.Sub, "nope"), store.ErrNotFound},
			{"AddUserToGroup", q.AddUserToGroup(c, pool, u.Sub, "new"), nil},
			{"CreateClient missing pool", q.CreateClient(c, &identity.AppClient{ID: "c", PoolID: "eu-west-1_no"}), store.ErrNotFound},
			{"InsertEmail missing pool", q.InsertEmail(c, &identity.Email{PoolID: "eu-west-1_no", To: "x"}), store.ErrNotFound},
			{"PutCode missing user", q.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: "nope", Purpose: identity.PurposeSignUp, Hash: "h"}), store.ErrNotFound},
			{"InsertRefreshToken missing user", q.InsertRefreshToken(c, &identity.RefreshToken{Hash: "h", PoolID: pool, UserSub: "nope", FamilyID: "f"}), store.ErrNotFound},
			{"InsertEmail", q.InsertEmail(c, &identity.Email{PoolID: pool, To: "x@example.com"}), nil},
		}
		for _, st := range steps {
			if st.want == nil && st.err != nil || st.want != nil && !errors.Is(st.err, st.want) {
				t.Errorf("%s: err = %v, want %v", st.what, st.err, st.want)
			}
		}
		return nil
	})
	noErr(t, "InTx", err)
	gs, err := s.ListGroupsForUser(c, pool, u.Sub)
	noErr(t, "ListGroupsForUser", err)
	if len(gs) != 1 || gs[0].Name != "new" {
		t.Errorf("groups after tx = %v", gs)
	}
	if list, _, _ := s.ListEmails(c, pool, "", store.Page{}); len(list) != 1 {
		t.Errorf("emails after tx = %d, want 1", len(list))
	}
}
