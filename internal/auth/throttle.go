package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Password throttling
//
// Failed password attempts are counted per account in the database, and
// the attempt is counted BEFORE the password is verified (the count is
// cleared again once it verified): counting only after a wrong password
// would let many parallel requests all read "not locked" and all get a
// guess (ZITADEL CVE-2023-47111). store.RecordFailedAttempt both counts
// and, on reaching the pool's MaxFailedAttempts, locks the account, in one
// statement that matches only an unlocked row; so the database alone
// decides whether an attempt may be checked:
//
//   - the account is locked (LockedUntil > now): refused with "Password
//     attempts exceeded", neither counted nor verified (as Cognito, which
//     ignores attempts during a lockout);
//   - otherwise the attempt is counted and verified. The attempt that
//     reaches the limit locks the account for the pool's LockoutDuration,
//     doubled per failure past the limit (capped at 24h).
//
// So at most MaxFailedAttempts passwords are tried in a burst, across any
// number of nodes, then one per lockout. (An earlier version decided from
// the count it had read before counting; a concurrent read between another
// attempt's count and its lock, or a crash between the two statements, let
// a sixth password through on a three-node cluster.) Every credential path
// that takes a password uses checkPassword: sign-in, ChangePassword's
// previous password; SRP's PASSWORD_VERIFIER answer uses the same
// throttled check with its proof in place of the password.

var (
	errBadCredentials   = identity.Errorf(identity.CodeNotAuthorized, "Incorrect username or password.")
	errAttemptsExceeded = identity.Errorf(identity.CodeNotAuthorized, "Password attempts exceeded")
)

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
// errBadCredentials when it is wrong (the failure stays counted) and
// errAttemptsExceeded when the account is throttled. It runs outside any
// transaction: hashing is slow and must not hold the database.
func (s *Service) checkPassword(ctx context.Context, p *identity.Pool, u *identity.User, password string) error {
	now := s.now()
	if u.LockedUntil.After(now) {
		return errAttemptsExceeded
	}
	if u.PasswordHash == "" { // federated user: no password to check
		s.cfg.Hasher.VerifyDummy(ctx, password)
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
	})
}

// throttled runs verify (a credential check of u: a password, an SRP
// proof) under the throttle described above: refused while locked, counted
// before verify runs. It returns nil when verify says true, the error
// verify returns, errBadCredentials when it says false, and
// errAttemptsExceeded when the account is throttled.
func (s *Service) throttled(ctx context.Context, p *identity.Pool, u *identity.User, verify func() (bool, error)) error {
	now := s.now()
	if u.LockedUntil.After(now) {
		return errAttemptsExceeded
	}
	max, lockout := lockoutPolicy(p)
	if _, _, err := s.cfg.Store.RecordFailedAttempt(ctx, p.ID, u.Sub, now, max, lockout); errors.Is(err, store.ErrLocked) {
		return errAttemptsExceeded
	} else if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	ok, err := verify()
	if err != nil {
		return err
	}
	if !ok {
		return errBadCredentials
	}
	return nil
}
