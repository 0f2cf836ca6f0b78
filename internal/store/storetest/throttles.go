package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Reservations of credential checks (security.md L1): slots up to the
// limit, a failure counted only by FailAttempt, releases count nothing,
// expired reservations free their slot and can be neither failed nor
// released, and the lock refuses reservations.
func testAttemptReservations(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_ar"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	const max, ttl, lock = 3, 30 * time.Second, time.Minute
	reserve := func(id string, at time.Time) error {
		_, err := s.ReserveAttempt(c, pool, u.Sub, id, at, max, ttl)
		return err
	}
	for i := 0; i < max; i++ {
		noErr(t, "ReserveAttempt", reserve(fmt.Sprint("r", i), t0))
	}
	wantErr(t, "ReserveAttempt past the limit", reserve("r3", t0), store.ErrBusy)
	// Releasing frees a slot and counts nothing.
	noErr(t, "ReleaseAttempt", s.ReleaseAttempt(c, pool, u.Sub, "r0", t0))
	wantErr(t, "ReleaseAttempt twice", s.ReleaseAttempt(c, pool, u.Sub, "r0", t0), store.ErrNotFound)
	noErr(t, "ReserveAttempt after release", reserve("r4", t0))
	if got, _ := s.GetUser(c, pool, u.Sub); got.FailedAttempts != 0 {
		t.Fatalf("FailedAttempts after releases = %d, want 0", got.FailedAttempts)
	}
	// A failure keeps its slot taken: failed 1 + live 2 = 3.
	n, until, err := s.FailAttempt(c, pool, u.Sub, "r1", t0, max, lock)
	noErr(t, "FailAttempt", err)
	if n != 1 || !until.IsZero() {
		t.Fatalf("FailAttempt: count %d, locked until %v", n, until)
	}
	wantErr(t, "ReserveAttempt with 1 failed + 2 live", reserve("r5", t0), store.ErrBusy)
	_, _, err = s.FailAttempt(c, pool, u.Sub, "r1", t0, max, lock)
	wantErr(t, "FailAttempt twice", err, store.ErrNotFound)

	// A node dies holding r2 and r4: after the TTL their slots are free,
	// and answering them is refused (nothing counted).
	later := t0.Add(ttl)
	_, _, err = s.FailAttempt(c, pool, u.Sub, "r2", later, max, lock)
	wantErr(t, "FailAttempt of an expired reservation", err, store.ErrNotFound)
	wantErr(t, "ReleaseAttempt of an expired reservation", s.ReleaseAttempt(c, pool, u.Sub, "r4", later), store.ErrNotFound)
	noErr(t, "ReserveAttempt after expiry", reserve("r6", later))
	noErr(t, "ReserveAttempt after expiry", reserve("r7", later))
	wantErr(t, "ReserveAttempt with 1 failed + 2 live", reserve("r8", later), store.ErrBusy)
	if got, _ := s.GetUser(c, pool, u.Sub); got.FailedAttempts != 1 {
		t.Fatalf("FailedAttempts = %d, want 1 (expired reservations count nothing)", got.FailedAttempts)
	}

	// Two more failures reach the limit and lock; reservations then get
	// ErrLocked with the lock's end.
	_, _, err = s.FailAttempt(c, pool, u.Sub, "r6", later, max, lock)
	noErr(t, "FailAttempt r6", err)
	n, until, err = s.FailAttempt(c, pool, u.Sub, "r7", later, max, lock)
	noErr(t, "FailAttempt r7", err)
	if n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	eqTime(t, "locked until", until, later.Add(lock))
	lu, err := s.ReserveAttempt(c, pool, u.Sub, "r9", later, max, ttl)
	wantErr(t, "ReserveAttempt while locked", err, store.ErrLocked)
	eqTime(t, "lock reported", lu, later.Add(lock))

	// Past the limit, once the lock ran out: one check at a time, and its
	// failure doubles the lock.
	after := later.Add(lock)
	noErr(t, "ReserveAttempt after the lock", reserve("r10", after))
	wantErr(t, "second check past the limit", reserve("r11", after), store.ErrBusy)
	n, until, err = s.FailAttempt(c, pool, u.Sub, "r10", after, max, lock)
	noErr(t, "FailAttempt past the limit", err)
	if n != 4 {
		t.Errorf("count = %d, want 4", n)
	}
	eqTime(t, "doubled lock", until, after.Add(2*lock))

	// A right answer elsewhere resets the counter; a release still works.
	noErr(t, "ResetFailedAttempts", s.ResetFailedAttempts(c, pool, u.Sub))
	noErr(t, "ReserveAttempt after reset", reserve("r12", after))
	noErr(t, "ReleaseAttempt after reset", s.ReleaseAttempt(c, pool, u.Sub, "r12", after))

	_, err = s.ReserveAttempt(c, pool, "no-such-sub", "x", t0, max, ttl)
	wantErr(t, "ReserveAttempt unknown user", err, store.ErrNotFound)

	// Purge drops expired reservations only.
	noErr(t, "ReserveAttempt", reserve("r13", after))
	k, err := s.DeleteExpiredThrottles(c, after)
	noErr(t, "DeleteExpiredThrottles", err)
	if k != 0 {
		t.Errorf("purged %d before expiry, want 0", k)
	}
	k, err = s.DeleteExpiredThrottles(c, after.Add(ttl+time.Millisecond))
	noErr(t, "DeleteExpiredThrottles", err)
	if k < 1 {
		t.Errorf("purged %d after expiry, want at least 1", k)
	}
	// Deleting the user deletes its reservations (foreign key).
	noErr(t, "ReserveAttempt", reserve("r14", after))
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, u.Sub))
}

// 200 concurrent wrong passwords through reservations with a limit of 5
// (security.md L1): exactly 5 failures are counted (each count returned
// once), every other caller was refused a slot (busy or locked), and the
// account ends locked. Then, once unlocked and reset, 16 concurrent right
// answers (reserve, release) in rounds are never refused as locked and
// count nothing.
func testConcurrentAttemptReservations(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_car"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	var mu sync.Mutex
	seen := map[int]bool{}
	refused := 0
	race(200, func(i int) {
		id := fmt.Sprint("w", i)
		_, err := s.ReserveAttempt(c, pool, u.Sub, id, t0, 5, time.Minute)
		if errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrLocked) {
			mu.Lock()
			refused++
			mu.Unlock()
			return
		}
		if err != nil {
			t.Errorf("ReserveAttempt: %v", err)
			return
		}
		n, _, err := s.FailAttempt(c, pool, u.Sub, id, t0, 5, time.Second)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("FailAttempt: %v", err)
			return
		}
		if seen[n] {
			t.Errorf("count %d returned twice", n)
		}
		seen[n] = true
	})
	if len(seen) != 5 || refused != 195 {
		t.Errorf("%d failures counted %v, %d refused; want 5 and 195", len(seen), seen, refused)
	}
	got, err := s.GetUser(c, pool, u.Sub)
	noErr(t, "GetUser", err)
	if got.FailedAttempts != 5 || !got.LockedUntil.Equal(t0.Add(time.Second)) {
		t.Fatalf("after the burst: %d failures, locked until %v", got.FailedAttempts, got.LockedUntil)
	}

	noErr(t, "ResetFailedAttempts", s.ResetFailedAttempts(c, pool, u.Sub))
	granted, busy := 0, 0
	for round := 0; round < 3; round++ {
		race(16, func(i int) {
			id := fmt.Sprint("ok", round, "-", i)
			_, err := s.ReserveAttempt(c, pool, u.Sub, id, t0, 5, time.Minute)
			mu.Lock()
			switch {
			case errors.Is(err, store.ErrLocked):
				t.Errorf("a right answer was refused as locked")
			case errors.Is(err, store.ErrBusy):
				busy++
			case err != nil:
				t.Errorf("ReserveAttempt: %v", err)
			default:
				granted++
			}
			mu.Unlock()
			if err == nil {
				if err := s.ReleaseAttempt(c, pool, u.Sub, id, t0); err != nil {
					t.Errorf("ReleaseAttempt: %v", err)
				}
			}
		})
	}
	if granted < 5 {
		t.Errorf("%d reservations granted to right answers, want at least 5 (%d busy)", granted, busy)
	}
	got, err = s.GetUser(c, pool, u.Sub)
	noErr(t, "GetUser", err)
	if got.FailedAttempts != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after right answers: %d failures, locked until %v; want none", got.FailedAttempts, got.LockedUntil)
	}
}

// Fixed-window counters (security.md L3, L4): hits counted atomically, a new
// window after the end, undo, purge, pool cascade.
func testThrottles(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_th"
	mustPool(t, s, pool)
	const w = time.Hour
	for i := 1; i <= 3; i++ {
		n, end, err := s.HitThrottle(c, pool, "k", t0.Add(time.Duration(i)*time.Minute), w)
		noErr(t, "HitThrottle", err)
		if n != i {
			t.Errorf("hit %d: hits = %d", i, n)
		}
		eqTime(t, "window end", end, t0.Add(time.Minute+w)) // the first hit's window
	}
	// Another name, another pool: separate counters.
	n, _, err := s.HitThrottle(c, pool, "other", t0, w)
	noErr(t, "HitThrottle other", err)
	if n != 1 {
		t.Errorf("other counter: hits = %d, want 1", n)
	}
	noErr(t, "UndoThrottle", s.UndoThrottle(c, pool, "k", t0.Add(2*time.Minute)))
	n, _, err = s.HitThrottle(c, pool, "k", t0.Add(4*time.Minute), w)
	noErr(t, "HitThrottle after undo", err)
	if n != 3 {
		t.Errorf("hits after undo and a hit = %d, want 3", n)
	}
	noErr(t, "UndoThrottle missing", s.UndoThrottle(c, pool, "missing", t0))
	// The window ends: the next hit starts a new one.
	end := t0.Add(time.Minute + w)
	n, newEnd, err := s.HitThrottle(c, pool, "k", end, w)
	noErr(t, "HitThrottle new window", err)
	if n != 1 {
		t.Errorf("first hit of a new window: hits = %d", n)
	}
	eqTime(t, "new window end", newEnd, end.Add(w))
	// Undo never goes below zero.
	for i := 0; i < 3; i++ {
		noErr(t, "UndoThrottle", s.UndoThrottle(c, pool, "k", end))
	}
	if n, _, _ = s.HitThrottle(c, pool, "k", end, w); n != 1 {
		t.Errorf("hit after undoing past zero: hits = %d, want 1", n)
	}
	// Purge: "other" (window ended at t0+w) goes, "k" stays.
	k, err := s.DeleteExpiredThrottles(c, t0.Add(w+time.Millisecond))
	noErr(t, "DeleteExpiredThrottles", err)
	if k != 1 {
		t.Errorf("purged %d, want 1", k)
	}
	if n, _, _ = s.HitThrottle(c, pool, "other", t0.Add(w+2*time.Millisecond), w); n != 1 {
		t.Errorf("purged counter: hits = %d, want 1", n)
	}
	_, _, err = s.HitThrottle(c, "no-such-pool", "k", t0, w)
	wantErr(t, "HitThrottle unknown pool", err, store.ErrNotFound)

	// 50 concurrent hits: each count returned once.
	var mu sync.Mutex
	seen := map[int]bool{}
	race(50, func(int) {
		n, _, err := s.HitThrottle(c, pool, "race", t0, w)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("HitThrottle: %v", err)
			return
		}
		if seen[n] {
			t.Errorf("hits %d returned twice", n)
		}
		seen[n] = true
	})
	if len(seen) != 50 {
		t.Errorf("%d distinct counts, want 50", len(seen))
	}
	noErr(t, "DeletePool", s.DeletePool(c, pool))
}
