package token

import (
	"context"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestSignMatchesJOSE: the hand-written signer (sign.go) writes the
// protected header and payload go-jose wrote, byte for byte, for both
// algorithms and for a typed token, and go-jose verifies its signature
// with the published key.
func TestSignMatchesJOSE(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	for _, c := range []struct{ alg, typ string }{{AlgES256, "JWT"}, {AlgRS256, "JWT"}, {AlgES256, "logout+jwt"}} {
		claims := e.claims(map[string]any{"html": "<a&b>", "groups": []string{"x", "y"}})
		tok, err := e.m.SignTyped(ctx, e.pool, c.alg, c.typ, claims)
		if err != nil {
			t.Fatalf("%s %s: %v", c.alg, c.typ, err)
		}
		ks, err := e.m.keys(ctx, e.pool.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		k := firstOf(ks, c.alg, identity.KeyActive)
		priv, err := e.m.privateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(c.alg), Key: jose.JSONWebKey{Key: priv, KeyID: k.rec.KID}},
			(&jose.SignerOptions{}).WithType(jose.ContentType(c.typ)))
		if err != nil {
			t.Fatal(err)
		}
		payload := strings.Split(tok, ".")[1]
		raw, err := b64.DecodeString(payload)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := js.Sign(raw)
		if err != nil {
			t.Fatal(err)
		}
		want, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		if got, w := tok[:strings.LastIndexByte(tok, '.')], want[:strings.LastIndexByte(want, '.')]; got != w {
			t.Errorf("%s %s: signed part\n%s\nwant (go-jose)\n%s", c.alg, c.typ, got, w)
		}
		parsed, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.alg)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parsed.Verify(k.public); err != nil {
			t.Errorf("%s %s: go-jose does not verify it: %v", c.alg, c.typ, err)
		}
	}
}
