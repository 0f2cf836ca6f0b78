package testenv

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// DB names a database backend of the stack.
type DB string

// The backends: SQLite always; PostgreSQL when GATEHOUSE_TEST_POSTGRES
// holds a DSN (storetest.PostgresEnv), each stack in a fresh schema.
const (
	SQLite   DB = "sqlite"
	Postgres DB = "postgres"
)

// current is the database of this pass over the package's tests (Main).
var current = SQLite

// Current returns the database of the running pass: SQLite, or
// PostgreSQL during Main's second pass. A stack without Options.DB or
// Options.Store opens this one.
func Current() DB { return current }

// Main runs the package's tests on SQLite, then once more on PostgreSQL
// when GATEHOUSE_TEST_POSTGRES is set — the same switch as the store's
// conformance suite — and exits with the worse result. Without the
// variable the second pass is skipped, unless CI=true or
// GATEHOUSE_TEST_ALL=1, where its absence fails the run. Listing
// (-test.list), fuzzing and benchmarks run once, on SQLite. Use it as
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// A failure names its database in the log (see New).
//
// Each after func runs once a pass of the tests ended, with the pass's
// exit code, and returns the code to keep (a package's checks over the
// whole pass, such as the native API's contract coverage). A listing,
// fuzzing or benchmarks run no after func.
func Main(m *testing.M, after ...func(code int) int) {
	// The flags are parsed by m.Run, which is too late to read them here:
	// parse them first (as testing's documentation asks of a TestMain
	// that reads flags), or a benchmark runs twice and its second pass
	// finds the CPU profile taken.
	if !flag.Parsed() {
		flag.Parse()
	}
	if onePass() {
		os.Exit(m.Run())
	}
	run := func() int {
		code := m.Run()
		for _, f := range after {
			code = f(code)
		}
		return code
	}
	code := run()
	if os.Getenv(storetest.PostgresEnv) == "" {
		if os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1" {
			fmt.Fprintf(os.Stderr, "testenv: %s is not set (required when CI=true or GATEHOUSE_TEST_ALL=1)\n", storetest.PostgresEnv)
			os.Exit(1)
		}
		os.Exit(code)
	}
	if testing.Verbose() {
		fmt.Println("testenv: the same tests again on PostgreSQL")
	}
	current = Postgres
	if c := run(); c != 0 {
		code = c
	}
	os.Exit(code)
}

// onePass reports whether the flags ask for a run that must not repeat:
// a listing (the fuzz scripts read it), fuzzing or benchmarks.
func onePass() bool {
	for _, name := range []string{"test.list", "test.fuzz", "test.bench"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return true
		}
	}
	return false
}

// OpenStore opens a fresh store on db that is closed (and, on PostgreSQL,
// whose schema is dropped) when t ends. On PostgreSQL it skips or fails
// like storetest.PostgresDSN when the variable is unset.
func OpenStore(t testing.TB, db DB) store.Store {
	t.Helper()
	switch db {
	case SQLite, "":
		return storetest.OpenSQLite(t)
	case Postgres:
		return storetest.OpenPostgres(t)
	}
	t.Fatalf("testenv: unknown database %q", db)
	return nil
}
