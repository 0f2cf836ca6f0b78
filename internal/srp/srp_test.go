package srp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"testing"
)

func hexInt(t testing.TB, s string) *big.Int {
	t.Helper()
	x, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return x
}

func TestPadHex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"0", "00"},
		{"1", "01"},
		{"7f", "7f"},
		{"80", "0080"},
		{"fff", "0fff"},
		{"8000", "008000"},
		{"123456", "123456"},
		{"abcdef", "00abcdef"},
	} {
		if got := PadHex(hexInt(t, tc.in)); got != tc.want {
			t.Errorf("PadHex(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestGroup(t *testing.T) {
	t.Parallel()
	if N.BitLen() != 3072 || !N.ProbablyPrime(8) {
		t.Fatalf("N: %d bits, prime %v", N.BitLen(), N.ProbablyPrime(8))
	}
	if PadBytes(N)[0] != 0 || len(PadBytes(N)) != 385 {
		t.Fatalf("PAD(N) must carry a leading zero byte: %d bytes", len(PadBytes(N)))
	}
	// k = H(PAD(N) || PAD(g)), computed independently here.
	want := hash(append(append([]byte{0}, N.Bytes()...), 2))
	if !bytes.Equal(K.Bytes(), new(big.Int).SetBytes(want).Bytes()) {
		t.Fatal("k mismatch")
	}
}

func TestPoolName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"us-east-1_AbC123": "AbC123",
		"eu-west-2_x_y":    "x_y",
		"plain":            "plain",
	} {
		if got := PoolName(in); got != want {
			t.Errorf("PoolName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	salt, _ := RandomExponent(rand.Reader, 16)
	v := Verifier("AbC", "alice", "correct horse", salt)
	for _, tc := range []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", "correct horse", true},
		{"wrong password", "correct hors", false},
	} {
		c, err := NewClient(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := RandomExponent(rand.Reader, 32)
		B := ServerB(v, b)
		sk, err := ServerKey(c.PublicA(), B, b, v)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := c.Key("AbC", "alice", tc.password, salt, B)
		if err != nil {
			t.Fatal(err)
		}
		if len(sk) != 16 || len(ck) != 16 {
			t.Fatalf("key lengths %d %d", len(sk), len(ck))
		}
		if got := bytes.Equal(sk, ck); got != tc.want {
			t.Errorf("%s: keys equal = %v", tc.name, got)
		}
		block := []byte("opaque secret block")
		ts := "Sun Nov 22 3:04:05 UTC 2026"
		sigC := Signature(ck, "AbC", "alice", block, ts)
		sigS := Signature(sk, "AbC", "alice", block, ts)
		if got := bytes.Equal(sigC, sigS); got != tc.want {
			t.Errorf("%s: signatures equal = %v", tc.name, got)
		}
	}
}

func TestRejectsDegeneratePublicValues(t *testing.T) {
	t.Parallel()
	v := Verifier("p", "u", "pw", big.NewInt(1))
	b, _ := RandomExponent(rand.Reader, 32)
	B := ServerB(v, b)
	twoN := new(big.Int).Lsh(N, 1)
	for _, A := range []*big.Int{big.NewInt(0), N, twoN, big.NewInt(-1)} {
		if _, err := ServerKey(A, B, b, v); err != ErrBadA {
			t.Errorf("A=%s...: err = %v, want ErrBadA", A.Text(16)[:1], err)
		}
	}
	c, _ := NewClient(rand.Reader)
	if _, err := c.Key("p", "u", "pw", big.NewInt(1), N); err != ErrBadB {
		t.Errorf("B=N: err = %v", err)
	}
}

// TestCognitoIdentityJSVector checks the arithmetic against values computed
// by amazon-cognito-identity-js 6.x's AuthenticationHelper (in Node) for a
// fixed a, b, salt and password.
func TestCognitoIdentityJSVector(t *testing.T) {
	t.Parallel()
	a := hexInt(t, jsVector.a)
	salt := hexInt(t, jsVector.salt)
	v := Verifier(jsVector.pool, jsVector.user, jsVector.password, salt)
	if got := v.Text(16); got != jsVector.verifier {
		t.Fatalf("verifier differs from the JS library's:\n got %s\nwant %s", got, jsVector.verifier)
	}
	b := hexInt(t, jsVector.b)
	B := ServerB(v, b)
	c := &Client{a: a, A: new(big.Int).Exp(G, a, N)}
	if got := c.A.Text(16); got != jsVector.A {
		t.Fatalf("A differs: %s", got)
	}
	ck, err := c.Key(jsVector.pool, jsVector.user, jsVector.password, salt, B)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(ck); got != jsVector.key {
		t.Fatalf("client key %s, JS computed %s", got, jsVector.key)
	}
	sk, err := ServerKey(c.A, B, b, v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sk, ck) {
		t.Fatal("server key differs from client key")
	}
}

// BenchmarkVerifier is an offline guesser's cost per password guess
// against a stolen verifier: two SHA-256 and one g^x mod N.
func BenchmarkVerifier(b *testing.B) {
	salt := big.NewInt(0x1234567890)
	for b.Loop() {
		Verifier("AbC", "alice", "guess", salt)
	}
}

// BenchmarkServerKey is the server's modular arithmetic for one sign-in
// (B in round one; B again, v^u and (A*v^u)^b in round two).
func BenchmarkServerKey(b *testing.B) {
	v := Verifier("AbC", "alice", "pw", big.NewInt(7))
	c, _ := NewClient(rand.Reader)
	A := c.PublicA()
	for b.Loop() {
		x, _ := RandomExponent(rand.Reader, 32)
		B := ServerB(v, x)
		if _, err := ServerKey(A, ServerB(v, x), x, v); err != nil || B.Sign() == 0 {
			b.Fatal(err)
		}
	}
}
