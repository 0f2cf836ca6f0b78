// Package postgres is Gatehouse's PostgreSQL backend (for several
// Gatehouse nodes sharing one database), through pgx's database/sql driver
// and the shared sqlstore implementation.
//
// Isolation is READ COMMITTED. Correctness under concurrency comes from
// row-level compare-and-set statements (UPDATE ... WHERE used_at = 0,
// DELETE ... WHERE hash = ?, checking rows affected), unique constraints
// (username, email per pool) and FOR UPDATE SKIP LOCKED when claiming
// jobs, not from SERIALIZABLE. Serialization failures (40001) and
// deadlocks (40P01) that do occur make InTx run the transaction again.
//
// Migrations run at Open under pg_advisory_lock keyed by the current
// schema, so several nodes starting at once apply them exactly once.
//
// Outages: errors that mean the server cannot be reached (refused, reset,
// shutting down, starting up, too many connections, a read-only standby
// after a failover; see isUnavailable) are wrapped with
// identity.ErrUnavailable, which the surfaces answer as 503. A DSN without
// connect_timeout gets DefaultConnectTimeout and one without
// idle_in_transaction_session_timeout gets DefaultIdleInTxTimeout, so a
// dead server fails requests fast and a cut-off node does not hold locks.
// database/sql replaces broken connections by itself once the server is
// back.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var _ store.Store = (*sqlstore.DB)(nil)

// SQLSTATE codes the dialect acts on.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Dialect is PostgreSQL's sqlstore.Dialect.
var Dialect = sqlstore.Dialect{
	Name:                  "postgres",
	DollarPlaceholders:    true,
	IsUniqueViolation:     func(err error) bool { return sqlState(err) == uniqueViolation },
	IsForeignKeyViolation: func(err error) bool { return sqlState(err) == foreignKeyViolation },
	IsRetryable: func(err error) bool {
		s := sqlState(err)
		return s == serializationFailure || s == deadlockDetected
	},
	IsUnavailable: isUnavailable,
	MaxTxAttempts: 5,
	RowLock:       " FOR UPDATE SKIP LOCKED",
	PrefixCollate: ` COLLATE "C"`,
	// The server's clock, the same for every node (the transaction's
	// start; each claim and outcome is a short transaction of its own).
	NowMS:        `CAST(floor(EXTRACT(EPOCH FROM now()) * 1000) AS BIGINT)`,
	BulkTx:       []string{`SET LOCAL synchronous_commit = off`},
	Savepoints:   true,
	JSONAgg:      "json_agg",
	JSONArray:    "json_build_array",
	ModifyingCTE: true,
	Vacuum:       []string{`VACUUM (ANALYZE)`},
	MigrationLock: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		const key = `hashtext('gatehouse.migrate:' || coalesce(current_schema(), ''))`
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
			return nil, err
		}
		return func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
		}, nil
	},
}

// MaxConns is the connection pool size of one Gatehouse node: enough to
// keep the database busy without exhausting max_connections (100 by
// default) when several nodes share it.
func MaxConns() int { return min(max(8, 4*runtime.GOMAXPROCS(0)), 32) }

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; runtime parameters such as search_path may be given in it),
// checks the connection and applies the migrations.
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	cc, err := connConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cc)
	n := MaxConns()
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	s, err := sqlstore.New(ctx, Dialect, db, db, sub)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}
