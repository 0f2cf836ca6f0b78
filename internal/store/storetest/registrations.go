package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testRegistrations(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_reg"
	mustPool(t, s, pool)
	r := &identity.RegistrationRequest{ID: "reg_1", PoolID: pool, UserSub: "sub-1", Username: "a@x.example", Email: "a@x.example",
		CompanyName: "acme", Company: "Acme", State: identity.RegAwaitingVerification, IP: "192.0.2.1", UserAgent: "UA/1",
		ExpiresAt: t0.Add(7 * 24 * time.Hour), CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "CreateRegistration", s.CreateRegistration(c, r))
	wantErr(t, "CreateRegistration duplicate", s.CreateRegistration(c, r), store.ErrConflict)
	got, err := s.GetRegistration(c, pool, "reg_1")
	noErr(t, "GetRegistration", err)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("GetRegistration =\n%+v\nwant\n%+v", got, r)
	}
	_, err = s.GetRegistration(c, "eu-west-1_other", "reg_1")
	wantErr(t, "GetRegistration other pool", err, store.ErrNotFound)
	got, err = s.GetRegistrationByUser(c, pool, "sub-1")
	noErr(t, "GetRegistrationByUser", err)
	if got.ID != "reg_1" {
		t.Fatalf("GetRegistrationByUser = %s", got.ID)
	}

	// Compare-and-set: only from the stored state.
	r.State = identity.RegPending
	r.UpdatedAt = t0.Add(time.Minute)
	ok, err := s.TransitionRegistration(c, r, identity.RegAwaitingVerification)
	noErr(t, "Transition", err)
	if !ok {
		t.Fatal("transition from the stored state did not apply")
	}
	r.State = identity.RegApproved
	ok, err = s.TransitionRegistration(c, r, identity.RegAwaitingVerification)
	noErr(t, "Transition stale", err)
	if ok {
		t.Fatal("transition from a stale state applied")
	}

	// Concurrent decisions: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			x := *r
			x.State = identity.RegDenied
			if i%2 == 0 {
				x.State = identity.RegApproved
			}
			x.DecidedBy, x.DecidedVia = "test", "api"
			ok, err := s.TransitionRegistration(c, &x, identity.RegPending)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent decisions won, want 1", wins)
	}
	if got, err := s.GetRegistration(c, pool, "reg_1"); err != nil || got.DecidedBy != "test" || got.DecidedVia != "api" {
		t.Fatalf("the decision's actor: %+v %v", got, err)
	}

	// Tokens.
	tok := &identity.RegistrationToken{Hash: "h1", RequestID: "reg_1", PoolID: pool, Approver: "boss@x.example",
		Action: identity.DecisionApprove, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}
	noErr(t, "InsertRegistrationToken", s.InsertRegistrationToken(c, tok))
	wantErr(t, "token of missing request", s.InsertRegistrationToken(c, &identity.RegistrationToken{Hash: "h2", RequestID: "nope", PoolID: pool}), store.ErrNotFound)
	gt, err := s.GetRegistrationToken(c, "h1")
	noErr(t, "GetRegistrationToken", err)
	if !reflect.DeepEqual(gt, tok) {
		t.Fatalf("GetRegistrationToken =\n%+v\nwant\n%+v", gt, tok)
	}
	noErr(t, "UseRegistrationTokens", s.UseRegistrationTokens(c, "reg_1", t0.Add(2*time.Minute)))
	gt, _ = s.GetRegistrationToken(c, "h1")
	if !gt.UsedAt.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("UsedAt = %v", gt.UsedAt)
	}

	// Notices: once per (request, recipient, kind).
	for i, want := range []bool{true, false} {
		ok, err := s.RecordNotice(c, "reg_1", "boss@x.example", "approval", t0)
		noErr(t, "RecordNotice", err)
		if ok != want {
			t.Fatalf("RecordNotice #%d = %v, want %v", i, ok, want)
		}
	}
	noErr(t, "RecordNotice in tx", s.InTx(c, func(q store.Querier) error {
		ok, err := q.RecordNotice(c, "reg_1", "boss@x.example", "approval", t0)
		if ok {
			t.Error("duplicate notice recorded in tx")
		}
		if err != nil {
			return err
		}
		ok, err = q.RecordNotice(c, "reg_1", "boss@x.example", "reminder", t0)
		if !ok {
			t.Error("new notice kind not recorded in tx")
		}
		return err
	}))

	// Listing and filters.
	for i, st := range []identity.RegistrationState{identity.RegPending, identity.RegPending, identity.RegDenied} {
		noErr(t, "CreateRegistration", s.CreateRegistration(c, &identity.RegistrationRequest{ID: "reg_x" + string(rune('a'+i)), PoolID: pool,
			UserSub: "s", Company: "Beta", State: st, CreatedAt: t0.Add(time.Duration(i+1) * time.Second)}))
	}
	list, next, err := s.ListRegistrations(c, pool, store.RegistrationFilter{}, store.Page{Limit: 3})
	noErr(t, "ListRegistrations", err)
	if len(list) != 3 || next == "" || list[0].ID != "reg_xc" {
		t.Fatalf("ListRegistrations page 1: %d %q", len(list), next)
	}
	list, next, err = s.ListRegistrations(c, pool, store.RegistrationFilter{}, store.Page{Limit: 3, Token: next})
	noErr(t, "ListRegistrations 2", err)
	if len(list) != 1 || next != "" || list[0].ID != "reg_1" {
		t.Fatalf("ListRegistrations page 2: %d %q", len(list), next)
	}
	list, _, err = s.ListRegistrations(c, pool, store.RegistrationFilter{State: identity.RegPending, Company: "BETA"}, store.Page{})
	noErr(t, "ListRegistrations filtered", err)
	if len(list) != 2 {
		t.Fatalf("filtered list: %d", len(list))
	}
	noErr(t, "DeletePool", s.DeletePool(c, pool))
	_, err = s.GetRegistration(c, pool, "reg_1")
	wantErr(t, "registration after pool delete", err, store.ErrNotFound)
}
