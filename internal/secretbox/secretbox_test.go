package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b1, err := New(key(1))
	if err != nil {
		t.Fatal(err)
	}
	b1again, _ := New(key(1))
	b2, _ := New(key(2))
	s, err := b1.Seal("client-secret:a", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 5+b1.Overhead() {
		t.Fatalf("sealed length %d", len(s))
	}
	if got, err := b1again.Open("client-secret:a", s); err != nil || string(got) != "hello" {
		t.Fatalf("same key, other Box: %q %v", got, err)
	}
	s2, _ := b1.Seal("client-secret:a", []byte("hello"))
	if bytes.Equal(s, s2) {
		t.Fatal("two seals of one value are equal (nonce reused)")
	}
	tampered := append([]byte(nil), s...)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		box     *Box
		purpose string
		sealed  []byte
	}{
		"wrong key":     {b2, "client-secret:a", s},
		"wrong purpose": {b1, "client-secret:b", s},
		"tampered":      {b1, "client-secret:a", tampered},
		"truncated":     {b1, "client-secret:a", s[:10]},
		"empty":         {b1, "client-secret:a", nil},
	} {
		if _, err := tc.box.Open(tc.purpose, tc.sealed); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewRejectsBadKey(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New with %d bytes: no error", n)
		}
	}
}

func TestEphemeralKeysDiffer(t *testing.T) {
	t.Parallel()
	a, b := Ephemeral(), Ephemeral()
	s, err := a.Seal("p", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open("p", s); !errors.Is(err, ErrOpen) {
		t.Fatalf("another process's box opened the value: %v", err)
	}
	if got, err := a.Open("p", s); err != nil || string(got) != "x" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestMAC(t *testing.T) {
	t.Parallel()
	a, _ := New(key(1))
	a2, _ := New(key(1))
	b, _ := New(key(2))
	m := a.MAC("srp-salt", []byte("alice"))
	if !bytes.Equal(m, a2.MAC("srp-salt", []byte("alice"))) {
		t.Fatal("MAC differs between boxes of one master key")
	}
	for name, other := range map[string][]byte{
		"other key":     b.MAC("srp-salt", []byte("alice")),
		"other purpose": a.MAC("srp-salt2", []byte("alice")),
		"other data":    a.MAC("srp-salt", []byte("alicf")),
		"shifted":       a.MAC("srp-sal", []byte("talice")),
	} {
		if bytes.Equal(m, other) {
			t.Errorf("%s: same MAC", name)
		}
	}
}
