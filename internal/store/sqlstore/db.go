package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Dialect is what differs between the SQL backends. Everything else (the
// statements, the pagination, the compare-and-set logic) is shared.
type Dialect struct {
	// Name is what Store.Backend returns: "sqlite" or "postgres".
	Name string
	// DollarPlaceholders: the driver wants $1, $2, ... instead of ?.
	// Statements are written with ? and rebound once per distinct text.
	DollarPlaceholders bool
	// IsUniqueViolation reports a unique or primary key violation
	// (mapped to store.ErrConflict).
	IsUniqueViolation func(error) bool
	// IsForeignKeyViolation reports a foreign key violation: the row a
	// write refers to (pool, user, group) does not exist (mapped to
	// store.ErrNotFound).
	IsForeignKeyViolation func(error) bool
	// IsRetryable reports a serialization failure or deadlock after which
	// the whole transaction may be run again.
	IsRetryable func(error) bool
	// MaxTxAttempts bounds how often InTx runs fn when IsRetryable.
	MaxTxAttempts int
	// RowLock is appended to the SELECT that picks jobs to claim:
	// " FOR UPDATE SKIP LOCKED" on PostgreSQL; "" on SQLite, whose single
	// writer already serialises the claim.
	RowLock string
	// Savepoints: an error inside a transaction aborts the whole
	// transaction (PostgreSQL), so statements that can fail on a constraint
	// run under a SAVEPOINT there, and a caller that handles ErrConflict or
	// ErrNotFound inside InTx can go on, as it can on SQLite.
	Savepoints bool
	// IsUnavailable, if set, reports an error that means the database
	// cannot be reached (connection refused or lost, server shutting down
	// or starting up). Such errors are wrapped with identity.ErrUnavailable,
	// which surfaces answer as 503 unavailable.
	IsUnavailable func(error) bool
	// MigrationLock, if set, takes a lock across processes on conn before
	// migrations run and returns the function that releases it.
	MigrationLock func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// JSONAgg and JSONArray name the aggregate that builds a JSON array of
	// its rows and the function that builds one of its arguments
	// (json_group_array/json_array on SQLite, json_agg/json_build_array
	// on PostgreSQL): one-row reads of a user's attributes and groups.
	JSONAgg, JSONArray string
	// BytewiseText: TEXT compares byte by byte (SQLite's BINARY collation),
	// so a prefix is also an index range (ListUsers filters).
	BytewiseText bool
	// PrefixCollate is appended to a column for a prefix range where TEXT
	// does not compare bytewise: ` COLLATE "C"` on PostgreSQL, whose
	// prefix indexes are built so (migration 0024).
	PrefixCollate string
	// PlansWithoutStats: the planner has no statistics of the data (SQLite
	// is never ANALYZEd, see Reclaim), so a few queries say which index to
	// start from.
	PlansWithoutStats bool
	// ModifyingCTE: the database runs an UPDATE ... RETURNING inside WITH
	// and feeds an INSERT from it (PostgreSQL): a rotation in one statement.
	ModifyingCTE bool
	// Vacuum are the statements of `gatehouse db vacuum` (run in order on
	// the write pool, outside any transaction): a full rewrite that gives
	// free pages back (SQLite, switching to auto_vacuum=INCREMENTAL on the
	// way) or VACUUM ANALYZE (PostgreSQL). Reclaim, if set, gives free
	// pages back cheaply after deletes (SQLite's incremental_vacuum).
	Vacuum  []string
	Reclaim []string
	// GroupCommit runs concurrent transactions as savepoints of one
	// database transaction with one COMMIT (see groupcommit.go). For a
	// single-writer database (SQLite).
	GroupCommit bool
	// BulkLoad runs on the write pool before a bulk load (Populate) and
	// BulkLoadEnd after it, even when it failed: SQLite gives its one
	// writer a large page cache and no fsync for the load (a crash of the
	// machine, not of the process, may then lose or damage the file: a
	// load is only for databases made for measuring), then restores them
	// and checkpoints the WAL. BulkTx runs first in each of the load's
	// transactions (PostgreSQL: commits without waiting for the WAL's
	// flush, for that transaction only).
	BulkLoad, BulkLoadEnd, BulkTx []string
	// NowMS is an SQL expression for the database's clock in unix
	// milliseconds (BIGINT). Leases and due times of jobs, and the times
	// the outbox stamps, come from it, so that the nodes sharing one
	// database agree on them whatever their own clocks say (clock.go).
	NowMS string
}

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB implements store.Store on database/sql.
//
// Reads outside a transaction go to the read pool, writes outside a
// transaction and every transaction go to the write pool. On SQLite the
// write pool has exactly one connection, so writers queue in Go instead of
// failing with SQLITE_BUSY; on PostgreSQL both pools are the same.
type DB struct {
	querier
	read, write *sql.DB
	closeOnce   sync.Once
	closeErr    error
	batch       batcher                                        // group commit (Dialect.GroupCommit)
	clock       atomic.Pointer[func() time.Time]               // SetClock (tests)
	trace       atomic.Pointer[func(query string, args []any)] // SetTrace (tests)
	sentHook    atomic.Pointer[func(query string)]             // SetStatementHook (tests)
}

// SetStatementHook has every statement the store sends reported to f (nil:
// none), as the text the database receives: reads, writes, and the
// BEGIN, SAVEPOINT, RELEASE, ROLLBACK and COMMIT of its transactions
// (those of group commit included). Tests count a request's statements
// with it, so that a hot path that gains one fails a test; unset it costs
// one atomic load per statement.
func (db *DB) SetStatementHook(f func(query string)) {
	if f == nil {
		db.sentHook.Store(nil)
		return
	}
	db.sentHook.Store(&f)
}

// sent reports query to the SetStatementHook function, if any.
func (db *DB) sent(query string) {
	if f := db.sentHook.Load(); f != nil {
		(*f)(query)
	}
}

var _ store.Store = (*DB)(nil)

// querier runs the shared statements on a pool or in a transaction.
type querier struct {
	db   *DB
	d    *Dialect
	r, w execer // where reads and writes go
	inTx bool
	// detach: statements run without their context's cancellation
	// (inside a group-committed batch; see groupcommit.go).
	detach bool
	bind   *sync.Map // query text -> rebound text (dollar placeholders)
}

// New wraps read and write (which may be the same *sql.DB) in a DB and
// applies the migrations in migrations (files named NNNN_name.sql, applied
// in order, each in its own transaction, recorded in schema_migrations).
// On error, New closes neither pool; the caller does.
func New(ctx context.Context, d Dialect, read, write *sql.DB, migrations fs.FS) (*DB, error) {
	if d.MaxTxAttempts <= 0 {
		d.MaxTxAttempts = 1
	}
	for _, f := range []func(error) bool{d.IsUniqueViolation, d.IsForeignKeyViolation, d.IsRetryable} {
		if f == nil {
			return nil, errors.New("sqlstore: dialect is missing an error classifier")
		}
	}
	if d.JSONAgg == "" || d.JSONArray == "" {
		return nil, errors.New("sqlstore: dialect is missing the JSON aggregates")
	}
	if d.NowMS == "" {
		return nil, errors.New("sqlstore: dialect is missing the database clock (NowMS)")
	}
	db := &DB{read: read, write: write}
	db.querier = querier{db: db, d: &d, r: read, w: write, bind: new(sync.Map)}
	if migrations != nil {
		if err := db.migrate(ctx, migrations); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// Backend returns the dialect's name.
func (db *DB) Backend() string { return db.d.Name }

// Ping checks both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return db.mapErr(err)
	}
	if db.read != db.write {
		return db.mapErr(db.read.PingContext(ctx))
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		err := db.write.Close()
		if db.read != db.write {
			err = errors.Join(err, db.read.Close())
		}
		db.closeErr = err
	})
	return db.closeErr
}

// ReadDB and WriteDB expose the pools (for backups and diagnostics).
func (db *DB) ReadDB() *sql.DB  { return db.read }
func (db *DB) WriteDB() *sql.DB { return db.write }

// InTx runs fn in one transaction on the write pool. It commits if fn
// returns nil and rolls back if fn returns an error or panics (the panic is
// then re-raised). A serialization failure or deadlock (PostgreSQL) runs fn
// again, up to Dialect.MaxTxAttempts times.
func (db *DB) InTx(ctx context.Context, fn func(q store.Querier) error) error {
	return db.inTx(ctx, func(q *querier) error { return fn(q) })
}

func (db *DB) inTx(ctx context.Context, fn func(q *querier) error) error {
	var err error
	if db.useGroupCommit() {
		return db.groupTx(ctx, fn)
	}
	for attempt := 1; ; attempt++ {
		err = db.runTx(ctx, fn)
		if err == nil || attempt >= db.d.MaxTxAttempts || !db.d.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		// Back off a little so the conflicting transaction can finish.
		t := time.NewTimer(time.Duration(attempt*attempt) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (db *DB) runTx(ctx context.Context, fn func(q *querier) error) (err error) {
	db.sent("BEGIN")
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", db.mapErr(err))
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: roll back, then let the panic go on.
			_ = tx.Rollback()
		}
	}()
	q := &querier{db: db, d: db.d, r: tx, w: tx, inTx: true, bind: db.bind}
	ferr := fn(q)
	done = true
	if ferr != nil {
		db.sent("ROLLBACK")
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return db.unavailable(errors.Join(ferr, fmt.Errorf("sqlstore: rollback: %w", rerr)))
		}
		return db.unavailable(ferr)
	}
	db.sent("COMMIT")
	if err := tx.Commit(); err != nil {
		return db.mapErr(fmt.Errorf("sqlstore: commit: %w", err))
	}
	return nil
}

// unavailable wraps err with identity.ErrUnavailable when the dialect
// says the database could not be reached and nothing on the way did so:
// an error from inside a transaction's fn may come from a statement that
// bypassed mapErr (a savepoint, a scan) or be joined with a failed
// rollback on the dead connection.
func (db *DB) unavailable(err error) error {
	if err == nil || db.d.IsUnavailable == nil || errors.Is(err, identity.ErrUnavailable) || !db.d.IsUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", identity.ErrUnavailable, err)
}

// atomic runs fn in the current transaction (under a savepoint, see
// guard), or in a new one when q runs outside any (for methods that write
// more than one statement).
func (q *querier) atomic(ctx context.Context, fn func(q *querier) error) error {
	if q.inTx {
		return q.guard(ctx, func() error { return fn(q) })
	}
	return q.db.inTx(ctx, fn)
}

// guard runs fn, which may fail on a constraint; inside a transaction on a
// dialect with Savepoints, a failure is rolled back to a savepoint taken
// before fn, so the transaction stays usable.
func (q *querier) guard(ctx context.Context, fn func() error) error {
	ctx = q.stmtCtx(ctx)
	if !q.inTx || !q.d.Savepoints {
		return fn()
	}
	q.db.sent("SAVEPOINT gh_guard")
	if _, err := q.w.ExecContext(ctx, `SAVEPOINT gh_guard`); err != nil {
		return q.mapErr(err)
	}
	if err := fn(); err != nil {
		q.db.sent("ROLLBACK TO SAVEPOINT gh_guard")
		if _, rerr := q.w.ExecContext(ctx, `ROLLBACK TO SAVEPOINT gh_guard`); rerr != nil {
			return errors.Join(err, rerr)
		}
		q.db.sent("RELEASE SAVEPOINT gh_guard")
		_, _ = q.w.ExecContext(ctx, `RELEASE SAVEPOINT gh_guard`)
		return err
	}
	q.db.sent("RELEASE SAVEPOINT gh_guard")
	_, err := q.w.ExecContext(ctx, `RELEASE SAVEPOINT gh_guard`)
	return err
}

// execGuarded is exec under guard, for single statements that may fail on
// a unique or foreign key constraint.
func (q *querier) execGuarded(ctx context.Context, query string, args ...any) error {
	return q.guard(ctx, func() error {
		_, err := q.exec(ctx, query, args...)
		return err
	})
}

// rebind turns ? placeholders into $n for PostgreSQL. Statements in this
// package never contain a literal '?'.
func (q *querier) rebind(query string) string {
	if !q.d.DollarPlaceholders {
		return query
	}
	if v, ok := q.bind.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	s := b.String()
	q.bind.Store(query, s)
	return s
}

// stmtCtx is the context a statement runs with (see querier.detach).
func (q *querier) stmtCtx(ctx context.Context) context.Context {
	if q.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (q *querier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = q.clocked(query, args)
	q.db.sent(query)
	res, err := q.w.ExecContext(q.stmtCtx(ctx), q.rebind(query), args...)
	return res, q.mapErr(err)
}

// execN runs a write and returns the number of rows it affected.
func (q *querier) execN(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execOne runs a write that must affect a row; none is store.ErrNotFound.
func (q *querier) execOne(ctx context.Context, what, query string, args ...any) error {
	n, err := q.execN(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return nil
}

// query runs a read (or, with write, a statement with RETURNING).
func (q *querier) query(ctx context.Context, write bool, query string, args ...any) (*sql.Rows, error) {
	ex := q.r
	if write {
		ex = q.w
	}
	query, args = q.clocked(query, args)
	q.traced(query, args)
	rows, err := ex.QueryContext(q.stmtCtx(ctx), q.rebind(query), args...)
	return rows, q.mapErr(err)
}

func (q *querier) queryRow(ctx context.Context, write bool, query string, args ...any) *sql.Row {
	ex := q.r
	if write {
		ex = q.w
	}
	query, args = q.clocked(query, args)
	q.traced(query, args)
	return ex.QueryRowContext(q.stmtCtx(ctx), q.rebind(query), args...)
}

// traced hands a read to the SetTrace function, if any (the query-plan
// tests EXPLAIN what the store really runs).
func (q *querier) traced(query string, args []any) {
	q.db.sent(query)
	if f := q.db.trace.Load(); f != nil {
		(*f)(q.rebind(query), args)
	}
}

// mapErr wraps driver errors into the store's sentinels.
func (q *querier) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	case q.d.IsUnavailable != nil && q.d.IsUnavailable(err):
		return fmt.Errorf("%w: %w", identity.ErrUnavailable, err)
	case q.d.IsUniqueViolation(err):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case q.d.IsForeignKeyViolation(err):
		return fmt.Errorf("%w: referenced row missing: %w", store.ErrNotFound, err)
	}
	return err
}

// scanErr maps a QueryRow scan error, naming what was looked up.
func (q *querier) scanErr(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	return q.mapErr(err)
}

// migrate applies the migrations not yet recorded in schema_migrations,
// holding the dialect's migration lock (if any) on one connection.
func (db *DB) migrate(ctx context.Context, migrations fs.FS) error {
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	type mig struct {
		version int
		name    string
	}
	var list []mig
	for _, n := range names {
		base := n[strings.LastIndex(n, "/")+1:]
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlstore: migration %q: name must start with a number", n)
		}
		list = append(list, mig{v, n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })

	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if db.d.MigrationLock != nil {
		unlock, err := db.d.MigrationLock(ctx, conn)
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, m := range list {
		body, err := fs.ReadFile(migrations, m.name)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, conn, m.version, m.name, string(body)); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, version int, name, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	q := db.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?")
	if err := tx.QueryRowContext(ctx, q, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range splitStatements(body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	ins := db.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
	if _, err := tx.ExecContext(ctx, ins, version, name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// splitStatements splits a migration file on semicolons that end a line and
// drops "--" comment lines. Migration files must not put ";" at the end of a
// line inside a statement.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
