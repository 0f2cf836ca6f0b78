package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testFactors: a factor round-trips every field, the same id twice is a
// conflict, an unknown user is not found, listing by type, updates, a TOTP
// step is accepted once (also under 20 concurrent uses) and never an
// earlier one, a recovery code is spent once and only by its user, the
// deletion by type and in all, and the cascade with the user.
func testFactors(t *testing.T, s store.Store) {
	p := mustPool(t, s, "us-east-1_mfa")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	totp := &identity.Factor{PoolID: p.ID, Sub: ann.Sub, ID: "f1", Type: identity.FactorTOTP, Name: "phone",
		Secret: "sealed", Confirmed: true, Enabled: true, Preferred: true, LastStep: 7, CreatedAt: t0}
	noErr(t, "InsertFactor", s.InsertFactor(ctx(t), totp))
	wantErr(t, "same id twice", s.InsertFactor(ctx(t), totp), store.ErrConflict)
	wantErr(t, "unknown user", s.InsertFactor(ctx(t), &identity.Factor{PoolID: p.ID, Sub: "sub-nobody", ID: "f9",
		Type: identity.FactorTOTP, CreatedAt: t0}), store.ErrNotFound)
	for i, h := range []string{"h1", "h2"} {
		noErr(t, "InsertFactor recovery", s.InsertFactor(ctx(t), &identity.Factor{PoolID: p.ID, Sub: ann.Sub,
			ID: "r" + h, Type: identity.FactorRecovery, Secret: h, CreatedAt: t0.Add(time.Duration(i+1) * time.Second)}))
	}
	got, err := s.ListFactors(ctx(t), p.ID, ann.Sub, identity.FactorTOTP)
	if err != nil || len(got) != 1 || *got[0] != *totp {
		t.Fatalf("list totp: %+v %v", got, err)
	}
	all, err := s.ListFactors(ctx(t), p.ID, ann.Sub, "")
	if err != nil || len(all) != 3 || all[0].ID != "f1" || all[2].ID != "rh2" {
		t.Fatalf("list all: %+v %v", all, err)
	}
	if none, err := s.ListFactors(ctx(t), p.ID, bob.Sub, ""); err != nil || len(none) != 0 {
		t.Fatalf("bob's factors: %+v %v", none, err)
	}

	upd := *totp
	upd.Name, upd.Preferred, upd.Enabled, upd.LastStep = "tablet", false, false, 99 // LastStep is not written
	noErr(t, "UpdateFactor", s.UpdateFactor(ctx(t), &upd))
	got, _ = s.ListFactors(ctx(t), p.ID, ann.Sub, identity.FactorTOTP)
	if got[0].Name != "tablet" || got[0].Preferred || got[0].Enabled || got[0].LastStep != 7 {
		t.Fatalf("after update: %+v", got[0])
	}
	missing := upd
	missing.ID = "nope"
	wantErr(t, "update unknown factor", s.UpdateFactor(ctx(t), &missing), store.ErrNotFound)

	// TOTP steps: once, never backwards, one winner in a race.
	for _, c := range []struct {
		step int64
		want bool
	}{{7, false}, {6, false}, {8, true}, {8, false}, {10, true}, {9, false}} {
		ok, err := s.UseFactorStep(ctx(t), p.ID, ann.Sub, "f1", c.step)
		if err != nil || ok != c.want {
			t.Fatalf("UseFactorStep(%d) = %v, %v; want %v", c.step, ok, err, c.want)
		}
	}
	if ok, err := s.UseFactorStep(ctx(t), p.ID, bob.Sub, "f1", 50); err != nil || ok {
		t.Fatalf("another user's factor: %v %v", ok, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.UseFactorStep(ctx(t), p.ID, ann.Sub, "f1", 11); err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("step 11 accepted %d times", wins.Load())
	}

	// Recovery codes: once, by their user only.
	if ok, err := s.UseRecoveryCode(ctx(t), p.ID, bob.Sub, "h1", t0); err != nil || ok {
		t.Fatalf("bob spends ann's code: %v %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx(t), p.ID, ann.Sub, "f1-secret", t0); err != nil || ok {
		t.Fatalf("unknown code: %v %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx(t), p.ID, ann.Sub, "h1", t0); err != nil || !ok {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, err := s.UseRecoveryCode(ctx(t), p.ID, ann.Sub, "h1", t0); err != nil || ok {
		t.Fatalf("second use: %v %v", ok, err)
	}
	rec, _ := s.ListFactors(ctx(t), p.ID, ann.Sub, identity.FactorRecovery)
	if len(rec) != 2 || !rec[0].UsedAt.Equal(t0) || !rec[1].UsedAt.IsZero() {
		t.Fatalf("recovery codes after use: %+v %+v", rec[0], rec[1])
	}

	noErr(t, "DeleteFactor", s.DeleteFactor(ctx(t), p.ID, ann.Sub, "rh1"))
	wantErr(t, "delete a deleted factor", s.DeleteFactor(ctx(t), p.ID, ann.Sub, "rh1"), store.ErrNotFound)
	wantErr(t, "delete another user's factor", s.DeleteFactor(ctx(t), p.ID, bob.Sub, "rh2"), store.ErrNotFound)
	if n, err := s.DeleteFactors(ctx(t), p.ID, ann.Sub, identity.FactorRecovery); err != nil || n != 1 {
		t.Fatalf("delete recovery: %d %v", n, err)
	}
	noErr(t, "InsertFactor bob", s.InsertFactor(ctx(t), &identity.Factor{PoolID: p.ID, Sub: bob.Sub, ID: "f1",
		Type: identity.FactorTOTP, CreatedAt: t0}))
	noErr(t, "DeleteUser", s.DeleteUser(ctx(t), p.ID, bob.Sub))
	if n, err := s.DeleteFactors(ctx(t), p.ID, bob.Sub, ""); err != nil || n != 0 {
		t.Fatalf("bob's factors outlived him: %d %v", n, err)
	}
	if n, err := s.DeleteFactors(ctx(t), p.ID, ann.Sub, ""); err != nil || n != 1 {
		t.Fatalf("delete all: %d %v", n, err)
	}
}
