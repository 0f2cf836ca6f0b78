package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/password"
)

// BenchmarkPasskeySignIn compares, on one goroutine, a whole passwordless
// passkey sign-in (start: challenge row; finish: parse, take the challenge,
// credential and user reads, ES256 assertion check, sign count
// compare-and-set, refresh token, audit, two JWT signatures; the software
// authenticator's own signing is excluded from the timing) with a whole
// USER_PASSWORD_AUTH sign-in at the default argon2id cost and with one raw
// ES256 verification. docs/benchmarks.md has the figures.
//
//	go test -run '^$' -bench PasskeySignIn -benchtime 200x ./internal/auth
func BenchmarkPasskeySignIn(b *testing.B) {
	e := userSetup(b, nil, nil)
	const email = "bench@example.com"
	e.confirmedUser(email)
	a := e.enrolPasskey(email)

	b.Run("raw_ES256_verify", func(b *testing.B) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		h := sha256.Sum256([]byte("authenticator data and client data hash"))
		sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
		for b.Loop() {
			if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
				b.Fatal("verify")
			}
		}
	})
	b.Run("passkey", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			opts, err := e.s.StartPasskeySignIn(e.ctx, e.c(), "")
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			resp := a.Get(opts)
			b.StartTimer()
			if r, err := e.s.CompletePasskeySignIn(e.ctx, PasskeySignInInput{Client: e.c(), Credential: resp}); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("USER_PASSWORD_AUTH", func(b *testing.B) {
		e.s.cfg.Hasher = password.NewHasher(password.DefaultParams(), 0)
		if err := e.s.AdminSetUserPassword(e.ctx, e.pool.ID, email, goodPW, true); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if r, err := e.signIn(email, goodPW); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
}
