package auth

import (
	"context"
	"fmt"
	"math/big"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// Setting a password
//
// Every path that sets a password (sign-up, AdminCreateUser's temporary
// password, AdminSetUserPassword, ConfirmForgotPassword, ChangePassword,
// the NEW_PASSWORD_REQUIRED answer) derives its stored credentials with
// newCredentials and writes them with credentials.apply, so the argon2id
// hash and the SRP salt and verifier always change together. An import
// carries only a hash (no plaintext), so imported users have no verifier
// and cannot use USER_SRP_AUTH until they sign in once with a password
// (upgradeCredentials, signin.go, derives it then and replaces a foreign
// hash) or their password is set again.

// srpSaltBytes is the size of a user's SRP salt.
const srpSaltBytes = 16

// credentials are what a password leaves in the store.
type credentials struct {
	hash        string
	srpSalt     string // hex; "" when the pool keeps no verifiers
	srpVerifier string // hex
}

// apply writes c onto u (hash, SRP salt and verifier).
func (c credentials) apply(u *identity.User) {
	u.PasswordHash = c.hash
	u.SRPSalt = c.srpSalt
	u.SRPVerifier = c.srpVerifier
}

// newCredentials hashes password for u in pool p and, unless the pool has
// SRP off, derives its SRP salt and verifier for u's USER_ID_FOR_SRP (so
// u.Sub, and u.Username in username pools, must already be set). It is
// slow (argon2id) and must run outside any transaction. Errors: the
// hasher's (too_many_requests when hashing is saturated).
func (s *Service) newCredentials(ctx context.Context, p *identity.Pool, u *identity.User, password string) (credentials, error) {
	h, err := s.cfg.Hasher.Hash(ctx, password)
	if err != nil {
		return credentials{}, err
	}
	c := credentials{hash: h}
	if p.Settings.SRP.Disabled {
		return c, nil
	}
	salt := make([]byte, srpSaltBytes)
	if _, err := s.cfg.Rand.Read(salt); err != nil {
		return credentials{}, fmt.Errorf("random: %w", err)
	}
	// The client reads SALT as a number, so leading zero bytes vanish;
	// keep the salt as that number's hex so both sides hash the same bytes.
	sv := new(big.Int).SetBytes(salt)
	v := srp.Verifier(srp.PoolName(p.ID), cognitoUsername(p, u), password, sv)
	c.srpSalt, c.srpVerifier = sv.Text(16), v.Text(16)
	return c, nil
}
