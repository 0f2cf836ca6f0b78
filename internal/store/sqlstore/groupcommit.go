package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
//
// A caller may leave before its batch begins: while it waits in the queue
// or while the batch waits for the write lock (another process holds it,
// up to the busy timeout), its context ending makes InTx return the
// context's error at once, and its fn is then never run. The batch
// "begins" for a call when the leader, holding the open transaction, takes
// the call (callWaiting -> callBegun, a compare-and-set the leaving caller
// races with); from then on the caller waits for the shared COMMIT, as
// its statements may already be in it.
//
// The leader runs in its own goroutine, so that no caller, not even the
// first, is held by other callers' batches after its context ended.

// maxBatch bounds how many calls share one COMMIT.
const maxBatch = 128

// States of a txCall.
const (
	callWaiting int32 = iota // queued, or in a batch that has not begun
	callBegun                // its fn runs (or ran) in the batch's transaction
	callLeft                 // its caller left before the batch began: never run
)

type txCall struct {
	ctx     context.Context
	fn      func(q *querier) error
	state   atomic.Int32
	err     error
	panicV  any
	paniced bool
	done    chan struct{}
}

type batcher struct {
	mu      sync.Mutex
	queue   []*txCall
	leading bool
	waiting atomic.Int64 // calls in state callWaiting (for tests)
}

// groupTx runs fn in a shared transaction (see above).
func (db *DB) groupTx(ctx context.Context, fn func(q *querier) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &txCall{ctx: ctx, fn: fn, done: make(chan struct{})}
	b := &db.batch
	b.waiting.Add(1)
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.leading
	if lead {
		b.leading = true
	}
	b.mu.Unlock()
	if lead {
		go db.lead()
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if b.leave(c, callLeft) {
			return ctx.Err()
		}
		<-c.done // the batch began: wait for the shared COMMIT
	}
	if c.paniced {
		panic(c.panicV)
	}
	return c.err
}

// leave moves c out of callWaiting into to, reporting whether it did (the
// caller and the leader race for it).
func (b *batcher) leave(c *txCall, to int32) bool {
	if !c.state.CompareAndSwap(callWaiting, to) {
		return false
	}
	b.waiting.Add(-1)
	return true
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
	b := &db.batch
	finish := func(err error) {
		for _, c := range calls {
			// A call that never began (BEGIN failed) is told why.
			b.leave(c, callBegun)
			if c.err == nil && !c.paniced {
				c.err = err
			}
			close(c.done)
		}
	}
	ctx := context.Background() // one caller's cancellation must not end the others' transaction
	db.sent("BEGIN")
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		finish(db.unavailable(fmt.Errorf("sqlstore: begin: %w", db.mapErr(err))))
		return
	}
	q := &querier{db: db, d: db.d, r: tx, w: tx, inTx: true, detach: true, bind: db.bind}
	for _, c := range calls {
		if c.ctx.Err() != nil && b.leave(c, callLeft) {
			// Its caller is leaving (or left): do not run it.
			c.err = c.ctx.Err()
			continue
		}
		if !b.leave(c, callBegun) {
			continue // its caller left
		}
		db.sent("SAVEPOINT gh_call")
		if _, err := tx.ExecContext(ctx, `SAVEPOINT gh_call`); err != nil {
			_ = tx.Rollback()
			finish(db.unavailable(fmt.Errorf("sqlstore: savepoint: %w", db.mapErr(err))))
			return
		}
		db.runCall(q, c)
		if c.err != nil || c.paniced {
			db.sent("ROLLBACK TO SAVEPOINT gh_call")
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT gh_call`); err != nil {
				// The transaction is unusable: nobody's work is kept.
				_ = tx.Rollback()
				finish(db.unavailable(errors.Join(fmt.Errorf("sqlstore: rollback to savepoint: %w", err))))
				return
			}
		}
		db.sent("RELEASE SAVEPOINT gh_call")
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT gh_call`); err != nil {
			_ = tx.Rollback()
			finish(db.unavailable(fmt.Errorf("sqlstore: release savepoint: %w", db.mapErr(err))))
			return
		}
	}
	db.sent("COMMIT")
	if err := tx.Commit(); err != nil {
		finish(db.unavailable(db.mapErr(fmt.Errorf("sqlstore: commit: %w", err))))
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
