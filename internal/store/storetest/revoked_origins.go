package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testRevokedOrigins: a revoked sign-in is seen by OriginRevoked in its
// pool only; a second revocation is idempotent and keeps the later expiry;
// an unknown user is ErrNotFound with nothing written (also inside a
// transaction, which stays usable); pruning removes only expired rows (the
// cutoff itself is kept); the rows go with the user and with the pool.
func testRevokedOrigins(t *testing.T, s store.Store) {
	c := ctx(t)
	p := mustPool(t, s, "eu-west-1_rvk")
	other := mustPool(t, s, "eu-west-1_rvk2")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	mustUser(t, s, other.ID, "ann")
	revoked := func(pool, origin string) bool {
		t.Helper()
		ok, err := s.OriginRevoked(c, pool, origin)
		noErr(t, "OriginRevoked", err)
		return ok
	}

	if revoked(p.ID, "o1") {
		t.Fatal("o1 revoked before RevokeOrigin")
	}
	noErr(t, "RevokeOrigin", s.RevokeOrigin(c, p.ID, ann.Sub, "o1", t0, t0.Add(time.Hour)))
	if !revoked(p.ID, "o1") {
		t.Fatal("o1 not revoked")
	}
	if revoked(other.ID, "o1") {
		t.Fatal("o1 revoked in another pool")
	}
	if revoked(p.ID, "o2") || revoked(p.ID, "") || revoked(p.ID, "O1") {
		t.Fatal("another origin is revoked")
	}

	// Idempotent; a later expiry extends, an earlier one does not shorten.
	noErr(t, "RevokeOrigin again", s.RevokeOrigin(c, p.ID, ann.Sub, "o1", t0, t0.Add(time.Minute)))
	noErr(t, "RevokeOrigin later", s.RevokeOrigin(c, p.ID, ann.Sub, "o1", t0, t0.Add(2*time.Hour)))
	noErr(t, "RevokeOrigin earlier", s.RevokeOrigin(c, p.ID, ann.Sub, "o1", t0, t0.Add(time.Minute)))

	// Unknown user (or a user of another pool): ErrNotFound, nothing written.
	wantErr(t, "unknown user", s.RevokeOrigin(c, p.ID, "sub-nobody", "o3", t0, t0.Add(time.Hour)), store.ErrNotFound)
	if revoked(p.ID, "o3") {
		t.Fatal("o3 written for an unknown user")
	}
	err := s.InTx(c, func(q store.Querier) error {
		wantErr(t, "unknown user in tx", q.RevokeOrigin(c, other.ID, bob.Sub, "o4", t0, t0.Add(time.Hour)), store.ErrNotFound)
		ok, err := q.OriginRevoked(c, p.ID, "o1")
		if err != nil || !ok {
			t.Errorf("OriginRevoked in tx after a failed insert: %v %v", ok, err)
		}
		return q.RevokeOrigin(c, p.ID, bob.Sub, "o5", t0, t0.Add(time.Hour))
	})
	noErr(t, "InTx", err)
	if revoked(other.ID, "o4") || !revoked(p.ID, "o5") {
		t.Fatal("transaction: o4 written or o5 lost")
	}

	// Pruning: o1 expires at t0+2h (the extension), o5 at t0+1h.
	n, err := s.DeleteExpiredRevokedOrigins(c, t0.Add(time.Hour))
	noErr(t, "DeleteExpiredRevokedOrigins at expiry", err)
	if n != 0 || !revoked(p.ID, "o5") {
		t.Fatalf("at the expiry instant: deleted %d, want 0", n)
	}
	n, err = s.DeleteExpiredRevokedOrigins(c, t0.Add(time.Hour+time.Millisecond))
	noErr(t, "DeleteExpiredRevokedOrigins", err)
	if n != 1 || revoked(p.ID, "o5") || !revoked(p.ID, "o1") {
		t.Fatalf("after o5's expiry: deleted %d, want 1 (o5 only)", n)
	}

	// Cascades: with the user, and with the pool.
	noErr(t, "RevokeOrigin bob", s.RevokeOrigin(c, p.ID, bob.Sub, "o6", t0, t0.Add(time.Hour)))
	noErr(t, "DeleteUser", s.DeleteUser(c, p.ID, bob.Sub))
	if revoked(p.ID, "o6") || !revoked(p.ID, "o1") {
		t.Fatal("user delete: o6 kept or o1 lost")
	}
	noErr(t, "DeletePool", s.DeletePool(c, p.ID))
	if revoked(p.ID, "o1") {
		t.Fatal("pool delete: o1 kept")
	}
}
