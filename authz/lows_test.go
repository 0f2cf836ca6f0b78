package authz_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
)

// flipS returns tok with its ES256 signature's s replaced by n−s: the
// malleable twin that ECDSA accepts for the same message and key.
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

// TestHighSRefused: the Verifier accepts only low-s ES256 signatures, as
// Gatehouse issues them: a token with s replaced by n−s is invalid, the
// original (low s) valid.
func TestHighSRefused(t *testing.T) { // security.md T8
	t.Parallel()
	e := setup(t)
	for i := 0; i < 20; i++ {
		c := e.accessClaims()
		c["n"] = i
		tok := e.token(c)
		if _, err := e.verify(tok); err != nil {
			t.Fatalf("low s: %v", err)
		}
		if _, err := e.verify(flipS(t, tok)); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("high s: %v, want ErrInvalidToken", err)
		}
	}
}
