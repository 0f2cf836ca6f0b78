package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
)

// TestGroupCommitIsolatesCalls runs many concurrent transactions, which the
// SQLite backend batches into shared COMMITs: each call must still be all
// or nothing on its own — a failing, panicking or cancelled call leaves no
// trace and does not disturb the calls it shared a COMMIT with.
func TestGroupCommitIsolatesCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	const n = 200
	errBoom := errors.New("boom")
	results := make([]error, n)
	panicked := make([]bool, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					panicked[i] = true
				}
			}()
			cctx := ctx
			if i%7 == 3 {
				c, cancel := context.WithCancel(ctx)
				cancel() // a caller that has already gone away
				cctx = c
			}
			results[i] = db.InTx(cctx, func(q store.Querier) error {
				// Two writes per call: both or neither must survive.
				for _, suffix := range []string{"a", "b"} {
					id := fmt.Sprintf("us-east-1_gc%03d%s", i, suffix)
					if err := q.CreatePool(cctx, &identity.Pool{ID: id, Name: id}); err != nil {
						return err
					}
				}
				switch i % 5 {
				case 1:
					return errBoom
				case 2:
					if i%10 == 2 {
						panic("boom")
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()

	for i := 0; i < n; i++ {
		_, errA := db.GetPool(ctx, fmt.Sprintf("us-east-1_gc%03da", i))
		_, errB := db.GetPool(ctx, fmt.Sprintf("us-east-1_gc%03db", i))
		kept := errA == nil
		if (errA == nil) != (errB == nil) {
			t.Fatalf("call %d: half written (a: %v, b: %v)", i, errA, errB)
		}
		switch {
		case panicked[i]:
			if kept || i%10 != 2 {
				t.Errorf("call %d panicked (expected: %v) and kept=%v", i, i%10 == 2, kept)
			}
		case results[i] == nil:
			if !kept {
				t.Errorf("call %d was told nil but its writes are gone", i)
			}
		default:
			if kept {
				t.Errorf("call %d failed (%v) but its writes were kept", i, results[i])
			}
			if i%5 == 1 && i%7 != 3 && !errors.Is(results[i], errBoom) {
				t.Errorf("call %d: err = %v; want its own error", i, results[i])
			}
		}
	}
}
