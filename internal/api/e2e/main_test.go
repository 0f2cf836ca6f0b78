package e2e_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// The package's tests run on SQLite, then again on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set (internal/testenv). After each pass of
// the whole package, every route of routes.go must have answered 2xx to a
// contract-validated call (contract_test.go).
func TestMain(m *testing.M) { testenv.Main(m, checkCoverage) }
