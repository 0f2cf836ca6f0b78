package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the size of the master key in bytes (AES-256).
const MasterKeySize = 32

// LoadMasterKey decodes a 32-byte master key given as 64 hex digits or as
// base64 (standard or URL alphabet, padded or not). Surrounding white space
// is ignored. It returns an error naming the expected forms otherwise; the
// error never contains the value.
func LoadMasterKey(value string) ([]byte, error) {
	v := strings.TrimSpace(value)
	if len(v) == 2*MasterKeySize {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == MasterKeySize {
			return b, nil
		}
	}
	return nil, errors.New("token: master key must be 32 bytes, as 64 hex digits or base64 (generate one with `gatehouse keygen`)")
}

// GenerateMasterKey returns a new random master key, base64-encoded.
func GenerateMasterKey() string {
	b := make([]byte, MasterKeySize)
	if _, err := rand.Read(b); err != nil {
		panic("token: crypto/rand failed: " + err.Error()) // crypto/rand.Read does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// sealer encrypts private keys at rest with AES-256-GCM. The additional
// data binds a sealed key to its pool and kid, so a sealed key copied to
// another pool's row (or under another kid) fails to open.
type sealer struct{ aead cipher.AEAD }

func newSealer(masterKey []byte) (*sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("token: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func additionalData(poolID, kid string) []byte {
	return []byte("gatehouse-signing-key\x00" + poolID + "\x00" + kid)
}

// seal returns nonce || ciphertext.
func (s *sealer) seal(poolID, kid string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, additionalData(poolID, kid)), nil
}

var errUnseal = errors.New("token: cannot decrypt signing key (wrong master key, or key moved between pools)")

func (s *sealer) open(poolID, kid string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errUnseal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], additionalData(poolID, kid))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}
