package forwardauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

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

// FuzzOriginalRequest feeds arbitrary original methods and URIs, in the
// nginx headers (X-Original-*) or the Traefik/Caddy ones (X-Forwarded-*):
// the answer is always 200, 401 or 403, and 200 only for what Alice may do
// (read Acme's documents, or the public /healthz), however the URI is
// encoded, and never for a path that a backend may read differently
// (";", "%3B", "%25", invalid UTF-8, compatibility forms of "." and "/").
// security.md G2 G3
func FuzzOriginalRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/companies/Acme/documents"}, {"GET", "/companies/Acme/documents/1?x=y"},
		{"GET", "/companies/Globex/documents"}, {"GET", "/companies/Acme/../Globex/documents"},
		{"GET", "/companies/Acme%2F..%2FGlobex/documents"}, {"DELETE", "/companies/Acme/documents/1"},
		{"HEAD", "/healthz"}, {"GET", "//evil/x"}, {"get", "/healthz"}, {"GET", "/companies/%41cme/documents"},
		{"GET", "/companies/Acme/documents/%2e%2e"}, {"GET", "/companies/Acme/./documents"},
		{"GET", "/healthz/..;/companies/Globex/documents"}, {"GET", "/companies/Acme;x/documents"},
		{"GET", "/companies/Acme/documents/1;jsessionid=2"}, {"GET", "/companies/Acme/documents/%3B"},
		{"GET", "/companies/Acme/documents/%252e%252e"}, {"GET", "/companies/Acme/documents/%c0%ae%c0%ae"},
		{"GET", "/companies/Acme/documents/%ef%bc%8e%ef%bc%8e"}, {"GET", "/companies/Acme./documents"},
		{"GET", "/companies/Acme/documents/..."}, {"GET", "/companies/Acme/documents/x%00"},
		{"GET", "/companies/%EF%BC%A1cme/documents"}, {"GET", "/companies/Acme/documents/%E2%80%A5"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	h := forwardauth.New(alwaysAlice{}, forwardauth.Options{Pools: map[string]forwardauth.Pool{"p1": {Policy: authz.MustPolicy(rules()...)}}})
	f.Fuzz(func(t *testing.T, method, uri string, forwarded bool) {
		r := httptest.NewRequest("GET", "/authz/check/p1", nil)
		if forwarded {
			r.Header["X-Forwarded-Method"] = []string{method}
			r.Header["X-Forwarded-Uri"] = []string{uri}
		} else {
			r.Header["X-Original-Method"] = []string{method}
			r.Header["X-Original-Uri"] = []string{uri}
		}
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
		raw := strings.ToLower(u.EscapedPath())
		if strings.ContainsAny(raw, ";\\") || strings.Contains(raw, "%3b") || strings.Contains(raw, "%25") || strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") {
			t.Fatalf("%q %q: ambiguous raw path allowed", method, uri)
		}
		if !utf8.ValidString(p) {
			t.Fatalf("%q %q: invalid UTF-8 path allowed", method, uri)
		}
		folded := norm.NFKC.String(p)
		for _, seg := range strings.Split(folded, "/") {
			if seg == "." || seg == ".." || strings.ContainsAny(seg, "\\;") {
				t.Fatalf("%q %q: path %q reads as %q to a backend that folds compatibility forms", method, uri, p, folded)
			}
		}
		if strings.Count(folded, "/") != strings.Count(p, "/") {
			t.Fatalf("%q %q: path %q reads as %q to a backend that folds compatibility forms", method, uri, p, folded)
		}
	})
}
