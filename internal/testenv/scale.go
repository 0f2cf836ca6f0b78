package testenv

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// ScaleUsers is the size of the pools tests at scale build: 0 (skip
// them) unless GATEHOUSE_TEST_SCALE=1, then GATEHOUSE_TEST_SCALE_USERS or
// 1,000,000. They are off in CI for time (a million users take minutes
// to generate on each database).
func ScaleUsers(t testing.TB) int {
	t.Helper()
	if os.Getenv("GATEHOUSE_TEST_SCALE") != "1" {
		return 0
	}
	n := 1000000
	if v := os.Getenv("GATEHOUSE_TEST_SCALE_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("GATEHOUSE_TEST_SCALE_USERS=%q: a positive number of users is wanted", v)
		}
	}
	return n
}

// Populate adds n generated users to the stack's pool (sqlstore.Populate:
// user<i>@co<i/1000>.example.com, one company and group per thousand, every
// third in "members", every hundredth with a pending registration), all
// with the password hash hash, and returns how long it took.
func (s *Stack) Populate(n int, hash string) time.Duration {
	s.T.Helper()
	return s.PopulatePerCompany(n, 0, hash)
}

// PopulatePerCompany is Populate with perCompany users per generated
// company (co<i/perCompany>; 0: a thousand), for a pool of many companies.
func (s *Stack) PopulatePerCompany(n, perCompany int, hash string) time.Duration {
	s.T.Helper()
	o := sqlstore.PopulateOptions{Users: n, PerCompany: perCompany, PasswordHash: hash}
	db, ok := s.Store.(*sqlstore.DB)
	if !ok {
		s.T.Fatalf("Populate: the stack's store is a %T", s.Store)
	}
	t0 := time.Now()
	o.PoolID, o.Now = s.Pool.ID, s.Clock.Now()
	if err := db.Populate(s.T.Context(), o); err != nil {
		s.T.Fatalf("Populate: %v", err)
	}
	return time.Since(t0)
}
