package authz_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/authz"
)

func TestVerifyAccessToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	id, err := e.verify(e.token(e.accessClaims()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Sub != "user-1" || id.Username != "user-1" || id.ClientID != testClient || id.TokenUse != "access" ||
		!id.InGroup("Users") || id.InGroup("Admins") || id.Claims["sub"] != "user-1" {
		t.Fatalf("identity %+v", id)
	}
}

func TestVerifyIDToken(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *authz.Config) { c.TokenUse = authz.TokenUseID })
	id, err := e.verify(e.token(e.idClaims()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Company != "Acme" || id.Email != "a@acme.test" || id.Username != "user-1" || id.ClientID != testClient ||
		!id.InGroup("Managers") || id.Claim("custom:company_name") != "Acme" {
		t.Fatalf("identity %+v", id)
	}
	// aud as an array naming the client is accepted too.
	c := e.idClaims()
	c["aud"] = []string{"other", testClient}
	if _, err := e.verify(e.token(c)); err != nil {
		t.Fatalf("aud array: %v", err)
	}
}

func TestVerifyRS256(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.setKeys(map[string]any{testKID: &e.key.PublicKey, "rsa-1": &rk.PublicKey})
	if _, err := e.verify(signRS256(t, rk, "rsa-1", e.accessClaims())); err != nil {
		t.Fatalf("RS256: %v", err)
	}
	// An RS256 token naming the ES256 key: alg does not match the key.
	if _, err := e.verify(signRS256(t, rk, testKID, e.accessClaims())); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("RS256 under an ES256 kid: %v", err)
	}
}

// attacks lists tokens that must be refused with ErrInvalidToken.
func attacks(t testing.TB, e *env) map[string]string {
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := e.accessClaims()
	with := func(n string, v any) map[string]any {
		m := e.accessClaims()
		if v == nil {
			delete(m, n)
		} else {
			m[n] = v
		}
		return m
	}
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: &e.key.PublicKey, KeyID: testKID, Algorithm: "ES256", Use: "sig"})
	attackerJWK := jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: testKID, Algorithm: "ES256"}
	now := e.clock.Now().Unix()
	idc := e.idClaims()
	return map[string]string{
		"alg none":                  b64json(t, map[string]any{"alg": "none", "kid": testKID}) + "." + b64json(t, c) + ".",
		"alg none no kid":           b64json(t, map[string]any{"alg": "none"}) + "." + b64json(t, c) + ".",
		"HS256 with the public key": signHS256(t, pubJWK, map[string]any{"alg": "HS256", "kid": testKID}, c),
		"HS256 with the JWKS":       signHS256(t, e.jwks, map[string]any{"alg": "HS256", "kid": testKID}, c),
		"unknown kid":               signES256(t, attacker, map[string]any{"kid": "kid-2"}, c),
		"path-like kid":             signES256(t, attacker, map[string]any{"kid": "../../../../etc/passwd"}, c),
		"url kid":                   signES256(t, attacker, map[string]any{"kid": e.srv.URL + "/evil.json"}, c),
		"huge kid":                  signES256(t, attacker, map[string]any{"kid": strings.Repeat("k", 10000)}, c),
		"no kid":                    signES256(t, e.key, map[string]any{"kid": ""}, c),
		"jku":                       signES256(t, attacker, map[string]any{"jku": e.srv.URL + "/evil.json"}, c),
		"x5u":                       signES256(t, attacker, map[string]any{"x5u": e.srv.URL + "/evil.pem"}, c),
		"jwk":                       signES256(t, attacker, map[string]any{"jwk": attackerJWK}, c),
		"crit":                      signES256(t, e.key, map[string]any{"crit": []string{"exp"}}, c),
		"bad signature":             signES256(t, attacker, nil, c),
		"expired":                   e.token(with("exp", now)),
		"expired long ago":          e.token(with("exp", now-86400)),
		"no exp":                    e.token(with("exp", nil)),
		"exp as string":             e.token(with("exp", "9999999999")),
		"not yet valid":             e.token(with("nbf", now+3600)),
		"issued in the future":      e.token(with("iat", now+3600)),
		"wrong issuer":              e.token(with("iss", e.issuer+"x")),
		"no issuer":                 e.token(with("iss", nil)),
		"wrong client":              e.token(with("client_id", "client-2")),
		"no client":                 e.token(with("client_id", nil)),
		"no sub":                    e.token(with("sub", nil)),
		"id token as access token":  e.token(idc),
		"no token_use":              e.token(with("token_use", nil)),
		"100000 dots":               strings.Repeat(".", 100000),
		"two dots":                  "..",
		"four parts":                e.token(c) + ".x",
		"1 MB header":               b64(make([]byte, 1<<20)) + "." + b64json(t, c) + ".sig",
		"1 MB payload":              b64json(t, map[string]any{"alg": "ES256", "kid": testKID}) + "." + strings.Repeat("A", 1<<20) + ".sig",
		"payload not an object":     signES256(t, e.key, nil, nil) + "",
		"empty":                     "",
		"garbage":                   "not a token",
		"JSON serialization":        `{"payload":"` + b64json(t, c) + `","signatures":[]}`,
	}
}

func TestVerifyRefusesAttacks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for name, raw := range attacks(t, e) {
		t.Run(name, func(t *testing.T) {
			id, err := e.verify(raw)
			if !errors.Is(err, authz.ErrInvalidToken) || id != nil {
				t.Fatalf("got %v, %v; want ErrInvalidToken", id, err)
			}
		})
	}
}

// TestVerifyAttacksBoundedMemory checks that the largest inputs cost
// (almost) nothing: they are refused before being decoded.
func TestVerifyAttacksBoundedMemory(t *testing.T) {
	e := setup(t)
	all := attacks(t, e)
	for _, name := range []string{"100000 dots", "1 MB header", "1 MB payload"} {
		raw := all[name]
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := 0; i < 10; i++ {
			if _, err := e.verify(raw); err == nil {
				t.Fatal("accepted")
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 4<<10 {
			t.Errorf("%s: %d bytes allocated per refusal, want < 4 KiB", name, per)
		}
	}
}

func TestUnknownKIDRefetchIsRateLimited(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if _, err := e.verify(e.token(e.accessClaims())); err != nil {
		t.Fatal(err)
	}
	if n := e.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	// A rotation: the pool publishes a second key and signs with it.
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e.setKeys(map[string]any{testKID: &e.key.PublicKey, "kid-2": &k2.PublicKey})
	e.clock.Add(authz.DefaultRefreshInterval)
	if _, err := e.verify(signES256(t, k2, map[string]any{"kid": "kid-2"}, e.accessClaims())); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := e.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// A flood of unknown kids costs at most one fetch per interval.
	for i := 0; i < 100; i++ {
		raw := signES256(t, k2, map[string]any{"kid": "nope-" + string(rune('a'+i%26))}, e.accessClaims())
		if _, err := e.verify(raw); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := e.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the flood within the interval, want 2", n)
	}
	e.clock.Add(authz.DefaultRefreshInterval)
	e.verify(signES256(t, k2, map[string]any{"kid": "nope"}, e.accessClaims()))
	if n := e.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after the interval, want 3", n)
	}
	// Known keys keep verifying without fetching.
	for i := 0; i < 10; i++ {
		if _, err := e.verify(e.token(e.accessClaims())); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	// After KeysTTL the set is fetched again; a removed key stops working.
	e.setKeys(map[string]any{"kid-2": &k2.PublicKey})
	e.clock.Add(authz.DefaultKeysTTL)
	if _, err := e.verify(e.token(e.accessClaims())); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("removed key: %v", err)
	}
}

func TestJWKSBounds(t *testing.T) {
	t.Parallel()
	many := func(n int) []byte {
		set := jose.JSONWebKeySet{}
		for i := 0; i < n; i++ {
			k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			kid := testKID
			if i > 0 {
				kid = "k" + strings.Repeat("x", i)
			}
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256"})
		}
		b, _ := json.Marshal(set)
		return b
	}
	tests := []struct {
		name string
		jwks []byte
	}{
		{"too large", []byte(`{"keys":[],"pad":"` + strings.Repeat("x", authz.DefaultMaxJWKSSize) + `"}`)},
		{"too many keys", many(authz.DefaultMaxKeys + 1)},
		{"not JSON", []byte(`<html>`)},
		{"no keys member", []byte(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.setJWKS(tt.jwks)
			if _, err := e.verify(e.token(e.accessClaims())); !errors.Is(err, authz.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("unusable keys skipped", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: small.Public(), KeyID: "small", Algorithm: "RS256"},
			{Key: &p384.PublicKey, KeyID: "p384", Algorithm: "ES384"},
			{Key: e.key, KeyID: "private"}, // a private key is never used
			{Key: []byte("secret"), KeyID: "oct"},
			{Key: &e.key.PublicKey, KeyID: testKID, Algorithm: "ES256", Use: "sig"},
		}}
		b, err := json.Marshal(set)
		if err != nil {
			t.Fatal(err)
		}
		e.setJWKS(b)
		if _, err := e.verify(e.token(e.accessClaims())); err != nil {
			t.Fatalf("good key among unusable ones: %v", err)
		}
		if _, err := e.verify(signRS256(t, small, "small", e.accessClaims())); !errors.Is(err, authz.ErrInvalidToken) {
			t.Fatalf("1024-bit RSA key: %v", err)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		redir := httptest.NewServer(http.RedirectHandler(e.srv.URL+"/pool-1/.well-known/jwks.json", http.StatusFound))
		t.Cleanup(redir.Close)
		v, err := authz.NewVerifier(authz.Config{Issuer: e.issuer, JWKSURL: redir.URL, ClientIDs: []string{testClient}, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), e.token(e.accessClaims())); !errors.Is(err, authz.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
	t.Run("unreachable, then back", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.setJWKS([]byte("oops"))
		if _, err := e.verify(e.token(e.accessClaims())); !errors.Is(err, authz.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
		e.setKeys(map[string]any{testKID: &e.key.PublicKey})
		e.clock.Add(authz.DefaultRefreshInterval)
		if _, err := e.verify(e.token(e.accessClaims())); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
}

func TestNewVerifierConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []authz.Config{
		{},
		{Issuer: "https://id.example/p"},
		{Issuer: "id.example/p", ClientIDs: []string{"c"}},
		{Issuer: "https://id.example/p", ClientIDs: []string{"c"}, TokenUse: "refresh"},
	} {
		if _, err := authz.NewVerifier(c); err == nil {
			t.Errorf("NewVerifier(%+v) accepted", c)
		}
	}
}

func TestExpiryWithInjectedClock(t *testing.T) {
	t.Parallel()
	e := setup(t)
	raw := e.token(e.accessClaims())
	if _, err := e.verify(raw); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour - time.Second)
	if _, err := e.verify(raw); err != nil {
		t.Fatalf("one second before exp: %v", err)
	}
	e.clock.Add(time.Second)
	if _, err := e.verify(raw); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("at exp: %v", err)
	}
}

// TestKnownKeysDoNotWaitForAFetch: while a slow JWKS fetch (triggered by
// an unknown kid) is in flight, tokens with known kids still verify.
func TestKnownKeysDoNotWaitForAFetch(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var blocking atomic.Bool
	e := setup(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blocking.Load() {
			<-gate
		}
		e.mu.Lock()
		b := e.jwks
		e.mu.Unlock()
		w.Write(b)
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})
	v, err := authz.NewVerifier(authz.Config{Issuer: e.issuer, JWKSURL: slow.URL, ClientIDs: []string{testClient}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	good := e.token(e.accessClaims())
	if _, err := v.Verify(t.Context(), good); err != nil {
		t.Fatal(err)
	}
	blocking.Store(true)
	e.clock.Add(authz.DefaultRefreshInterval)
	unknown := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), signES256(t, e.key, map[string]any{"kid": "kid-new"}, e.accessClaims()))
		unknown <- err
	}()
	// Known kid: answered while the fetch above may still be blocked.
	for i := 0; i < 20; i++ {
		if _, err := v.Verify(t.Context(), good); err != nil {
			t.Fatalf("known kid during a fetch: %v", err)
		}
	}
	close(gate)
	if err := <-unknown; !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("unknown kid: %v", err)
	}
}
