package token

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

// flipS returns tok with its ES256 signature's s replaced by n−s: the
// other signature ECDSA accepts for the same message and key.
func flipS(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %q", parts[2])
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// lowS reports whether tok's ES256 signature has s <= n/2.
func lowS(t testing.TB, tok string) bool {
	t.Helper()
	sig, err := base64.RawURLEncoding.DecodeString(tok[strings.LastIndexByte(tok, '.')+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %q", tok)
	}
	half := new(big.Int).Rsh(elliptic.P256().Params().N, 1)
	return new(big.Int).SetBytes(sig[32:]).Cmp(half) <= 0
}

// TestSignaturesAreLowS: every ES256 signature Sign produces has a low s.
// ecdsa.Sign's s is high half the time, so 400 samples would all be low by
// chance with probability 2^-400.
func TestSignaturesAreLowS(t *testing.T) { // security.md T8
	t.Parallel()
	e := setup(t)
	for i := 0; i < 400; i++ {
		tok := e.sign(t, e.pool, map[string]any{"n": i})
		if !lowS(t, tok) {
			t.Fatalf("signature %d has a high s", i)
		}
	}
}

// TestHighSRefused: the same token with s replaced by n−s (a second valid
// ECDSA signature, the malleability) is refused; the original verifies.
func TestHighSRefused(t *testing.T) { // security.md T8
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		tok := e.sign(t, e.pool, map[string]any{"n": i})
		if _, err := e.m.Verify(ctx, e.pool, tok, issuer); err != nil {
			t.Fatalf("original: %v", err)
		}
		_, err := e.m.Verify(ctx, e.pool, flipS(t, tok), issuer)
		wantInvalid(t, err, "Invalid token.")
	}
}
