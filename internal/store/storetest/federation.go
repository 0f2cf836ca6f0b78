package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testLinkedIdentities: create and read back every field, a second link of
// the same (pool, provider, subject) is a conflict, the same subject at
// another provider or pool is not, an unknown user, listing per user, and
// deletion only by the owning user, and the cascade with the user.
func testLinkedIdentities(t *testing.T, s store.Store) {
	p := mustPool(t, s, "us-east-1_fed")
	p2 := mustPool(t, s, "us-east-1_fed2")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	other := mustUser(t, s, p2.ID, "ann")
	l := &identity.LinkedIdentity{PoolID: p.ID, ProviderName: "corp", ProviderType: identity.ProviderOIDC,
		Subject: "up-1", Issuer: "https://op.example", UserSub: ann.Sub, CreatedAt: t0}
	if err := s.CreateLinkedIdentity(ctx(t), l); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetLinkedIdentity(ctx(t), p.ID, "corp", "up-1")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *l {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, l)
	}
	dup := *l
	dup.UserSub = bob.Sub
	wantErr(t, "same upstream identity twice", s.CreateLinkedIdentity(ctx(t), &dup), store.ErrConflict)
	fb := &identity.LinkedIdentity{PoolID: p.ID, ProviderName: "Facebook", ProviderType: identity.ProviderFacebook,
		Subject: "up-1", UserSub: ann.Sub, CreatedAt: t0.Add(time.Second)}
	if err := s.CreateLinkedIdentity(ctx(t), fb); err != nil {
		t.Fatalf("same subject at another provider: %v", err)
	}
	inP2 := &identity.LinkedIdentity{PoolID: p2.ID, ProviderName: "corp", Subject: "up-1", UserSub: other.Sub, CreatedAt: t0}
	if err := s.CreateLinkedIdentity(ctx(t), inP2); err != nil {
		t.Fatalf("same upstream identity in another pool: %v", err)
	}
	wantErr(t, "unknown user", s.CreateLinkedIdentity(ctx(t), &identity.LinkedIdentity{PoolID: p.ID,
		ProviderName: "corp", Subject: "up-9", UserSub: "sub-nobody", CreatedAt: t0}), store.ErrNotFound)
	_, err = s.GetLinkedIdentity(ctx(t), p.ID, "corp", "up-2")
	wantErr(t, "unknown link", err, store.ErrNotFound)
	_, err = s.GetLinkedIdentity(ctx(t), p.ID, "CORP", "up-1")
	wantErr(t, "provider name is case-sensitive", err, store.ErrNotFound)

	list, err := s.ListLinkedIdentities(ctx(t), p.ID, ann.Sub)
	if err != nil || len(list) != 2 || list[0].ProviderName != "corp" || list[1].ProviderName != "Facebook" {
		t.Fatalf("list: %+v %v", list, err)
	}
	list, err = s.ListLinkedIdentities(ctx(t), p.ID, bob.Sub)
	if err != nil || len(list) != 0 {
		t.Fatalf("list bob: %+v %v", list, err)
	}
	// Delete: only the owner's link goes; a wrong user, provider or
	// subject deletes nothing.
	bobLink := &identity.LinkedIdentity{PoolID: p.ID, ProviderName: "corp", Subject: "up-bob", UserSub: bob.Sub, CreatedAt: t0}
	if err := s.CreateLinkedIdentity(ctx(t), bobLink); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete another user's link", s.DeleteLinkedIdentity(ctx(t), p.ID, "corp", "up-bob", ann.Sub), store.ErrNotFound)
	wantErr(t, "delete an unknown link", s.DeleteLinkedIdentity(ctx(t), p.ID, "corp", "up-none", bob.Sub), store.ErrNotFound)
	wantErr(t, "delete in another pool", s.DeleteLinkedIdentity(ctx(t), p2.ID, "corp", "up-bob", bob.Sub), store.ErrNotFound)
	if _, err := s.GetLinkedIdentity(ctx(t), p.ID, "corp", "up-bob"); err != nil {
		t.Fatalf("bob's link after refused deletes: %v", err)
	}
	if err := s.InTx(ctx(t), func(q store.Querier) error {
		return q.DeleteLinkedIdentity(ctx(t), p.ID, "corp", "up-bob", bob.Sub)
	}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetLinkedIdentity(ctx(t), p.ID, "corp", "up-bob")
	wantErr(t, "deleted link", err, store.ErrNotFound)
	wantErr(t, "delete twice", s.DeleteLinkedIdentity(ctx(t), p.ID, "corp", "up-bob", bob.Sub), store.ErrNotFound)
	// The subject is free again: it can be linked anew.
	if err := s.CreateLinkedIdentity(ctx(t), bobLink); err != nil {
		t.Fatalf("link again after delete: %v", err)
	}

	if err := s.DeleteUser(ctx(t), p.ID, ann.Sub); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetLinkedIdentity(ctx(t), p.ID, "corp", "up-1")
	wantErr(t, "link after the user is deleted", err, store.ErrNotFound)
	if _, err := s.GetLinkedIdentity(ctx(t), p2.ID, "corp", "up-1"); err != nil {
		t.Fatalf("other pool's link survives: %v", err)
	}
}
