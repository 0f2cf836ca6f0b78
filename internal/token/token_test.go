package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

const issuer = "https://id.example.com/eu-west-1_AbC123xyZ"

// clock is an injectable, manually advanced time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingStore is the real store with a counter on ListSigningKeys, to
// observe how often the Manager goes to the database.
type countingStore struct {
	store.Store
	lists atomic.Int64
}

func (c *countingStore) ListSigningKeys(ctx context.Context, poolID string) ([]*identity.SigningKey, error) {
	c.lists.Add(1)
	return c.Store.ListSigningKeys(ctx, poolID)
}

type env struct {
	st     *countingStore
	m      *Manager
	clk    *clock
	master []byte
	pool   *identity.Pool
	other  *identity.Pool
}

func newPool(t testing.TB, st store.Store, id, alg string) *identity.Pool {
	t.Helper()
	p := &identity.Pool{ID: id, Name: id, UsernameMode: identity.UsernameEmail, PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: alg,
		CreatedAt: time.Unix(1_800_000_000, 0).UTC(), UpdatedAt: time.Unix(1_800_000_000, 0).UTC()}
	if err := st.CreatePool(context.Background(), p); err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	return p
}

// setup opens a real SQLite database with two pools and a Manager on an
// injected clock.
func setup(t testing.TB) *env {
	t.Helper()
	return setupWith(t, storetest.OpenSQLite(t))
}

// backends lists the databases the key-storage tests run on: SQLite
// always, PostgreSQL when GATEHOUSE_TEST_POSTGRES is set (required under CI).
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, setupWith(t, b.open(t)))
		})
	}
}

func setupWith(t testing.TB, db store.Store) *env {
	t.Helper()
	ctx := context.Background()
	st := &countingStore{Store: db}
	master, err := LoadMasterKey(GenerateMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1_800_000_000, 0).UTC()}
	e := &env{st: st, clk: clk, master: master, m: NewManager(st, master, clk.Now)}
	e.pool = newPool(t, st, "eu-west-1_AbC123xyZ", "")
	e.other = newPool(t, st, "eu-west-1_Other0000", "")
	for _, p := range []*identity.Pool{e.pool, e.other} {
		if err := e.m.EnsureKey(ctx, p); err != nil {
			t.Fatalf("EnsureKey: %v", err)
		}
	}
	return e
}

func (e *env) claims(extra map[string]any) map[string]any {
	now := e.clk.Now().Unix()
	c := map[string]any{"iss": issuer, "sub": "user-1", "token_use": "access", "iat": now, "exp": now + 3600, "auth_time": now}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (e *env) sign(t testing.TB, pool *identity.Pool, extra map[string]any) string {
	t.Helper()
	tok, err := e.m.Sign(context.Background(), pool, e.claims(extra))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func (e *env) keysOf(t testing.TB, poolID string) []*identity.SigningKey {
	t.Helper()
	ks, err := e.st.Store.ListSigningKeys(context.Background(), poolID)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func headerOf(t testing.TB, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	if identity.ErrorCode(err) != identity.CodeInvalidToken {
		t.Fatalf("err = %v; want CodeInvalidToken", err)
	}
	if msg != "" && identity.ErrorMessage(err) != msg {
		t.Fatalf("message = %q; want %q", identity.ErrorMessage(err), msg)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	tok := e.sign(t, e.pool, map[string]any{"cognito:groups": []string{"admins"}, "custom:company_name": "Acme"})
	h := headerOf(t, tok)
	active := e.keysOf(t, e.pool.ID)
	var activeKID string
	for _, k := range active {
		if k.State == identity.KeyActive {
			activeKID = k.KID
		}
	}
	if h["alg"] != "ES256" || h["typ"] != "JWT" || h["kid"] != activeKID {
		t.Fatalf("header = %v; want ES256/JWT/%s", h, activeKID)
	}
	claims, err := e.m.Verify(ctx, e.pool, tok, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "user-1" || claims["custom:company_name"] != "Acme" {
		t.Fatalf("claims = %v", claims)
	}
	if _, ok := claims["exp"].(float64); !ok {
		t.Fatalf("exp is %T; numbers must come out as float64", claims["exp"])
	}
	if g, ok := claims["cognito:groups"].([]any); !ok || len(g) != 1 || g[0] != "admins" {
		t.Fatalf("groups = %#v", claims["cognito:groups"])
	}
}

func TestRS256Pool(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	rp := newPool(t, e.st, "eu-west-1_Rsa000000", AlgRS256)
	tok := e.sign(t, rp, nil) // Sign creates the key on first use
	if h := headerOf(t, tok); h["alg"] != "RS256" {
		t.Fatalf("alg = %v", h["alg"])
	}
	if _, err := e.m.Verify(ctx, rp, tok, issuer); err != nil {
		t.Fatal(err)
	}
	// An RS256 token of one pool is not accepted by an ES256 pool.
	_, err := e.m.Verify(ctx, e.pool, tok, issuer)
	wantInvalid(t, err, "Invalid token.")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	b, err := e.m.JWKS(ctx, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["d"] != nil {
			t.Fatalf("bad JWK %v", k)
		}
	}
	bad := &identity.Pool{ID: rp.ID, SigningAlg: "HS256"}
	if err := e.m.EnsureKey(ctx, bad); identity.ErrorCode(err) != identity.CodeInvalidUserPoolConfig {
		t.Fatalf("EnsureKey HS256: %v", err)
	}
}

// b64 encodes a JSON value for crafted tokens.
func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// esSign makes a raw ES256 JWS signature over input.
func esSign(t testing.TB, k *ecdsa.PrivateKey, input string) string {
	t.Helper()
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	// The low-s form, as Gatehouse signs (security.md T8): a crafted
	// token is refused for what its case tests, not for a high s.
	if half := new(big.Int).Rsh(k.Params().N, 1); s.Cmp(half) > 0 {
		s.Sub(k.Params().N, s)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.RawURLEncoding.EncodeToString(sig)
}

func craftES(t testing.TB, k *ecdsa.PrivateKey, header, claims map[string]any) string {
	in := b64json(t, header) + "." + b64json(t, claims)
	return in + "." + esSign(t, k, in)
}

// TestForgery is the JWT forgery suite (security checklist item 6).
func TestForgery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	keys := e.keysOf(t, e.pool.ID)
	var activeKID string
	var activeJWK []byte
	for _, k := range keys {
		if k.State == identity.KeyActive {
			activeKID, activeJWK = k.KID, k.PublicJWK
		}
	}
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerJWK := jose.JSONWebKey{Key: attacker.Public(), Algorithm: "ES256", Use: "sig"}
	tp, _ := attackerJWK.Thumbprint(crypto.SHA256)
	attackerKID := base64.RawURLEncoding.EncodeToString(tp)
	attackerJWK.KeyID = attackerKID
	attackerJWKMap := map[string]any{}
	b, _ := json.Marshal(attackerJWK)
	_ = json.Unmarshal(b, &attackerJWKMap)

	good := e.sign(t, e.pool, nil)
	parts := strings.Split(good, ".")
	hs := func(key []byte) string {
		in := b64json(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": activeKID}) + "." + b64json(t, e.claims(nil))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	var pemLike []byte
	{
		var jwk jose.JSONWebKey
		_ = json.Unmarshal(activeJWK, &jwk)
		pemLike, _ = jwk.Key.(*ecdsa.PublicKey).Bytes()
	}
	tamperedClaims := e.claims(map[string]any{"sub": "admin"})
	huge := craftES(t, attacker, map[string]any{"alg": "ES256", "kid": activeKID}, e.claims(map[string]any{"pad": strings.Repeat("A", 1<<20)}))

	tests := []struct {
		name string
		tok  string
		msg  string
	}{
		{"empty", "", "Invalid token."},
		{"garbage", "not a token", "Invalid token."},
		{"alg none", b64json(t, map[string]any{"alg": "none", "typ": "JWT", "kid": activeKID}) + "." + parts[1] + ".", "Invalid token."},
		{"alg None mixed case", b64json(t, map[string]any{"alg": "None", "kid": activeKID}) + "." + parts[1] + ".", "Invalid token."},
		{"HS256 with public JWK bytes", hs(activeJWK), "Invalid token."},
		{"HS256 with raw public key bytes", hs(pemLike), "Invalid token."},
		{"RS256 header on ES256 key", b64json(t, map[string]any{"alg": "RS256", "kid": activeKID}) + "." + parts[1] + "." + parts[2], "Invalid token."},
		{"unknown kid", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": "nope"}, e.claims(nil)), "Invalid token."},
		{"no kid", craftES(t, attacker, map[string]any{"alg": "ES256"}, e.claims(nil)), "Invalid token."},
		{"kid path traversal", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": "../../x"}, e.claims(nil)), "Invalid token."},
		{"kid sql-ish", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": "' OR '1'='1"}, e.claims(nil)), "Invalid token."},
		{"embedded jwk, attacker kid", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": attackerKID, "jwk": attackerJWKMap}, e.claims(nil)), "Invalid token."},
		{"embedded jwk, pool kid", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": activeKID, "jwk": attackerJWKMap}, e.claims(nil)), "Invalid token."},
		{"jku elsewhere", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": activeKID, "jku": "https://evil.example/jwks.json"}, e.claims(nil)), "Invalid token."},
		{"x5u elsewhere", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": activeKID, "x5u": "https://evil.example/cert.pem"}, e.claims(nil)), "Invalid token."},
		{"jku with attacker kid", craftES(t, attacker, map[string]any{"alg": "ES256", "kid": attackerKID, "jku": "https://evil.example/jwks.json"}, e.claims(nil)), "Invalid token."},
		{"expired", e.sign(t, e.pool, map[string]any{"exp": e.clk.Now().Unix() - 1}), "Token expired."},
		{"expires now", e.sign(t, e.pool, map[string]any{"exp": e.clk.Now().Unix()}), "Token expired."},
		{"no exp", e.sign(t, e.pool, map[string]any{"exp": nil}), "Invalid token."},
		{"exp as string", e.sign(t, e.pool, map[string]any{"exp": "9999999999"}), "Invalid token."},
		{"nbf in the future", e.sign(t, e.pool, map[string]any{"nbf": e.clk.Now().Add(time.Hour).Unix()}), "Invalid token."},
		{"iat in the future", e.sign(t, e.pool, map[string]any{"iat": e.clk.Now().Add(time.Hour).Unix()}), "Invalid token."},
		{"wrong iss", e.sign(t, e.pool, map[string]any{"iss": "https://evil.example/"}), "Invalid token."},
		{"no iss", e.sign(t, e.pool, map[string]any{"iss": nil}), "Invalid token."},
		{"100k dots", "a" + strings.Repeat(".", 100000), "Invalid token."},
		{"3 dots", good + ".x", "Invalid token."},
		{"1 MB token", huge, "Invalid token."},
		{"another pool's key", e.sign(t, e.other, nil), "Invalid token."},
		{"tampered payload", parts[0] + "." + b64json(t, tamperedClaims) + "." + parts[2], "Invalid token."},
		{"tampered signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), "Invalid token."},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "Invalid token."},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "Invalid token."},
		{"payload not object", func() string {
			in := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`))
			return in + ".x"
		}(), "Invalid token."},
	}
	if len(huge) < 1<<20 {
		t.Fatal("huge token is not huge")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := e.m.Verify(ctx, e.pool, tc.tok, issuer)
			if claims != nil {
				t.Fatalf("claims returned for a forged token: %v", claims)
			}
			wantInvalid(t, err, tc.msg)
		})
	}
	// Sanity: the untouched token does verify, so the refusals above are
	// not an artefact of a broken setup; and an empty expected issuer
	// matches nothing.
	if _, err := e.m.Verify(ctx, e.pool, good, issuer); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
	_, err := e.m.Verify(ctx, e.pool, good, "")
	wantInvalid(t, err, "Invalid token.")
}

func TestUnknownKidReloadIsBounded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// Warm the cache.
	if _, err := e.m.JWKS(ctx, e.pool.ID); err != nil {
		t.Fatal(err)
	}
	before := e.st.lists.Load()
	for i := 0; i < 200; i++ {
		tok := craftES(t, attacker, map[string]any{"alg": "ES256", "kid": "random-" + string(rune('a'+i%26))}, e.claims(nil))
		_, err := e.m.Verify(ctx, e.pool, tok, issuer)
		wantInvalid(t, err, "Invalid token.")
	}
	if n := e.st.lists.Load() - before; n > 1 {
		t.Fatalf("%d store reloads for 200 unknown kids within one second; want <= 1", n)
	}
	e.clk.Advance(reloadInterval)
	tok := craftES(t, attacker, map[string]any{"alg": "ES256", "kid": "again"}, e.claims(nil))
	_, _ = e.m.Verify(ctx, e.pool, tok, issuer)
	if n := e.st.lists.Load() - before; n != 2 {
		t.Fatalf("after a second: %d reloads; want 2", n)
	}
}

func jwksKIDs(t *testing.T, m *Manager, poolID string) []string {
	t.Helper()
	b, err := m.JWKS(context.Background(), poolID)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.Alg != "ES256" || k.Use != "sig" || k.KID == "" || k.D != "" {
			t.Fatalf("bad JWK in set: %+v", k)
		}
		kids = append(kids, k.KID)
	}
	return kids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func stateOf(t *testing.T, e *env, poolID string) map[string]*identity.SigningKey {
	t.Helper()
	m := map[string]*identity.SigningKey{}
	for _, k := range e.keysOf(t, poolID) {
		m[k.KID] = k
	}
	return m
}

func kidIn(t *testing.T, e *env, state string) string {
	t.Helper()
	var found []string
	for _, k := range e.keysOf(t, e.pool.ID) {
		if k.State == state {
			found = append(found, k.KID)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d keys in state %s; want 1", len(found), state)
	}
	return found[0]
}

func TestRotation(t *testing.T) {
	t.Parallel()
	eachBackend(t, testRotation)
}

func testRotation(t *testing.T, e *env) {
	ctx := context.Background()
	activeA := kidIn(t, e, identity.KeyActive)
	next1 := kidIn(t, e, identity.KeyNext)
	// The next key is published before it ever signs.
	if kids := jwksKIDs(t, e.m, e.pool.ID); !contains(kids, activeA) || !contains(kids, next1) || len(kids) != 2 {
		t.Fatalf("JWKS = %v; want active %s and next %s", kids, activeA, next1)
	}
	// A token valid for longer than the retention, so that removal (not
	// expiry) is what ends it.
	old := e.sign(t, e.pool, map[string]any{"exp": e.clk.Now().Add(72 * time.Hour).Unix()})
	if headerOf(t, old)["kid"] != activeA {
		t.Fatal("not signed by the active key")
	}

	e.clk.Advance(time.Minute)
	rotatedAt := e.clk.Now()
	nk, err := e.m.Rotate(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	if nk.KID != next1 || nk.State != identity.KeyActive {
		t.Fatalf("Rotate returned %s/%s; want the published next key %s active", nk.KID, nk.State, next1)
	}
	ks := stateOf(t, e, e.pool.ID)
	if ks[activeA].State != identity.KeyRetired {
		t.Fatalf("old key state %s", ks[activeA].State)
	}
	wantRemove := rotatedAt.Add(24*time.Hour + retentionMargin)
	if !ks[activeA].RemoveAfter.Equal(wantRemove) {
		t.Fatalf("RemoveAfter = %v; want %v", ks[activeA].RemoveAfter, wantRemove)
	}
	next2 := kidIn(t, e, identity.KeyNext)
	if next2 == next1 || next2 == activeA {
		t.Fatal("no fresh next key after rotation")
	}
	kids := jwksKIDs(t, e.m, e.pool.ID)
	if len(kids) != 3 || kids[0] != next1 || !contains(kids, next2) || !contains(kids, activeA) {
		t.Fatalf("JWKS after rotation = %v", kids)
	}
	fresh := e.sign(t, e.pool, map[string]any{"exp": e.clk.Now().Add(72 * time.Hour).Unix()})
	if headerOf(t, fresh)["kid"] != next1 {
		t.Fatalf("after rotation signed with %v; want %s", headerOf(t, fresh)["kid"], next1)
	}

	// The old token verifies until RemoveAfter...
	e.clk.Set(wantRemove.Add(-time.Millisecond))
	if _, err := e.m.Verify(ctx, e.pool, old, issuer); err != nil {
		t.Fatalf("old token refused before RemoveAfter: %v", err)
	}
	// ...and not from then on; the key also leaves JWKS.
	e.clk.Advance(time.Millisecond)
	_, err = e.m.Verify(ctx, e.pool, old, issuer)
	wantInvalid(t, err, "Invalid token.")
	if kids := jwksKIDs(t, e.m, e.pool.ID); contains(kids, activeA) {
		t.Fatalf("removed key still in JWKS: %v", kids)
	}
	if _, err := e.m.Verify(ctx, e.pool, fresh, issuer); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	// The next rotation deletes the expired key from the store.
	if _, err := e.m.Rotate(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	if _, ok := stateOf(t, e, e.pool.ID)[activeA]; ok {
		t.Fatal("expired retired key not deleted")
	}
	if kidIn(t, e, identity.KeyActive) != next2 {
		t.Fatal("second rotation did not promote the second next key")
	}
}

func TestRetentionFollowsTokenLifetimes(t *testing.T) {
	t.Parallel()
	p := &identity.Pool{Tokens: identity.TokenLifetimes{ID: 36 * time.Hour, Access: time.Hour, Refresh: 90 * 24 * time.Hour}}
	if got := retention(p); got != 36*time.Hour+retentionMargin {
		t.Fatalf("retention = %v", got)
	}
	if got := retention(&identity.Pool{}); got != 24*time.Hour+retentionMargin {
		t.Fatalf("default retention = %v", got)
	}
}

func TestEmergencyRotationWithoutNextKey(t *testing.T) {
	t.Parallel()
	eachBackend(t, testEmergencyRotationWithoutNextKey)
}

func testEmergencyRotationWithoutNextKey(t *testing.T, e *env) {
	ctx := context.Background()
	active := kidIn(t, e, identity.KeyActive)
	next := kidIn(t, e, identity.KeyNext)
	if err := e.st.DeleteSigningKey(ctx, e.pool.ID, next); err != nil {
		t.Fatal(err)
	}
	nk, err := e.m.Rotate(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	if nk.KID == active || nk.KID == next || nk.State != identity.KeyActive {
		t.Fatalf("emergency rotation returned %+v", nk)
	}
	if kidIn(t, e, identity.KeyActive) != nk.KID {
		t.Fatal("new key is not active")
	}
	_ = kidIn(t, e, identity.KeyNext) // a next key is published again
	tok := e.sign(t, e.pool, nil)
	if headerOf(t, tok)["kid"] != nk.KID {
		t.Fatal("not signed with the new key")
	}
}

// TestTwoNodes: two Managers share one database; a rotation by one is seen
// by the other, on an unknown kid at once and for signing after the TTL.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	eachBackend(t, testTwoNodes)
}

func testTwoNodes(t *testing.T, e *env) {
	ctx := context.Background()
	m2 := NewManager(e.st, e.master, e.clk.Now)
	before := e.sign(t, e.pool, nil)
	if _, err := m2.Verify(ctx, e.pool, before, issuer); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rotate(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	newKID := kidIn(t, e, identity.KeyActive)
	after := e.sign(t, e.pool, nil)
	if _, err := m2.Verify(ctx, e.pool, after, issuer); err != nil {
		t.Fatalf("node 2 refused a token signed after node 1 rotated: %v", err)
	}
	e.clk.Advance(DefaultCacheTTL)
	tok, err := m2.Sign(ctx, e.pool, e.claims(nil))
	if err != nil {
		t.Fatal(err)
	}
	if headerOf(t, tok)["kid"] != newKID {
		t.Fatal("node 2 still signs with the retired key after the cache TTL")
	}
}

func TestEnsureKeyRace(t *testing.T) {
	t.Parallel()
	eachBackend(t, testEnsureKeyRace)
}

func testEnsureKeyRace(t *testing.T, e *env) {
	ctx := context.Background()
	p := newPool(t, e.st, "eu-west-1_Race00000", "")
	const nodes = 6
	var wg sync.WaitGroup
	ms := make([]*Manager, nodes)
	for i := range ms {
		ms[i] = NewManager(e.st, e.master, e.clk.Now)
	}
	toks := make([]string, nodes)
	for i := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ms[i].EnsureKey(ctx, p); err != nil {
				t.Error(err)
				return
			}
			tok, err := ms[i].Sign(ctx, p, e.claims(nil))
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	count := map[string]int{}
	for _, k := range e.keysOf(t, p.ID) {
		count[k.State]++
	}
	if count[identity.KeyActive] != 1 || count[identity.KeyNext] < 1 || len(count) != 2 {
		t.Fatalf("keys after racing EnsureKey: %v; want one active and at least one next", count)
	}
	if e.st.Backend() == "sqlite" && count[identity.KeyNext] != 1 {
		t.Fatalf("SQLite serialises EnsureKey; got %v", count)
	}
	// Every token signed during the race verifies on every node.
	for i, tok := range toks {
		for _, m := range ms {
			if _, err := m.Verify(ctx, p, tok, issuer); err != nil {
				t.Fatalf("token of node %d refused: %v", i, err)
			}
		}
	}
	// Idempotent, and a rotation leaves exactly one active and one next key.
	if err := e.m.EnsureKey(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Rotate(ctx, p); err != nil {
		t.Fatal(err)
	}
	count = map[string]int{}
	for _, k := range e.keysOf(t, p.ID) {
		count[k.State]++
	}
	if count[identity.KeyActive] != 1 || count[identity.KeyNext] < 1 {
		t.Fatalf("keys after rotation: %v", count)
	}
}

func TestSealedKeyBoundToPool(t *testing.T) {
	t.Parallel()
	eachBackend(t, testSealedKeyBoundToPool)
}

func testSealedKeyBoundToPool(t *testing.T, e *env) {
	ctx := context.Background()
	// Copy pool A's sealed private key into pool B's active key row.
	var srcKey *identity.SigningKey
	for _, k := range e.keysOf(t, e.pool.ID) {
		if k.State == identity.KeyActive {
			srcKey = k
		}
	}
	for _, k := range e.keysOf(t, e.other.ID) {
		if k.State == identity.KeyActive {
			k.PrivateKeyEnc = srcKey.PrivateKeyEnc
			k.PublicJWK = srcKey.PublicJWK
			if err := e.st.UpdateSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := NewManager(e.st, e.master, e.clk.Now)
	_, err := m.Sign(ctx, e.other, e.claims(nil))
	if identity.ErrorCode(err) != identity.CodeInternal {
		t.Fatalf("Sign with a swapped sealed key: %v; want internal error", err)
	}
	// A manager with another master key cannot sign either.
	wrong, _ := LoadMasterKey(GenerateMasterKey())
	_, err = NewManager(e.st, wrong, e.clk.Now).Sign(ctx, e.pool, e.claims(nil))
	if identity.ErrorCode(err) != identity.CodeInternal {
		t.Fatalf("Sign with the wrong master key: %v", err)
	}
	// No plaintext private key in the stored JWK or blob.
	for _, k := range e.keysOf(t, e.pool.ID) {
		if strings.Contains(string(k.PublicJWK), `"d"`) {
			t.Fatal("private part in PublicJWK")
		}
	}
	// A bad master key size fails cleanly.
	if _, err := NewManager(e.st, []byte("short"), e.clk.Now).Sign(ctx, e.pool, e.claims(nil)); identity.ErrorCode(err) != identity.CodeInternal {
		t.Fatalf("short master key: %v", err)
	}
}

func TestLoadMasterKey(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	hexs := "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"base64 std", base64.StdEncoding.EncodeToString(raw), true},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(raw), true},
		{"base64 with newline", base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"hex", hexs, true},
		{"hex upper", strings.ToUpper(hexs), true},
		{"empty", "", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"64 bytes", base64.StdEncoding.EncodeToString(append(raw, raw...)), false},
		{"hex short", hexs[:62], false},
		{"words", "correct horse battery staple", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := LoadMasterKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && string(k) != string(raw) {
				t.Fatalf("key = %x", k)
			}
			if err != nil && tc.in != "" && strings.Contains(err.Error(), tc.in) {
				t.Fatal("error echoes the value")
			}
		})
	}
	a, b := GenerateMasterKey(), GenerateMasterKey()
	if a == b {
		t.Fatal("GenerateMasterKey repeats")
	}
}

func FuzzVerify(f *testing.F) {
	e := setup(f)
	good := e.sign(f, e.pool, nil)
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Repeat(".", 10))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	parts := strings.Split(good, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := e.m.Verify(ctx, e.pool, raw, issuer)
		if err == nil {
			if raw != good {
				// A different string that verifies must carry the same
				// signed content (e.g. base64 variants are not accepted by
				// go-jose, so this should not happen).
				t.Fatalf("unexpected token accepted: %q -> %v", raw, claims)
			}
			return
		}
		if c := identity.ErrorCode(err); c != identity.CodeInvalidToken {
			t.Fatalf("code %s for %q", c, raw)
		}
	})
}

func benchPool(b *testing.B, alg string) (*env, *identity.Pool, string) {
	e := setup(b)
	p := e.pool
	if alg == AlgRS256 {
		p = newPool(b, e.st, "eu-west-1_Bench0000", AlgRS256)
	}
	tok := e.sign(b, p, nil)
	return e, p, tok
}

func benchSign(b *testing.B, alg string) {
	e, p, _ := benchPool(b, alg)
	ctx := context.Background()
	c := e.claims(nil)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.m.Sign(ctx, p, c); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, alg string) {
	e, p, tok := benchPool(b, alg)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.m.Verify(ctx, p, tok, issuer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignES256(b *testing.B)   { benchSign(b, AlgES256) }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, AlgES256) }
func BenchmarkSignRS256(b *testing.B)   { benchSign(b, AlgRS256) }
func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, AlgRS256) }

// TestMeasureRawRates: both algorithms sign and verify with a positive
// rate; an unknown algorithm is refused.
func TestMeasureRawRates(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgRS256} {
		r, err := MeasureRawRates(alg, 20*time.Millisecond)
		if err != nil || r.Sign <= 0 || r.Verify <= 0 || r.Alg != alg {
			t.Errorf("%s: %+v, %v", alg, r, err)
		}
	}
	if _, err := MeasureRawRates("HS256", time.Millisecond); err == nil {
		t.Error("HS256 measured")
	}
}

// TestBothAlgorithms: an ES256 pool signs RS256 on demand (SignAs) with
// keys of its own for it, published beside the ES256 ones before they
// sign (EnsureAlg), and Rotate rotates both algorithms; a token's alg must
// still be its key's (an RS256 kid with an ES256 header is refused).
func TestBothAlgorithms(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		count := func(alg, state string) int {
			n := 0
			for _, k := range e.keysOf(t, e.pool.ID) {
				if k.Alg == alg && k.State == state {
					n++
				}
			}
			return n
		}
		if count(AlgRS256, identity.KeyActive) != 0 {
			t.Fatal("an ES256 pool made RS256 keys before anyone asked")
		}
		if err := e.m.EnsureAlg(ctx, e.pool, AlgRS256); err != nil {
			t.Fatal(err)
		}
		if count(AlgRS256, identity.KeyActive) != 1 || count(AlgRS256, identity.KeyNext) != 1 || count(AlgES256, identity.KeyActive) != 1 {
			t.Fatalf("keys after EnsureAlg: %+v", e.keysOf(t, e.pool.ID))
		}
		rs, err := e.m.SignAs(ctx, e.pool, AlgRS256, e.claims(nil))
		if err != nil {
			t.Fatal(err)
		}
		es := e.sign(t, e.pool, nil)
		if headerOf(t, rs)["alg"] != "RS256" || headerOf(t, es)["alg"] != "ES256" {
			t.Fatalf("headers %v %v", headerOf(t, rs), headerOf(t, es))
		}
		for _, tok := range []string{rs, es} {
			if _, err := e.m.Verify(ctx, e.pool, tok, issuer); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.m.SignAs(ctx, e.pool, "HS256", e.claims(nil)); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("SignAs HS256: %v", err)
		}
		// Rotate: both algorithms move on; the old keys keep verifying.
		e.clk.Advance(time.Minute)
		if _, err := e.m.Rotate(ctx, e.pool); err != nil {
			t.Fatal(err)
		}
		if count(AlgRS256, identity.KeyRetired) != 1 || count(AlgES256, identity.KeyRetired) != 1 ||
			count(AlgRS256, identity.KeyActive) != 1 || count(AlgRS256, identity.KeyNext) != 1 {
			t.Fatalf("keys after Rotate: %+v", e.keysOf(t, e.pool.ID))
		}
		for _, tok := range []string{rs, es} {
			if _, err := e.m.Verify(ctx, e.pool, tok, issuer); err != nil {
				t.Fatalf("a token of a retired key: %v", err)
			}
		}
		rs2, err := e.m.SignAs(ctx, e.pool, AlgRS256, e.claims(nil))
		if err != nil || headerOf(t, rs2)["kid"] == headerOf(t, rs)["kid"] {
			t.Fatalf("after Rotate RS256 signs with %v (%v)", headerOf(t, rs2)["kid"], err)
		}
		// Expired tokens pass VerifyExpired only.
		e.clk.Advance(2 * time.Hour)
		if _, err := e.m.Verify(ctx, e.pool, rs2, issuer); err == nil {
			t.Fatal("expired token verified")
		}
		if _, err := e.m.VerifyExpired(ctx, e.pool, rs2, issuer); err != nil {
			t.Fatalf("VerifyExpired: %v", err)
		}
		if _, err := e.m.VerifyExpired(ctx, e.other, rs2, issuer); err == nil {
			t.Fatal("VerifyExpired accepted another pool's token")
		}
	})
}

// TestSignAsKeyRace: requests on several nodes sign the first RS256 ID
// tokens of an ES256 pool at once, so each may add the pool's first RS256
// key. Every one of them signs: the contenders never all yield, which left
// the pool without an active key and answered 500 (TestConcurrentCodeRedemption
// on PostgreSQL under load).
func TestSignAsKeyRace(t *testing.T) {
	t.Parallel()
	eachBackend(t, testSignAsKeyRace)
}

func testSignAsKeyRace(t *testing.T, e *env) {
	ctx := context.Background()
	for round := range 5 {
		p := newPool(t, e.st, fmt.Sprintf("eu-west-1_SignAs%04d", round), "")
		ms := make([]*Manager, 8)
		for i := range ms {
			ms[i] = NewManager(e.st, e.master, e.clk.Now)
		}
		var wg sync.WaitGroup
		for i := range ms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := ms[i].SignAs(ctx, p, AlgRS256, e.claims(nil)); err != nil {
					t.Errorf("round %d node %d: %v", round, i, err)
				}
			}()
		}
		wg.Wait()
		active := 0
		for _, k := range e.keysOf(t, p.ID) {
			if k.Alg == AlgRS256 && k.State == identity.KeyActive {
				active++
			}
		}
		// Contenders that could not see each other's insert may both keep
		// theirs (two active keys, both in JWKS, both verify); never none.
		if active < 1 {
			t.Fatalf("round %d: no active RS256 key", round)
		}
	}
}

// TestSignTyped: a logout token (typ logout+jwt, Back-Channel Logout 1.0
// §2.4) carries its typ, in both algorithms, and Verify refuses it (and
// any typ other than JWT), so it never passes for an ID or access token;
// an empty typ is refused at signing.
func TestSignTyped(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for _, alg := range []string{AlgES256, AlgRS256} {
		for _, typ := range []string{"logout+jwt", "at+jwt", "jwt+other"} {
			tok, err := e.m.SignTyped(ctx, e.pool, alg, typ, e.claims(nil))
			if err != nil {
				t.Fatalf("SignTyped %s %s: %v", alg, typ, err)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if !strings.Contains(string(hdr), `"typ":"`+typ+`"`) || !strings.Contains(string(hdr), `"alg":"`+alg+`"`) {
				t.Fatalf("header %s", hdr)
			}
			if _, err := e.m.Verify(ctx, e.pool, tok, issuer); identity.ErrorCode(err) != identity.CodeInvalidToken {
				t.Fatalf("Verify accepted typ %s: %v", typ, err)
			}
		}
		tok, err := e.m.SignTyped(ctx, e.pool, alg, "JWT", e.claims(nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.Verify(ctx, e.pool, tok, issuer); err != nil {
			t.Fatalf("typ JWT refused: %v", err)
		}
	}
	if _, err := e.m.SignTyped(ctx, e.pool, "", "", e.claims(nil)); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("empty typ: %v", err)
	}
}
