package srp

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// nHex is the 3072-bit group of RFC 5054 (appendix A), as in
// amazon-cognito-identity-js's AuthenticationHelper.
const nHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9" +
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64" +
	"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B" +
	"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31" +
	"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// InfoBits is the HKDF info string Cognito uses.
const InfoBits = "Caldera Derived Key"

var (
	// N is the group's prime modulus.
	N, _ = new(big.Int).SetString(nHex, 16)
	// G is the group's generator.
	G = big.NewInt(2)
	// K is the multiplier k = H(PAD(N) || PAD(g)).
	K = new(big.Int).SetBytes(hash(PadBytes(N), PadBytes(G)))
)

// Errors returned for values a peer must not send.
var (
	ErrBadA = errors.New("srp: A is not a valid public value")
	ErrBadB = errors.New("srp: B is not a valid public value")
	ErrBadU = errors.New("srp: u is zero")
)

// PadBytes is Cognito's padHex as bytes: the big-endian bytes of a
// non-negative x, with a leading zero byte when the first byte's high bit
// is set (so the value reads as positive) and a single zero byte for 0.
func PadBytes(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

// PadHex is Cognito's padHex: PadBytes in lower-case hex.
func PadHex(x *big.Int) string { return fmt.Sprintf("%x", PadBytes(x)) }

func hash(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// PoolName is the part of a pool id after the region: "us-east-1_AbC" → "AbC".
func PoolName(poolID string) string {
	if _, after, ok := strings.Cut(poolID, "_"); ok {
		return after
	}
	return poolID
}

// X is the private value x = H(PAD(salt) || H(poolName || userID || ":" || password)).
func X(poolName, userID, password string, salt *big.Int) *big.Int {
	inner := hash([]byte(poolName + userID + ":" + password))
	return new(big.Int).SetBytes(hash(PadBytes(salt), inner))
}

// Verifier returns v = g^x mod N for the password.
func Verifier(poolName, userID, password string, salt *big.Int) *big.Int {
	return new(big.Int).Exp(G, X(poolName, userID, password, salt), N)
}

// U is the scrambling parameter u = H(PAD(A) || PAD(B)).
func U(A, B *big.Int) *big.Int {
	return new(big.Int).SetBytes(hash(PadBytes(A), PadBytes(B)))
}

// ValidPublic reports whether a peer's public value is usable: 0 < x mod N.
func ValidPublic(x *big.Int) bool {
	return x.Sign() > 0 && new(big.Int).Mod(x, N).Sign() != 0
}

// RandomExponent returns a secret exponent of nbytes random bytes, reduced mod N, never 0.
func RandomExponent(r io.Reader, nbytes int) (*big.Int, error) {
	b := make([]byte, nbytes)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("srp: random: %w", err)
		}
		x := new(big.Int).Mod(new(big.Int).SetBytes(b), N)
		if x.Sign() != 0 {
			return x, nil
		}
	}
}

// ServerB returns B = (k*v + g^b) mod N.
func ServerB(v, b *big.Int) *big.Int {
	B := new(big.Int).Exp(G, b, N)
	kv := new(big.Int).Mul(K, v)
	B.Add(B, kv)
	return B.Mod(B, N)
}

// ServerKey returns the 16-byte session key the server derives from the
// client's A, its own b and B, and the user's verifier v:
// S = (A * v^u)^b mod N, key = HKDF(ikm=PAD(S), salt=PAD(u), info=InfoBits).
// A must be valid (ValidPublic); ErrBadA or ErrBadU otherwise.
func ServerKey(A, B, b, v *big.Int) ([]byte, error) {
	if !ValidPublic(A) {
		return nil, ErrBadA
	}
	u := U(A, B)
	if u.Sign() == 0 {
		return nil, ErrBadU
	}
	S := new(big.Int).Exp(v, u, N)
	S.Mul(S, A)
	S.Mod(S, N)
	S.Exp(S, b, N)
	return derive(S, u)
}

func derive(S, u *big.Int) ([]byte, error) {
	return hkdf.Key(sha256.New, PadBytes(S), PadBytes(u), InfoBits, 16)
}

// Signature is the PASSWORD_CLAIM_SIGNATURE's MAC:
// HMAC-SHA256(key, poolName || userID || secretBlock || timestamp).
func Signature(key []byte, poolName, userID string, secretBlock []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(userID))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// Client is the client side of the exchange, as amazon-cognito-identity-js
// runs it. Gatehouse uses it in tests and benchmarks.
type Client struct {
	a, A *big.Int
}

// NewClient draws a (128 random bytes, as the JS library) and computes A = g^a mod N.
func NewClient(r io.Reader) (*Client, error) {
	a, err := RandomExponent(r, 128)
	if err != nil {
		return nil, err
	}
	return &Client{a: a, A: new(big.Int).Exp(G, a, N)}, nil
}

// A returns the client's public value.
func (c *Client) PublicA() *big.Int { return new(big.Int).Set(c.A) }

// Key returns the client's 16-byte session key:
// S = (B - k*g^x)^(a + u*x) mod N. ErrBadB when B mod N is 0.
func (c *Client) Key(poolName, userID, password string, salt, B *big.Int) ([]byte, error) {
	if !ValidPublic(B) {
		return nil, ErrBadB
	}
	u := U(c.A, B)
	if u.Sign() == 0 {
		return nil, ErrBadU
	}
	x := X(poolName, userID, password, salt)
	gx := new(big.Int).Exp(G, x, N)
	base := new(big.Int).Sub(B, new(big.Int).Mul(K, gx))
	base.Mod(base, N) // Go's Mod is Euclidean: non-negative
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, c.a)
	S := new(big.Int).Exp(base, exp, N)
	return derive(S, u)
}
