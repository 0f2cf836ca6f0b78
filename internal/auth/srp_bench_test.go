package auth

import (
	"crypto/rand"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// BenchmarkSignInFlows compares, on one goroutine with the default argon2id
// cost, a raw argon2id verification with a whole USER_PASSWORD_AUTH
// sign-in and a whole USER_SRP_AUTH sign-in (both rounds, server side; the
// client's arithmetic is excluded from the timing, and measured apart in
// SRP_client). Each sign-in includes its SQLite writes (attempt counter,
// refresh token, audit) and two JWT signatures. docs/benchmarks.md has the
// figures as ratios to the raw hash rate.
//
//	go test -run '^$' -bench SignInFlows -benchtime 100x ./internal/auth
func BenchmarkSignInFlows(b *testing.B) {
	e := srpSetup(b, nil)
	h := password.NewHasher(password.DefaultParams(), 0)
	e.s.cfg.Hasher = h
	const email = "bench@example.com"
	e.confirmedUser(email)
	hash := e.getUser(email).PasswordHash

	b.Run("raw_argon2id_verify", func(b *testing.B) {
		for b.Loop() {
			if ok, err := h.Verify(e.ctx, hash, goodPW); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("USER_PASSWORD_AUTH", func(b *testing.B) {
		for b.Loop() {
			if r, err := e.signIn(email, goodPW); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("USER_SRP_AUTH", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			c, err := srp.NewClient(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserSRP, Username: email,
				Params: map[string]string{"SRP_A": c.PublicA().Text(16)}})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			resp := e.srpProof(c, r.Challenge, goodPW, srpTimestamp(e.now()))
			b.StartTimer()
			if r, err := e.srpRound2(e.c(), resp); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SRP_client", func(b *testing.B) {
		// What the client computes per sign-in (A, then the key), for scale.
		r, err := e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserSRP, Username: email,
			Params: map[string]string{"SRP_A": "02"}})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			c, err := srp.NewClient(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			e.srpProof(c, r.Challenge, goodPW, "x")
		}
	})
}
