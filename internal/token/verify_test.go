package token

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestVerifyStrictParsing: tokens signed with the pool's own active key
// but spelled in ways Gatehouse never issues are refused (verify.go): a
// crit or b64 header, a typ that is null or not a string, a header that is
// not an object, padded base64url, or non-zero trailing bits (a second
// spelling of the same bytes). The plain header passes, so the refusals
// are not an artefact of the setup.
func TestVerifyStrictParsing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ks, err := e.m.keys(ctx, e.pool.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	k := firstOf(ks, AlgES256, identity.KeyActive)
	priv, err := e.m.privateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	ec := priv.(*ecdsa.PrivateKey)
	claims := b64json(t, e.claims(nil))
	signWith := func(h, p string) string {
		for {
			in := h + "." + p
			tok := in + "." + esSign(t, ec, in)
			if lowS(t, tok) {
				return tok
			}
		}
	}
	hdr := func(extra string) string {
		return b64.EncodeToString([]byte(`{"alg":"ES256","kid":"` + k.rec.KID + `"` + extra + `}`))
	}
	if _, err := e.m.Verify(ctx, e.pool, signWith(hdr(`,"typ":"JWT"`), claims), issuer); err != nil {
		t.Fatalf("plain header refused: %v", err)
	}
	if _, err := e.m.Verify(ctx, e.pool, signWith(hdr(`,"jku":"https://evil.example/"`), claims), issuer); err != nil {
		t.Fatalf("an ignored jku refused: %v", err)
	}
	// Trailing bits: the last character of a segment whose length leaves
	// spare bits, with one of them set, decodes to the same bytes.
	flipTrailing := func(seg string) string {
		last := strings.IndexByte(b64Alphabet, seg[len(seg)-1])
		return seg[:len(seg)-1] + string(b64Alphabet[last|1])
	}
	good := signWith(hdr(""), claims)
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"crit":             signWith(hdr(`,"crit":["exp"]`), claims),
		"crit null":        signWith(hdr(`,"crit":null`), claims),
		"b64":              signWith(hdr(`,"b64":false`), claims),
		"typ null":         signWith(hdr(`,"typ":null`), claims),
		"typ number":       signWith(hdr(`,"typ":1`), claims),
		"typ logout":       signWith(hdr(`,"typ":"logout+jwt"`), claims),
		"header array":     signWith(b64.EncodeToString([]byte(`["ES256"]`)), claims),
		"padded payload":   signWith(hdr(""), claims+strings.Repeat("=", (4-len(claims)%4)%4)+"="),
		"trailing bits":    parts[0] + "." + parts[1] + "." + flipTrailing(parts[2]),
		"signature padded": good + "==",
		"empty header":     "." + parts[1] + "." + parts[2],
	} {
		if _, err := e.m.Verify(ctx, e.pool, tok, issuer); identity.ErrorCode(err) != identity.CodeInvalidToken {
			t.Errorf("%s: %v, want invalid_token", name, err)
		}
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
