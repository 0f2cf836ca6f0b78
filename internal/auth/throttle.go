package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Password throttling (docs/security.md, section L)
//
// Failed password attempts are counted per account in the database, and
// every check is reserved BEFORE the password is verified: counting only
// after a wrong password would let many parallel requests all read "not
// locked" and all get a guess (ZITADEL CVE-2023-47111). Counting the
// attempt itself before the check (as an earlier version did) locked the
// owner out: five right passwords in flight at once were five "failures".
// So a check takes a reservation (store.ReserveAttempt), which only a
// wrong answer turns into a failure (store.FailAttempt) and a right one
// releases (store.ReleaseAttempt). The database grants a reservation only
// while the failures counted plus the reservations in flight stay below
// the pool's MaxFailedAttempts, deciding for every node under the user's
// row lock:
//
//   - the account is locked (LockedUntil > now): refused with
//     password_attempts_exceeded "Password attempts exceeded" and how long
//     the lock lasts (Error.RetryAfter), neither counted nor verified (as
//     Cognito, which ignores attempts during a lockout);
//   - the checks in flight fill what the account may still fail: the
//     caller waits a little (reserveBackoff) and tries again, then answers
//     too_many_requests "Rate exceeded" (retry): never a lockout;
//   - otherwise the password is verified; the failure that reaches the
//     limit locks the account for the pool's LockoutDuration, doubled per
//     failure past the limit (capped at 24h).
//
// So at most MaxFailedAttempts passwords are checked in a burst, across
// any number of nodes, then one per lockout, and right passwords in
// flight never lock anyone out. A reservation expires after
// AttemptReservationTTL (a node that died mid-check frees its slot then);
// a check that outlives its reservation is not answered (too_many_requests),
// so the bound holds even then.
//
// With PreventUserExistenceErrors every refusal that did not check the
// password (locked, or no slot) answers what an unknown user gets —
// "Incorrect username or password." after one dummy hash — so neither the
// message nor the work done tells a locked account from an unknown name.
//
// Every credential path that takes a password uses checkPassword: sign-in,
// ChangePassword's previous password, the federation link step; SRP's
// PASSWORD_VERIFIER answer uses the same throttle with its proof in place
// of the password.

// AttemptReservationTTL is how long a reserved credential check may run
// before its slot is given back (the check is then not answered).
const AttemptReservationTTL = 30 * time.Second

// reserveBackoff is how long a sign-in waits, between tries, for a slot
// when the checks in flight fill them (about 2.5 s in all), before it
// answers too_many_requests.
var reserveBackoff = []time.Duration{
	10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond,
	160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond, 640 * time.Millisecond, 640 * time.Millisecond,
}

var errBadCredentials = identity.Errorf(identity.CodeNotAuthorized, "Incorrect username or password.")

// lockedError is the answer for an account locked until until.
func lockedError(until, now time.Time) error {
	return &identity.Error{Code: identity.CodePasswordAttemptsExceeded, Message: "Password attempts exceeded",
		RetryAfter: until.Sub(now)}
}

// errBusy is the answer when the account's checks in flight fill its
// slots (or a check outlived its reservation): retry shortly.
var errBusy = &identity.Error{Code: identity.CodeTooManyRequests, Message: "Rate exceeded", RetryAfter: time.Second}

// isThrottleRefusal reports whether err is a credential refusal to audit
// as a failed sign-in, and the reason to record.
func isThrottleRefusal(err error) (string, bool) {
	switch {
	case err == errBadCredentials:
		return "wrong_password", true
	case identity.ErrorCode(err) == identity.CodePasswordAttemptsExceeded:
		return "locked", true
	case err == errBusy:
		return "busy", true
	}
	return "", false
}

// lockoutPolicy returns the pool's limit and base lockout.
func lockoutPolicy(p *identity.Pool) (int, time.Duration) {
	max, lockout := p.MaxFailedAttempts, p.LockoutDuration
	if max <= 0 {
		max = DefaultMaxFailures
	}
	if lockout <= 0 {
		lockout = DefaultLockout
	}
	return max, lockout
}

// checkPassword verifies password against u's hash under the throttle
// described above. It returns nil when the password is right (the caller
// then clears the counter, q.ResetFailedAttempts, in its transaction),
// errBadCredentials when it is wrong (the failure is counted), and the
// throttle's refusals. It runs outside any transaction: hashing is slow
// and must not hold the database.
func (s *Service) checkPassword(ctx context.Context, p *identity.Pool, u *identity.User, password string) error {
	dummy := func() { s.cfg.Hasher.VerifyDummy(ctx, password) }
	if u.PasswordHash == "" { // federated user: no password to check
		dummy()
		return errBadCredentials
	}
	return s.throttled(ctx, p, u, func() (bool, error) {
		ok, err := s.cfg.Hasher.Verify(ctx, u.PasswordHash, password)
		if err != nil {
			if identity.ErrorCode(err) == identity.CodeTooManyRequests {
				return false, err
			}
			s.cfg.Log.Error("verify password", "pool", p.ID, "sub", u.Sub, "err", err)
			return false, nil
		}
		return ok, nil
	}, dummy)
}

// throttled runs verify (a credential check of u: a password, an SRP
// proof) under the throttle described above. It returns nil when verify
// says true, the error verify returns, errBadCredentials when it says
// false, and lockedError or errBusy when the check was refused. With
// PreventUserExistenceErrors a refusal instead runs unknownCost (what the
// same request costs for an unknown user; nil for nothing) and returns
// errBadCredentials.
func (s *Service) throttled(ctx context.Context, p *identity.Pool, u *identity.User, verify func() (bool, error), unknownCost func()) error {
	refuse := func(err error) error {
		if !p.PreventUserExistenceErrors {
			return err
		}
		if unknownCost != nil {
			unknownCost()
		}
		return errBadCredentials
	}
	now := s.now()
	if u.LockedUntil.After(now) {
		return refuse(lockedError(u.LockedUntil, now))
	}
	max, lockout := lockoutPolicy(p)
	id, err := s.randomString(24, lowerAlnum)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		now = s.now()
		until, err := s.cfg.Store.ReserveAttempt(ctx, p.ID, u.Sub, id, now, max, AttemptReservationTTL)
		if err == nil {
			break
		}
		switch {
		case errors.Is(err, store.ErrLocked):
			return refuse(lockedError(until, now))
		case errors.Is(err, store.ErrNotFound):
			return refuse(errBadCredentials) // deleted meanwhile
		case !errors.Is(err, store.ErrBusy):
			return fmt.Errorf("reserve attempt: %w", err)
		}
		if try >= len(s.reserveBackoff) {
			return refuse(errBusy)
		}
		t := time.NewTimer(s.reserveBackoff[try])
		select {
		case <-ctx.Done():
			t.Stop()
			return refuse(errBusy)
		case <-t.C:
		}
	}
	ok, verr := verify()
	// Resolve the reservation even if the client went away meanwhile.
	rctx := context.WithoutCancel(ctx)
	if verr != nil || ok {
		err := s.cfg.Store.ReleaseAttempt(rctx, p.ID, u.Sub, id, s.now())
		switch {
		case verr != nil:
			return verr
		case errors.Is(err, store.ErrNotFound):
			return refuse(errBusy) // the check outlived its reservation: no answer
		case err != nil:
			return fmt.Errorf("release attempt: %w", err)
		}
		return nil
	}
	if _, _, err := s.cfg.Store.FailAttempt(rctx, p.ID, u.Sub, id, s.now(), max, lockout); errors.Is(err, store.ErrNotFound) {
		return refuse(errBusy)
	} else if err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return errBadCredentials
}
