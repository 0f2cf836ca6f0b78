package storetest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testWebAuthn: a credential id is unique in its pool (not across pools);
// an unknown user is ErrNotFound; the sign count moves only from the value
// the caller read (compare-and-set); a user deletes only their own
// credential; a challenge is taken once, never after its expiry, and
// concurrent takes have one winner.
func testWebAuthn(t *testing.T, s store.Store) {
	c := ctx(t)
	p := mustPool(t, s, "eu-west-1_wan")
	other := mustPool(t, s, "eu-west-1_wan2")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	oAnn := mustUser(t, s, other.ID, "ann")
	cred := func(pool, sub, id string) *identity.WebAuthnCredential {
		return &identity.WebAuthnCredential{PoolID: pool, ID: id, Sub: sub, RPID: "id.example.org",
			PublicKey: []byte{0xa5, 1, 2}, SignCount: 3, Transports: []string{"internal", "hybrid"},
			AAGUID: "00ff", Name: "laptop", Record: `{"x":1}`, CreatedAt: t0}
	}
	noErr(t, "insert", s.InsertWebAuthnCredential(c, cred(p.ID, ann.Sub, "c1")))
	wantErr(t, "same id in pool", s.InsertWebAuthnCredential(c, cred(p.ID, bob.Sub, "c1")), store.ErrConflict)
	noErr(t, "same id in another pool", s.InsertWebAuthnCredential(c, cred(other.ID, oAnn.Sub, "c1")))
	wantErr(t, "unknown user", s.InsertWebAuthnCredential(c, cred(p.ID, "sub-nobody", "c9")), store.ErrNotFound)

	got, err := s.GetWebAuthnCredential(c, p.ID, "c1")
	noErr(t, "get", err)
	if got.Sub != ann.Sub || got.SignCount != 3 || string(got.PublicKey) != "\xa5\x01\x02" || len(got.Transports) != 2 ||
		got.Record != `{"x":1}` || got.RPID != "id.example.org" || !got.CreatedAt.Equal(t0) || !got.LastUsedAt.IsZero() {
		t.Fatalf("get: %+v", got)
	}
	_, err = s.GetWebAuthnCredential(c, p.ID, "c2")
	wantErr(t, "get unknown", err, store.ErrNotFound)

	ok, err := s.UseWebAuthnCredential(c, p.ID, "c1", 2, 9, t0.Add(time.Minute))
	noErr(t, "use stale", err)
	if ok {
		t.Fatal("use with a stale count succeeded")
	}
	ok, err = s.UseWebAuthnCredential(c, p.ID, "c1", 3, 4, t0.Add(time.Minute))
	noErr(t, "use", err)
	if !ok {
		t.Fatal("use with the current count failed")
	}
	got, _ = s.GetWebAuthnCredential(c, p.ID, "c1")
	if got.SignCount != 4 || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after use: %+v", got)
	}

	noErr(t, "insert c2", s.InsertWebAuthnCredential(c, cred(p.ID, ann.Sub, "c2")))
	list, err := s.ListWebAuthnCredentials(c, p.ID, ann.Sub)
	noErr(t, "list", err)
	if len(list) != 2 || list[0].ID != "c1" || list[1].ID != "c2" {
		t.Fatalf("list: %+v", list)
	}
	wantErr(t, "bob deletes ann's", s.DeleteWebAuthnCredential(c, p.ID, bob.Sub, "c1"), store.ErrNotFound)
	noErr(t, "delete", s.DeleteWebAuthnCredential(c, p.ID, ann.Sub, "c1"))
	wantErr(t, "delete twice", s.DeleteWebAuthnCredential(c, p.ID, ann.Sub, "c1"), store.ErrNotFound)
	if _, err := s.GetWebAuthnCredential(c, other.ID, "c1"); err != nil {
		t.Fatalf("the other pool's c1 went too: %v", err)
	}

	ch := func(hash string, exp time.Time) *identity.WebAuthnChallenge {
		return &identity.WebAuthnChallenge{Hash: hash, PoolID: p.ID, Purpose: identity.WebAuthnSignIn,
			Origin: "https://id.example.org", Session: `{"challenge":"x"}`, ExpiresAt: exp}
	}
	noErr(t, "put", s.PutWebAuthnChallenge(c, ch("h1", t0.Add(time.Minute)), t0))
	wantErr(t, "put twice", s.PutWebAuthnChallenge(c, ch("h1", t0.Add(time.Minute)), t0), store.ErrConflict)
	g, err := s.TakeWebAuthnChallenge(c, "h1", t0)
	noErr(t, "take", err)
	if g.PoolID != p.ID || g.Session != `{"challenge":"x"}` || g.Origin != "https://id.example.org" || !g.ExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("take: %+v", g)
	}
	_, err = s.TakeWebAuthnChallenge(c, "h1", t0)
	wantErr(t, "take twice", err, store.ErrNotFound)
	noErr(t, "put h2", s.PutWebAuthnChallenge(c, ch("h2", t0.Add(time.Minute)), t0))
	_, err = s.TakeWebAuthnChallenge(c, "h2", t0.Add(time.Minute))
	wantErr(t, "take expired", err, store.ErrNotFound)

	noErr(t, "put h3", s.PutWebAuthnChallenge(c, ch("h3", t0.Add(time.Minute)), t0))
	var wins atomic.Int32
	race(8, func(int) {
		if _, err := s.TakeWebAuthnChallenge(c, "h3", t0); err == nil {
			wins.Add(1)
		}
	})
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent takes won", wins.Load())
	}
}
