package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
)

// TestStatementCache runs the cases the per-connection statement cache
// must get right: the same statement nested inside its own open rows on
// one connection, a schema change under a cached statement, and a failed
// statement leaving its cached statement usable.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	conn, err := db.WriteDB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE cache_t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	const ins = `INSERT INTO cache_t (k, v) VALUES (?, ?)`
	for i := 1; i <= 3; i++ {
		mustExec(ins, i, "v")
	}

	// Nested: the outer rows keep the cached statement busy; the inner
	// query with the same text must still see every row.
	const sel = `SELECT k FROM cache_t WHERE k >= ? ORDER BY k`
	outer, err := conn.QueryContext(ctx, sel, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var k int
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, sel, k)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 2 || got[2] != 1 {
		t.Fatalf("nested counts = %v, want [3 2 1]", got)
	}

	// A failed statement (unique violation) leaves the cached one usable,
	// with no bindings left over.
	if _, err := conn.ExecContext(ctx, ins, 1, "dup"); err == nil {
		t.Fatal("duplicate key inserted")
	}
	mustExec(ins, 4, "w")

	// Schema change: the cached SELECT * must see the new column.
	const star = `SELECT * FROM cache_t WHERE k = ?`
	cols := func() int {
		rows, err := conn.QueryContext(ctx, star, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return len(c)
	}
	if n := cols(); n != 2 {
		t.Fatalf("columns = %d, want 2", n)
	}
	mustExec(`ALTER TABLE cache_t ADD COLUMN w TEXT`)
	if n := cols(); n != 3 {
		t.Fatalf("columns after ALTER = %d, want 3", n)
	}

	// A read of a value written through the cached INSERT.
	var v string
	if err := conn.QueryRowContext(ctx, `SELECT v FROM cache_t WHERE k = ?`, 4).Scan(&v); err != nil || v != "w" {
		t.Fatalf("v = %q, %v", v, err)
	}
}
