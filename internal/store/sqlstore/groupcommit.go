package sqlstore

import (
	"context"

	"errors"
	"fmt"
	"sync"
)

// Group commit (SQLite).
//
// SQLite has one writer and, with synchronous=FULL, one fsync per COMMIT,
// so a transaction's cost is mostly the fsync and transactions queue behind
// each other. With Dialect.GroupCommit, concurrent InTx calls are run by one
// leader in a single database transaction, each inside its own SAVEPOINT:
// a call whose fn fails (or panics) is rolled back to its savepoint and
// leaves the others alone; the survivors are told nil only after the one
// COMMIT (and its fsync) succeeded. If that COMMIT fails, every survivor is
// told so, and nothing of theirs is kept. Callers see exactly the semantics
// of one transaction each; durability per acknowledged call is unchanged.
//
// Statements inside a batch run with their context's cancellation removed:
// SQLite answers a cancelled statement with sqlite3_interrupt, which can
// roll back the whole transaction and with it other callers' work.

// maxBatch bounds how many calls share one COMMIT.
const maxBatch = 128

type txCall struct {
	fn      func(q *querier) error
	err     error
	panicV  any
	paniced bool
	done    chan struct{}
}

type batcher struct {
	mu      sync.Mutex
	queue   []*txCall
	leading bool
}

// groupTx runs fn in a shared transaction (see above).
func (db *DB) groupTx(ctx context.Context, fn func(q *querier) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &txCall{fn: fn, done: make(chan struct{})}
	b := &db.batch
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.leading
	if lead {
		b.leading = true
	}
	b.mu.Unlock()
	if lead {
		db.lead()
	}
	<-c.done
	if c.paniced {
		panic(c.panicV)
	}
	return c.err
}

// lead runs batches until the queue is empty, then gives up leadership.
func (db *DB) lead() {
	b := &db.batch
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.leading = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), maxBatch)
		calls := b.queue[:n:n]
		b.queue = append([]*txCall(nil), b.queue[n:]...)
		b.mu.Unlock()
		db.runBatch(calls)
	}
}

func (db *DB) runBatch(calls []*txCall) {
	finish := func(err error) {
		for _, c := range calls {
			if c.err == nil && !c.paniced {
				c.err = err
			}
			close(c.done)
		}
	}
	ctx := context.Background() // one caller's cancellation must not end the others' transaction
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		finish(fmt.Errorf("sqlstore: begin: %w", db.mapErr(err)))
		return
	}
	q := &querier{db: db, d: db.d, r: tx, w: tx, inTx: true, detach: true, bind: db.bind}
	for _, c := range calls {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT gh_call`); err != nil {
			_ = tx.Rollback()
			finish(db.unavailable(fmt.Errorf("sqlstore: savepoint: %w", db.mapErr(err))))
			return
		}
		db.runCall(q, c)
		if c.err != nil || c.paniced {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT gh_call`); err != nil {
				// The transaction is unusable: nobody's work is kept.
				_ = tx.Rollback()
				finish(db.unavailable(errors.Join(fmt.Errorf("sqlstore: rollback to savepoint: %w", err))))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT gh_call`); err != nil {
			_ = tx.Rollback()
			finish(db.unavailable(fmt.Errorf("sqlstore: release savepoint: %w", db.mapErr(err))))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		finish(db.mapErr(fmt.Errorf("sqlstore: commit: %w", err)))
		return
	}
	finish(nil)
}

// runCall runs one caller's fn, catching its panic for the caller.
func (db *DB) runCall(q *querier, c *txCall) {
	defer func() {
		if v := recover(); v != nil {
			c.paniced, c.panicV = true, v
		}
	}()
	if err := c.fn(q); err != nil {
		c.err = db.unavailable(err)
	}
}

// useGroupCommit reports whether InTx batches (SQLite).
func (db *DB) useGroupCommit() bool { return db.d.GroupCommit }
