package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// race runs n goroutines calling fn(i) as close to simultaneously as a
// barrier allows and waits for all of them.
func race(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// 50 concurrent rotations of one refresh token: exactly one wins, both as a
// bare call and inside the rotation transaction the auth service uses.
func testConcurrentRefresh(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_crt"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	mustRefresh(t, s, pool, u.Sub, "parent", "fam")
	var mu sync.Mutex
	wins, errs := 0, 0
	race(50, func(i int) {
		ok, err := s.MarkRefreshTokenUsed(c, "parent", fmt.Sprintf("child-%d", i), t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs++
			t.Errorf("MarkRefreshTokenUsed: %v", err)
		}
		if ok {
			wins++
		}
	})
	if wins != 1 || errs != 0 {
		t.Fatalf("bare rotation: %d winners, %d errors; want exactly 1 winner", wins, errs)
	}

	// The full rotation: mark the parent used and insert the child in one
	// transaction; losers insert nothing.
	mustRefresh(t, s, pool, u.Sub, "parent2", "fam2")
	errLost := errors.New("lost the rotation")
	wins = 0
	race(50, func(i int) {
		child := fmt.Sprintf("child2-%d", i)
		err := s.InTx(c, func(q store.Querier) error {
			ok, err := q.MarkRefreshTokenUsed(c, "parent2", child, t0)
			if err != nil {
				return err
			}
			if !ok {
				return errLost
			}
			return q.InsertRefreshToken(c, &identity.RefreshToken{Hash: child, PoolID: pool, UserSub: u.Sub,
				FamilyID: "fam2", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, errLost):
			t.Errorf("rotation tx: %v", err)
		}
	})
	if wins != 1 {
		t.Fatalf("tx rotation: %d winners, want 1", wins)
	}
	parent, err := s.GetRefreshToken(c, "parent2")
	noErr(t, "GetRefreshToken", err)
	children := 0
	for i := 0; i < 50; i++ {
		if _, err := s.GetRefreshToken(c, fmt.Sprintf("child2-%d", i)); err == nil {
			children++
			if parent.ReplacedBy != fmt.Sprintf("child2-%d", i) {
				t.Errorf("parent replaced by %q, but child %d exists", parent.ReplacedBy, i)
			}
		}
	}
	if children != 1 {
		t.Errorf("%d children inserted, want 1", children)
	}
}

// raceCreate runs 20 concurrent CreateUser calls built by mk and checks
// exactly one succeeds and the rest get ErrConflict.
func raceCreate(t *testing.T, s store.Store, pool string, mk func(i int) *identity.User) {
	c := ctx(t)
	var mu sync.Mutex
	ok, conflicts := 0, 0
	race(20, func(i int) {
		err := s.CreateUser(c, mk(i), true)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Errorf("CreateUser: %v", err)
		}
	})
	if ok != 1 || conflicts != 19 {
		t.Fatalf("%d created, %d conflicts; want 1 and 19", ok, conflicts)
	}
	if n, _ := s.CountUsers(c, pool); n != 1 {
		t.Fatalf("CountUsers = %d, want 1", n)
	}
}

func testConcurrentUniqueEmail(t *testing.T, s store.Store) {
	const pool = "eu-west-1_cue"
	p := mustPool(t, s, pool)
	p.UniqueEmail = true
	noErr(t, "UpdatePool", s.UpdatePool(ctx(t), p))
	raceCreate(t, s, pool, func(i int) *identity.User {
		u := newUser(pool, fmt.Sprintf("user%d", i))
		u.Email = "same@example.com"
		u.Attributes = map[string]string{"name": "N"}
		return u
	})
}

func testConcurrentUsername(t *testing.T, s store.Store) {
	const pool = "eu-west-1_cun"
	mustPool(t, s, pool)
	raceCreate(t, s, pool, func(i int) *identity.User {
		u := newUser(pool, fmt.Sprintf("user%d", i))
		u.Username = "same"
		return u
	})
}

// 200 concurrent wrong passwords with a limit of 5: exactly 5 are counted
// (each count returned once), the other 195 find the account locked.
func testConcurrentFailedAttempts(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_cfa"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	var mu sync.Mutex
	seen := map[int]bool{}
	locked := 0
	race(200, func(i int) {
		n, _, err := s.RecordFailedAttempt(c, pool, u.Sub, t0, 5, time.Second)
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, store.ErrLocked) {
			locked++
			return
		}
		if err != nil {
			t.Errorf("RecordFailedAttempt: %v", err)
			return
		}
		if seen[n] {
			t.Errorf("count %d returned twice", n)
		}
		seen[n] = true
	})
	if len(seen) != 5 || locked != 195 {
		t.Errorf("%d attempts counted %v, %d refused as locked; want 5 and 195", len(seen), seen, locked)
	}
	got, err := s.GetUser(c, pool, u.Sub)
	noErr(t, "GetUser", err)
	if got.FailedAttempts != 5 {
		t.Fatalf("FailedAttempts = %d, want 5", got.FailedAttempts)
	}
	if want := t0.Add(time.Second); !got.LockedUntil.Equal(want) {
		t.Errorf("LockedUntil = %v, want %v", got.LockedUntil, want)
	}
}

// 20 concurrent submissions of the right code: exactly one CodeOK. Then 20
// concurrent wrong codes with maxAttempts 5: exactly 5 are compared
// (CodeMismatch), the rest see CodeExhausted, and the right code fails after.
func testConcurrentUseCode(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_cuc"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	put := func(hash string) {
		noErr(t, "PutCode", s.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: u.Sub,
			Purpose: identity.PurposeForgot, Hash: hash, ExpiresAt: t0.Add(time.Hour)}))
	}
	put("right")
	var mu sync.Mutex
	outcomes := map[store.CodeOutcome]int{}
	race(20, func(i int) {
		out, err := s.UseCode(c, pool, u.Sub, identity.PurposeForgot, "right", t0, 5)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("UseCode: %v", err)
		}
		outcomes[out]++
	})
	// Losers see the code gone (missing) or, when they arrived while the
	// winner's reservation had used up the attempts, exhausted.
	if outcomes[store.CodeOK] != 1 || outcomes[store.CodeMissing]+outcomes[store.CodeExhausted] != 19 {
		t.Fatalf("outcomes %v; want 1 OK and 19 missing or exhausted", outcomes)
	}

	put("right2")
	outcomes = map[store.CodeOutcome]int{}
	race(20, func(i int) {
		out, err := s.UseCode(c, pool, u.Sub, identity.PurposeForgot, "wrong", t0, 5)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("UseCode: %v", err)
		}
		outcomes[out]++
	})
	if outcomes[store.CodeMismatch] != 5 || outcomes[store.CodeExhausted] != 15 {
		t.Fatalf("wrong-code outcomes %v", outcomes)
	}
	out, err := s.UseCode(c, pool, u.Sub, identity.PurposeForgot, "right2", t0, 5)
	noErr(t, "UseCode", err)
	if out != store.CodeExhausted {
		t.Fatalf("right code after 20 wrong ones: outcome %d, want exhausted", out)
	}
}

// Two workers claim 100 jobs concurrently in small batches: every job is
// leased exactly once. Then the leases expire and are reclaimed.
func testConcurrentClaimJobs(t *testing.T, s store.Store) {
	c := ctx(t)
	clk := useClock(t, s)
	const total = 100
	for i := 0; i < total; i++ {
		noErr(t, "EnqueueJob", s.EnqueueJob(c, &identity.Job{Kind: "k", RunAt: t0, MaxAttempts: 3}))
	}
	lease := time.Minute
	var mu sync.Mutex
	owner := map[int64]string{}
	race(2, func(i int) {
		worker := fmt.Sprintf("worker-%d", i)
		for {
			jobs, err := s.ClaimJobs(c, worker, []string{"k"}, lease, 7)
			if err != nil {
				t.Errorf("ClaimJobs: %v", err)
				return
			}
			if len(jobs) == 0 {
				return
			}
			mu.Lock()
			for _, j := range jobs {
				if prev, dup := owner[j.ID]; dup {
					t.Errorf("job %d leased to %s and %s", j.ID, prev, worker)
				}
				owner[j.ID] = worker
				if j.LockedBy != worker || j.State != identity.JobRunning || j.Attempts != 1 {
					t.Errorf("claimed job %+v", j)
				}
			}
			mu.Unlock()
		}
	})
	if len(owner) != total {
		t.Fatalf("%d jobs leased, want %d", len(owner), total)
	}
	if n, _ := s.CountJobs(c, identity.JobRunning); n != total {
		t.Fatalf("running = %d", n)
	}
	// Complete half while holding the lease; the rest expire and are
	// reclaimed by two other workers, again each exactly once.
	done := 0
	for id, w := range owner {
		if id%2 == 0 {
			noErr(t, "CompleteJob", s.CompleteJob(c, id, 1, w))
			done++
		}
	}
	clk.Advance(lease)
	reclaimed := map[int64]string{}
	race(2, func(i int) {
		worker := fmt.Sprintf("late-%d", i)
		for {
			jobs, err := s.ClaimJobs(c, worker, []string{"k"}, lease, 5)
			if err != nil {
				t.Errorf("ClaimJobs: %v", err)
				return
			}
			if len(jobs) == 0 {
				return
			}
			mu.Lock()
			for _, j := range jobs {
				if _, dup := reclaimed[j.ID]; dup {
					t.Errorf("job %d reclaimed twice", j.ID)
				}
				reclaimed[j.ID] = worker
				if j.Attempts != 2 {
					t.Errorf("reclaimed job %d attempts %d, want 2", j.ID, j.Attempts)
				}
			}
			mu.Unlock()
		}
	})
	if len(reclaimed) != total-done {
		t.Fatalf("%d jobs reclaimed, want %d", len(reclaimed), total-done)
	}
	for id := range reclaimed {
		if id%2 == 0 {
			t.Errorf("completed job %d was reclaimed", id)
		}
		wantErr(t, "CompleteJob by the expired holder", s.CompleteJob(c, id, 1, owner[id]), store.ErrNotFound)
	}
}
