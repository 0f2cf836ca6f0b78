package forwardauth_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// The package's tests run on SQLite, then on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set (forwardauthtest is a testenv stack).
func TestMain(m *testing.M) { testenv.Main(m) }
