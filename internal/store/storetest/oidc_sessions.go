package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testOIDCSessions: a relying-party session is listed for its user in its
// pool only, oldest first, while not expired; an unknown user is
// ErrNotFound and a taken origin ErrConflict, nothing written (also inside
// a transaction, which stays usable); deleting one deletes only it;
// pruning removes only expired rows; the rows go with the user and the
// pool.
func testOIDCSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	p := mustPool(t, s, "eu-west-1_oss")
	other := mustPool(t, s, "eu-west-1_oss2")
	ann := mustUser(t, s, p.ID, "ann")
	bob := mustUser(t, s, p.ID, "bob")
	annOther := mustUser(t, s, other.ID, "ann")
	sess := func(pool, sub, origin, client string, created time.Time) *identity.OIDCSession {
		return &identity.OIDCSession{PoolID: pool, UserSub: sub, OriginJTI: origin, ClientID: client,
			CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	}
	list := func(pool, sub string, now time.Time) string {
		t.Helper()
		ss, err := s.ListOIDCSessions(c, pool, sub, now, 10)
		noErr(t, "ListOIDCSessions", err)
		out := ""
		for _, x := range ss {
			if x.PoolID != pool || x.UserSub != sub {
				t.Fatalf("session %+v listed for %s/%s", x, pool, sub)
			}
			out += x.OriginJTI + "@" + x.ClientID + " "
		}
		return out
	}

	noErr(t, "Insert o2", s.InsertOIDCSession(c, sess(p.ID, ann.Sub, "o2", "cb", t0.Add(time.Second))))
	noErr(t, "Insert o1", s.InsertOIDCSession(c, sess(p.ID, ann.Sub, "o1", "ca", t0)))
	noErr(t, "Insert bob", s.InsertOIDCSession(c, sess(p.ID, bob.Sub, "o3", "ca", t0)))
	noErr(t, "Insert other pool", s.InsertOIDCSession(c, sess(other.ID, annOther.Sub, "o1", "cx", t0)))
	if got := list(p.ID, ann.Sub, t0); got != "o1@ca o2@cb " {
		t.Fatalf("ann's sessions: %q", got)
	}
	if got := list(other.ID, annOther.Sub, t0); got != "o1@cx " {
		t.Fatalf("other pool's sessions: %q", got)
	}
	// Expired at now: not listed (o1 expires at t0+1h, o2 a second later).
	if got := list(p.ID, ann.Sub, t0.Add(time.Hour)); got != "o2@cb " {
		t.Fatalf("at o1's expiry: %q", got)
	}

	wantErr(t, "unknown user", s.InsertOIDCSession(c, sess(p.ID, "sub-nobody", "o4", "ca", t0)), store.ErrNotFound)
	wantErr(t, "taken origin", s.InsertOIDCSession(c, sess(p.ID, bob.Sub, "o1", "ca", t0)), store.ErrConflict)
	err := s.InTx(c, func(q store.Querier) error {
		wantErr(t, "user of another pool in tx", q.InsertOIDCSession(c, sess(other.ID, bob.Sub, "o5", "ca", t0)), store.ErrNotFound)
		return q.InsertOIDCSession(c, sess(p.ID, bob.Sub, "o6", "cb", t0.Add(time.Second)))
	})
	noErr(t, "InTx", err)
	if got := list(p.ID, bob.Sub, t0); got != "o3@ca o6@cb " {
		t.Fatalf("bob's sessions after the transaction: %q", got)
	}

	noErr(t, "DeleteOIDCSession", s.DeleteOIDCSession(c, p.ID, "o1"))
	noErr(t, "DeleteOIDCSession unknown", s.DeleteOIDCSession(c, p.ID, "o-none"))
	if got := list(p.ID, ann.Sub, t0); got != "o2@cb " {
		t.Fatalf("after deleting o1: %q", got)
	}
	if got := list(other.ID, annOther.Sub, t0); got != "o1@cx " {
		t.Fatalf("deleting o1 in one pool touched another: %q", got)
	}

	// Pruning: o3 expires at t0+1h (kept at that instant), o2 and o6 later.
	n, err := s.DeleteExpiredOIDCSessions(c, t0.Add(time.Hour))
	noErr(t, "DeleteExpiredOIDCSessions at expiry", err)
	if n != 0 {
		t.Fatalf("at the expiry instant: deleted %d, want 0", n)
	}
	n, err = s.DeleteExpiredOIDCSessions(c, t0.Add(time.Hour+time.Millisecond))
	noErr(t, "DeleteExpiredOIDCSessions", err)
	if n != 2 { // o3 here, o1 in the other pool
		t.Fatalf("after the first expiry: deleted %d, want 2", n)
	}
	if got := list(p.ID, bob.Sub, t0); got != "o6@cb " {
		t.Fatalf("bob after pruning: %q", got)
	}

	// Cascades: with the user, and with the pool.
	noErr(t, "DeleteUser", s.DeleteUser(c, p.ID, bob.Sub))
	if got := list(p.ID, bob.Sub, t0); got != "" {
		t.Fatalf("user delete kept %q", got)
	}
	noErr(t, "DeletePool", s.DeletePool(c, p.ID))
	if got := list(p.ID, ann.Sub, t0); got != "" {
		t.Fatalf("pool delete kept %q", got)
	}
}
