package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Retention: small batches, each one statement (its own short
// transaction), oldest first by primary key, so a run never holds the
// write lock (SQLite) or many row locks (PostgreSQL) for long and requests
// interleave with it.

// poolCond selects the rows of poolID, or for "" those of no existing pool.
func poolCond(poolID string) (string, []any) {
	if poolID == "" {
		return `(pool_id IS NULL OR pool_id NOT IN (SELECT id FROM pools))`, nil
	}
	return `pool_id = ?`, []any{poolID}
}

// OldAuditEvents implements store.Querier.
func (q *querier) OldAuditEvents(ctx context.Context, poolID string, cutoff time.Time, limit int) ([]*identity.AuditEvent, error) {
	cond, args := poolCond(poolID)
	rows, err := q.query(ctx, q.inTx, `SELECT id, pool_id, occurred_at, actor, via, action, subject, detail, ip
		FROM audit_events WHERE `+cond+` AND occurred_at < ? ORDER BY id LIMIT ?`, append(args, ms(cutoff), limit)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAudit)
}

// scanAudit reads the columns OldAuditEvents and ListAudit select.
func scanAudit(sc interface{ Scan(...any) error }) (*identity.AuditEvent, error) {
	var e identity.AuditEvent
	var at int64
	var detail string
	if err := sc.Scan(&e.ID, &e.PoolID, &at, &e.Actor, &e.Via, &e.Action, &e.Subject, &detail, &e.IP); err != nil {
		return nil, err
	}
	e.Time = fromMS(at)
	if err := fromJSON(detail, &e.Detail); err != nil {
		return nil, err
	}
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	return &e, nil
}

// DeleteAuditEvents implements store.Querier.
func (q *querier) DeleteAuditEvents(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	n, err := q.execN(ctx, `DELETE FROM audit_events WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	return int(n), err
}

// finished says which rows of a table are finished and when they last
// changed.
// (Registration ids are random: their oldest come by time.)
var finished = map[store.PruneTable]struct{ key, done, at, order string }{
	store.PruneEmails:        {"id", `status IN ('sent', 'dead', 'discarded')`, "created_at", "id"},
	store.PruneJobs:          {"id", `state IN ('done', 'dead', 'discarded')`, "updated_at", "id"},
	store.PruneRegistrations: {"id", `state IN ('approved', 'denied', 'expired', 'no_approver')`, "updated_at", "updated_at, id"},
}

// PruneFinished implements store.Querier.
func (q *querier) PruneFinished(ctx context.Context, table store.PruneTable, poolID string, cutoff time.Time, limit int) (int, error) {
	f, ok := finished[table]
	if !ok {
		return 0, fmt.Errorf("sqlstore: nothing to prune in table %q", table)
	}
	cond, args := poolCond(poolID)
	t := string(table)
	n, err := q.execN(ctx, `DELETE FROM `+t+` WHERE `+f.key+` IN (SELECT `+f.key+` FROM `+t+`
		WHERE `+cond+` AND `+f.done+` AND `+f.at+` < ? ORDER BY `+f.order+` LIMIT ?)`, append(args, ms(cutoff), limit)...)
	return int(n), err
}

// statTables are the tables TableStats reports, with their time column
// ("" for none).
var statTables = []struct{ table, at string }{
	{"users", "created_at"},
	{"user_attributes", ""},
	{"group_members", ""},
	{"refresh_tokens", "issued_at"},
	{"codes", "created_at"},
	{"revoked_origins", "revoked_at"},
	{"oauth_codes", "created_at"},
	{"audit_events", "occurred_at"},
	{"emails", "created_at"},
	{"jobs", "created_at"},
	{"registrations", "created_at"},
}

// TableStats implements store.Querier: one statement, a scalar subquery per
// table.
func (q *querier) TableStats(ctx context.Context) ([]store.TableStat, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, t := range statTables {
		if i > 0 {
			b.WriteString(", ")
		}
		oldest := "0"
		if t.at != "" {
			oldest = fmt.Sprintf("(SELECT COALESCE(MIN(%s), 0) FROM %s)", t.at, t.table)
		}
		fmt.Fprintf(&b, "(SELECT COUNT(*) FROM %s), %s", t.table, oldest)
	}
	vals := make([]int64, 2*len(statTables))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := q.queryRow(ctx, q.inTx, b.String()).Scan(dest...); err != nil {
		return nil, q.mapErr(err)
	}
	out := make([]store.TableStat, len(statTables))
	for i, t := range statTables {
		out[i] = store.TableStat{Table: t.table, Rows: vals[2*i], Oldest: fromMS(vals[2*i+1])}
	}
	return out, nil
}

// Vacuum rewrites the database to give free pages back (Dialect.Vacuum).
// On SQLite it takes the write lock for the whole rewrite: run it when the
// server is quiet.
func (db *DB) Vacuum(ctx context.Context) error {
	for _, stmt := range db.d.Vacuum {
		if _, err := db.write.ExecContext(ctx, stmt); err != nil {
			return db.unavailable(fmt.Errorf("%s: %w", stmt, err))
		}
	}
	return nil
}

// Reclaim gives the free pages of deleted rows back where that is cheap
// (Dialect.Reclaim; nothing on PostgreSQL, whose autovacuum does it).
func (db *DB) Reclaim(ctx context.Context) error {
	for _, stmt := range db.d.Reclaim {
		if _, err := db.write.ExecContext(ctx, stmt); err != nil {
			return db.unavailable(fmt.Errorf("%s: %w", stmt, err))
		}
	}
	return nil
}
