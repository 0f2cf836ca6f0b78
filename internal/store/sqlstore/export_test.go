package sqlstore

// WaitingCalls returns how many group-committed InTx calls wait for their
// batch to begin (tests of groupcommit.go).
func (db *DB) WaitingCalls() int { return int(db.batch.waiting.Load()) }
