package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

func openSQLite(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gc.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// waitFor polls cond (counting, not timing) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 30000 {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func poolExists(t *testing.T, db store.Store, id string) bool {
	t.Helper()
	_, err := db.GetPool(context.Background(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Issue 21 item 6: a caller that gave up (its request was cancelled) before
// its batch began gets its context's error at once, and its statements
// never run, also when the batch runs later.
func TestGroupCommitCallerThatLeftBeforeItsBatchDoesNotCommit(t *testing.T) {
	t.Parallel()
	t.Run("queued behind a slow batch", func(t *testing.T) {
		t.Parallel()
		db, _ := openSQLite(t)
		release, running := make(chan struct{}), make(chan struct{})
		slow := make(chan error, 1)
		go func() {
			slow <- db.InTx(context.Background(), func(q store.Querier) error {
				close(running)
				<-release
				return q.CreatePool(context.Background(), &identity.Pool{ID: "us-east-1_slow", Name: "slow"})
			})
		}()
		<-running
		ctx, cancel := context.WithCancel(context.Background())
		left := make(chan error, 1)
		go func() {
			left <- db.InTx(ctx, func(q store.Querier) error {
				return q.CreatePool(ctx, &identity.Pool{ID: "us-east-1_left", Name: "left"})
			})
		}()
		waitFor(t, "the call queues", func() bool { return db.WaitingCalls() == 1 })
		cancel()
		var err error
		select {
		case err = <-left:
		case <-time.After(30 * time.Second):
			close(release)
			t.Fatal("a cancelled caller still waits for its batch")
		}
		close(release)
		if err := <-slow; err != nil {
			t.Fatal(err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
		// One more transaction, so any batch the cancelled call was in
		// has run.
		if err := db.InTx(context.Background(), func(q store.Querier) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if poolExists(t, db, "us-east-1_left") || !poolExists(t, db, "us-east-1_slow") {
			t.Error("the cancelled caller's statements ran")
		}
	})
	t.Run("waiting for the write lock", func(t *testing.T) {
		t.Parallel()
		db, path := openSQLite(t)
		// Another process holds the write lock (a backup, a CLI command).
		other, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		conn, err := other.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		left := make(chan error, 1)
		go func() {
			left <- db.InTx(ctx, func(q store.Querier) error {
				return q.CreatePool(ctx, &identity.Pool{ID: "us-east-1_left", Name: "left"})
			})
		}()
		waitFor(t, "the call waits", func() bool { return db.WaitingCalls() == 1 })
		cancel()
		select {
		case err = <-left:
		case <-time.After(30 * time.Second):
			t.Fatal("a cancelled caller still waits for the write lock")
		}
		if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
		if err := db.InTx(context.Background(), func(q store.Querier) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if poolExists(t, db, "us-east-1_left") {
			t.Error("the cancelled caller's statements ran once the lock came back")
		}
	})
}

// Issue 21 item 6: a database locked by another process for longer than
// the busy timeout is unavailability (503 with Retry-After on the API),
// not an internal error.
func TestGroupCommitLockedDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	db, path := openSQLite(t)
	// The one writer connection waits 50 ms instead of 10 s.
	if _, err := db.WriteDB().ExecContext(context.Background(), `PRAGMA busy_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(context.Background(), func(q store.Querier) error {
		return q.CreatePool(context.Background(), &identity.Pool{ID: "us-east-1_locked", Name: "locked"})
	})
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("InTx on a locked database: %v, want ErrUnavailable", err)
	}
	// A single write outside a transaction too.
	err = db.CreatePool(context.Background(), &identity.Pool{ID: "us-east-1_locked2", Name: "locked"})
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("a write on a locked database: %v, want ErrUnavailable", err)
	}
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePool(context.Background(), &identity.Pool{ID: "us-east-1_locked3", Name: "ok"}); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}
