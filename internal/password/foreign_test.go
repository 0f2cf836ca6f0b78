package password

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The vectors come from the tools that make these hashes, as their own
// documentation or tests print them, never from this package:
//   - bcrypt: passlib ($2b$, $2y$, as zitadel/passwap's test values) and
//     Openwall's crypt_blowfish test vectors ($2a$);
//   - Django: make_password("lètmein", "seasalt", "pbkdf2_sha256") in
//     Django 1.5's and 5.1's tests/auth_tests/test_hashers.py;
//   - Keycloak: a pbkdf2-sha256 credential row (secretData + credentialData)
//     as Keycloak 2x stores it, checked with Python's hashlib.pbkdf2_hmac;
//   - Firebase: the example of github.com/firebase/scrypt's README (the
//     project's hash parameters and one exported user);
//   - argon2i: the reference implementation's CLI (phc-winner-argon2),
//     `echo -n password | argon2 randomsaltishard -i -t 3 -m 12 -p 1 -l 32 -e`.
var foreignVectors = []struct {
	name, scheme, hash, password string
}{
	{"bcrypt 2b passlib", SchemeBcrypt, "$2b$12$bIRGj4QPPoSUMWsJE.4Pk.T1qTpDWz7HhMnuiQhGzGinKPsx/HQdq", "password"},
	{"bcrypt 2y passlib", SchemeBcrypt, "$2y$12$hXUrnqdq1RIIYZ2HPytIIe5lXdIvbhqrTvdPsSF7o.jFh817Z6lwm", "password"},
	{"bcrypt 2a openwall", SchemeBcrypt, "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"django 1.5", SchemeDjangoPBKDF2, "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=", "lètmein"},
	{"django 5.1", SchemeDjangoPBKDF2, "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=", "lètmein"},
	{"keycloak", SchemeKeycloakPBKDF2, `{"algorithm":"pbkdf2-sha256","hashIterations":27500,"salt":"Td6XuopYK6JNfUnIlqYMOQ==","value":"ZXVC08Hf4jBOoYzVoNWYjQijsMC2oc/OUa9LciiIJ/1XHPF/qPiY1DqwLLDN2hYFmf/1kApkveD8/Pr7GVqjgw==","additionalParameters":{}}`, "RdaRfqP7Y89vy2"},
	{"firebase", SchemeFirebaseScrypt, "$firebase-scrypt$r=8,m=14$Bw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", "user1password"},
	{"argon2i", SchemeArgon2i, "$argon2i$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$YMvo8AUoNtnKYGqeODruCjHdiEbl1pKL2MsYy9VgU/E", "password"},
	{"argon2id", SchemeArgon2id, "$argon2id$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$DYojYpnUWSMmTtrkVXyaNWVGxLmGe1n8VJBPDdFkbjU", "password"},
}

func TestVerifyForeignVectors(t *testing.T) {
	t.Parallel()
	h := setup(t, 2)
	ctx := context.Background()
	for _, v := range foreignVectors {
		t.Run(v.name, func(t *testing.T) {
			scheme, err := Scheme(v.hash)
			if err != nil || scheme != v.scheme {
				t.Fatalf("Scheme = %q, %v; want %q", scheme, err, v.scheme)
			}
			ok, err := h.Verify(ctx, v.hash, v.password)
			if err != nil || !ok {
				t.Fatalf("right password: %v, %v", ok, err)
			}
			ok, err = h.Verify(ctx, v.hash, v.password+"x")
			if err != nil || ok {
				t.Fatalf("wrong password: %v, %v", ok, err)
			}
			if v.scheme != SchemeArgon2id && !h.NeedsRehash(v.hash) {
				t.Fatal("a foreign hash must be rehashed after sign-in")
			}
		})
	}
}

// A foreign hash whose costs would make one sign-in eat the machine, or
// that is not the form it claims, is refused at import (Scheme) and by
// Verify as malformed, never computed.
func TestForeignHashRefused(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	bad := map[string]string{
		"unknown":              "md5$abc$def",
		"bcrypt cost 17":       "$2b$17$bIRGj4QPPoSUMWsJE.4Pk.T1qTpDWz7HhMnuiQhGzGinKPsx/HQdq",
		"bcrypt short":         "$2b$12$bIRGj4QPPoSUMWsJE",
		"django 10M":           "pbkdf2_sha256$10000000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
		"django no b64":        "pbkdf2_sha256$10000$seasalt$not*base64",
		"django extra field":   "pbkdf2_sha256$10000$sea$salt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=",
		"django short key":     "pbkdf2_sha256$10000$seasalt$AAAA",
		"keycloak md5":         `{"algorithm":"md5","hashIterations":1,"salt":"AA==","value":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
		"keycloak extra":       `{"algorithm":"pbkdf2-sha256","hashIterations":1,"salt":"AA==","value":"AAAAAAAAAAAAAAAAAAAAAA==","x":1}`,
		"keycloak two objects": `{"algorithm":"pbkdf2-sha256","hashIterations":1,"salt":"AA==","value":"AAAAAAAAAAAAAAAAAAAAAA=="}{}`,
		"firebase memory":      "$firebase-scrypt$r=8,m=17$Bw==$AAAA$AAAA$AAAA",
		"firebase mismatch":    "$firebase-scrypt$r=8,m=14$Bw==$AAAAAAAA$AAAA$AAAA",
		"firebase form":        "$firebase-scrypt$r=8,m=014$Bw==$AAAA$AAAA$AAAA",
		"argon2i huge":         "$argon2i$v=19$m=4194304,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$YMvo8AUoNtnKYGqeODruCjHdiEbl1pKL2MsYy9VgU/E",
		"argon2d":              "$argon2d$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$CB0Du96aj3fQVcVSqb0LIA6Z6fpStjzjVkaC3RlpK9A",
		"too long":             "pbkdf2_sha256$1$" + strings.Repeat("s", 2000) + "$AAAA",
	}
	for name, enc := range bad {
		if _, err := Scheme(enc); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Scheme = %v, want ErrMalformedHash", name, err)
		}
		if ok, err := h.Verify(context.Background(), enc, "password"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify = %v, %v, want ErrMalformedHash", name, ok, err)
		}
	}
}

// bcrypt reads 72 bytes; the systems that made these hashes truncated
// longer passwords (x/crypto refuses them), so the same long password
// still signs in, and one that differs only past byte 72 does too, as it
// did there.
func TestBcryptLongPassword(t *testing.T) {
	t.Parallel()
	h := setup(t, 1)
	long := strings.Repeat("0123456789", 10)
	enc, err := bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{long, long[:72], long[:72] + "other"} {
		if ok, err := h.Verify(context.Background(), string(enc), pw); err != nil || !ok {
			t.Fatalf("%d bytes: %v, %v", len(pw), ok, err)
		}
	}
	if ok, _ := h.Verify(context.Background(), string(enc), long[:71]); ok {
		t.Fatal("a shorter password matched")
	}
}
