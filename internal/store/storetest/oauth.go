package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testOAuthCodes: insert, read back every field, a duplicate hash, an
// unknown user, single use by compare-and-set (also under 20 concurrent
// uses: exactly one wins), expiry cleanup, and the cascade with the user.
func testOAuthCodes(t *testing.T, s store.Store) {
	p := mustPool(t, s, "us-east-1_oauth")
	u := mustUser(t, s, p.ID, "ann")
	c := &identity.OAuthCode{Hash: "h1", PoolID: p.ID, ClientID: "cl1", UserSub: u.Sub, RedirectURI: "https://rp.example/cb",
		CodeChallenge: "ch", CodeChallengeMethod: "S256", Nonce: "n", Scope: "openid email",
		AuthTime: t0, ExpiresAt: t0.Add(time.Minute), CreatedAt: t0}
	if err := s.InsertOAuthCode(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate hash", s.InsertOAuthCode(ctx(t), c), store.ErrConflict)
	bad := *c
	bad.Hash, bad.UserSub = "h-bad", "sub-nobody"
	wantErr(t, "unknown user", s.InsertOAuthCode(ctx(t), &bad), store.ErrNotFound)
	got, err := s.GetOAuthCode(ctx(t), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *c {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	_, err = s.GetOAuthCode(ctx(t), "nope")
	wantErr(t, "unknown code", err, store.ErrNotFound)

	ok, err := s.UseOAuthCode(ctx(t), "h1", "fam1", "origin1", t0.Add(time.Second))
	if err != nil || !ok {
		t.Fatalf("first use: %v %v", ok, err)
	}
	ok, err = s.UseOAuthCode(ctx(t), "h1", "fam2", "origin2", t0.Add(2*time.Second))
	if err != nil || ok {
		t.Fatalf("second use: %v %v", ok, err)
	}
	// The first use's family and sign-in (origin_jti) are recorded, so a
	// replay can end that sign-in (security.md T10).
	got, _ = s.GetOAuthCode(ctx(t), "h1")
	if got.FamilyID != "fam1" || got.OriginJTI != "origin1" || !got.UsedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("after use: %+v", got)
	}

	// Concurrent uses: exactly one wins.
	c2 := *c
	c2.Hash = "h2"
	if err := s.InsertOAuthCode(ctx(t), &c2); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.InTx(ctx(t), func(q store.Querier) error {
				ok, err := q.UseOAuthCode(ctx(t), "h2", "f", "o", t0)
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil && !errors.Is(err, identity.ErrUnavailable) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses won", wins.Load())
	}

	n, err := s.DeleteExpiredOAuthCodes(ctx(t), t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
	c3 := *c
	c3.Hash = "h3"
	if err := s.InsertOAuthCode(ctx(t), &c3); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx(t), p.ID, u.Sub); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetOAuthCode(ctx(t), "h3")
	wantErr(t, "after the user is deleted", err, store.ErrNotFound)
}
