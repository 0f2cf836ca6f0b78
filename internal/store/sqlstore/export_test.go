package sqlstore

// WaitingCalls returns how many group-committed InTx calls wait for their
// batch to begin (tests of groupcommit.go).
func (db *DB) WaitingCalls() int { return int(db.batch.waiting.Load()) }

// SetTrace has every read the store runs reported to f (nil: none), as
// the database receives it.
func (db *DB) SetTrace(f func(query string, args []any)) {
	if f == nil {
		db.trace.Store(nil)
		return
	}
	db.trace.Store(&f)
}

// PrefixSuccessor exposes prefixSuccessor (users.go).
var PrefixSuccessor = prefixSuccessor
