package testenv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// Claims decodes a JWT's payload without verifying it (verification is
// the code under test's business).
func Claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(Payload(t, jwt)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Payload returns the decoded payload of a JWT, unverified.
func Payload(t testing.TB, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PKCE returns a fresh code verifier and its S256 challenge.
func PKCE() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}
