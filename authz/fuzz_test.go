package authz_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, never
// accept anything but the one valid token it was seeded with (and the
// fuzzer cannot forge an ES256 signature), and refuse everything else
// with ErrInvalidToken.
func FuzzVerify(f *testing.F) {
	e := setup(f)
	good := e.token(e.accessClaims())
	f.Add(good)
	for _, raw := range attacks(f, e) {
		if len(raw) < 4096 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := e.verify(raw)
		if raw == good {
			if err != nil {
				t.Fatalf("valid token refused: %v", err)
			}
			return
		}
		if err == nil {
			// Only the valid token's exact bytes verify... or an
			// equivalent encoding of its signature (ECDSA malleability
			// is not a concern for authorization: the claims are the
			// signed ones). Check the claims are the signed ones.
			if id.Sub != "user-1" || id.ClientID != testClient {
				t.Fatalf("forged identity %+v from %q", id, raw)
			}
			return
		}
		if !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("error %v is not ErrInvalidToken", err)
		}
	})
}
