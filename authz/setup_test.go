package authz_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/authz"
)

const (
	testClient = "client-1"
	testKID    = "kid-1"
)

// clock is an injected, settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a pool as seen from outside: a signing key, a JWKS endpoint that
// counts its fetches, and a Verifier for access tokens.
type env struct {
	t       testing.TB
	key     *ecdsa.PrivateKey
	clock   *clock
	issuer  string
	srv     *httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	jwks    []byte // what the endpoint serves
	v       *authz.Verifier
}

func setup(t testing.TB, mod ...func(*authz.Config)) *env {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, key: k, clock: &clock{t: time.Unix(1_800_000_000, 0)}}
	e.setKeys(map[string]any{testKID: &k.PublicKey})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool-1/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		e.fetches.Add(1)
		e.mu.Lock()
		b := e.jwks
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + "/pool-1"
	cfg := authz.Config{Issuer: e.issuer, ClientIDs: []string{testClient}, Now: e.clock.Now, HTTPClient: e.srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	e.v, err = authz.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// setKeys replaces the served JWKS with these public keys.
func (e *env) setKeys(keys map[string]any) {
	set := jose.JSONWebKeySet{}
	for kid, k := range keys {
		alg := "ES256"
		if _, ok := k.(*rsa.PublicKey); ok {
			alg = "RS256"
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		e.t.Fatal(err)
	}
	e.setJWKS(b)
}

func (e *env) setJWKS(b []byte) {
	e.mu.Lock()
	e.jwks = b
	e.mu.Unlock()
}

// accessClaims are valid access-token claims at the env's clock.
func (e *env) accessClaims() map[string]any {
	now := e.clock.Now().Unix()
	return map[string]any{
		"sub": "user-1", "token_use": "access", "iss": e.issuer, "client_id": testClient,
		"username": "user-1", "iat": now, "exp": now + 3600, "cognito:groups": []string{"Users"},
	}
}

// idClaims are valid ID-token claims at the env's clock.
func (e *env) idClaims() map[string]any {
	now := e.clock.Now().Unix()
	return map[string]any{
		"sub": "user-1", "token_use": "id", "iss": e.issuer, "aud": testClient, "email": "a@acme.test",
		"cognito:username": "user-1", "custom:company_name": "Acme", "iat": now, "exp": now + 3600,
		"cognito:groups": []string{"Managers"},
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64json(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// signES256 signs claims under header hdr (alg and kid default to ES256
// and testKID) with key k.
func signES256(t testing.TB, k *ecdsa.PrivateKey, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": "ES256", "kid": testKID, "typ": "JWT"}
	for n, v := range hdr {
		h[n] = v
	}
	input := b64json(t, h) + "." + b64json(t, claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
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
	return input + "." + b64(sig)
}

func signRS256(t testing.TB, k *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	input := b64json(t, map[string]any{"alg": "RS256", "kid": kid}) + "." + b64json(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func signHS256(t testing.TB, secret []byte, hdr, claims map[string]any) string {
	input := b64json(t, hdr) + "." + b64json(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func (e *env) token(claims map[string]any) string {
	return signES256(e.t, e.key, nil, claims)
}

func (e *env) verify(raw string) (*authz.Identity, error) {
	return e.v.Verify(context.Background(), raw)
}
