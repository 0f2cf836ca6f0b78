package password

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// Foreign hashes
//
// Users imported from another system keep the hash that system made, so
// they sign in with the password they know; the first right password is
// rehashed to the pool's argon2id (NeedsRehash is true for every foreign
// scheme). The accepted forms, as the tools write them:
//
//	bcrypt             $2a$10$... / $2b$ / $2y$ (Auth0, Devise, PHP password_hash)
//	django-pbkdf2      pbkdf2_sha256$<iterations>$<salt>$<base64 hash> (Django)
//	keycloak-pbkdf2    {"algorithm":"pbkdf2-sha256","hashIterations":27500,
//	                    "salt":"<base64>","value":"<base64>"} (Keycloak's
//	                   credential secretData and credentialData merged;
//	                   pbkdf2-sha512 too)
//	firebase-scrypt    $firebase-scrypt$r=<rounds>,m=<mem_cost>$<base64 salt
//	                   separator>$<base64 signer key>$<base64 salt>$<base64
//	                   hash> (Firebase Auth export plus the project's hash
//	                   parameters)
//	argon2i            $argon2i$v=19$m=..,t=..,p=..$salt$hash (argon2id is
//	                   the native form)
//
// Every scheme has cost limits (below) so an imported hash cannot make one
// sign-in eat the machine, and every verification runs under the Hasher's
// concurrency bound and compares in constant time.

// Scheme names.
const (
	SchemeArgon2id       = "argon2id"
	SchemeArgon2i        = "argon2i"
	SchemeBcrypt         = "bcrypt"
	SchemeDjangoPBKDF2   = "django-pbkdf2-sha256"
	SchemeKeycloakPBKDF2 = "keycloak-pbkdf2"
	SchemeFirebaseScrypt = "firebase-scrypt"
)

// Cost limits of foreign hashes.
const (
	maxBcryptCost       = 16
	maxPBKDF2Iterations = 5_000_000
	maxForeignKeyLen    = 256
	maxScryptBytes      = 64 << 20 // 128 * r * N
)

// foreign is a parsed foreign hash: derive computes the candidate from a
// password, want is what it must equal.
type foreign struct {
	scheme string
	derive func(pw []byte) ([]byte, error)
	want   []byte
}

// Scheme returns the scheme of encoded, or an error wrapping
// ErrMalformedHash when it is no form Verify accepts (or its costs are
// over the limits). It computes nothing: imports call it on every line.
func Scheme(encoded string) (string, error) {
	if strings.HasPrefix(encoded, "$argon2id$") {
		if _, _, _, err := decode(encoded, maxMemoryKiB, maxTime); err != nil {
			return "", err
		}
		return SchemeArgon2id, nil
	}
	f, err := parseForeign(encoded)
	if err != nil {
		return "", err
	}
	return f.scheme, nil
}

func malformed(scheme, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedHash, scheme, why)
}

func parseForeign(encoded string) (*foreign, error) {
	if len(encoded) > 1024 {
		return nil, malformed("hash", "too long")
	}
	switch {
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return parseDjango(encoded)
	case strings.HasPrefix(encoded, "{"):
		return parseKeycloak(encoded)
	case strings.HasPrefix(encoded, "$firebase-scrypt$"):
		return parseFirebase(encoded)
	case strings.HasPrefix(encoded, "$argon2i$"):
		p, salt, key, err := decodeVariant(encoded, "argon2i", maxMemoryKiB, maxTime)
		if err != nil {
			return nil, err
		}
		return &foreign{scheme: SchemeArgon2i, want: key, derive: func(pw []byte) ([]byte, error) {
			return argon2.Key(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
		}}, nil
	}
	return nil, malformed("hash", "unknown scheme")
}

func parseBcrypt(encoded string) (*foreign, error) {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil || len(encoded) != 60 {
		return nil, malformed(SchemeBcrypt, "not a bcrypt hash")
	}
	if cost > maxBcryptCost {
		return nil, malformed(SchemeBcrypt, "cost over "+strconv.Itoa(maxBcryptCost))
	}
	// bcrypt re-derives the hash string itself; compare the whole string.
	// $2y$ (PHP) is the same algorithm as $2b$; x/crypto reads any minor.
	return &foreign{scheme: SchemeBcrypt, want: []byte{1}, derive: func(pw []byte) ([]byte, error) {
		if len(pw) > 72 {
			// bcrypt reads 72 bytes; the libraries that made these hashes
			// truncated silently, x/crypto refuses: truncate as they did.
			pw = pw[:72]
		}
		switch err := bcrypt.CompareHashAndPassword([]byte(encoded), pw); err {
		case nil:
			return []byte{1}, nil
		case bcrypt.ErrMismatchedHashAndPassword:
			return []byte{0}, nil
		default:
			return nil, malformed(SchemeBcrypt, err.Error())
		}
	}}, nil
}

func pbkdf2Foreign(scheme string, iter int, salt, want []byte, h func() hash.Hash) (*foreign, error) {
	if iter < 1 || iter > maxPBKDF2Iterations {
		return nil, malformed(scheme, "iterations out of range")
	}
	if len(salt) == 0 || len(salt) > 256 || len(want) < 16 || len(want) > maxForeignKeyLen {
		return nil, malformed(scheme, "bad salt or hash length")
	}
	return &foreign{scheme: scheme, want: want, derive: func(pw []byte) ([]byte, error) {
		return pbkdf2.Key(pw, salt, iter, len(want), h), nil
	}}, nil
}

// parseDjango reads pbkdf2_sha256$<iterations>$<salt>$<base64 hash>; the
// salt is used as its text (Django's make_password).
func parseDjango(encoded string) (*foreign, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 {
		return nil, malformed(SchemeDjangoPBKDF2, "want pbkdf2_sha256$<iterations>$<salt>$<hash>")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, malformed(SchemeDjangoPBKDF2, "bad iterations")
	}
	want, err := base64.StdEncoding.Strict().DecodeString(parts[3])
	if err != nil {
		return nil, malformed(SchemeDjangoPBKDF2, "hash is not base64")
	}
	return pbkdf2Foreign(SchemeDjangoPBKDF2, iter, []byte(parts[2]), want, sha256.New)
}

// keycloakCredential is Keycloak's stored credential: secretData (value,
// salt) and credentialData (algorithm, hashIterations) in one object.
type keycloakCredential struct {
	Algorithm            string          `json:"algorithm"`
	HashIterations       int             `json:"hashIterations"`
	Salt                 string          `json:"salt"`
	Value                string          `json:"value"`
	AdditionalParameters json.RawMessage `json:"additionalParameters"`
}

func parseKeycloak(encoded string) (*foreign, error) {
	var kc keycloakCredential
	dec := json.NewDecoder(strings.NewReader(encoded))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kc); err != nil || dec.More() {
		return nil, malformed(SchemeKeycloakPBKDF2, "want {\"algorithm\",\"hashIterations\",\"salt\",\"value\"}")
	}
	salt, err1 := base64.StdEncoding.Strict().DecodeString(kc.Salt)
	want, err2 := base64.StdEncoding.Strict().DecodeString(kc.Value)
	if err1 != nil || err2 != nil {
		return nil, malformed(SchemeKeycloakPBKDF2, "salt and value must be base64")
	}
	switch kc.Algorithm {
	case "pbkdf2-sha256":
		return pbkdf2Foreign(SchemeKeycloakPBKDF2, kc.HashIterations, salt, want, sha256.New)
	case "pbkdf2-sha512":
		return pbkdf2Foreign(SchemeKeycloakPBKDF2, kc.HashIterations, salt, want, sha512.New)
	}
	return nil, malformed(SchemeKeycloakPBKDF2, "algorithm must be pbkdf2-sha256 or pbkdf2-sha512")
}

// parseFirebase reads
// $firebase-scrypt$r=<rounds>,m=<mem_cost>$<separator>$<signer key>$<salt>$<hash>.
// Firebase's scrypt: key = scrypt(password, salt||separator, N=2^mem_cost,
// r=rounds, p=1, 32); hash = AES-256-CTR(key, iv=0) over the signer key.
func parseFirebase(encoded string) (*foreign, error) {
	const form = "want $firebase-scrypt$r=<rounds>,m=<mem_cost>$<salt separator>$<signer key>$<salt>$<hash>"
	parts := strings.Split(encoded, "$")
	if len(parts) != 7 || parts[0] != "" {
		return nil, malformed(SchemeFirebaseScrypt, form)
	}
	var rounds, memCost int
	if _, err := fmt.Sscanf(parts[2], "r=%d,m=%d", &rounds, &memCost); err != nil || fmt.Sprintf("r=%d,m=%d", rounds, memCost) != parts[2] {
		return nil, malformed(SchemeFirebaseScrypt, form)
	}
	if rounds < 1 || rounds > 32 || memCost < 1 || memCost > 20 || 128*rounds<<memCost > maxScryptBytes {
		return nil, malformed(SchemeFirebaseScrypt, "rounds or mem_cost out of range")
	}
	var raw [4][]byte
	for i := range raw {
		b, err := base64.StdEncoding.Strict().DecodeString(parts[3+i])
		if err != nil {
			return nil, malformed(SchemeFirebaseScrypt, "fields must be base64")
		}
		raw[i] = b
	}
	sep, signer, salt, want := raw[0], raw[1], raw[2], raw[3]
	if len(signer) == 0 || len(signer) > maxForeignKeyLen || len(want) != len(signer) || len(salt) == 0 {
		return nil, malformed(SchemeFirebaseScrypt, "bad signer key, salt or hash length")
	}
	fullSalt := append(append([]byte{}, salt...), sep...)
	return &foreign{scheme: SchemeFirebaseScrypt, want: want, derive: func(pw []byte) ([]byte, error) {
		key, err := scrypt.Key(pw, fullSalt, 1<<memCost, rounds, 1, 32)
		if err != nil {
			return nil, malformed(SchemeFirebaseScrypt, err.Error())
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		out := make([]byte, len(signer))
		cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, signer)
		return out, nil
	}}, nil
}

// match derives the candidate of pw and compares it with f.want in
// constant time.
func (f *foreign) match(pw []byte) (bool, error) {
	got, err := f.derive(pw)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, f.want) == 1, nil
}
