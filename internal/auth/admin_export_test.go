package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func exportAll(t *testing.T, e *adminEnv, poolID string) []ImportedUser {
	t.Helper()
	var out []ImportedUser
	if err := e.s.ExportUsers(e.ctx, poolID, func(u ImportedUser) error {
		out = append(out, u)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		schema := []identity.AttributeDef{{Name: "custom:team", Mutable: true}}
		src := e.pool(func(in *CreatePoolInput) { in.Schema = schema })
		for _, g := range []identity.Group{{Name: "admins", Precedence: admIntp(1)}, {Name: "staff"}} {
			g.PoolID = src.ID
			if _, err := e.s.CreateGroup(e.ctx, &g); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 7 {
			u := e.user(src, fmt.Sprintf("u%d@example.com", i), map[string]string{"custom:team": fmt.Sprint("t", i), "name": fmt.Sprint("User ", i)})
			if i%2 == 0 || i == 3 {
				if err := e.s.AdminAddUserToGroup(e.ctx, src.ID, u.Username, "staff"); err != nil {
					t.Fatal(err)
				}
			}
			if i == 3 {
				if err := e.s.AdminAddUserToGroup(e.ctx, src.ID, u.Username, "admins"); err != nil {
					t.Fatal(err)
				}
				if err := e.s.AdminDisableUser(e.ctx, src.ID, u.Username); err != nil {
					t.Fatal(err)
				}
			}
			e.advance(time.Second)
		}
		first := exportAll(t, e, src.ID)
		if len(first) != 7 {
			t.Fatalf("exported %d users", len(first))
		}
		// Stable order: creation time.
		for i := 1; i < len(first); i++ {
			if first[i].CreatedAt.Before(first[i-1].CreatedAt) {
				t.Errorf("export not in creation order at %d", i)
			}
		}
		if u := first[3]; u.Enabled || u.PasswordHash == "" || fmt.Sprint(u.Groups) != "[admins staff]" || u.Attributes["custom:team"] != "t3" {
			t.Errorf("exported user 3 = %+v", u)
		}

		// Through JSON lines, as the CLI does.
		lines := make([][]byte, len(first))
		for i, u := range first {
			b, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			lines[i] = b
		}
		dst := e.pool(func(in *CreatePoolInput) { in.Schema = schema })
		e.advance(time.Hour)
		for _, line := range lines {
			var u ImportedUser
			if err := json.Unmarshal(line, &u); err != nil {
				t.Fatal(err)
			}
			if err := importOne(e.ctx, e.s, dst.ID, u); err != nil {
				t.Fatalf("import %s: %v", u.Username, err)
			}
		}
		second := exportAll(t, e, dst.ID)
		normalize := func(us []ImportedUser) []ImportedUser {
			sort.Slice(us, func(i, j int) bool { return us[i].Sub < us[j].Sub })
			return us
		}
		if !reflect.DeepEqual(normalize(first), normalize(second)) {
			t.Errorf("round trip differs:\n%+v\n%+v", first, second)
		}
		// Groups were created in the destination pool.
		if _, err := e.s.GetGroup(e.ctx, dst.ID, "admins"); err != nil {
			t.Errorf("group not created: %v", err)
		}
		// The imported hash still verifies the password.
		u0, _ := e.st.GetUser(e.ctx, dst.ID, first[0].Sub)
		if ok, err := e.hash.Verify(e.ctx, u0.PasswordHash, "Tmp-horse-battery-9"); !ok || err != nil {
			t.Errorf("imported hash does not verify: %v", err)
		}

		// Importing again is idempotent.
		for _, u := range first {
			if err := importOne(e.ctx, e.s, dst.ID, u); err != nil {
				t.Fatalf("re-import %s: %v", u.Username, err)
			}
		}
		if third := exportAll(t, e, dst.ID); !reflect.DeepEqual(normalize(third), normalize(second)) {
			t.Errorf("re-import changed the pool")
		}
		if n := e.countUsers(dst.ID); n != 7 {
			t.Errorf("users after re-import = %d", n)
		}

		// Same sub: replace, including group memberships.
		r := first[3]
		r.Groups = []string{"staff", "new-group"}
		r.Enabled = true
		r.Attributes = map[string]string{"custom:team": "moved"}
		if err := importOne(e.ctx, e.s, dst.ID, r); err != nil {
			t.Fatal(err)
		}
		v, _ := e.s.AdminGetUser(e.ctx, dst.ID, r.Sub)
		if !v.User.Enabled || v.User.Attributes["custom:team"] != "moved" || v.User.Attributes["name"] != "" || fmt.Sprint(v.Groups) != "[new-group staff]" {
			t.Errorf("replaced user = %+v groups %v", v.User, v.Groups)
		}

		// Stop on the callback's error.
		stop := errors.New("stop")
		n := 0
		if err := e.s.ExportUsers(e.ctx, src.ID, func(ImportedUser) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("export with failing callback: %v after %d", err, n)
		}
		admWantCode(t, e.s.ExportUsers(e.ctx, "us-east-1_Unknown12", func(ImportedUser) error { return nil }), identity.CodeResourceNotFound)
	})
}

func TestImportUserRules(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		const sub = "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90"
		hash, err := e.hash.Hash(e.ctx, "some-long-passphrase")
		if err != nil {
			t.Fatal(err)
		}
		// Without a hash: RESET_REQUIRED.
		if err := importOne(e.ctx, e.s, p.ID, ImportedUser{Sub: sub, Username: "Ann@example.com", Status: "CONFIRMED", Enabled: true, EmailVerified: true}); err != nil {
			t.Fatal(err)
		}
		u, _ := e.st.GetUser(e.ctx, p.ID, sub)
		if u.Status != identity.StatusResetRequired || u.Email != "ann@example.com" || !u.EmailVerified || u.Username != "ann@example.com" {
			t.Errorf("imported = %+v", u)
		}
		// A username clash with another sub.
		err = importOne(e.ctx, e.s, p.ID, ImportedUser{Sub: "11111111-2222-4333-8444-555555555555", Username: "ann@example.com", PasswordHash: hash, Enabled: true})
		admWantCode(t, err, identity.CodeUsernameExists)

		bad := []ImportedUser{
			{Sub: "not-a-uuid", Username: "b@example.com"},
			{Sub: "11111111-2222-4333-8444-555555555555", Username: "not-an-email"},
			{Username: "b@example.com", Email: "c@example.com"},
			{Username: "b@example.com", Status: "ACTIVE"},
			{Username: "b@example.com", PasswordHash: "$2a$10$abcdefghijklmnopqrstuu"},
			{Username: "b@example.com", PasswordHash: "$argon2id$v=19$m=2000000,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			{Username: "b@example.com", PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"},
			{Username: "b@example.com", PasswordHash: "$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, // argon2i is accepted (foreign hashes); argon2d is not
			{Username: "b@example.com", Attributes: map[string]string{"email": "b@example.com"}},
			{Username: "b@example.com", Attributes: map[string]string{"custom:nope": "x"}},
			{Username: "b@example.com", Groups: []string{"two words"}},
		}
		for i, in := range bad {
			err := importOne(e.ctx, e.s, p.ID, in)
			admWantCode(t, err, identity.CodeInvalidParameter)
			_ = i
		}
		if n := e.countUsers(p.ID); n != 1 {
			t.Errorf("invalid imports created users: %d", n)
		}
		// A valid hash keeps the status; an empty sub gets a fresh one.
		if err := importOne(e.ctx, e.s, p.ID, ImportedUser{Username: "b@example.com", PasswordHash: hash, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		b, err := e.st.GetUserByUsername(e.ctx, p.ID, "b@example.com")
		if err != nil || b.Status != identity.StatusConfirmed || b.PasswordHash != hash || b.Sub == "" {
			t.Errorf("imported b = %+v, %v", b, err)
		}
		if ok, _ := e.hash.Verify(e.ctx, b.PasswordHash, "some-long-passphrase"); !ok {
			t.Error("hash does not verify")
		}
		if a := e.auditActions(p.ID); !contains(a, "admin.user_import") {
			t.Errorf("audit = %v", a)
		}
	})
}

// A batch where one user fails inside the transaction (its username
// belongs to another sub) is written again user by user: only the failing
// users are left out, each reported by its index, and a username that
// exists is skipped without replace.
// A line naming an existing user's sub under another username renames
// that user only with replace; without it the user exists and is skipped,
// as one found by its username is (docs/cli.md).
func TestImportUsersSubOfExistingUser(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		const sub = "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90"
		if err := importOne(e.ctx, e.s, p.ID, ImportedUser{Sub: sub, Username: "old@example.com", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		line := []ImportedUser{{Sub: sub, Username: "new@example.com", Enabled: true}}
		rep, err := e.s.ImportUsers(e.ctx, p.ID, line, false)
		if err != nil || rep.Skipped != 1 || rep.Created+rep.Replaced != 0 || len(rep.Failed) != 0 {
			t.Fatalf("without replace: %+v, %v", rep, err)
		}
		if u, err := e.st.GetUser(e.ctx, p.ID, sub); err != nil || u.Username != "old@example.com" {
			t.Fatalf("without replace the user became %+v, %v", u, err)
		}
		if rep, err = e.s.ImportUsers(e.ctx, p.ID, line, true); err != nil || rep.Replaced != 1 {
			t.Fatalf("with replace: %+v, %v", rep, err)
		}
		if u, err := e.st.GetUser(e.ctx, p.ID, sub); err != nil || u.Username != "new@example.com" {
			t.Fatalf("with replace the user is %+v, %v", u, err)
		}
	})
}

func TestImportUsersBatchLeavesOnlyFailures(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		if err := importOne(e.ctx, e.s, p.ID, ImportedUser{Sub: "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90", Username: "taken@example.com", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		batch := []ImportedUser{
			{Username: "a@example.com", Enabled: true},
			{Username: "b@example.com", Enabled: true, Groups: []string{"staff"}},
			{Sub: "11111111-2222-4333-8444-555555555555", Username: "taken@example.com", Enabled: true}, // fails in the transaction
			{Username: "c@example.com", Enabled: true},
			{Username: "d@example.com", Status: "ACTIVE"},  // fails before it
			{Username: "taken@example.com", Enabled: true}, // exists: skipped
		}
		for _, replace := range []bool{false, true} {
			rep, err := e.s.ImportUsers(e.ctx, p.ID, batch, replace)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Failed {
				got = append(got, fmt.Sprintf("%d:%s", f.Index, identity.ErrorCode(f.Err)))
			}
			want := "[4:invalid_parameter]"
			if replace {
				want = "[2:username_exists 4:invalid_parameter]"
			}
			if fmt.Sprint(got) != want {
				t.Errorf("replace=%v: failed %v, want %s", replace, got, want)
			}
			if !replace && (rep.Created != 3 || rep.Skipped != 2) {
				t.Errorf("report %+v", rep)
			}
			if replace && (rep.Created != 0 || rep.Replaced != 4) {
				t.Errorf("replace: report %+v", rep)
			}
		}
		if n := e.countUsers(p.ID); n != 4 {
			t.Errorf("%d users, want 4", n)
		}
		if u, err := e.st.GetUserByUsername(e.ctx, p.ID, "taken@example.com"); err != nil || u.Sub != "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90" {
			t.Errorf("taken = %+v, %v", u, err)
		}
		if _, err := e.s.ImportUsers(e.ctx, p.ID, make([]ImportedUser, MaxImportUsers+1), false); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("too many users: %v", err)
		}
	})
}
