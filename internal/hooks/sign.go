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
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a hook call. The signature follows the Standard Webhooks
// specification (https://www.standardwebhooks.com/): webhook-id,
// webhook-timestamp and webhook-signature.
const (
	// IDHeader carries the delivery id, the same on every retry of one
	// event: receivers drop duplicates by it.
	IDHeader = "webhook-id"
	// TimestampHeader carries the unix seconds at which this attempt was
	// signed.
	TimestampHeader = "webhook-timestamp"
	// SignatureHeader carries "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>"
	// (several, space-separated, during a rotation).
	SignatureHeader = "webhook-signature"
	// TriggerHeader carries the event's triggerSource.
	TriggerHeader = "X-Gatehouse-Trigger"

	// LegacySignatureHeader is the previous release's signature,
	// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>." + body)>", which does
	// not cover the delivery id. Deprecated: still sent in this release so
	// that receivers can move to SignatureHeader; the next release drops it.
	LegacySignatureHeader = "X-Gatehouse-Signature"
	// DeliveryHeader is the previous release's name of IDHeader (same
	// value). Deprecated: dropped with LegacySignatureHeader.
	DeliveryHeader = "X-Gatehouse-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock in VerifySignature when tolerance is 0.
const DefaultTolerance = 5 * time.Minute

// maxIDLen caps the delivery id a receiver accepts.
const maxIDLen = 256

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

// StandardWebhooksSecret returns secret in the form Standard Webhooks
// libraries take ("whsec_" + base64 of the key bytes): the HMAC key is the
// whole secret string's bytes, so a receiver using such a library passes
// this value (or the raw bytes, where the library accepts them).
func StandardWebhooksSecret(secret string) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(secret))
}

// Sign returns the webhook-signature value for the delivery id sent at t
// with body: "v1," + base64(HMAC-SHA256(secret, id + "." + <unix seconds> + "." + body)).
func Sign(secret, id string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, id+"."+ts+".", body))
}

// SetSignatureHeaders sets the signature headers of a delivery on h:
// webhook-id, webhook-timestamp and webhook-signature, and the deprecated
// X-Gatehouse-Delivery and X-Gatehouse-Signature.
func SetSignatureHeaders(h http.Header, secret, id string, t time.Time, body []byte) {
	h.Set(IDHeader, id)
	h.Set(TimestampHeader, strconv.FormatInt(t.Unix(), 10))
	h.Set(SignatureHeader, Sign(secret, id, t, body))
	h.Set(DeliveryHeader, id)
	h.Set(LegacySignatureHeader, signLegacy(secret, t, body))
}

// signLegacy is the previous release's X-Gatehouse-Signature value.
func signLegacy(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts+".", body))
}

func mac(secret, prefix string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(prefix))
	m.Write(body)
	return m.Sum(nil)
}

// Signature verification errors.
var (
	ErrNoSignature      = errors.New("hooks: missing or malformed signature headers")
	ErrBadSignature     = errors.New("hooks: signature does not match")
	ErrSignatureExpired = errors.New("hooks: signature timestamp outside the tolerance")
)

// VerifySignature checks a delivery's Standard Webhooks headers in h
// (webhook-id, webhook-timestamp, webhook-signature) against body (the raw
// request body, before any parsing) and secret, for receivers written in
// Go. The signature covers the id, the timestamp and the body together,
// so none of them can be swapped; the timestamp must be within tolerance of
// now (DefaultTolerance when tolerance is 0), which bounds replays: a
// receiver that remembers the ids it accepted for the tolerance window
// refuses every replay. Several v1 signatures are allowed (any match
// passes), so a sender may sign with an old and a new secret during a
// rotation.
//
// Errors: ErrNoSignature, ErrBadSignature, ErrSignatureExpired.
func VerifySignature(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, ts := h.Get(IDHeader), h.Get(TimestampHeader)
	if id == "" || len(id) > maxIDLen {
		return ErrNoSignature
	}
	sec, ok := parseUnix(ts)
	if !ok {
		return ErrNoSignature
	}
	var sigs [][]byte
	for _, f := range strings.Fields(h.Get(SignatureHeader)) {
		v, s, ok := strings.Cut(f, ",")
		if !ok || v != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == sha256.Size {
			sigs = append(sigs, b)
		}
	}
	if len(sigs) == 0 {
		return ErrNoSignature
	}
	if err := check(sigs, mac(secret, id+"."+ts+".", body)); err != nil {
		return err
	}
	return fresh(sec, now, tolerance)
}

// VerifyLegacySignature checks the previous release's X-Gatehouse-Signature
// value (header), which covers the timestamp and the body but not the
// delivery id. Deprecated: use VerifySignature; the header is sent for one
// more release (docs/hooks.md).
//
// Errors: ErrNoSignature, ErrBadSignature, ErrSignatureExpired.
func VerifyLegacySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
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
	sec, ok := parseUnix(ts)
	if !ok || len(sigs) == 0 {
		return ErrNoSignature
	}
	if err := check(sigs, mac(secret, ts+".", body)); err != nil {
		return err
	}
	return fresh(sec, now, tolerance)
}

// parseUnix reads unix seconds written as decimal digits only.
func parseUnix(ts string) (int64, bool) {
	if ts == "" || len(ts) > 12 || strings.Trim(ts, "0123456789") != "" {
		return 0, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	return sec, err == nil
}

// check compares every candidate with want in constant time.
func check(sigs [][]byte, want []byte) error {
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

func fresh(sec int64, now time.Time, tolerance time.Duration) error {
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	return nil
}
