package sqlite_test

import (
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// TestConformance runs the suite on a database file per subtest.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.OpenSQLite(t) })
}

// TestConformanceMemory runs it on ":memory:" (one shared connection).
func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlite.Open(t.Context(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestConcurrentOpen opens one new file from several goroutines at once:
// BEGIN IMMEDIATE around each migration makes it apply exactly once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			db, err := sqlite.Open(t.Context(), path)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
	}
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int
	if err := db.ReadDB().QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations: %d rows, %d versions", rows, distinct)
	}
}

// TestMultiProcess opens one file twice, as two processes would.
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	storetest.RunMultiNode(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "shared.db")
		var out [2]store.Store
		for i := range out {
			db, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out[i] = db
		}
		return out[0], out[1]
	})
}

// TestMigration0009 upgrades a database with rows written before
// migration 0009 (security.md T6).
func TestMigration0009(t *testing.T) {
	t.Parallel()
	storetest.RunMigration0009(t, upgradeBackend(filepath.Join(t.TempDir(), "upgrade.db")))
}

// TestMigration0030 upgrades a database with rows written before
// migration 0030 (the approvers index).
func TestMigration0030(t *testing.T) {
	t.Parallel()
	storetest.RunMigration0030(t, upgradeBackend(filepath.Join(t.TempDir(), "upgrade0030.db")))
}

// upgradeBackend opens the database file at path with the migrations a
// migration test gives (each open the same file).
func upgradeBackend(path string) storetest.Backend {
	return storetest.Backend{
		Migrations: os.DirFS("migrations"),
		OpenWith: func(t *testing.T, migrations fs.FS) (store.Store, *sql.DB) {
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			s, err := sqlstore.New(t.Context(), sqlite.Dialect, db, db, migrations)
			if err != nil {
				db.Close()
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, db
		},
	}
}
