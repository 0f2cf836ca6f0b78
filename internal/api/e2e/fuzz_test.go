package e2e_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestBodies sends arbitrary bodies to routes of each kind through
// the whole stack (middleware, decoding, the real Service, SQLite): the
// answer is never a 5xx, and every 4xx is a well-formed problem. The seed
// corpus runs with go test; go test -fuzz=FuzzRequestBodies explores.
func FuzzRequestBodies(f *testing.F) {
	e := setup(f)
	poolID, clientID := e.newPool("fuzz")
	routes := []struct{ method, path, authz string }{
		{"POST", "/api/v1/auth/sign-up", ""},
		{"POST", "/api/v1/auth/sign-in", ""},
		{"POST", "/api/v1/auth/confirm-sign-up", ""},
		{"POST", "/api/v1/auth/refresh", ""},
		{"POST", "/api/v1/auth/challenge", ""},
		{"PATCH", "/api/v1/pools/" + poolID, "Bearer " + e.adminKey},
		{"POST", "/api/v1/pools/" + poolID + "/users", "Bearer " + e.adminKey},
		{"POST", "/api/v1/pools/" + poolID + "/groups", "Bearer " + e.adminKey},
	}
	for _, s := range []string{
		`{"client_id":"` + clientID + `","username":"a@example.test","password":"` + goodPassword + `"}`,
		`{"client_id":"` + clientID + `","username":"","password":""}`,
		`{"client_id":"` + clientID + `","username":"a@b","password":"x","attributes":{"custom:x":"1"}}`,
		`{"client_id":"` + clientID + `","refresh_token":"` + strings.Repeat("A", 300) + `"}`,
		`{"client_id":"` + clientID + `","challenge_name":"NEW_PASSWORD_REQUIRED","session":"x.y.z","responses":{}}`,
		`{"name":"` + strings.Repeat("n", 300) + `","password_policy":{"minimum_length":-1}}`,
		`{"username":"\u0000","attributes":{"email":"\u202e@x"}}`,
		`{"token_lifetimes":{"access_token_seconds":9223372036854775807}}`,
		`{"name":"g","precedence":-5}`,
		`{`, `[]`, `null`, ``, `{"a":1}`,
	} {
		for i := range routes {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rt := routes[int(route)%len(routes)]
		req, err := http.NewRequest(rt.method, e.srv.URL+rt.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if rt.authz != "" {
			req.Header.Set("Authorization", rt.authz)
		}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s with %q: %d", rt.method, rt.path, body, res.StatusCode)
		}
		if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %s with %q: %d without a problem", rt.method, rt.path, body, res.StatusCode)
		}
	})
}
