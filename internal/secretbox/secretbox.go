// Package secretbox seals small secrets with a key derived from
// Gatehouse's master key: AES-256-GCM, a random 96-bit nonce per message,
// and a purpose string as additional data, so a value sealed for one
// purpose (say, one client's secret) never opens as another.
//
// Uses in Gatehouse: app client secrets (so Cognito's SECRET_HASH can be
// verified; only a hash would not do) and SRP's SECRET_BLOCK (the
// server's ephemeral b travels with the client, sealed, instead of being
// kept in the database). Every node of a cluster derives the same key
// from the same master key, so a block sealed by one node opens on another.
//
// The key is derived with HKDF-SHA256 (info "gatehouse secretbox v1"), so
// it is never the master key itself, which internal/token uses for signing
// keys.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// KeySize is the size of the master key New takes.
const KeySize = 32

const info = "gatehouse secretbox v1"

// ErrOpen is returned when a sealed value does not open: wrong master key,
// wrong purpose, or tampered or truncated data.
var ErrOpen = errors.New("secretbox: cannot open sealed value (wrong master key, wrong purpose, or tampered)")

// Box seals and opens values. It is safe for concurrent use.
type Box struct {
	aead   cipher.AEAD
	macKey []byte
	rand   io.Reader
}

// New derives a Box from a 32-byte master key.
func New(masterKey []byte) (*Box, error) {
	if len(masterKey) != KeySize {
		return nil, fmt.Errorf("secretbox: master key must be %d bytes, got %d", KeySize, len(masterKey))
	}
	k, err := hkdf.Key(sha256.New, masterKey, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	macKey, err := hkdf.Key(sha256.New, masterKey, nil, info+" mac", 32)
	if err != nil {
		return nil, fmt.Errorf("secretbox: derive key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, macKey: macKey, rand: rand.Reader}, nil
}

// Ephemeral returns a Box with a random key that lives as long as the
// process: what a single node without a configured master key can use for
// short-lived values. Values sealed with it do not survive a restart and
// do not open on another node.
func Ephemeral() *Box {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("secretbox: crypto/rand failed: " + err.Error())
	}
	b, err := New(k)
	if err != nil {
		panic(err)
	}
	return b
}

// Overhead is how many bytes Seal adds to the plaintext.
func (b *Box) Overhead() int { return b.aead.NonceSize() + b.aead.Overhead() }

// Seal returns nonce || ciphertext of plain, bound to purpose.
func (b *Box) Seal(purpose string, plain []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+b.aead.Overhead())
	if _, err := io.ReadFull(b.rand, nonce); err != nil {
		return nil, fmt.Errorf("secretbox: random: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(purpose)), nil
}

// MAC returns HMAC-SHA256 of data under a key derived from the master key
// and purpose: a stable pseudo-random value (e.g. a fake SRP salt for an
// unknown user that does not change between calls or nodes).
func (b *Box) MAC(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, b.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// Open returns the plaintext of a value sealed for purpose, or ErrOpen.
func (b *Box) Open(purpose string, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
