// Package token owns each pool's JWT signing keys: it creates and rotates
// them, keeps their private halves sealed at rest, signs ID and access
// tokens, verifies them, and publishes the public keys as a JWKS.
//
// Keys. Every pool has one "active" key (signs), one "next" key (published,
// not yet signing) and any "retired" keys (published and verifying until
// RemoveAfter). Private keys are PKCS#8 DER sealed with AES-256-GCM under
// the master key (LoadMasterKey); the additional data is the pool id and
// kid, so a sealed key moved to another pool or kid does not open. kid is
// the RFC 7638 SHA-256 thumbprint of the public key. ES256 is the default;
// a pool may choose RS256 (2048-bit).
//
// Key life cycle:
//
//	EnsureKey:  (none) -> active, and -> next          pool creation / first Sign
//	Rotate:     next -> active, active -> retired(RemoveAfter = now + retention),
//	            new -> next                           every key is in JWKS before it signs
//	            (no next key: new -> active at once)  emergency rotation
//	            retired past RemoveAfter -> deleted
//
// Retention is the pool's longest ID/access token lifetime, at least 24h,
// plus 5 minutes of clock skew.
//
// Several nodes share one database. Each Manager caches a pool's keys for
// DefaultCacheTTL (30 s), so a rotation made elsewhere is used for signing
// within that time; a token whose kid is not in the cache makes the
// Manager re-read the keys at once, at most once per second per pool (so
// random kids cannot hammer the database).
//
// Verify (see its doc) caps the size and the number of dots before parsing,
// accepts ES256 and RS256 only (never none or HS*), finds the key by kid
// among the pool's own keys only (jku, x5u, jwk and x5c headers are never
// used), checks the signature, exp, nbf, iat and iss, and returns claims
// with numbers as float64. Every refusal is CodeInvalidToken with a safe
// message ("Invalid token." or "Token expired."); audience and token_use
// are the caller's to check, as they depend on the flow.
package token
