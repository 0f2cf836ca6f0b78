// Package sqlite is Gatehouse's default, embedded storage backend: SQLite
// through modernc.org/sqlite (pure Go, no cgo), implemented by the shared
// sqlstore package.
//
// Connections: one writer connection (BEGIN IMMEDIATE for transactions)
// and a small pool of read-only readers. Every write, in a transaction or
// not, goes through the writer, so concurrent writers queue in Go rather
// than failing with SQLITE_BUSY; in WAL mode readers never block the writer
// and always see the last commit. Pragmas on every connection: WAL,
// synchronous=FULL (a commit survives power loss), foreign_keys=ON (pool
// deletes cascade), busy_timeout (for other processes, e.g. a backup).
//
// ":memory:" opens a private in-memory database on one connection, used
// for both reads and writes; do not call the outer Store from inside InTx
// there (it would wait for the connection the transaction holds).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var _ store.Store = (*sqlstore.DB)(nil)

// Dialect is SQLite's sqlstore.Dialect.
var Dialect = sqlstore.Dialect{
	Name: "sqlite",
	IsUniqueViolation: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKeyViolation: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
	// The single writer means no serialization failures to retry.
	IsRetryable:   func(error) bool { return false },
	MaxTxAttempts: 1,
	// One writer, one fsync per COMMIT: concurrent transactions share one.
	GroupCommit:       true,
	JSONAgg:           "json_group_array",
	JSONArray:         "json_array",
	BytewiseText:      true,
	PlansWithoutStats: true,
	Vacuum:            []string{`PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`},
	// No ANALYZE (PRAGMA optimize) here: sqlite_stat1 knows averages, not
	// skew (before the lists had an order of their own, with it SQLite
	// drove ListUsersInGroup of a group holding a third of a million-user
	// pool from the group and sorted: 0.5 s instead of 1 ms); the plans
	// without statistics are the ones TestQueryPlans checks, at a handful
	// of rows and at a million.
	Reclaim: []string{`PRAGMA incremental_vacuum`},
	// The one writer connection keeps these until BulkLoadEnd.
	BulkLoad:    []string{`PRAGMA synchronous = OFF`, `PRAGMA cache_size = -524288`},
	BulkLoadEnd: []string{`PRAGMA synchronous = FULL`, `PRAGMA cache_size = -2000`, `PRAGMA wal_checkpoint(TRUNCATE)`},
	// The write lock held by another process (a backup, a CLI command)
	// for longer than the busy timeout: a temporary outage, answered 503
	// with Retry-After like a PostgreSQL outage, not an internal error.
	IsUnavailable: func(err error) bool { return isBusy(err) || isLocked(err) },
	// The clock of the machine whose processes share the file.
	NowMS: `CAST(round(unixepoch('subsec') * 1000) AS INTEGER)`,
}

// isBusy reports SQLITE_BUSY or one of its extended codes ("database is
// locked").
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isLocked reports SQLITE_LOCKED or one of its extended codes.
func isLocked(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_LOCKED
}

func hasCode(err error, codes ...int) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// BusyTimeoutMS is how long a connection waits for a lock held by another
// process (or a reader checkpoint) before SQLITE_BUSY.
const BusyTimeoutMS = 10000

// Open opens (creating if needed) the database at path, or a private
// in-memory one for ":memory:", and applies the migrations.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	common := []string{
		fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMS),
		"foreign_keys(1)",
	}
	if path == ":memory:" {
		db, err := openDB(dsn(":memory:", append(common, "journal_mode(MEMORY)"), "immediate"))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return finish(ctx, db, db)
	}

	write, err := openDB(dsn(path, append(common, "journal_mode(WAL)", "synchronous(FULL)"), "immediate"))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before the readers open it.
	// Switching a new file to WAL can fail with SQLITE_BUSY, without the
	// busy handler, while another process does the same: retry briefly.
	for attempt := 1; ; attempt++ {
		err := write.PingContext(ctx)
		if err == nil {
			break
		}
		if attempt >= 50 || !isBusy(err) || ctx.Err() != nil {
			write.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
	read, err := openDB(dsn(path, append(common, "query_only(1)"), ""))
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return finish(ctx, read, write)
}

// openDB opens a *sql.DB whose connections cache their prepared
// statements (stmtcache.go).
func openDB(dsn string) (*sql.DB, error) {
	c, err := newCachingConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func finish(ctx context.Context, read, write *sql.DB) (*sqlstore.DB, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.New(ctx, Dialect, read, write, sub)
	if err != nil {
		write.Close()
		if read != write {
			read.Close()
		}
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return db, nil
}

func dsn(path string, pragmas []string, txlock string) string {
	v := url.Values{}
	for _, p := range pragmas {
		v.Add("_pragma", p)
	}
	if txlock != "" {
		v.Set("_txlock", txlock)
	}
	if path == ":memory:" {
		return "file::memory:?" + v.Encode()
	}
	// file: URI so that the query string is parsed; escape the path.
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: v.Encode()}
	return u.String()
}

// Backup writes a consistent copy of the database to destPath (which must
// not exist yet) with VACUUM INTO. It runs on a reader connection, so
// writers keep going while it copies; the copy is a snapshot of the last
// commit when it started.
func Backup(ctx context.Context, db *sqlstore.DB, destPath string) error {
	if destPath == "" || strings.ContainsRune(destPath, 0) {
		return errors.New("sqlite: invalid backup path")
	}
	conn, err := db.ReadDB().Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer conn.Close()
	// Readers are query_only; VACUUM INTO writes only the new file, but
	// SQLite refuses it under query_only, so lift it on this connection
	// for the copy and restore it before the connection goes back.
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO ?`, destPath)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`); rerr != nil {
		// Do not hand a writable reader back to the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", destPath, err)
	}
	return nil
}
