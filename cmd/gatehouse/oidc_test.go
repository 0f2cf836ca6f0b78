package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeMountsOIDC: serve mounts the OIDC provider next to discovery:
// the discovery document's issuer is the URL it is served from and its
// endpoints answer (an unknown client is a page at authorize, not a
// redirect; the token endpoint speaks RFC 6749 JSON with no-store).
func TestServeMountsOIDC(t *testing.T) {
	t.Parallel()
	m, _ := startDev(t, t.TempDir())
	pool := m.seed.Pool.ID
	issuer := m.Config.BaseURL + "/" + pool
	res, err := http.Get(issuer + "/.well-known/openid-configuration")
	must(t, err)
	var d map[string]any
	must(t, json.NewDecoder(res.Body).Decode(&d))
	res.Body.Close()
	if d["issuer"] != issuer || d["authorization_endpoint"] != issuer+"/oauth2/authorize" ||
		d["token_endpoint"] != issuer+"/oauth2/token" || d["userinfo_endpoint"] != issuer+"/oauth2/userInfo" ||
		d["end_session_endpoint"] != issuer+"/logout" {
		t.Fatalf("discovery %v", d)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Get(issuer + "/oauth2/authorize?" + url.Values{"client_id": {"nope"}, "response_type": {"code"},
		"redirect_uri": {"https://evil.example/cb"}}.Encode())
	must(t, err)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
		t.Fatalf("authorize with an unknown client: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, err = http.Post(issuer+"/oauth2/token", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "client_id": {m.seed.Client.ID}, "client_secret": {"wrong"}}.Encode()))
	must(t, err)
	var e map[string]any
	_ = json.NewDecoder(r.Body).Decode(&e)
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized || e["error"] != "invalid_client" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %v %q", r.StatusCode, e, r.Header.Get("Cache-Control"))
	}
}
