package token

import (
	"context"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestInvalidateAcrossNodes: node 1's OnKeysChanged hook fires once per
// rotation, and node 2, told through Invalidate, signs with the new key
// at once instead of after the cache TTL.
func TestInvalidateAcrossNodes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		m2 := NewManager(e.st, e.master, e.clk.Now)
		var changed []string
		e.m.OnKeysChanged(func(poolID string) { changed = append(changed, poolID) })
		m2.OnKeysChanged(func(poolID string) { t.Errorf("node 2 reported a change of %s it did not make", poolID) })

		if _, err := m2.Sign(ctx, e.pool, e.claims(nil)); err != nil { // fills node 2's cache
			t.Fatal(err)
		}
		if _, err := e.m.Rotate(ctx, e.pool); err != nil {
			t.Fatal(err)
		}
		if len(changed) != 1 || changed[0] != e.pool.ID {
			t.Fatalf("hook calls %v, want one for %s", changed, e.pool.ID)
		}
		newKID := kidIn(t, e, identity.KeyActive)

		tok, err := m2.Sign(ctx, e.pool, e.claims(nil))
		if err != nil {
			t.Fatal(err)
		}
		if headerOf(t, tok)["kid"] == newKID {
			t.Fatal("node 2 saw the rotation without being told: the cache is not in play")
		}
		for _, id := range []string{e.pool.ID, ""} {
			m2.Invalidate(id)
			tok, err = m2.Sign(ctx, e.pool, e.claims(nil))
			if err != nil {
				t.Fatal(err)
			}
			if headerOf(t, tok)["kid"] != newKID {
				t.Fatalf("Invalidate(%q): node 2 still signs with the old key", id)
			}
		}

		// EnsureKey on a pool that has its keys changes nothing and says so.
		changed = nil
		if err := e.m.EnsureKey(ctx, e.pool); err != nil {
			t.Fatal(err)
		}
		if len(changed) != 0 {
			t.Errorf("EnsureKey with keys present reported %v", changed)
		}
		p := newPool(t, e.st, "eu-west-1_Fresh0000", "")
		if err := e.m.EnsureKey(ctx, p); err != nil {
			t.Fatal(err)
		}
		if len(changed) == 0 {
			t.Error("EnsureKey creating keys reported no change")
		}
	})
}

// TestConcurrentRotateOnNodes: rotations sent to three nodes at once (a
// retried request, a double click) leave the pool consistent: every node,
// once told, signs with the same key; the key that was active is retired
// and still verifies, so no token issued before is refused. (No node
// rotates on its own: each rotation is one request.)
func TestConcurrentRotateOnNodes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		before := e.sign(t, e.pool, nil)
		oldActive := kidIn(t, e, identity.KeyActive)
		nodes := []*Manager{e.m, NewManager(e.st, e.master, e.clk.Now), NewManager(e.st, e.master, e.clk.Now)}
		errs := make(chan error, len(nodes))
		for _, m := range nodes {
			go func() {
				_, err := m.Rotate(ctx, e.pool)
				errs <- err
			}()
		}
		for range nodes {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		// On PostgreSQL (READ COMMITTED) interleaved rotations may leave
		// two keys marked active; sortKeys makes every node pick the same
		// one, and the next rotation retires both (see Rotate).
		actives := 0
		retiredOld := false
		for _, k := range e.keysOf(t, e.pool.ID) {
			if k.KID == oldActive {
				retiredOld = k.State == identity.KeyRetired
			}
			if k.State == identity.KeyActive {
				actives++
			}
		}
		if actives == 0 || !retiredOld {
			t.Fatalf("%d active keys; the key active before retired: %v", actives, retiredOld)
		}
		var active any
		for i, m := range nodes {
			m.Invalidate(e.pool.ID)
			tok, err := m.Sign(ctx, e.pool, e.claims(nil))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				active = headerOf(t, tok)["kid"]
			} else if headerOf(t, tok)["kid"] != active {
				t.Errorf("node %d signs with %v, node 0 with %v", i, headerOf(t, tok)["kid"], active)
			}
			if _, err := m.Verify(ctx, e.pool, before, issuer); err != nil {
				t.Errorf("node %d refuses a token signed before the rotations: %v", i, err)
			}
		}
	})
}
