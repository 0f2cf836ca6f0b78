package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A user imported with another system's hash signs in with the password
// that system knew, under the same throttle as every sign-in, and the
// first right password replaces the hash with the pool's argon2id and
// derives the SRP verifier, in one transaction with its audit entry.
func TestImportedForeignHashSignIn(t *testing.T) {
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		// Django 1.5's make_password("lètmein", "seasalt") (its own test).
		const django = "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="
		err := importOne(e.ctx, e.s, e.pool.ID, ImportedUser{Username: "dj@example.com", EmailVerified: true, Enabled: true, PasswordHash: django})
		if err != nil {
			t.Fatal(err)
		}
		if u := e.getUser("dj@example.com"); u.PasswordHash != django || u.SRPVerifier != "" || u.Status != identity.StatusConfirmed {
			t.Fatalf("imported user = %+v", u)
		}

		_, err = e.signIn("dj@example.com", "letmein")
		wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
		if u := e.getUser("dj@example.com"); u.FailedAttempts != 1 || u.PasswordHash != django {
			t.Fatalf("a wrong password must count as any other: attempts %d, hash %q", u.FailedAttempts, u.PasswordHash)
		}

		e.mustSignIn("dj@example.com", "lètmein")
		u := e.getUser("dj@example.com")
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") || u.SRPVerifier == "" || u.SRPSalt == "" || u.FailedAttempts != 0 {
			t.Fatalf("after sign-in: hash %q, verifier %q, attempts %d", u.PasswordHash, u.SRPVerifier, u.FailedAttempts)
		}
		if !hasAction(e.auditActions(), "user.password_rehashed") {
			t.Fatalf("no user.password_rehashed audit: %v", e.auditActions())
		}
		// The new hash works, and the old one is gone.
		verifies := e.hasher.verifies.Load()
		e.mustSignIn("dj@example.com", "lètmein")
		if again := e.getUser("dj@example.com"); again.PasswordHash != u.PasswordHash {
			t.Fatal("an argon2id hash with the pool's parameters was rehashed again")
		}
		if e.hasher.verifies.Load() != verifies+1 {
			t.Fatal("the second sign-in did not verify once")
		}
	})
}

// A hash in no accepted form, or one whose costs would make a sign-in eat
// the machine, is refused at import with the field named, and nothing is
// written.
func TestImportRefusesBadHash(t *testing.T) {
	e := userSetup(t, nil, nil)
	for _, h := range []string{
		"md5$x$y",
		"$2b$20$bIRGj4QPPoSUMWsJE.4Pk.T1qTpDWz7HhMnuiQhGzGinKPsx/HQdq",
		"pbkdf2_sha256$99999999$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
	} {
		err := importOne(e.ctx, e.s, e.pool.ID, ImportedUser{Username: "bad@example.com", Enabled: true, PasswordHash: h})
		var ie *identity.Error
		if !errors.As(err, &ie) || ie.Code != identity.CodeInvalidParameter || ie.Field != "password_hash" {
			t.Fatalf("%s: %v", h, err)
		}
	}
	if _, err := e.st.GetUserByUsername(e.ctx, e.pool.ID, "bad@example.com"); err == nil {
		t.Fatal("a refused import wrote a user")
	}
}
