package forwardauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// alwaysAlice authenticates every token as Alice, a User of Acme.
type alwaysAlice struct{}

func (alwaysAlice) AuthenticateAccessTokenFor(context.Context, string, string) (*identity.Pool, *identity.User, map[string]any, error) {
	return &identity.Pool{ID: "p1"},
		&identity.User{PoolID: "p1", Sub: "alice", Email: "alice@acme.test", Enabled: true, Attributes: map[string]string{"custom:company_name": "Acme"}},
		map[string]any{"sub": "alice", "token_use": "access", "cognito:groups": []any{"Users"}, "exp": 1e10},
		nil
}

// FuzzOriginalRequest feeds arbitrary original methods and URIs: the
// answer is always 200, 401 or 403, and 200 only for what Alice may do
// (read Acme's documents, or the public /healthz), however the URI is
// encoded.
func FuzzOriginalRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/companies/Acme/documents"}, {"GET", "/companies/Acme/documents/1?x=y"},
		{"GET", "/companies/Globex/documents"}, {"GET", "/companies/Acme/../Globex/documents"},
		{"GET", "/companies/Acme%2F..%2FGlobex/documents"}, {"DELETE", "/companies/Acme/documents/1"},
		{"HEAD", "/healthz"}, {"GET", "//evil/x"}, {"get", "/healthz"}, {"GET", "/companies/%41cme/documents"},
		{"GET", "/companies/Acme/documents/%2e%2e"}, {"GET", "/companies/Acme/./documents"},
	} {
		f.Add(s[0], s[1])
	}
	h := forwardauth.New(alwaysAlice{}, forwardauth.Options{Pools: map[string]forwardauth.Pool{"p1": {Policy: authz.MustPolicy(rules()...)}}})
	f.Fuzz(func(t *testing.T, method, uri string) {
		r := httptest.NewRequest("GET", "/authz/check/p1", nil)
		r.Header["X-Original-Method"] = []string{method}
		r.Header["X-Original-Uri"] = []string{uri}
		r.Header.Set("Authorization", "Bearer t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusUnauthorized, http.StatusForbidden:
			return
		case http.StatusOK:
		default:
			t.Fatalf("%q %q: status %d", method, uri, w.Code)
		}
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			t.Fatalf("%q %q allowed but does not parse", method, uri)
		}
		if method != "GET" && method != "HEAD" {
			t.Fatalf("%q %q allowed", method, uri)
		}
		p := u.Path
		if p != "/healthz" && p != "/companies/Acme/documents" && !(strings.HasPrefix(p, "/companies/Acme/documents/") && !strings.Contains(p[len("/companies/Acme/documents/"):], "/") && len(p) > len("/companies/Acme/documents/")) {
			t.Fatalf("%q %q (path %q) allowed", method, uri, p)
		}
		if strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") || strings.Contains(p, "/./") {
			t.Fatalf("%q %q (path %q): unclean path allowed", method, uri, p)
		}
	})
}
