package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"modernc.org/sqlite"
)

// The per-connection prepared-statement cache.
//
// modernc.org/sqlite prepares (parses and plans) a statement on every
// ExecContext/QueryContext of a connection and finalizes it afterwards:
// on a refresh that was about a fifth of the CPU. database/sql's own
// prepared statements (db.Prepare) do not help here: the group-commit
// transaction holds the one write connection, and statements prepared on
// the *sql.DB are re-prepared on whichever connection runs them, per call.
// So the cache lives below database/sql, in a driver.Conn wrapper: each
// connection keeps its prepared statements by SQL text and reuses them
// (modernc resets a reused statement and clears its bindings after each
// step or when its rows close). SQLite re-prepares a cached statement by
// itself when the schema changes (sqlite3_prepare_v2), so a migration
// never runs against a stale plan.
//
// EXPLAIN statements are not cached (isExplain). A statement is used by
// one call at a time: a query whose cached
// statement still has open rows (a nested query with the same text on the
// same connection) gets a fresh statement, finalized when its rows close.
// The cache is bounded; past maxCachedStmts it stops adding (the hot
// statements are the first ones seen and a server runs a fixed set).

// maxCachedStmts bounds the statements kept per connection.
const maxCachedStmts = 512

// cachingConnector opens connections through modernc's connector and wraps
// each in a cachingConn.
type cachingConnector struct {
	base driver.Connector
}

func newCachingConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return cachingConnector{base: base}, nil
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (c cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// The interfaces of modernc's conn that the wrapper passes on.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt  driver.Stmt
	inUse bool // rows from it are open
}

type cachingConn struct {
	inner innerConn
	stmts map[string]*cachedStmt
}

var (
	_ driver.ExecerContext  = (*cachingConn)(nil)
	_ driver.QueryerContext = (*cachingConn)(nil)
	_ innerConn             = (*cachingConn)(nil)
)

func newCachingConn(conn driver.Conn) (driver.Conn, error) {
	inner, ok := conn.(innerConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: driver connection lacks the context interfaces")
	}
	return &cachingConn{inner: inner, stmts: make(map[string]*cachedStmt)}, nil
}

// Unwrap gives the driver's own connection, for (*sql.Conn).Raw users.
func (c *cachingConn) Unwrap() driver.Conn { return c.inner }

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

func (c *cachingConn) IsValid() bool { return c.inner.IsValid() }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
		delete(c.stmts, q)
	}
	errs = append(errs, c.inner.Close())
	return errors.Join(errs...)
}

// stmt returns the cached statement for query, preparing it on first use,
// or nil when the cached one is busy or the cache is full (the caller then
// uses an uncached statement).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.inUse {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts || isExplain(query) {
		return nil, nil
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{stmt: st}
	c.stmts[query] = s
	return s, nil
}

// isExplain reports an EXPLAIN statement: its output is made when it is
// prepared and it never reads the schema again, so a cached one would
// keep describing a plan after an index it names was dropped.
func isExplain(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) >= 7 && strings.EqualFold(q[:7], "EXPLAIN")
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.inUse = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// cachedRows marks its statement free again when closed.
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.inUse = false
	return err
}
