package forwardauth_test

import (
	"testing"
	"time"
)

// TestRevokeToken: RevokeToken of a sign-in's refresh token ends that
// sign-in's access tokens at the authorizer once the cache TTL has passed
// (the injected clock; the same documented delay as a global sign-out),
// while another sign-in of the same user stays allowed.
func TestRevokeToken(t *testing.T) {
	t.Parallel()
	const ttl = 5 * time.Second
	g, c := setup(t, ttl)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	other := g.SignIn(t, "alice@acme.test")
	uri := "/companies/Acme/documents"
	for _, tok := range []string{alice.Access, other.Access} {
		if res := g.Check(t, "GET", uri, tok); res.StatusCode != 200 {
			t.Fatalf("before RevokeToken: %d", res.StatusCode)
		}
	}
	g.RevokeToken(t, alice.Refresh)
	c.Add(ttl - time.Millisecond)
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 200 {
		t.Fatalf("within the TTL: %d (cache not used?)", res.StatusCode)
	}
	c.Add(time.Millisecond)
	res := g.Check(t, "GET", uri, alice.Access)
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("after the TTL: %d %q, want 401 with a challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	// Refused from now on, not only once.
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 401 {
		t.Fatalf("second check after the TTL: %d, want 401", res.StatusCode)
	}
	if res := g.Check(t, "GET", uri, other.Access); res.StatusCode != 200 {
		t.Fatalf("another sign-in of the user: %d, want 200", res.StatusCode)
	}
}

// TestRevokeTokenWithoutCache: with no cache the revocation applies to the
// next check.
func TestRevokeTokenWithoutCache(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	other := g.SignIn(t, "alice@acme.test")
	uri := "/companies/Acme/documents"
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 200 {
		t.Fatalf("before: %d", res.StatusCode)
	}
	g.RevokeToken(t, alice.Refresh)
	if res := g.Check(t, "GET", uri, alice.Access); res.StatusCode != 401 {
		t.Fatalf("after RevokeToken: %d, want 401", res.StatusCode)
	}
	if res := g.Check(t, "GET", uri, other.Access); res.StatusCode != 200 {
		t.Fatalf("another sign-in of the user: %d, want 200", res.StatusCode)
	}
}
