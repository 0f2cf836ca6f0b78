package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// verifyKey is one usable public key of the set.
type verifyKey struct {
	alg string // ES256 or RS256
	key any    // *ecdsa.PublicKey or *rsa.PublicKey
}

// keySet caches the pool's JWKS. It is fetched on first use, again when
// older than ttl, and again when a token names an unknown kid, but never
// more often than once per minInterval (so a flood of tokens with random
// kids costs at most one fetch per interval). One goroutine fetches at a
// time; lookups of known keys never wait for a fetch (a stale key is used
// while another goroutine refreshes the set). A failed fetch keeps the keys
// already known.
type keySet struct {
	url         string
	client      *http.Client
	now         func() time.Time
	ttl         time.Duration
	minInterval time.Duration
	maxKeys     int
	maxSize     int64

	fetchMu sync.Mutex // held by the one goroutine fetching

	mu        sync.RWMutex // guards the fields below
	keys      map[string]verifyKey
	fetchedAt time.Time // of the last successful fetch
	triedAt   time.Time // of the last attempt
}

// lookup returns the key named kid and whether the set is fresh.
func (s *keySet) lookup(kid string, now time.Time) (verifyKey, bool, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[kid]
	fresh := s.keys != nil && now.Sub(s.fetchedAt) < s.ttl
	return k, ok, fresh
}

// get returns the key named kid, fetching the set if it is stale or the
// kid is unknown (rate-limited). Errors: ErrInvalidToken for a kid the set
// does not hold, ErrUnavailable when no keys could be fetched at all.
func (s *keySet) get(ctx context.Context, kid string) (verifyKey, error) {
	now := s.now()
	k, ok, fresh := s.lookup(kid, now)
	if ok && fresh {
		return k, nil
	}
	if ok { // stale: refresh unless someone else already is
		if !s.fetchMu.TryLock() {
			return k, nil
		}
	} else {
		s.fetchMu.Lock()
	}
	defer s.fetchMu.Unlock()
	// Another goroutine may have fetched while we waited.
	if k, ok, fresh := s.lookup(kid, now); ok && fresh {
		return k, nil
	}
	s.mu.RLock()
	due := s.triedAt.IsZero() || now.Sub(s.triedAt) >= s.minInterval
	s.mu.RUnlock()
	var fetchErr error
	if due {
		s.mu.Lock()
		s.triedAt = now
		s.mu.Unlock()
		keys, err := s.fetch(ctx)
		if err == nil {
			s.mu.Lock()
			s.keys, s.fetchedAt = keys, now
			s.mu.Unlock()
		} else {
			fetchErr = err
		}
	}
	s.mu.RLock()
	k, ok = s.keys[kid]
	known := s.keys != nil
	s.mu.RUnlock()
	if ok {
		return k, nil
	}
	if !known {
		if fetchErr == nil {
			fetchErr = errors.New("keys not fetched yet")
		}
		return verifyKey{}, &reasonError{base: ErrUnavailable, reason: "jwks", err: fetchErr}
	}
	return verifyKey{}, invalid("unknown kid")
}

// fetch downloads and parses the set, bounded in size, time and keys.
func (s *keySet) fetch(ctx context.Context) (map[string]verifyKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil, fmt.Errorf("GET %s: status %d", s.url, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, s.maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > s.maxSize {
		return nil, fmt.Errorf("GET %s: JWKS larger than %d bytes", s.url, s.maxSize)
	}
	return parseJWKS(body, s.maxKeys)
}

// parseJWKS keeps the usable signing keys of a JWKS document: public
// ES256 keys on P-256 and RS256 keys of at least 2048 bits, each with a
// kid, use "sig" or none. Other keys are skipped, not fatal, so a set that
// also publishes an encryption key still works. More than maxKeys usable
// keys is an error (a publisher of a thousand keys is not a Gatehouse pool).
func parseJWKS(body []byte, maxKeys int) (map[string]verifyKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if set.Keys == nil {
		return nil, errors.New("jwks: no keys member")
	}
	keys := make(map[string]verifyKey)
	for _, raw := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		if jwk.KeyID == "" || len(jwk.KeyID) > maxKIDLen || !jwk.IsPublic() || (jwk.Use != "" && jwk.Use != "sig") {
			continue
		}
		var vk verifyKey
		switch k := jwk.Key.(type) {
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() || (jwk.Algorithm != "" && jwk.Algorithm != string(jose.ES256)) {
				continue
			}
			vk = verifyKey{alg: string(jose.ES256), key: k}
		case *rsa.PublicKey:
			if k.N.BitLen() < 2048 || (jwk.Algorithm != "" && jwk.Algorithm != string(jose.RS256)) {
				continue
			}
			vk = verifyKey{alg: string(jose.RS256), key: k}
		default:
			continue
		}
		if _, dup := keys[jwk.KeyID]; dup {
			return nil, fmt.Errorf("jwks: duplicate kid %q", jwk.KeyID)
		}
		keys[jwk.KeyID] = vk
		if len(keys) > maxKeys {
			return nil, fmt.Errorf("jwks: more than %d keys", maxKeys)
		}
	}
	return keys, nil
}
