package postgres_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// BenchmarkRefreshRotation: GATEHOUSE_TEST_POSTGRES=... go test -run ^$ -bench RefreshRotation ./internal/store/postgres
func BenchmarkRefreshRotation(b *testing.B) {
	s := storetest.OpenPostgres(b)
	b.Run("serial", func(b *testing.B) { storetest.BenchRefreshRotation(b, s, false) })
	b.Run("parallel", func(b *testing.B) { storetest.BenchRefreshRotation(b, s, true) })
}
