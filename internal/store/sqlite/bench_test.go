package sqlite_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// BenchmarkRefreshRotation: go test -run ^$ -bench RefreshRotation ./internal/store/sqlite
func BenchmarkRefreshRotation(b *testing.B) {
	s := storetest.OpenSQLite(b)
	b.Run("serial", func(b *testing.B) { storetest.BenchRefreshRotation(b, s, false) })
	b.Run("parallel", func(b *testing.B) { storetest.BenchRefreshRotation(b, s, true) })
}
