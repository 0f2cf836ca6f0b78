package token

import (
	"crypto/elliptic"
	"math/big"
)

// Low-s ECDSA (docs/security.md T8).
//
// An ECDSA signature (r, s) has a twin, (r, n−s), that verifies for the
// same message and key: anyone holding an ES256 token can make a second,
// different token string that is just as valid. Nothing in Gatehouse
// relies on a token string being unique, but caches and deny-lists keyed
// by the string (forward-auth's verified-token cache, a relying party's
// replay list) should not have to know that, so Gatehouse signs only the
// low form (s <= n/2, as Bitcoin's BIP 62 and libsecp256k1) and refuses
// the high one. The importable authz package applies the same rule.

var (
	p256N     = elliptic.P256().Params().N
	p256HalfN = new(big.Int).Rsh(p256N, 1) // (n−1)/2: n is odd
)

// isLowS reports whether sig, an ES256 JWS signature (r || s, 32 bytes
// each), has 0 < s <= n/2.
func isLowS(sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	s := new(big.Int).SetBytes(sig[32:])
	return s.Sign() > 0 && s.Cmp(p256HalfN) <= 0
}
