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

// RunMultiNode checks that two stores opened separately on one database
// (two Gatehouse nodes, or two processes on one SQLite file) keep the
// single-use guarantees between them. open returns two such stores on a
// fresh, empty database.
func RunMultiNode(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"ClaimJobs", testNodesClaimJobs},
		{"RefreshRotation", testNodesRefresh},
		{"UniqueEmail", testNodesUniqueEmail},
		{"UseCode", testNodesUseCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.fn(t, a, b)
		})
	}
}

func testNodesClaimJobs(t *testing.T, a, b store.Store) {
	c := ctx(t)
	const total = 60
	for i := 0; i < total; i++ {
		noErr(t, "EnqueueJob", a.EnqueueJob(c, &identity.Job{Kind: "k", RunAt: t0}))
	}
	var mu sync.Mutex
	owner := map[int64]int{}
	nodes := []store.Store{a, b}
	race(4, func(i int) {
		s := nodes[i%2]
		for {
			jobs, err := s.ClaimJobs(c, fmt.Sprintf("node%d", i), []string{"k"}, time.Minute, 5)
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
					t.Errorf("job %d leased by workers %d and %d", j.ID, prev, i)
				}
				owner[j.ID] = i
			}
			mu.Unlock()
		}
	})
	if len(owner) != total {
		t.Fatalf("%d jobs leased, want %d", len(owner), total)
	}
}

func testNodesRefresh(t *testing.T, a, b store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_nrt"
	mustPool(t, a, pool)
	u := mustUser(t, a, pool, "u")
	mustRefresh(t, a, pool, u.Sub, "parent", "fam")
	nodes := []store.Store{a, b}
	var mu sync.Mutex
	wins := 0
	race(20, func(i int) {
		err := nodes[i%2].InTx(c, func(q store.Querier) error {
			ok, err := q.MarkRefreshTokenUsed(c, "parent", fmt.Sprintf("child%d", i), t0)
			if err != nil || !ok {
				return errors.Join(err, errors.New("lost"))
			}
			return q.InsertRefreshToken(c, &identity.RefreshToken{Hash: fmt.Sprintf("child%d", i), PoolID: pool,
				UserSub: u.Sub, FamilyID: "fam", ExpiresAt: t0.Add(time.Hour)})
		})
		if err == nil {
			mu.Lock()
			wins++
			mu.Unlock()
		}
	})
	if wins != 1 {
		t.Fatalf("%d rotations won across nodes, want 1", wins)
	}
}

func testNodesUniqueEmail(t *testing.T, a, b store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_nue"
	mustPool(t, a, pool)
	nodes := []store.Store{a, b}
	var mu sync.Mutex
	ok, conflicts := 0, 0
	race(10, func(i int) {
		u := newUser(pool, fmt.Sprintf("u%d", i))
		u.Email = "same@example.com"
		err := nodes[i%2].CreateUser(c, u, true)
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
	if ok != 1 || conflicts != 9 {
		t.Fatalf("%d created, %d conflicts across nodes; want 1 and 9", ok, conflicts)
	}
}

func testNodesUseCode(t *testing.T, a, b store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_nuc"
	mustPool(t, a, pool)
	u := mustUser(t, a, pool, "u")
	noErr(t, "PutCode", a.PutCode(c, &identity.OneTimeCode{PoolID: pool, UserSub: u.Sub,
		Purpose: identity.PurposeSignUp, Hash: "right", ExpiresAt: t0.Add(time.Hour)}))
	nodes := []store.Store{a, b}
	var mu sync.Mutex
	okCount := 0
	race(10, func(i int) {
		out, err := nodes[i%2].UseCode(c, pool, u.Sub, identity.PurposeSignUp, "right", t0, 100)
		if err != nil {
			t.Errorf("UseCode: %v", err)
		}
		if out == store.CodeOK {
			mu.Lock()
			okCount++
			mu.Unlock()
		}
	})
	if okCount != 1 {
		t.Fatalf("%d CodeOK across nodes, want 1", okCount)
	}
}
