package sqlstore

import (
	"strings"
	"time"
)

// The database's clock.
//
// Leases and due times of jobs (and the times the outbox stamps) are
// compared and computed in the statements themselves, with the database's
// clock: Dialect.NowMS, now() on PostgreSQL. Several nodes sharing one
// PostgreSQL therefore agree on whether a lease expired even when their own
// clocks disagree; a node running ahead cannot take over a job another node
// still runs. On SQLite the database is one file used by the processes of
// one machine, whose clock SQLite reads: there the machine's clock is the
// database's clock.
//
// Statements write {now} where they need the clock and pass nowArg at the
// same position in their arguments. Normally {now} becomes NowMS and
// nowArg is dropped; with a clock set by SetClock (tests that move time)
// {now} becomes a placeholder bound to that clock's reading.

// clockArg marks the argument position of a {now} in a statement.
type clockArg struct{}

// nowArg is the argument that goes with each {now} of a statement.
var nowArg = clockArg{}

// SetClock replaces the database's clock in the statements that use it
// (job leases and due times, outbox times) by now, on this handle only;
// nil restores the database's own clock. For tests that move time; a
// server never calls it.
func (db *DB) SetClock(now func() time.Time) {
	if now == nil {
		db.clock.Store(nil)
		return
	}
	db.clock.Store(&now)
}

// clocked expands {now} in query (see above).
func (q *querier) clocked(query string, args []any) (string, []any) {
	if !strings.Contains(query, "{now}") {
		return query, args
	}
	var fixed int64
	clock := q.db.clock.Load()
	if clock != nil {
		fixed = ms((*clock)())
		query = strings.ReplaceAll(query, "{now}", "CAST(? AS BIGINT)")
	} else {
		query = strings.ReplaceAll(query, "{now}", q.d.NowMS)
	}
	out := make([]any, 0, len(args))
	for _, a := range args {
		if _, ok := a.(clockArg); ok {
			if clock != nil {
				out = append(out, fixed)
			}
			continue
		}
		out = append(out, a)
	}
	return query, out
}
