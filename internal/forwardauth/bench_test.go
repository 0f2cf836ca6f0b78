package forwardauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth/forwardauthtest"
)

// The benchmarks behind docs/benchmarks.md ("Forward auth"): decisions per
// second of the forward-auth endpoint without and with the verified-token
// cache, in-process and over loopback HTTP, next to the raw ES256
// verification rate of the same token measured in the same run. Each
// reports p50 and p99 latency per decision. Run with
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/forwardauth

// latencies records one duration per iteration and reports percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	pick := func(q float64) float64 { return float64(l[int(q*float64(len(l)-1))].Microseconds()) }
	b.ReportMetric(pick(0.50), "p50-µs")
	b.ReportMetric(pick(0.99), "p99-µs")
}

func benchGatehouse(b *testing.B, ttl time.Duration) (*forwardauthtest.Gatehouse, string) {
	g := forwardauthtest.Start(b, forwardauthtest.Options{Rules: rules(), CacheTTL: ttl})
	u := g.User(b, "alice@acme.test", "Acme", "Users")
	return g, u.Access
}

func BenchmarkDecision(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"nocache", 0}, {"cache", 5 * time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			g, tok := benchGatehouse(b, c.ttl)
			auth := "Bearer " + tok
			if w := check(g.Handler, g.Pool.ID, "GET", "/companies/Acme/documents/1", auth, nil); w.Code != 200 {
				b.Fatalf("check: %d", w.Code)
			}
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				w := check(g.Handler, g.Pool.ID, "GET", "/companies/Acme/documents/1", auth, nil)
				lat = append(lat, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("check: %d", w.Code)
				}
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

func BenchmarkDecisionHTTP(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"nocache", 0}, {"cache", 5 * time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			g, tok := benchGatehouse(b, c.ttl)
			client := &http.Client{}
			req, _ := http.NewRequest("GET", g.CheckURL, nil)
			req.Header.Set("X-Original-Method", "GET")
			req.Header.Set("X-Original-URI", "/companies/Acme/documents/1")
			req.Header.Set("Authorization", "Bearer "+tok)
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(t0))
				if res.StatusCode != 200 {
					b.Fatalf("check: %d", res.StatusCode)
				}
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// BenchmarkES256Verify is the floor: parsing a Gatehouse access token and
// checking its ES256 signature with the pool's public key, nothing else.
func BenchmarkES256Verify(b *testing.B) {
	g, tok := benchGatehouse(b, 0)
	jwks, err := g.Svc.JWKS(context.Background(), g.Pool.ID)
	if err != nil {
		b.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
		b.Fatalf("jwks: %v", err)
	}
	key := set.Keys[0].Key
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.Verify(key); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	lat.report(b)
}

// BenchmarkAuthzVerify is the importable verifier (JWKS cached): every
// check of authz.Verifier.Verify on the same token.
func BenchmarkAuthzVerify(b *testing.B) {
	g, tok := benchGatehouse(b, 0)
	v, err := authz.NewVerifier(authz.Config{Issuer: g.Issuer, ClientIDs: []string{g.ClientID}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	lat.report(b)
}
