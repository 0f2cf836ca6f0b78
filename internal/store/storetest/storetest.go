// Package storetest is the conformance suite every store.Store backend
// runs: each backend's test file is a few lines calling Run with a function
// that opens a fresh, empty store.
//
// The suite pins the behaviour the rest of Gatehouse relies on: every
// Querier method, ErrNotFound and ErrConflict, pagination and filters,
// cascades on pool delete, transaction rollback (on error and on panic),
// millisecond time round-trips, and the races that matter for security
// (refresh token rotation, unique email, lockout counting and
// reservations, code use, job leases). A behaviour change means extending this suite first.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Run runs the whole suite. open must return a new, empty store for each
// call and arrange for it to be closed (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Backend", testBackend},
		{"Pools", testPools},
		{"PoolPagination", testPoolPagination},
		{"Clients", testClients},
		{"Users", testUsers},
		{"UserUniqueness", testUserUniqueness},
		{"UserByEmail", testUserByEmail},
		{"ListUsersPagination", testListUsersPagination},
		{"ListUsersFilters", testListUsersFilters},
		{"ListOrder", testListOrder},
		{"ListChangesBetweenPages", testListChangesBetweenPages},
		{"ListTokensBound", testListTokensBound},
		{"FailedAttempts", testFailedAttempts},
		{"AttemptReservations", testAttemptReservations},
		{"Throttles", testThrottles},
		{"RefreshTokenPurgeBatch", testRefreshTokenPurgeBatch},
		{"Groups", testGroups},
		{"Codes", testCodes},
		{"RefreshTokens", testRefreshTokens},
		{"SignIns", testSignIns},
		{"OAuthCodes", testOAuthCodes},
		{"RevokedOrigins", testRevokedOrigins},
		{"OIDCSessions", testOIDCSessions},
		{"WebAuthn", testWebAuthn},
		{"LinkedIdentities", testLinkedIdentities},
		{"Factors", testFactors},
		{"Devices", testDevices},
		{"ImportJobs", testImportJobs},
		{"CompanyIdPs", testCompanyIdPs},
		{"SCIM", testSCIM},
		{"SigningKeys", testSigningKeys},
		{"APIKeys", testAPIKeys},
		{"Emails", testEmails},
		{"Jobs", testJobs},
		{"JobAdmin", testJobAdmin},
		{"JobsDatabaseClock", testJobsDatabaseClock},
		{"EmailDelivery", testEmailDelivery},
		{"RearmDeadEmails", testRearmDeadEmails},
		{"Audit", testAudit},
		{"DeletePoolCascades", testDeletePoolCascade},
		{"TxRollback", testTxRollback},
		{"TxPanic", testTxPanic},
		{"TxContinuesAfterError", testTxContinuesAfterError},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"BadPageToken", testBadPageToken},
		{"ConcurrentRefreshRotation", testConcurrentRefresh},
		{"Sessions", testSessions},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"ReissueRefreshToken", testReissueRefreshToken},
		{"ConcurrentUniqueEmail", testConcurrentUniqueEmail},
		{"ConcurrentUsername", testConcurrentUsername},
		{"ConcurrentFailedAttempts", testConcurrentFailedAttempts},
		{"ConcurrentAttemptReservations", testConcurrentAttemptReservations},
		{"ConcurrentUseCode", testConcurrentUseCode},
		{"ConcurrentClaimJobs", testConcurrentClaimJobs},
		{"Companies", testCompanies},
		{"CompanyApprovers", testCompanyApprovers},
		{"DeleteUserEndsApprover", testDeleteUserEndsApprover},
		{"Registrations", testRegistrations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's clock: a fixed instant with a millisecond part, so
// truncation bugs show.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

// mustPool creates a pool with id and returns it.
func mustPool(t *testing.T, s store.Store, id string) *identity.Pool {
	t.Helper()
	p := &identity.Pool{
		ID: id, Name: "pool " + id, UsernameMode: identity.UsernameEmail,
		PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256",
		MaxFailedAttempts: 5, LockoutDuration: time.Minute, CreatedAt: t0, UpdatedAt: t0,
	}
	if err := s.CreatePool(ctx(t), p); err != nil {
		t.Fatalf("CreatePool(%s): %v", id, err)
	}
	return p
}

// newUser returns a user (not stored) named n in pool.
func newUser(pool, n string) *identity.User {
	return &identity.User{
		PoolID: pool, Sub: "sub-" + n, Username: n + "@example.com", Email: n + "@example.com",
		Status: identity.StatusConfirmed, Enabled: true, PasswordHash: "hash-" + n,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func mustUser(t *testing.T, s store.Store, pool, n string) *identity.User {
	t.Helper()
	u := newUser(pool, n)
	if err := s.CreateUser(ctx(t), u, false); err != nil {
		t.Fatalf("CreateUser(%s): %v", n, err)
	}
	return u
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eqTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
}

func testBackend(t *testing.T, s store.Store) {
	switch b := s.Backend(); b {
	case "sqlite", "postgres":
	default:
		t.Errorf("Backend() = %q", b)
	}
	noErr(t, "Ping", s.Ping(ctx(t)))
}

func testBadPageToken(t *testing.T, s store.Store) {
	mustPool(t, s, "eu-west-1_tok")
	for _, tok := range []string{"!!!", "bm90LWpzb24", "WyJhIiwiYiJd"} {
		_, _, err := s.ListUsers(ctx(t), "eu-west-1_tok", nil, store.Page{Token: tok})
		if err == nil {
			t.Errorf("ListUsers token %q: no error", tok)
			continue
		}
		if identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("ListUsers token %q: code %s, want invalid_parameter", tok, identity.ErrorCode(err))
		}
	}
	_, _, err := s.ListPools(ctx(t), store.Page{Token: "%%%"})
	if identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Errorf("ListPools bad token: %v", err)
	}
}

// pageAll pages through list with limit and returns every item.
func pageAll[T any](t *testing.T, limit int, list func(p store.Page) ([]T, string, error)) [][]T {
	t.Helper()
	var pages [][]T
	tok := ""
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("pagination does not end")
		}
		items, next, err := list(store.Page{Limit: limit, Token: tok})
		noErr(t, "list page", err)
		pages = append(pages, items)
		if next == "" {
			return pages
		}
		if want := (store.Page{Limit: limit}).Size(); len(items) != want {
			t.Fatalf("page %d has %d items and a next token, want %d", i, len(items), want)
		}
		tok = next
	}
}

func names(n int, f string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(f, i)
	}
	return out
}
