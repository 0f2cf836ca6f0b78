package authz_test

import (
	"net/http"
	"net/http/httptest"
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
		{"GET", "/companies/Acme/documents/..%2e", who("Acme", "Users"), 200},
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
