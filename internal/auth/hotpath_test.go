package auth

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// TestHotPathStatements counts the statements the hash-free hot paths
// send to the database (sqlstore.SetStatementHook), with the pool and
// client cache as cmd/gatehouse wires it, once the caches are warm: a
// refresh reads its token with the user, groups and linked identities in
// one query and rotates (on PostgreSQL one statement; on SQLite an UPDATE
// and an INSERT in one group-committed transaction); GetUser, and the
// Cognito GetUser with the MFA settings, read once. A hot path that gains a
// statement fails here, naming what it sent.
func TestHotPathStatements(t *testing.T) {
	for _, be := range storetest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			db := be.Open(t).(*sqlstore.DB)
			e := userSetupStore(t, poolcache.New(db, poolcache.DefaultTTL, nil), nil, nil)
			u := e.confirmedUser("hot@example.com")
			if _, err := e.s.CreateGroup(e.ctx, &identity.Group{PoolID: e.pool.ID, Name: "staff"}); err != nil {
				t.Fatal(err)
			}
			if err := e.s.AdminAddUserToGroup(e.ctx, e.pool.ID, u.Username, "staff"); err != nil {
				t.Fatal(err)
			}
			toks := e.mustSignIn("hot@example.com", goodPW)
			// Warm up: the signing keys, the pool and the client are
			// cached, and a refresh's once-a-minute purge has run.
			r, err := e.refresh(toks.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.GetUser(e.ctx, r.Tokens.AccessToken); err != nil {
				t.Fatal(err)
			}

			var (
				mu   sync.Mutex
				sent []string
			)
			db.SetStatementHook(func(q string) {
				mu.Lock()
				sent = append(sent, q)
				mu.Unlock()
			})
			t.Cleanup(func() { db.SetStatementHook(nil) })
			count := func(what string, want []string, call func() error) {
				t.Helper()
				mu.Lock()
				sent = nil
				mu.Unlock()
				if err := call(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				mu.Lock()
				defer mu.Unlock()
				var got []string
				for _, q := range sent {
					got = append(got, strings.Fields(q)[0])
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s sent %d statements %q, want %q:\n%s", what, len(got), got, want, strings.Join(sent, "\n---\n"))
				}
			}

			wantRefresh := []string{"SELECT", "WITH"} // GetRefreshSession, RotateRefreshToken
			if be.Name == "sqlite" {
				wantRefresh = []string{"SELECT", "BEGIN", "SAVEPOINT", "UPDATE", "INSERT", "RELEASE", "COMMIT"}
			}
			rt := r.Tokens.RefreshToken
			count("refresh", wantRefresh, func() error {
				r, err := e.refresh(rt)
				if err == nil {
					rt = r.Tokens.RefreshToken
				}
				return err
			})
			count("GetUser", []string{"SELECT"}, func() error {
				_, err := e.s.GetUser(e.ctx, r.Tokens.AccessToken)
				return err
			})
			count("GetUserWithMFA", []string{"SELECT"}, func() error {
				_, _, _, err := e.s.GetUserWithMFA(e.ctx, r.Tokens.AccessToken)
				return err
			})
			// The Cognito AdminGetUser: the user by name (and its
			// attributes), then the user with its groups and factors; no
			// transaction (AdminGetUser and AdminGetUserMFA: seven SELECTs,
			// and BEGIN and COMMIT around four of them).
			count("AdminGetUserWithMFA", []string{"SELECT", "SELECT", "SELECT"}, func() error {
				v, m, err := e.s.AdminGetUserWithMFA(e.ctx, e.pool.ID, u.Username)
				if err == nil && (v.User.Sub != u.Sub || !slices.Equal(v.Groups, []string{"staff"}) || m == nil) {
					t.Errorf("AdminGetUserWithMFA = %+v, %+v, %+v", v.User, v.Groups, m)
				}
				return err
			})
		})
	}
}
