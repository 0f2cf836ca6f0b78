package auth

import "testing"

// BenchmarkIDTokenAlg measures what the ID token's algorithm costs a
// refresh (parallel chains, as BenchmarkRefresh) and a password sign-in
// (the test's cheap argon2id, so the signature's share shows), with the
// raw signing rate of each algorithm in the same run (sign/raw-*): the
// access token stays on the pool's ES256 in every case, as for an OpenID
// relying party that asked for nothing (docs/benchmarks.md).
func BenchmarkIDTokenAlg(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		e := userSetup(b, nil, func(in *CreateClientInput) { in.IDTokenSignedResponseAlg = alg })
		e.confirmedUser("jo@example.com")
		b.Run("sign/raw-"+alg, func(b *testing.B) {
			claims := map[string]any{"sub": "x", "iss": "y", "exp": 2e9}
			for b.Loop() {
				if _, err := e.s.cfg.Tokens.SignAs(e.ctx, e.pool, alg, claims); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("signin/id-"+alg, func(b *testing.B) {
			for b.Loop() {
				e.mustSignIn("jo@example.com", goodPW)
			}
		})
		b.Run("refresh/id-"+alg, func(b *testing.B) { benchRefreshChains(b, e, "jo@example.com") })
	}
}
