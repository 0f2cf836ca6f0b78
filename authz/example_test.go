package authz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-id/gatehouse/authz"
)

// A policy with article 003's rules: Users read, Managers create and
// update, Admins everything, each only within their own company.
func ExamplePolicy() {
	company := []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}
	policy := authz.MustPolicy(
		authz.Rule{Methods: []string{"GET"}, Path: "/companies/{company}/documents/{id}",
			Groups: []string{"Users", "Managers", "Admins"}, Claims: company},
		authz.Rule{Methods: []string{"DELETE"}, Path: "/companies/{company}/documents/{id}",
			Groups: []string{"Admins"}, Claims: company},
	)
	alice := &authz.Identity{Sub: "alice", Groups: []string{"Users"},
		Claims: map[string]any{"custom:company_name": "Acme"}}

	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/companies/Acme/documents/42", nil),
		httptest.NewRequest("GET", "/companies/Globex/documents/42", nil),
		httptest.NewRequest("DELETE", "/companies/Acme/documents/42", nil),
	} {
		d := policy.Check(r, alice)
		fmt.Println(r.Method, r.URL.Path, d.Status)
	}
	fmt.Println("anonymous:", policy.Check(httptest.NewRequest("GET", "/companies/Acme/documents/42", nil), nil).Status)
	// Output:
	// GET /companies/Acme/documents/42 200
	// GET /companies/Globex/documents/42 403
	// DELETE /companies/Acme/documents/42 403
	// anonymous: 401
}

// Protecting a handler: the verified identity is in the request context.
func ExampleMiddleware() {
	v, err := authz.NewVerifier(authz.Config{
		Issuer:    "https://id.example.com/eu-west-1_AbCdEf",
		ClientIDs: []string{"my-app-client-id"},
		TokenUse:  authz.TokenUseID, // ID tokens carry custom:company_name
	})
	if err != nil {
		panic(err)
	}
	mw := &authz.Middleware{
		Auth: v,
		Policy: authz.MustPolicy(
			authz.Rule{Methods: []string{"GET"}, Path: "/healthz", Public: true},
			authz.Rule{Methods: []string{"GET"}, Path: "/hello"},
		),
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := authz.FromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", id.Username)
			return
		}
		fmt.Fprint(w, "ok")
	})
	h := mw.Wrap(app)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/hello", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 401 Bearer realm="api"
	// 200 ok
}
