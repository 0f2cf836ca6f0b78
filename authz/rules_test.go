package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
)

// article003 are the document app's rules: Users read; Managers create and
// update; Admins everything; always within the caller's own company.
func article003() *authz.Policy {
	company := []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}
	return authz.MustPolicy(
		authz.Rule{Methods: []string{"GET"}, Path: "/healthz", Public: true},
		authz.Rule{Methods: []string{"GET"}, Path: "/companies/{company}/documents", Groups: []string{"Users", "Managers", "Admins"}, Claims: company},
		authz.Rule{Methods: []string{"GET"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Users", "Managers", "Admins"}, Claims: company},
		authz.Rule{Methods: []string{"POST"}, Path: "/companies/{company}/documents", Groups: []string{"Managers", "Admins"}, Claims: company},
		authz.Rule{Methods: []string{"PUT"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Managers", "Admins"}, Claims: company},
		authz.Rule{Methods: []string{"DELETE"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Admins"}, Claims: company},
		authz.Rule{Methods: []string{"GET"}, Path: "/me"},
	)
}

func who(company string, groups ...string) *authz.Identity {
	gs := []any{}
	for _, g := range groups {
		gs = append(gs, g)
	}
	return &authz.Identity{Sub: "s", Groups: groups, Company: company,
		Claims: map[string]any{"sub": "s", "custom:company_name": company, "cognito:groups": gs}}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	p := article003()
	tests := []struct {
		method, path string
		id           *authz.Identity
		want         int
	}{
		{"GET", "/healthz", nil, 200},
		{"HEAD", "/healthz", nil, 200},
		{"POST", "/healthz", nil, 403},
		{"GET", "/me", nil, 401},
		{"GET", "/me", who(""), 200},
		{"GET", "/nowhere", nil, 403},
		{"GET", "/nowhere", who("Acme", "Admins"), 403},
		{"GET", "/companies/Acme/documents", nil, 401},
		{"GET", "/companies/Acme/documents", who("Acme", "Users"), 200},
		{"GET", "/companies/Acme/documents", who("Acme"), 403},
		{"GET", "/companies/Globex/documents", who("Acme", "Users"), 403},
		{"GET", "/companies/Globex/documents", who("Acme", "Admins"), 403},
		{"GET", "/companies/Acme/documents/1", who("Acme", "Users"), 200},
		{"GET", "/companies/acme/documents/1", who("Acme", "Users"), 403},
		{"GET", "/companies/Ac%6De/documents/1", who("Acme", "Users"), 200},
		{"GET", "/companies/Acme%2F..%2FGlobex/documents/1", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/../Globex/documents/1", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme//documents/1", who("Acme", "Users"), 403},
		{"GET", "/companies//documents/1", who("", "Users"), 403},
		{"GET", "/companies/Acme/documents/%2e%2e", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/documents/%2E", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/documents/x%2f..%2f..%2fGlobex", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/documents/x%5c..", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/documents/a%00b", who("Acme", "Users"), 403},
		{"GET", "/companies/Acme/documents/a%20b", who("Acme", "Users"), 200},
		{"GET", "/companies/Acme/documents/..%2e", who("Acme", "Users"), 403}, // "..." is ".." or "" to some backends
		{"POST", "/companies/Acme/documents", who("Acme", "Users"), 403},
		{"POST", "/companies/Acme/documents", who("Acme", "Managers"), 200},
		{"PUT", "/companies/Acme/documents/1", who("Acme", "Managers"), 200},
		{"DELETE", "/companies/Acme/documents/1", who("Acme", "Managers"), 403},
		{"DELETE", "/companies/Acme/documents/1", who("Acme", "Users"), 403},
		{"DELETE", "/companies/Acme/documents/1", who("Acme", "Admins"), 200},
		{"DELETE", "/companies/Globex/documents/1", who("Acme", "Admins"), 403},
		{"PATCH", "/companies/Acme/documents/1", who("Acme", "Admins"), 403},
		{"GET", "/companies/Acme/documents/1/extra", who("Acme", "Admins"), 403},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if d := p.Check(r, tt.id); d.Status != tt.want {
			t.Errorf("%s %s as %+v: %d (%s), want %d", tt.method, tt.path, tt.id, d.Status, d.Reason, tt.want)
		}
	}
}

func TestPolicyClaimTypes(t *testing.T) {
	t.Parallel()
	p := authz.MustPolicy(authz.Rule{Path: "/x", Claims: []authz.Condition{{Claim: "email_verified", Equals: "true"}}})
	r := httptest.NewRequest("GET", "/x", nil)
	for v, want := range map[any]int{true: 200, false: 403, "true": 200, 1.0: 403} {
		id := &authz.Identity{Claims: map[string]any{"email_verified": v}}
		if d := p.Check(r, id); d.Status != want {
			t.Errorf("email_verified=%#v: %d, want %d", v, d.Status, want)
		}
	}
	if d := p.Check(r, &authz.Identity{}); d.Status != 403 {
		t.Errorf("absent claim: %d", d.Status)
	}
}

func TestNewPolicyErrors(t *testing.T) {
	t.Parallel()
	bad := map[string][]authz.Rule{
		"relative path":       {{Path: "docs"}},
		"method in path":      {{Path: "GET /docs"}},
		"unknown method":      {{Methods: []string{"BREW"}, Path: "/docs"}},
		"public with groups":  {{Path: "/docs", Public: true, Groups: []string{"A"}}},
		"public with mfa":     {{Path: "/docs", Public: true, RequireMFA: true}},
		"condition no claim":  {{Path: "/d/{x}", Claims: []authz.Condition{{PathValue: "x"}}}},
		"condition both":      {{Path: "/d/{x}", Claims: []authz.Condition{{Claim: "c", Equals: "a", PathValue: "x"}}}},
		"condition neither":   {{Path: "/d/{x}", Claims: []authz.Condition{{Claim: "c"}}}},
		"unknown path value":  {{Path: "/d/{x}", Claims: []authz.Condition{{Claim: "c", PathValue: "y"}}}},
		"duplicate":           {{Path: "/d", Methods: []string{"GET"}}, {Path: "/d", Methods: []string{"GET"}}},
		"conflicting":         {{Path: "/a/{x}", Methods: []string{"GET"}}, {Path: "/{y}/b", Methods: []string{"GET"}}},
		"bad wildcard syntax": {{Path: "/d/{x"}},
	}
	for name, rules := range bad {
		if _, err := authz.NewPolicy(rules); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var nilPolicy *authz.Policy
	if d := nilPolicy.Check(httptest.NewRequest("GET", "/", nil), nil); d.Status != http.StatusForbidden {
		t.Errorf("nil policy: %d", d.Status)
	}
}

// hostile is a policy with a public subtree, everything else public, an admin subtree,
// a company-bound route, and a route whose backend reads ;parameters
// (a servlet container), to show what each hostile path could reach.
func hostile() *authz.Policy {
	company := []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}
	return authz.MustPolicy(
		authz.Rule{Methods: []string{"GET"}, Path: "/public/", Public: true},
		authz.Rule{Methods: []string{"GET"}, Path: "/", Public: true},
		authz.Rule{Methods: []string{"GET"}, Path: "/admin/", Groups: []string{"Admins"}},
		authz.Rule{Methods: []string{"GET"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Users"}, Claims: company},
		authz.Rule{Methods: []string{"GET"}, Path: "/java/{company}/reports", Groups: []string{"Users"}, Claims: company, MatrixParams: true},
	)
}

// TestHostilePaths: paths that a backend may resolve to another resource
// than the rule engine sees are refused; the table gives the answer for
// each normalisation ambiguity. security.md G2
func TestHostilePaths(t *testing.T) {
	t.Parallel()
	p := hostile()
	user, admin := who("Acme", "Users"), who("Acme", "Admins")
	inc := who("Acme Inc.", "Users")
	tests := []struct {
		name, path string
		id         *authz.Identity
		want       int
	}{
		// Baselines.
		{"public", "/public/x", nil, 200},
		{"public page", "/about", nil, 200},
		{"admin as user", "/admin/x", user, 403},
		{"admin as admin", "/admin/x", admin, 200},
		{"own company", "/companies/Acme/documents/1", user, 200},
		{"query is not the path", "/public/x?a=..;/admin/x", nil, 200},
		// Matrix parameters (Tomcat, Jetty, Spring strip ";..." from each segment).
		{"matrix dot-dot", "/public/..;/admin/x", nil, 403},
		{"matrix dot-dot with value", "/public/..;x=1/admin/x", nil, 403},
		{"matrix on a segment", "/public/x;y", nil, 403},
		{"matrix on the admin segment", "/admin;x/y", admin, 403},
		{"encoded dot-dot matrix", "/public/%2e%2e;/admin/x", nil, 403},
		{"encoded semicolon", "/public/a%3Bb", nil, 403},
		{"encoded semicolon lower case", "/public/a%3bb", nil, 403},
		// A rule that allows matrix parameters decides on the path without them.
		{"allowed matrix", "/java/Acme;jsessionid=1/reports", user, 200},
		{"allowed matrix, empty", "/java/Acme;/reports", user, 200},
		{"allowed matrix, last segment", "/java/Acme/reports;v=2", user, 200},
		{"allowed matrix, other company", "/java/Globex;x=Acme/reports", user, 403},
		{"allowed matrix, dot-dot", "/java/..;/admin/x", admin, 403},
		{"allowed matrix, encoded semicolon", "/java/Acme%3B/reports", user, 403},
		{"allowed matrix, hides a segment", "/java/Acme;a/b/reports", user, 403},
		// Dot segments, encoded or not, in any case of the escape.
		{"dot-dot", "/public/../admin/x", nil, 403},
		{"encoded dot-dot", "/public/%2e%2e/admin/x", nil, 403},
		{"encoded dot-dot upper case", "/public/%2E%2E/admin/x", nil, 403},
		{"half-encoded dot-dot", "/public/.%2E/admin/x", nil, 403},
		{"dot", "/public/./x", nil, 403},
		{"double-encoded dot-dot", "/public/%252e%252e/admin/x", nil, 403},
		{"encoded percent", "/public/100%25", nil, 403},
		{"overlong UTF-8 dot-dot", "/public/%c0%ae%c0%ae/admin/x", nil, 403},
		{"overlong UTF-8 slash", "/public/x%c0%afadmin", nil, 403},
		{"invalid UTF-8", "/public/%ff", nil, 403},
		{"fullwidth dot-dot", "/public/%ef%bc%8e%ef%bc%8e/admin/x", nil, 403},
		{"two-dot leader", "/public/%e2%80%a5/admin/x", nil, 403},
		{"fullwidth solidus", "/public/..%ef%bc%8fadmin/x", nil, 403},
		{"fullwidth reverse solidus", "/public/x%ef%bc%bcadmin", nil, 403},
		{"fullwidth letters select another rule", "/%ef%bd%81dmin/x", nil, 403},
		{"fullwidth letters, same rule", "/%ef%bd%81bout", nil, 200},
		// Slashes and backslashes.
		{"double slash", "/public//admin/x", nil, 403},
		{"encoded slash", "/public/x%2F..%2F..%2Fadmin", nil, 403},
		{"encoded slash lower case", "/public/x%2f..%2f..%2fadmin", nil, 403},
		{"backslash", "/public/x\\..\\..\\admin", nil, 403},
		{"encoded backslash", "/public/x%5c..%5cadmin", nil, 403},
		// Control characters.
		{"NUL", "/public/x%00", nil, 403},
		{"NUL before an extension", "/public/admin%00.png", nil, 403},
		{"CR LF", "/public/x%0d%0aX-Auth-Sub:%20root", nil, 403},
		{"DEL", "/public/x%7f", nil, 403},
		// Trailing dots and spaces (Windows strips them): refused where
		// the stripped path selects another rule or empties a segment.
		{"trailing dot selects another rule", "/admin./x", nil, 403},
		{"trailing dots select another rule", "/admin../x", nil, 403},
		{"trailing space selects another rule", "/admin%20/x", nil, 403},
		{"dots only", "/public/...", nil, 403},
		{"encoded dots only", "/public/..%2e", nil, 403},
		{"trailing dot, same rule", "/about.", nil, 200},
		{"company ending in a dot", "/companies/Acme%20Inc./documents/1", inc, 200},
		{"trailing dot is another company", "/companies/Acme./documents/1", user, 403},
		// Percent-encoding of unreserved characters means the same thing
		// to every backend: decided on the decoded path.
		{"encoded letter", "/companies/Ac%6De/documents/1", user, 200},
		{"encoded letter upper case", "/companies/Ac%6de/documents/1", user, 200},
		{"encoded space", "/public/a%20b", nil, 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		u, err := url.ParseRequestURI(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		r.URL = u
		if d := p.Check(r, tt.id); d.Status != tt.want {
			t.Errorf("%s: GET %s: %d (%s), want %d", tt.name, tt.path, d.Status, d.Reason, tt.want)
		}
	}
}
