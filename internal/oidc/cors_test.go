package oidc_test

import (
	"net/http"
	"testing"
)

// TestCORS: browser apps may call token, userInfo and revoke from any
// origin (no credentials); authorize gets no CORS headers.
func TestCORS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, ep := range []string{"token", "userInfo", "revoke"} {
		req, _ := http.NewRequest("OPTIONS", e.issuer+"/oauth2/"+ep, nil)
		req.Header.Set("Origin", "https://spa.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s: %d %v", ep, res.StatusCode, res.Header)
		}
	}
	req, _ := http.NewRequest("OPTIONS", e.issuer+"/oauth2/authorize", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("authorize preflight answered with CORS: %d %v", res.StatusCode, res.Header)
	}
}
