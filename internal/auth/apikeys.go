package auth

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// API key format: "ghk_" + 12 lower-case alphanumerics is the public id;
// the token a caller presents is id + "." + a 32-byte random secret
// (base64url). Only SHA-256 of the secret is stored: the secret has 256
// bits of entropy, so a slow hash would add nothing but latency per request.
const (
	apiKeyPrefix   = "ghk_"
	apiKeyIDLen    = len(apiKeyPrefix) + 12
	apiKeyMaxToken = 256
	maxAPIKeyName  = 128
	// apiKeyTouchEvery bounds LastUsedAt writes to one per key per minute.
	apiKeyTouchEvery = time.Minute
)

var errBadAPIKey = identity.Errorf(identity.CodeUnauthenticated, "Invalid API key.")

// CreateAPIKey creates an admin API key, global when poolID is "" or
// limited to that pool (which must exist). It returns the key (without its
// hash) and the full token, which is shown once.
//
// Errors: resource_not_found (pool), invalid_parameter (name).
func (s *Service) CreateAPIKey(ctx context.Context, poolID, name string) (*identity.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxAPIKeyName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, "", identity.FieldError("name", "An API key name of 1 to %d printable characters is required.", maxAPIKeyName)
	}
	secret, err := s.randomToken(32)
	if err != nil {
		return nil, "", err
	}
	k := &identity.APIKey{PoolID: poolID, Name: name, SecretHash: sha256Hex(secret), CreatedAt: s.now()}
	for attempt := 0; attempt < 3; attempt++ {
		suffix, rerr := s.randomString(apiKeyIDLen-len(apiKeyPrefix), lowerAlnum)
		if rerr != nil {
			return nil, "", rerr
		}
		k.ID = apiKeyPrefix + suffix
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			if poolID != "" {
				if _, err := s.getPool(ctx, q, poolID); err != nil {
					return err
				}
			}
			if err := q.CreateAPIKey(ctx, k); err != nil {
				return err
			}
			return s.audit(ctx, q, poolID, "apikey.create", "apikey:"+k.ID, map[string]string{"name": name})
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, "", wrapStoreErr("create api key", err)
	}
	out := *k
	out.SecretHash = ""
	return &out, k.ID + "." + secret, nil
}

// ListAPIKeys lists API keys of poolID ("" lists every key, global and
// per-pool). SecretHash is blanked in the results.
func (s *Service) ListAPIKeys(ctx context.Context, poolID string) ([]*identity.APIKey, error) {
	ks, err := s.cfg.Store.ListAPIKeys(ctx, poolID)
	if err != nil {
		return nil, wrapStoreErr("list api keys", err)
	}
	for _, k := range ks {
		k.SecretHash = ""
	}
	return ks, nil
}

// RevokeAPIKey revokes a key; it stops authenticating at once.
//
// Errors: resource_not_found.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	return wrapStoreErr("revoke api key", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		k, err := q.GetAPIKey(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return identity.Errorf(identity.CodeResourceNotFound, "API key %s does not exist.", safeEcho(id))
		}
		if err != nil {
			return err
		}
		if err := q.RevokeAPIKey(ctx, k.ID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, k.PoolID, "apikey.revoke", "apikey:"+k.ID, map[string]string{"name": k.Name})
	}))
}

// AuthenticateAPIKey checks a full API key token ("ghk_....<secret>") and
// returns the key (PoolID "" = global). The secret is compared in constant
// time. LastUsedAt is written at most once a minute per key.
//
// Errors: unauthenticated "Invalid API key." for every kind of failure
// (malformed token, unknown id, wrong secret, revoked key), so a caller
// cannot tell them apart.
func (s *Service) AuthenticateAPIKey(ctx context.Context, token string) (*identity.APIKey, error) {
	if len(token) > apiKeyMaxToken {
		return nil, errBadAPIKey
	}
	id, secret, ok := strings.Cut(token, ".")
	if !ok || len(id) != apiKeyIDLen || !strings.HasPrefix(id, apiKeyPrefix) || secret == "" {
		return nil, errBadAPIKey
	}
	presented := sha256Hex(secret)
	k, err := s.cfg.Store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// Same work as a known key: one comparison against a fixed hash.
		equalHex(presented, sha256Hex("unknown-api-key"))
		return nil, errBadAPIKey
	}
	if err != nil {
		return nil, wrapStoreErr("get api key", err)
	}
	if !equalHex(presented, k.SecretHash) || !k.RevokedAt.IsZero() {
		return nil, errBadAPIKey
	}
	now := s.now()
	if now.Sub(k.LastUsedAt) >= apiKeyTouchEvery {
		if err := s.cfg.Store.TouchAPIKey(ctx, k.ID, now); err != nil {
			s.cfg.Log.Warn("auth: touch api key", "id", k.ID, "err", err)
		} else {
			k.LastUsedAt = now
		}
	}
	k.SecretHash = ""
	return k, nil
}
