// Package sqlstore is the one implementation of store.Store on
// database/sql, shared by the SQLite and PostgreSQL backends.
//
// Why one implementation: the two databases differ in a handful of places
// (placeholders, error codes, row locks, how writers are serialised), and
// everything else — the statements, pagination, and above all the
// compare-and-set logic that keeps codes, refresh tokens and job leases
// single-use — should be written and reviewed once. A Dialect captures the
// differences:
//
//	placeholders     ? (SQLite) or $n (PostgreSQL; rebound once per statement)
//	unique violation SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, SQLSTATE 23505 -> store.ErrConflict
//	foreign key      SQLITE_CONSTRAINT_FOREIGNKEY, SQLSTATE 23503        -> store.ErrNotFound
//	job claim lock   "" (SQLite's single writer) or FOR UPDATE SKIP LOCKED
//	tx retries       none (SQLite) or 40001/40P01 (PostgreSQL), whole fn re-run
//	migration lock   none (one writer connection, BEGIN IMMEDIATE) or pg_advisory_lock
//
// Both databases support INSERT/UPDATE ... RETURNING and ON CONFLICT, so
// the statements are the same text on both.
//
// Portable storage: times are BIGINT unix milliseconds in UTC (0 is the
// zero time.Time), booleans INTEGER 0/1, structured values JSON in TEXT,
// bytes BLOB/BYTEA. Each backend embeds its own migration files
// (migrations/NNNN_name.sql), applied by New in order, each in one
// transaction, and recorded in schema_migrations.
//
// Concurrency: single-use values change only through one conditional
// statement whose affected-row count decides the winner:
//
//	MarkRefreshTokenUsed  UPDATE ... WHERE hash = ? AND used_at = 0 AND revoked_at = 0
//	UseCode (match)       DELETE ... WHERE ... AND hash = ? AND attempts < max
//	UseCode (mismatch)    UPDATE ... SET attempts = attempts + 1
//	RecordFailedAttempt   UPDATE ... SET failed_attempts = failed_attempts + 1 RETURNING
//	ReserveAttempt        the user's row lock (UPDATE users ... RETURNING), then count and INSERT
//	FailAttempt/Release   DELETE ... WHERE id = ? AND expires_at > now (then count the failure)
//	HitThrottle           INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING
//	ClaimJobs             UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING
//	CompleteJob/FailJob   UPDATE ... WHERE id = ? AND state = 'running' AND locked_by = worker
//
// On PostgreSQL at READ COMMITTED a second concurrent UPDATE or DELETE of
// the same row waits for the first to commit and then re-checks its WHERE
// clause, so it affects no row; on SQLite every write goes through one
// connection, so writes are serial. Unique email per pool is a UNIQUE
// (pool_id, email_unique) constraint where email_unique is the email when
// the pool asks for uniqueness and NULL otherwise, so two concurrent
// sign-ups cannot both win.
//
// Methods that write more than one statement (CreateUser, UpdateUser,
// ReserveAttempt, FailAttempt) run in the caller's transaction or, outside one, in their own.
//
// Errors inside a transaction: on PostgreSQL a failed statement aborts the
// whole transaction, on SQLite it does not. So that code written against
// one behaves the same on the other, statements that can fail on a
// constraint (the Create*/Insert* methods, AddUserToGroup, PutCode,
// UpdateUser) run under a SAVEPOINT on PostgreSQL: a caller may handle
// ErrConflict or ErrNotFound inside InTx and go on.
//
// Inside InTx, use only the Querier passed to fn. On SQLite the
// transaction holds the single writer connection, so a write through the
// outer Store from inside fn waits for it forever (until ctx ends).
//
// The zero time.Time is stored as 0, so the instant 1970-01-01T00:00:00Z
// itself reads back as the zero time.
//
// Pagination is keyset-based with a stable order (pools, clients by id;
// users by created_at then sub; groups by name; emails and audit events
// newest first by id). NextToken is base64url of the last row's key, ""
// when there are no more rows. A Page.Limit <= 0 means 60; the cap is 1000.
package sqlstore
