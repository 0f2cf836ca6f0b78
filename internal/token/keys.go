package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Algorithms Gatehouse signs and accepts. Nothing else is ever accepted:
// not "none", not HS*.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

const (
	// DefaultCacheTTL is how long a node trusts its in-memory copy of a
	// pool's keys; after it, the keys are re-read, so a rotation made by
	// another node sharing the database is seen within this time.
	DefaultCacheTTL = 30 * time.Second
	// reloadInterval bounds forced reloads on an unknown kid, per pool.
	reloadInterval = time.Second
	// minRetention is the least time a retired key keeps verifying.
	minRetention = 24 * time.Hour
	// retentionMargin covers clock skew between nodes.
	retentionMargin = 5 * time.Minute
	rsaBits         = 2048
)

// Manager owns the pools' signing keys: it creates, rotates and caches them,
// signs JWTs with the active key and verifies JWTs against the published
// ones. It satisfies auth.TokenSigner. It is safe for concurrent use.
type Manager struct {
	st       store.Store
	seal     *sealer
	sealErr  error
	now      func() time.Time
	cacheTTL time.Duration

	mu    sync.Mutex
	pools map[string]*poolKeys
	// gen counts invalidations: a load that began before one may not
	// store what it read (it could be older than the change that caused
	// the invalidation, and would hide a key just added).
	gen     uint64
	signers map[string]crypto.Signer // opened private keys by pool id + "\x00" + kid
	changed func(poolID string)      // see OnKeysChanged (invalidate.go)
}

// poolKeys is the cached key set of one pool.
type poolKeys struct {
	loadedAt     time.Time
	forcedReload time.Time
	keys         []*key // sorted: see sortKeys
}

// key is a stored key with its parsed material.
type key struct {
	rec    *identity.SigningKey
	public crypto.PublicKey
}

// NewManager returns a Manager storing keys in st, sealing private keys
// with masterKey (32 bytes, see LoadMasterKey), and reading the time from
// now (nil: time.Now). With a master key of the wrong size every method
// returns an error.
func NewManager(st store.Store, masterKey []byte, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	s, err := newSealer(masterKey)
	return &Manager{st: st, seal: s, sealErr: err, now: now, cacheTTL: DefaultCacheTTL,
		pools: map[string]*poolKeys{}, signers: map[string]crypto.Signer{}}
}

// SetCacheTTL changes how long keys are cached per pool (default
// DefaultCacheTTL). Zero disables caching. Call it before use.
func (m *Manager) SetCacheTTL(d time.Duration) { m.cacheTTL = d }

func internalErr(err error) error {
	return &identity.Error{Code: identity.CodeInternal, Message: "An internal error occurred.", Err: err}
}

// clock returns the current time at the store's precision (milliseconds, UTC).
func (m *Manager) clock() time.Time { return m.now().UTC().Truncate(time.Millisecond) }

// poolAlg returns the pool's signing algorithm, ES256 by default.
func poolAlg(pool *identity.Pool) (string, error) {
	switch pool.SigningAlg {
	case "", AlgES256:
		return AlgES256, nil
	case AlgRS256:
		return AlgRS256, nil
	}
	return "", &identity.Error{Code: identity.CodeInvalidUserPoolConfig, Message: fmt.Sprintf("Unsupported signing algorithm %q; use ES256 or RS256.", pool.SigningAlg)}
}

// retention is how long a retired key keeps verifying: the pool's longest
// JWT lifetime (ID or access token; refresh tokens are opaque), at least
// 24 hours (Cognito's cap on ID/access lifetimes, which app clients may
// set above the pool's), plus a margin for clock skew.
func retention(pool *identity.Pool) time.Duration {
	d := max(pool.Tokens.ID, pool.Tokens.Access, minRetention)
	return d + retentionMargin
}

// newKey generates a key pair for pool, seals the private key and returns
// the record in the given state.
func (m *Manager) newKey(poolID, alg, state string, now time.Time) (*key, error) {
	if m.sealErr != nil {
		return nil, internalErr(m.sealErr)
	}
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("token: unsupported alg %q", alg)
	}
	if err != nil {
		return nil, internalErr(err)
	}
	pub := priv.Public()
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, internalErr(err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	jwk, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return nil, internalErr(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, internalErr(err)
	}
	sealed, err := m.seal.seal(poolID, kid, der)
	if err != nil {
		return nil, internalErr(err)
	}
	rec := &identity.SigningKey{
		PoolID: poolID, KID: kid, Alg: alg, PrivateKeyEnc: sealed, PublicJWK: jwk,
		State: state, CreatedAt: now,
	}
	if state == identity.KeyActive {
		rec.ActivatedAt = now
	}
	return &key{rec: rec, public: pub}, nil
}

// parse builds a key from a stored record, reading the public key from its
// JWK. The private key is opened lazily (privateKey).
func parse(rec *identity.SigningKey) (*key, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(rec.PublicJWK, &jwk); err != nil {
		return nil, fmt.Errorf("token: key %s of pool %s: bad public JWK: %w", rec.KID, rec.PoolID, err)
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return nil, fmt.Errorf("token: key %s of pool %s: JWK is not a valid public key", rec.KID, rec.PoolID)
	}
	switch pub := jwk.Key.(type) {
	case *ecdsa.PublicKey:
		if rec.Alg != AlgES256 || pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("token: key %s: alg %s does not match key type", rec.KID, rec.Alg)
		}
	case *rsa.PublicKey:
		if rec.Alg != AlgRS256 || pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("token: key %s: alg %s does not match key type", rec.KID, rec.Alg)
		}
	default:
		return nil, fmt.Errorf("token: key %s: unsupported key type %T", rec.KID, jwk.Key)
	}
	return &key{rec: rec, public: jwk.Key}, nil
}

// privateKey opens the sealed private key and checks it matches the public one.
func (m *Manager) privateKey(k *key) (crypto.Signer, error) {
	id := k.rec.PoolID + "\x00" + k.rec.KID
	m.mu.Lock()
	s, ok := m.signers[id]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	if m.sealErr != nil {
		return nil, m.sealErr
	}
	der, err := m.seal.open(k.rec.PoolID, k.rec.KID, k.rec.PrivateKeyEnc)
	if err != nil {
		return nil, err
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("token: key %s: %w", k.rec.KID, err)
	}
	s, ok = p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: key %s: not a signing key", k.rec.KID)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := s.Public().(equaler); !ok || !e.Equal(k.public) {
		return nil, fmt.Errorf("token: key %s: private key does not match the published public key", k.rec.KID)
	}
	m.mu.Lock()
	m.signers[id] = s
	m.mu.Unlock()
	return s, nil
}

// stateRank orders keys: active, next, retired.
func stateRank(s string) int {
	switch s {
	case identity.KeyActive:
		return 0
	case identity.KeyNext:
		return 1
	}
	return 2
}

// sortKeys orders keys by state, then oldest first, then kid. The first
// active key in this order is the one that signs: when two nodes race to
// create a key, every node picks the same one.
func sortKeys(ks []*key) {
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i].rec, ks[j].rec
		if ra, rb := stateRank(a.State), stateRank(b.State); ra != rb {
			return ra < rb
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.KID < b.KID
	})
}

// load reads a pool's keys from q. Keys that cannot be parsed are skipped
// (and so neither sign nor verify); retired keys past RemoveAfter are
// left out.
func (m *Manager) load(ctx context.Context, q store.Querier, poolID string, now time.Time) ([]*key, error) {
	recs, err := q.ListSigningKeys(ctx, poolID)
	if err != nil {
		return nil, internalErr(err)
	}
	ks := make([]*key, 0, len(recs))
	for _, r := range recs {
		if r.State == identity.KeyRetired && !r.RemoveAfter.IsZero() && !now.Before(r.RemoveAfter) {
			continue
		}
		if r.State != identity.KeyActive && r.State != identity.KeyNext && r.State != identity.KeyRetired {
			continue
		}
		k, err := parse(r)
		if err != nil {
			continue
		}
		ks = append(ks, k)
	}
	sortKeys(ks)
	return ks, nil
}

// keys returns the pool's keys from the cache, reloading when the cache is
// older than the TTL or when force is set (force reloads at most once per
// reloadInterval per pool).
func (m *Manager) keys(ctx context.Context, poolID string, force bool) ([]*key, error) {
	now := m.now()
	m.mu.Lock()
	pk := m.pools[poolID]
	gen := m.gen
	fresh := pk != nil && m.cacheTTL > 0 && now.Sub(pk.loadedAt) < m.cacheTTL && !now.Before(pk.loadedAt)
	if fresh && force {
		if now.Sub(pk.forcedReload) < reloadInterval && !now.Before(pk.forcedReload) {
			m.mu.Unlock()
			return pk.keys, nil
		}
		fresh = false
	}
	if fresh {
		ks := pk.keys
		m.mu.Unlock()
		return ks, nil
	}
	m.mu.Unlock()

	ks, err := m.load(ctx, m.st, poolID, now)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.gen != gen {
		m.mu.Unlock() // invalidated while loading: what was read may be stale
		return ks, nil
	}
	prev := m.pools[poolID]
	npk := &poolKeys{loadedAt: now, keys: ks}
	if force {
		npk.forcedReload = now
	} else if prev != nil {
		npk.forcedReload = prev.forcedReload
	}
	m.pools[poolID] = npk
	m.mu.Unlock()
	return ks, nil
}

// invalidate drops the cached keys of a pool.
func (m *Manager) invalidate(poolID string) {
	m.mu.Lock()
	m.gen++
	delete(m.pools, poolID)
	for id := range m.signers {
		if strings.HasPrefix(id, poolID+"\x00") {
			delete(m.signers, id)
		}
	}
	m.mu.Unlock()
}

func firstInState(ks []*key, state string) *key {
	for _, k := range ks {
		if k.rec.State == state {
			return k
		}
	}
	return nil
}

// firstOf is the first key of alg in state (the signing key of alg when
// state is active; see sortKeys).
func firstOf(ks []*key, alg, state string) *key {
	for _, k := range ks {
		if k.rec.State == state && k.rec.Alg == alg {
			return k
		}
	}
	return nil
}

// CheckAlg checks an app client's id_token_signed_response_alg: "" (the
// default, RS256), ES256 or RS256. Errors: CodeInvalidParameter.
func CheckAlg(alg string) error {
	switch alg {
	case "", AlgES256, AlgRS256:
		return nil
	}
	return &identity.Error{Code: identity.CodeInvalidParameter, Field: "id_token_signed_response_alg",
		Message: fmt.Sprintf("Unsupported signing algorithm %q; use ES256 or RS256.", alg)}
}

// EnsureKey makes sure pool has an active signing key and a published next
// key, creating them (with pool.SigningAlg, ES256 by default) if missing.
//
// Several nodes may call it at once. The check and the insert run in one
// transaction, which SQLite serialises; PostgreSQL's default isolation lets
// two such transactions both insert. So after inserting, a node re-reads
// the keys and, if it sees another key in the same state, yields: a new
// next key is deleted (it never signed), a new active key is demoted to
// next (another node may have signed with it in the meantime; as a next key
// it keeps verifying and is promoted by a later Rotate). Of two racing
// keys at most one survives, because the later one to commit sees the
// earlier. If both yield, the node tries again after a short random pause,
// up to ensureAttempts times, and then keeps its key; every node signs with
// the same active key anyway (see sortKeys), and Rotate retires extra ones.
//
// Errors: CodeInvalidUserPoolConfig for an unsupported SigningAlg,
// CodeInternal for storage failures or a cancelled ctx.
func (m *Manager) EnsureKey(ctx context.Context, pool *identity.Pool) error {
	alg, err := poolAlg(pool)
	if err != nil {
		return err
	}
	return m.ensureAlg(ctx, pool, alg)
}

// EnsureAlg makes sure pool has an active and a next key of alg (ES256
// or RS256), creating what is missing; with both in the cache it reads
// nothing. The JWKS calls it for RS256, so that relying parties see the
// RS256 keys before the first RS256 ID token. Errors: those of EnsureKey,
// CodeInvalidParameter for another alg.
func (m *Manager) EnsureAlg(ctx context.Context, pool *identity.Pool, alg string) error {
	if err := CheckAlg(alg); err != nil || alg == "" {
		return err
	}
	ks, err := m.keys(ctx, pool.ID, false)
	if err != nil {
		return err
	}
	if firstOf(ks, alg, identity.KeyActive) != nil && firstOf(ks, alg, identity.KeyNext) != nil {
		return nil
	}
	return m.ensureAlg(ctx, pool, alg)
}

// ensureAlg is EnsureKey for the keys of alg. A pool holds an active and
// a next key of each algorithm it has signed with: those of its own
// SigningAlg from its creation, those of another algorithm (an app
// client's id_token_signed_response_alg, the RS256 ID tokens OpenID
// relying parties get by default) from the first token signed with it.
func (m *Manager) ensureAlg(ctx context.Context, pool *identity.Pool, alg string) error {
	defer m.invalidate(pool.ID)
	for _, state := range []string{identity.KeyActive, identity.KeyNext} {
		if err := m.ensureState(ctx, pool.ID, alg, state); err != nil {
			var ie *identity.Error
			if errors.As(err, &ie) {
				return err
			}
			return internalErr(err)
		}
	}
	return nil
}

const ensureAttempts = 5

func (m *Manager) ensureState(ctx context.Context, poolID, alg, state string) error {
	for attempt := 1; ; attempt++ {
		ks, err := m.load(ctx, m.st, poolID, m.now())
		if err != nil {
			return err
		}
		if firstOf(ks, alg, state) != nil {
			return nil
		}
		// Generate outside the transaction: RSA key generation is slow.
		k, err := m.newKey(poolID, alg, state, m.clock())
		if err != nil {
			return err
		}
		inserted := false
		err = m.st.InTx(ctx, func(q store.Querier) error {
			inserted = false
			cur, err := m.load(ctx, q, poolID, m.now())
			if err != nil {
				return err
			}
			if firstOf(cur, alg, state) != nil {
				return nil // another node was quicker
			}
			if err := q.InsertSigningKey(ctx, k.rec); err != nil {
				return err
			}
			inserted = true
			return nil
		})
		if err != nil {
			return err
		}
		if !inserted {
			continue // the next round finds the other node's key
		}
		m.keysChanged(poolID)
		again, err := m.load(ctx, m.st, poolID, m.now())
		if err != nil {
			return err
		}
		// Two nodes (or requests) that both found no key may both have
		// added one. Only the key with the smallest kid stays: the others
		// yield. The rule is the same for every contender, so exactly one
		// stays; were each to yield to any rival, two contenders could
		// both yield and leave the pool without an active key.
		rival := smallerRival(again, k, alg, state)
		if !rival && attempt < ensureAttempts {
			// A contender whose insert was not yet visible may commit a
			// smaller kid just after: look once more after a short pause.
			if err := pause(ctx, attempt); err != nil {
				return err
			}
			if again, err = m.load(ctx, m.st, poolID, m.now()); err != nil {
				return err
			}
			rival = smallerRival(again, k, alg, state)
		}
		if !rival || attempt >= ensureAttempts {
			return nil
		}
		if state == identity.KeyActive {
			r := *k.rec
			r.State, r.ActivatedAt = identity.KeyNext, time.Time{}
			err = m.st.UpdateSigningKey(ctx, &r)
		} else {
			err = m.st.DeleteSigningKey(ctx, poolID, k.rec.KID)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Pause a little (random) so two yielding nodes do not meet again.
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// smallerRival reports whether ks holds another key of alg in state with
// a smaller kid than k's: then k yields.
func smallerRival(ks []*key, k *key, alg, state string) bool {
	for _, o := range ks {
		if o.rec.State == state && o.rec.Alg == alg && o.rec.KID < k.rec.KID {
			return true
		}
	}
	return false
}

// pause waits a random few milliseconds (more on later attempts).
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(mrand.IntN(20*attempt)+1) * time.Millisecond)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Rotate rotates pool's signing key and returns the new active key.
//
// Normally the pool has a "next" key, already published in JWKS (EnsureKey
// creates one, and so does every rotation): Rotate promotes it to active,
// retires the previous active key (RemoveAfter = now + the pool's longest
// JWT lifetime, at least 24h, plus 5 minutes), and creates a new next key,
// which is published from now on and will sign after the following
// rotation. So every key is in JWKS before it signs.
//
// If the pool has no next key (keys created by hand, or a pool that never
// had EnsureKey), Rotate creates a new key and makes it active at once: an
// emergency rotation, for a compromised key. Verifiers that cached the
// JWKS must then re-fetch it on the unknown kid, as they should.
//
// Retired keys past RemoveAfter are deleted. With several next keys (a lost
// race), the oldest is promoted. A pool whose SigningAlg changed gets the
// new algorithm from the key created here; the promoted next key keeps its
// own. Two nodes rotating the same pool at the same instant on PostgreSQL
// may both promote the same next key and each add a next key; that is
// harmless (two published next keys; the following Rotate promotes the
// older and adds none). Errors: CodeInvalidUserPoolConfig, CodeInternal.
func (m *Manager) Rotate(ctx context.Context, pool *identity.Pool) (*identity.SigningKey, error) {
	alg, err := poolAlg(pool)
	if err != nil {
		return nil, err
	}
	// Every algorithm the pool signs with rotates together: its own, and
	// any other one it holds an active or next key of (RS256 ID tokens).
	algs := []string{alg}
	ks, err := m.load(ctx, m.st, pool.ID, m.now())
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		if k.rec.State != identity.KeyRetired && !slices.Contains(algs, k.rec.Alg) {
			algs = append(algs, k.rec.Alg)
		}
	}
	var active *identity.SigningKey
	for _, a := range algs {
		k, err := m.rotateAlg(ctx, pool, a)
		if err != nil {
			return nil, err
		}
		if a == alg {
			active = k
		}
	}
	return active, nil
}

// rotateAlg is Rotate for the keys of alg.
func (m *Manager) rotateAlg(ctx context.Context, pool *identity.Pool, alg string) (*identity.SigningKey, error) {
	now := m.clock()
	// Generate outside the transaction: RSA key generation is slow.
	fresh, err := m.newKey(pool.ID, alg, identity.KeyNext, now)
	if err != nil {
		return nil, err
	}
	var emergency *key
	var active *identity.SigningKey
	err = m.st.InTx(ctx, func(q store.Querier) error {
		recs, err := q.ListSigningKeys(ctx, pool.ID)
		if err != nil {
			return err
		}
		var ks []*key
		for _, r := range recs {
			if r.State == identity.KeyRetired && !r.RemoveAfter.IsZero() && !now.Before(r.RemoveAfter) {
				if err := q.DeleteSigningKey(ctx, pool.ID, r.KID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				continue
			}
			if r.Alg == alg {
				ks = append(ks, &key{rec: r})
			}
		}
		sortKeys(ks)
		next := firstInState(ks, identity.KeyNext)
		var promote *identity.SigningKey
		if next != nil {
			cp := *next.rec
			promote = &cp
		} else {
			if emergency == nil { // InTx may retry fn: generate once
				emergency, err = m.newKey(pool.ID, alg, identity.KeyActive, now)
				if err != nil {
					return err
				}
			}
			cp := *emergency.rec
			promote = &cp
		}
		// Retire every active key.
		for _, k := range ks {
			if k.rec.State != identity.KeyActive {
				continue
			}
			r := *k.rec
			r.State = identity.KeyRetired
			r.RetiredAt = now
			r.RemoveAfter = now.Add(retention(pool))
			if err := q.UpdateSigningKey(ctx, &r); err != nil {
				return err
			}
		}
		promote.State = identity.KeyActive
		promote.ActivatedAt = now
		if next != nil {
			if err := q.UpdateSigningKey(ctx, promote); err != nil {
				return err
			}
		} else if err := q.InsertSigningKey(ctx, promote); err != nil {
			return err
		}
		// A new next key, unless another one is still waiting (left by a
		// lost EnsureKey race): that one is published already.
		waiting := false
		for _, k := range ks {
			if k.rec.State == identity.KeyNext && k.rec.KID != promote.KID {
				waiting = true
			}
		}
		if !waiting {
			nk := *fresh.rec
			if err := q.InsertSigningKey(ctx, &nk); err != nil {
				return err
			}
		}
		active = promote
		return nil
	})
	m.invalidate(pool.ID)
	if err != nil {
		var ie *identity.Error
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, internalErr(err)
	}
	m.keysChanged(pool.ID)
	return active, nil
}

// JWKS returns the pool's public keys as a JSON Web Key Set:
// {"keys":[...]} with the active key first, then the next key(s), then the
// retired keys not yet past RemoveAfter; each with kid, kty, alg and
// use "sig". A pool without keys yields {"keys":[]}. Errors: CodeInternal.
func (m *Manager) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	ks, err := m.keys(ctx, poolID, false)
	if err != nil {
		return nil, err
	}
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	now := m.now()
	for _, k := range ks {
		if k.rec.State == identity.KeyRetired && !k.rec.RemoveAfter.IsZero() && !now.Before(k.rec.RemoveAfter) {
			continue
		}
		set.Keys = append(set.Keys, json.RawMessage(k.rec.PublicJWK))
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, internalErr(err)
	}
	return b, nil
}
