package oidc_test

import (
	"context"
	"encoding/json"
	"html"
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
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/login?") {
		t.Fatalf("authorize on the pool domain: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestPoolDomainCodeFlowOnBarePaths: a relying party sends the browser to
// Cognito's /login?client_id=&response_type=code&... on the pool's
// domain; authorize, the sign-in page, its form post and the way back all
// stay on bare paths of that domain; the code is exchanged at the bare
// /oauth2/token and the tokens name the configured issuer.
func TestPoolDomainCodeFlowOnBarePaths(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.pool.Domains = []string{"auth.acme.example"}
	p, err := e.svc.UpdatePool(context.Background(), e.pool)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = p
	b := newBrowser(t)
	onDomain := func(method, path string, form url.Values) resp {
		t.Helper()
		var req *http.Request
		if form != nil {
			req, _ = http.NewRequest(method, e.base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, e.base+path, nil)
		}
		req.Host = "auth.acme.example"
		r := b.do(req)
		if strings.Contains(r.body, "/"+e.pool.ID+"/") || strings.Contains(r.header.Get("Location"), "/"+e.pool.ID+"/") ||
			strings.Contains(r.header.Get("Location"), "auth.acme.example") {
			t.Fatalf("%s %s leaves the bare paths: %d %q %s", method, path, r.status, r.header.Get("Location"), r.body)
		}
		return r
	}
	verifier, ch := pkce()
	next := "/login?" + url.Values{"client_id": {e.pub}, "response_type": {"code"}, "redirect_uri": {rpCallback},
		"scope": {"openid email"}, "state": {"xyz"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}.Encode()
	var code string
	for i := 0; i < 8 && code == ""; i++ {
		r := onDomain("GET", next, nil)
		switch {
		case r.status == http.StatusFound:
			loc := r.header.Get("Location")
			if strings.HasPrefix(loc, rpCallback) {
				u, _ := url.Parse(loc)
				if u.Query().Get("state") != "xyz" {
					t.Fatalf("state lost: %s", loc)
				}
				code = u.Query().Get("code")
				continue
			}
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("redirect off the domain: %s", loc)
			}
			next = loc
		case r.status == http.StatusOK && strings.Contains(r.body, `name="password"`):
			a := actionRE.FindStringSubmatch(r.body)
			if a == nil || a[1] != "/login" {
				t.Fatalf("sign-in form action: %v", a)
			}
			form := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
				form.Set(m[1], html.UnescapeString(m[2]))
			}
			if !strings.HasPrefix(form.Get("return_to"), "/oauth2/authorize?") {
				t.Fatalf("return_to on the domain: %q", form.Get("return_to"))
			}
			form.Set("username", userEmail)
			form.Set("password", userPW)
			pr := onDomain("POST", "/login", form)
			if pr.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", pr.status, pr.body)
			}
			next = pr.header.Get("Location")
		default:
			t.Fatalf("GET %s: %d %s", next, r.status, r.body)
		}
	}
	if code == "" {
		t.Fatal("no code")
	}
	r := onDomain("POST", "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.pub},
		"redirect_uri": {rpCallback}, "code_verifier": {verifier}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "id_token") {
		t.Fatalf("token on the domain: %d %s", r.status, r.body)
	}
	var toks map[string]any
	if err := json.Unmarshal([]byte(r.body), &toks); err != nil {
		t.Fatal(err)
	}
	if iss := jwtClaims(t, toks["id_token"].(string))["iss"]; iss != e.issuer {
		t.Fatalf("iss %v, want the configured issuer %s", iss, e.issuer)
	}

	// identity_provider: the provider calls back to the issuer, so the
	// federated sign-in starts there (configuration, never the Host).
	_, ch = pkce()
	req, _ := http.NewRequest("GET", e.base+"/oauth2/authorize?"+url.Values{"client_id": {e.pub}, "response_type": {"code"},
		"redirect_uri": {rpCallback}, "code_challenge": {ch}, "code_challenge_method": {"S256"}, "identity_provider": {"corp"}}.Encode(), nil)
	req.Host = "auth.acme.example"
	fr := newBrowser(t).do(req)
	loc, _ := url.Parse(fr.header.Get("Location"))
	if fr.status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), e.issuer+"/federation/corp?") ||
		!strings.HasPrefix(loc.Query().Get("return_to"), "/"+e.pool.ID+"/oauth2/authorize?") {
		t.Fatalf("identity_provider on the pool domain: %d %q", fr.status, fr.header.Get("Location"))
	}
}
