package storetest

import (
	"database/sql"
	"io/fs"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Backend opens one backend's database for the migration checks
// (RunMigration0009, RunMigration0030).
type Backend struct {
	// Migrations are the backend's migration files (the ones it embeds).
	Migrations fs.FS
	// OpenWith opens the database, the same one on every call, applying
	// the given migrations (those not yet applied); it returns the store
	// and its write pool, and closes both at cleanup.
	OpenWith func(t *testing.T, migrations fs.FS) (store.Store, *sql.DB)
}

// RunMigration0009 checks the upgrade to migration 0009 (security.md T6,
// T10) on a database that holds rows written before it: a refresh family
// issued from an authorization code still on record gets that code's
// scope; any other refresh token keeps "" (read by auth as
// aws.cognito.signin.user.admin, what the old nodes issued); codes read
// back with no origin_jti; and the new columns are written from then on.
func RunMigration0009(t *testing.T, b Backend) {
	t.Helper()
	old, w := b.OpenWith(t, migrationsBefore(t, b, 9))
	p := mustPool(t, old, "eu-west-1_m09")
	u := mustUser(t, old, p.ID, "ann")
	// Rows as a node before 0009 wrote them: literal SQL, so that it runs
	// on both dialects without placeholders.
	for _, stmt := range []string{
		`INSERT INTO oauth_codes (hash, pool_id, client_id, user_sub, redirect_uri, scope, expires_at, created_at, used_at, family_id)
			VALUES ('code-1', '` + p.ID + `', 'cl', '` + u.Sub + `', 'https://rp.example/cb', 'openid email', 1, 1, 1, 'fam-oauth')`,
		`INSERT INTO refresh_tokens (hash, pool_id, client_id, user_sub, family_id, origin_jti, expires_at)
			VALUES ('rt-oauth', '` + p.ID + `', 'cl', '` + u.Sub + `', 'fam-oauth', 'o-oauth', 99999999999999)`,
		`INSERT INTO refresh_tokens (hash, pool_id, client_id, user_sub, family_id, origin_jti, expires_at)
			VALUES ('rt-signin', '` + p.ID + `', 'cl', '` + u.Sub + `', 'fam-signin', 'o-signin', 99999999999999)`,
	} {
		if _, err := w.ExecContext(ctx(t), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	s, _ := b.OpenWith(t, b.Migrations)
	for hash, want := range map[string]string{"rt-oauth": "openid email", "rt-signin": ""} {
		rt, err := s.GetRefreshToken(ctx(t), hash)
		noErr(t, "GetRefreshToken "+hash, err)
		if rt.Scope != want {
			t.Errorf("%s: Scope = %q after migration 0009, want %q", hash, rt.Scope, want)
		}
	}
	c, err := s.GetOAuthCode(ctx(t), "code-1")
	noErr(t, "GetOAuthCode", err)
	if c.OriginJTI != "" || c.FamilyID != "fam-oauth" {
		t.Errorf("code after migration 0009: %+v", c)
	}
	noErr(t, "InsertRefreshToken after 0009", s.InsertRefreshToken(ctx(t), &identity.RefreshToken{Hash: "rt-new",
		PoolID: p.ID, ClientID: "cl", UserSub: u.Sub, FamilyID: "fam-new", Scope: "openid", ExpiresAt: t0}))
	rt, err := s.GetRefreshToken(ctx(t), "rt-new")
	noErr(t, "GetRefreshToken rt-new", err)
	if rt.Scope != "openid" {
		t.Errorf("rt-new: Scope = %q", rt.Scope)
	}
}
