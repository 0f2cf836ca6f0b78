package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Many clients signing in to one account with the right password at once
// are never refused as locked, and nothing is counted as a failure: a
// check in flight is a reservation, not a failure (security.md L1).
func TestSignInConcurrentRightPasswordsNeverLocked(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		const clients, rounds = 16, 4
		var mu sync.Mutex
		locked, ok := 0, 0
		for r := 0; r < rounds; r++ {
			var wg sync.WaitGroup
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.signIn("jo@example.com", goodPW)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case identity.ErrorMessage(err) == "Password attempts exceeded":
						locked++
					case identity.ErrorCode(err) == identity.CodeTooManyRequests:
						// "retry": allowed, but never a lockout
					default:
						t.Errorf("right password: %v", err)
					}
				}()
			}
			wg.Wait()
		}
		if locked != 0 {
			t.Fatalf("%d of %d right passwords were refused as locked (%d signed in)", locked, clients*rounds, ok)
		}
		if ok == 0 {
			t.Fatal("no sign-in succeeded")
		}
		if u := e.getUser("jo@example.com"); u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
			t.Fatalf("after right passwords only: %d failures, locked until %v", u.FailedAttempts, u.LockedUntil)
		}
	})
}

// inFlight reserves n credential checks of username directly in the
// store, as sign-ins on other nodes would that are still hashing (or that
// died mid-check).
func (e *userEnv) inFlight(username string, n int) {
	e.t.Helper()
	u := e.getUser(username)
	for i := range n {
		if _, err := e.st.ReserveAttempt(e.ctx, e.pool.ID, u.Sub, fmt.Sprint("other-node-", i), e.now(), DefaultMaxFailures, AttemptReservationTTL); err != nil {
			e.t.Fatalf("ReserveAttempt: %v", err)
		}
	}
}

// With as many checks in flight as the account may still fail, one more
// attempt is not checked and answers "retry" (too_many_requests with
// Retry-After), never a lockout; and checks whose node died (reservations
// never resolved) give their slots back after AttemptReservationTTL, so
// the owner is not locked out for good (security.md L1).
func TestSignInChecksInFlightAnswerRetry(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.s.reserveBackoff = nil // answer at once instead of waiting for a slot
		e.confirmedUser("jo@example.com")
		e.inFlight("jo@example.com", DefaultMaxFailures)
		before := e.hasher.verifies.Load()
		_, err := e.signIn("jo@example.com", goodPW)
		wantErr(t, err, identity.CodeTooManyRequests, "Rate exceeded")
		if identity.RetryAfter(err) <= 0 {
			t.Error("no Retry-After on the retry answer")
		}
		if e.hasher.verifies.Load() != before {
			t.Fatal("a password was checked beyond the limit in flight")
		}
		if u := e.getUser("jo@example.com"); u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
			t.Fatalf("refused attempt counted: %d failures, locked until %v", u.FailedAttempts, u.LockedUntil)
		}
		// The nodes holding those reservations died: after the TTL the
		// owner signs in.
		e.advance(AttemptReservationTTL)
		e.mustSignIn("jo@example.com", goodPW)
	})
}

// A check that outlives its reservation is not answered, so the number of
// guesses answered stays within the limit even then (security.md L1).
func TestSignInCheckOutlivingReservationNotAnswered(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	e.hasher.onVerify = func() { e.advance(AttemptReservationTTL) }
	_, err := e.signIn("jo@example.com", wrongPW)
	wantErr(t, err, identity.CodeTooManyRequests, "Rate exceeded")
	if u := e.getUser("jo@example.com"); u.FailedAttempts != 0 {
		t.Fatalf("an unanswered check was counted: %d", u.FailedAttempts)
	}
}

// The lockout says how long it lasts (security.md L2): Cognito's message
// "Password attempts exceeded", its own code, and RetryAfter, which the
// HTTP surfaces send as Retry-After.
func TestLockoutSaysHowLong(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.MaxFailedAttempts = 3
		in.LockoutDuration = time.Minute
	}, nil)
	e.confirmedUser("jo@example.com")
	for range 3 {
		_, err := e.signIn("jo@example.com", wrongPW)
		wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	}
	_, err := e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
	if got := identity.RetryAfter(err); got != time.Minute {
		t.Fatalf("RetryAfter = %v, want 1m", got)
	}
	e.advance(20 * time.Second)
	_, err = e.signIn("jo@example.com", goodPW)
	if got := identity.RetryAfter(err); got != 40*time.Second {
		t.Fatalf("RetryAfter after 20s = %v, want 40s", got)
	}
}

// With PreventUserExistenceErrors a locked account answers exactly what
// an unknown name answers, and each costs one dummy hash and no real one
// (security.md L8): neither the message nor the work tells them apart.
func TestLockedAccountLooksUnknown(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	e.confirmedUser("jo@example.com")
	for range DefaultMaxFailures {
		_, err := e.signIn("jo@example.com", wrongPW)
		wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	}
	if u := e.getUser("jo@example.com"); !u.LockedUntil.After(e.now()) {
		t.Fatal("the account is not locked")
	}
	cost := func(f func() error) (int64, int64, error) {
		v0, d0 := e.hasher.verifies.Load(), e.hasher.dummies.Load()
		err := f()
		return e.hasher.verifies.Load() - v0, e.hasher.dummies.Load() - d0, err
	}
	vLocked, dLocked, errLocked := cost(func() error { _, err := e.signIn("jo@example.com", goodPW); return err })
	vUnknown, dUnknown, errUnknown := cost(func() error { _, err := e.signIn("nobody@example.com", goodPW); return err })
	sameError(t, errLocked, errUnknown)
	if identity.RetryAfter(errLocked) != 0 {
		t.Error("the locked answer carries a wait an unknown name never gets")
	}
	if vLocked != 0 || dLocked != 1 || vUnknown != 0 || dUnknown != 1 {
		t.Fatalf("locked: %d verifies %d dummies; unknown: %d verifies %d dummies; want 0 and 1 each", vLocked, dLocked, vUnknown, dUnknown)
	}
	// The same with a check in flight filling the slot (past the limit,
	// once the lock ran out, one check at a time).
	e.advance(time.Hour)
	e.s.reserveBackoff = nil
	e.inFlight("jo@example.com", 1)
	vBusy, dBusy, errBusy := cost(func() error { _, err := e.signIn("jo@example.com", goodPW); return err })
	sameError(t, errBusy, errUnknown)
	if vBusy != 0 || dBusy != 1 {
		t.Fatalf("no slot: %d verifies %d dummies; want 0 and 1", vBusy, dBusy)
	}
}
