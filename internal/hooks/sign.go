package hooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Header names of a hook call.
const (
	SignatureHeader = "X-Gatehouse-Signature"
	TriggerHeader   = "X-Gatehouse-Trigger"
	DeliveryHeader  = "X-Gatehouse-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock in VerifySignature when tolerance is 0.
const DefaultTolerance = 5 * time.Minute

// SecretPrefix starts every secret Gatehouse generates.
const SecretPrefix = "ghs_"

// NewSecret returns a fresh hook secret: SecretPrefix + 32 random bytes
// (base64url) read from r (crypto/rand when nil). The whole string is the
// HMAC key.
func NewSecret(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("hooks: random secret: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Sign returns the X-Gatehouse-Signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>." + body)>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Signature verification errors.
var (
	ErrNoSignature      = errors.New("hooks: missing or malformed signature header")
	ErrBadSignature     = errors.New("hooks: signature does not match")
	ErrSignatureExpired = errors.New("hooks: signature timestamp outside the tolerance")
)

// VerifySignature checks header (the X-Gatehouse-Signature value) against
// body (the raw request body, before any parsing) and secret, for
// receivers written in Go. The timestamp must be within tolerance of now
// (DefaultTolerance when tolerance is 0), which bounds replays. Several v1
// entries are allowed (any match passes), so a sender may sign with an old
// and a new secret during a rotation.
//
// Errors: ErrNoSignature, ErrBadSignature, ErrSignatureExpired.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	return nil
}
