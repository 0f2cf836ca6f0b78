package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testReissueRefreshToken: a used token within a client's grace period gets
// one more successor per call; an unused, revoked or unknown one gets
// nothing; and reissues racing RevokeRefreshFamily leave no successor
// unrevoked (the grace period cannot outlive a revocation).
func testReissueRefreshToken(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_grace"
	mustPool(t, s, pool)
	u := mustUser(t, s, pool, "u")
	next := func(hash, family string) *identity.RefreshToken {
		return &identity.RefreshToken{Hash: hash, PoolID: pool, ClientID: "client", UserSub: u.Sub, FamilyID: family,
			OriginJTI: "jti-" + family, Scope: "openid", AMR: "pwd", AuthTime: t0, IssuedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)}
	}
	mustRefresh(t, s, pool, u.Sub, "g-parent", "gfam")
	ok, err := s.RotateRefreshToken(c, "g-parent", next("g-first", "gfam"), t0.Add(time.Minute))
	if !ok || err != nil {
		t.Fatalf("RotateRefreshToken = %v, %v", ok, err)
	}
	ok, err = s.ReissueRefreshToken(c, "g-parent", next("g-retry", "gfam"))
	if !ok || err != nil {
		t.Fatalf("ReissueRefreshToken of a used token = %v, %v; want true", ok, err)
	}
	for _, h := range []string{"g-first", "g-retry"} {
		got, err := s.GetRefreshToken(c, h)
		noErr(t, "GetRefreshToken "+h, err)
		if got.FamilyID != "gfam" || !got.UsedAt.IsZero() || !got.RevokedAt.IsZero() {
			t.Errorf("%s = %+v", h, got)
		}
	}
	parent, err := s.GetRefreshToken(c, "g-parent")
	noErr(t, "GetRefreshToken parent", err)
	eqTime(t, "parent used_at (kept from its first use)", parent.UsedAt, t0.Add(time.Minute))
	if parent.ReplacedBy != "g-retry" {
		t.Errorf("parent replaced by %q, want the newest successor", parent.ReplacedBy)
	}

	// Unused, revoked and unknown tokens: nothing written.
	mustRefresh(t, s, pool, u.Sub, "g-unused", "gfam-u")
	mustRefresh(t, s, pool, u.Sub, "g-revoked", "gfam-r")
	ok, err = s.RotateRefreshToken(c, "g-revoked", next("g-revoked-next", "gfam-r"), t0.Add(time.Minute))
	if !ok || err != nil {
		t.Fatalf("RotateRefreshToken = %v, %v", ok, err)
	}
	noErr(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(c, "gfam-r", t0.Add(2*time.Minute)))
	for _, h := range []string{"g-unused", "g-revoked", "g-unknown"} {
		ok, err := s.ReissueRefreshToken(c, h, next("after-"+h, "gfam-x"))
		if ok || err != nil {
			t.Errorf("reissue %s = %v, %v; want false, nil", h, ok, err)
		}
		_, err = s.GetRefreshToken(c, "after-"+h)
		wantErr(t, "successor of "+h, err, store.ErrNotFound)
	}

	// Reissues racing a revocation of the family.
	mustRefresh(t, s, pool, u.Sub, "g-race", "gfam-race")
	ok, err = s.RotateRefreshToken(c, "g-race", next("g-race-1", "gfam-race"), t0.Add(time.Minute))
	if !ok || err != nil {
		t.Fatalf("RotateRefreshToken = %v, %v", ok, err)
	}
	var mu sync.Mutex
	var made []string
	race(21, func(i int) {
		if i == 0 {
			if err := s.RevokeRefreshFamily(c, "gfam-race", t0.Add(3*time.Minute)); err != nil {
				t.Errorf("RevokeRefreshFamily: %v", err)
			}
			return
		}
		h := fmt.Sprintf("g-race-retry-%d", i)
		ok, err := s.ReissueRefreshToken(c, "g-race", next(h, "gfam-race"))
		if err != nil {
			t.Errorf("ReissueRefreshToken: %v", err)
		}
		if ok {
			mu.Lock()
			made = append(made, h)
			mu.Unlock()
		}
	})
	for _, h := range append(made, "g-race", "g-race-1") {
		got, err := s.GetRefreshToken(c, h)
		noErr(t, "GetRefreshToken "+h, err)
		if got.RevokedAt.IsZero() {
			t.Errorf("%s outlived the family's revocation", h)
		}
	}
}
