package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPoolDomainBarePaths: on a pool's own domain (Host in Pool.Domains)
// Cognito's bare /oauth2/... and /logout paths serve that pool; on any
// other host they are 404. The issuer in the tokens stays the configured one.
func TestPoolDomainBarePaths(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.pool.Domains = []string{"auth.acme.example"}
	p, err := e.svc.UpdatePool(context.Background(), e.pool)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = p
	post := func(host string) (int, string) {
		req, _ := http.NewRequest("POST", e.base+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.conf, e.confSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, b.String()
	}
	st, body := post("auth.acme.example:443")
	if st != 200 || !strings.Contains(body, "access_token") {
		t.Fatalf("on the pool domain: %d %s", st, body)
	}
	if st, _ := post("other.example"); st != 404 {
		t.Fatalf("on another host: %d", st)
	}
	b := newBrowser(t)
	_, ch := pkce()
	req, _ := http.NewRequest("GET", e.base+"/oauth2/authorize?"+url.Values{"client_id": {e.pub}, "response_type": {"code"},
		"redirect_uri": {rpCallback}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}.Encode(), nil)
	req.Host = "auth.acme.example"
	r := b.do(req)
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/"+e.pool.ID+"/login?") {
		t.Fatalf("authorize on the pool domain: %d %q", r.status, r.header.Get("Location"))
	}
}
