package approval_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// The package's tests run on SQLite, then again on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set (internal/testenv).
func TestMain(m *testing.M) { testenv.Main(m) }
