package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
)

// PostgresEnv names the variable holding the DSN of a PostgreSQL server
// for tests.
const PostgresEnv = "GATEHOUSE_TEST_POSTGRES"

// OpenSQLite opens a fresh SQLite store in a file under t.TempDir() and
// closes it at cleanup.
func OpenSQLite(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the DSN in GATEHOUSE_TEST_POSTGRES. When it is unset
// the test is skipped, except under CI=true or GATEHOUSE_TEST_ALL=1, where
// a missing database is a failure.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1" {
			t.Fatalf("%s is not set (required when CI=true or GATEHOUSE_TEST_ALL=1)", PostgresEnv)
		}
		t.Skipf("%s is not set; skipping PostgreSQL tests", PostgresEnv)
	}
	return dsn
}

// OpenPostgres opens a PostgreSQL store in a fresh schema (see
// PostgresSchemaDSN), so parallel tests and test packages never see each
// other's rows. It skips or fails like PostgresDSN when the variable is
// unset.
func OpenPostgres(t testing.TB) store.Store {
	t.Helper()
	db, err := postgres.Open(t.Context(), PostgresSchemaDSN(t))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
	return db
}

// PostgresSchemaDSN creates a fresh schema gh_test_<random> in the database
// of GATEHOUSE_TEST_POSTGRES, drops it (CASCADE) at cleanup, and returns
// the DSN with search_path set to it.
func PostgresSchemaDSN(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "gh_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Errorf("postgres: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(dsn, schema)
}

// withSearchPath sets the search_path runtime parameter in a URL or
// key=value DSN.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " search_path=" + schema
}

// Backends are the databases a test runs on, by name: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES is set (skipped otherwise).
var Backends = []struct {
	Name string
	Open func(testing.TB) store.Store
}{
	{"sqlite", OpenSQLite},
	{"postgres", OpenPostgres},
}
