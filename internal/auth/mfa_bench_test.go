package auth

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
)

// BenchmarkTOTPCheck measures what a second factor adds to a sign-in, on
// one goroutine, SQLite, default argon2id cost: the TOTP check alone
// (unseal the key, up to three HMAC-SHA1 codes, the throttle's
// reservation and release, the compare-and-set on the step), and a whole
// password sign-in without and with the TOTP challenge (the second round
// trip re-reads the user and the factors and writes the sign-in).
// docs/benchmarks.md has the figures.
//
//	go test -run '^$' -bench TOTPCheck -benchtime 100x ./internal/auth
func BenchmarkTOTPCheck(b *testing.B) {
	e := userSetup(b, nil, nil)
	e.s.cfg.Hasher = password.NewHasher(password.DefaultParams(), 0)
	e.confirmedUser("plain@example.com")
	e.confirmedUser("mfa@example.com")
	access := e.mustSignIn("mfa@example.com", goodPW).AccessToken
	secret := e.enrolTOTP(access)
	if err := e.s.SetUserMFAPreference(e.ctx, access, MFAPreference{SoftwareToken: &FactorPreference{Enabled: true}}); err != nil {
		b.Fatal(err)
	}
	if _, err := e.s.SetPoolMFA(e.ctx, e.pool.ID, PoolMFAConfig{Configuration: identity.MFAOptional}); err != nil {
		b.Fatal(err)
	}
	u := e.getUser("mfa@example.com")
	p, err := e.s.getPool(e.ctx, e.st, e.pool.ID)
	if err != nil {
		b.Fatal(err)
	}
	f, err := e.s.totpFactor(e.ctx, p, u)
	if err != nil {
		b.Fatal(err)
	}
	step := func() string {
		e.advance(totpPeriod * time.Second)
		return e.code(secret)
	}

	b.Run("totp_check", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			code := step()
			u = e.getUser("mfa@example.com")
			b.StartTimer()
			if err := e.s.checkTOTP(e.ctx, p, e.client, u, f, code, "code", errMFACodeMismatch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("password_sign_in", func(b *testing.B) {
		for b.Loop() {
			if r, err := e.signIn("plain@example.com", goodPW); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("password_and_totp_sign_in", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			code := step()
			b.StartTimer()
			r, err := e.signIn("mfa@example.com", goodPW)
			if err != nil || r.Challenge == nil {
				b.Fatal(err)
			}
			if r, err = e.respond(ChallengeSoftwareTokenMFA, r.Challenge.Session, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": code}); err != nil || r.Tokens == nil {
				b.Fatal(err)
			}
		}
	})
}
