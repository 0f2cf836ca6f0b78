package forwardauth_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestHighSTokenRefused: forward-auth refuses an access token whose ES256
// signature was turned into its twin (s → n−s), with or without the
// verified-token cache holding the original.
func TestHighSTokenRefused(t *testing.T) { // security.md T8
	t.Parallel()
	for _, ttl := range []bool{false, true} {
		g, _ := setup(t, map[bool]time.Duration{false: 0, true: 5 * time.Second}[ttl])
		alice := g.User(t, "alice@acme.test", "Acme", "Users")
		if res := g.Check(t, "GET", "/companies/Acme/documents", alice.Access); res.StatusCode != 200 {
			t.Fatalf("original: %d", res.StatusCode)
		}
		parts := strings.Split(alice.Access, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			t.Fatalf("not an ES256 signature: %q", parts[2])
		}
		s := new(big.Int).SetBytes(sig[32:])
		s.Sub(elliptic.P256().Params().N, s)
		s.FillBytes(sig[32:])
		twin := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
		if res := g.Check(t, "GET", "/companies/Acme/documents", twin); res.StatusCode != 401 {
			t.Fatalf("cache %v: high-s twin answered %d, want 401", ttl, res.StatusCode)
		}
	}
}
