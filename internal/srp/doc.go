// Package srp implements the SRP-6a variant that Amazon Cognito speaks
// (USER_SRP_AUTH / PASSWORD_VERIFIER), exactly as amazon-cognito-identity-js
// and Amplify compute it, so their default sign-in works against Gatehouse.
//
// Parameters: N is the 3072-bit group of RFC 5054, g = 2, H = SHA-256, and
// every big number is hashed in Cognito's "padHex" form (PadBytes: the
// minimal big-endian bytes, with a leading zero byte when the high bit is
// set). Then
//
//	k = H(PAD(N) || PAD(g))
//	x = H(PAD(salt) || H(poolName || userIdForSrp || ":" || password))
//	v = g^x mod N                               (stored when the password is set)
//	A = g^a mod N                               (client)
//	B = (k*v + g^b) mod N                       (server)
//	u = H(PAD(A) || PAD(B))
//	S = (B - k*g^x)^(a + u*x) mod N             (client)
//	  = (A * v^u)^b mod N                       (server)
//	K = HKDF-SHA256(ikm=PAD(S), salt=PAD(u), info="Caldera Derived Key", 16 bytes)
//
// poolName is the part of the pool id after "_". The client proves it
// knows K with PASSWORD_CLAIM_SIGNATURE =
// base64(HMAC-SHA256(K, poolName || userIdForSrp || SECRET_BLOCK bytes || TIMESTAMP)).
//
// The package is only the arithmetic; internal/auth keeps the server's
// state (b) in the sealed SECRET_BLOCK, checks the signature and issues
// tokens.
package srp
