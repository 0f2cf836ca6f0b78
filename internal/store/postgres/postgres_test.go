package postgres_test

import (
	"database/sql"
	"io/fs"
	"os"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// TestConformance runs the suite against GATEHOUSE_TEST_POSTGRES, one fresh
// schema per subtest.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.PostgresDSN(t) // skip or fail once, up front
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.OpenPostgres(t) })
}

// TestConcurrentOpen starts several nodes on one empty schema at once: the
// advisory lock makes each migration apply exactly once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresSchemaDSN(t)
	const nodes = 4
	errs := make(chan error, nodes)
	dbs := make(chan *sqlstore.DB, nodes)
	for i := 0; i < nodes; i++ {
		go func() {
			db, err := postgres.Open(t.Context(), dsn)
			errs <- err
			dbs <- db
		}()
	}
	for i := 0; i < nodes; i++ {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
			if err := db.Ping(t.Context()); err != nil {
				t.Error(err)
			}
		}
	}
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, distinct int
	if err := db.ReadDB().QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("schema_migrations: %d rows, %d versions", n, distinct)
	}
}

// TestMultiNode opens one schema twice, as two Gatehouse nodes would.
func TestMultiNode(t *testing.T) {
	t.Parallel()
	storetest.PostgresDSN(t)
	storetest.RunMultiNode(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := storetest.PostgresSchemaDSN(t)
		var out [2]store.Store
		for i := range out {
			db, err := postgres.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out[i] = db
		}
		return out[0], out[1]
	})
}

// TestMigration0009 upgrades a schema with rows written before migration
// 0009 (security.md T6).
func TestMigration0009(t *testing.T) {
	t.Parallel()
	storetest.RunMigration0009(t, upgradeBackend(storetest.PostgresSchemaDSN(t)))
}

// TestMigration0030 upgrades a schema with rows written before migration
// 0030 (the approvers index).
func TestMigration0030(t *testing.T) {
	t.Parallel()
	storetest.RunMigration0030(t, upgradeBackend(storetest.PostgresSchemaDSN(t)))
}

// upgradeBackend opens the schema of dsn with the migrations a migration
// test gives (each open the same schema).
func upgradeBackend(dsn string) storetest.Backend {
	return storetest.Backend{
		Migrations: os.DirFS("migrations"),
		OpenWith: func(t *testing.T, migrations fs.FS) (store.Store, *sql.DB) {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(t.Context(), postgres.Dialect, db, db, migrations)
			if err != nil {
				db.Close()
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, db
		},
	}
}
