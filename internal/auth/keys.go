package auth

import (
	"context"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// RotateSigningKey starts a key rotation for the pool through the token
// signer (internal/token.Manager.Rotate) and returns the new key. The
// rotation is audited as "pool.rotate_key".
//
// Errors: resource_not_found for an unknown pool.
func (s *Service) RotateSigningKey(ctx context.Context, poolID string) (*identity.SigningKey, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	k, err := s.cfg.Tokens.Rotate(ctx, p)
	if err != nil {
		return nil, wrapStoreErr("rotate signing key", err)
	}
	if err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		return s.audit(ctx, q, p.ID, "pool.rotate_key", "pool:"+p.ID, map[string]string{"kid": k.KID})
	}); err != nil {
		// The rotation happened; only its audit row is missing.
		s.cfg.Log.Error("auth: audit key rotation", "pool", p.ID, "kid", k.KID, "err", err)
	}
	return k, nil
}

// JWKS returns the pool's JSON Web Key Set (public keys only).
//
// Errors: resource_not_found for an unknown pool.
func (s *Service) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	// RS256 keys are made on first use (RSA key generation is slow, and
	// most pools are created by tests and demos): the JWKS is a first use,
	// so relying parties see them before the first RS256 ID token.
	if err := s.cfg.Tokens.EnsureAlg(ctx, p, "RS256"); err != nil {
		return nil, fmt.Errorf("jwks %s: %w", p.ID, err)
	}
	b, err := s.cfg.Tokens.JWKS(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", p.ID, err)
	}
	return b, nil
}
