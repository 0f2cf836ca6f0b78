package main

import "github.com/gatehouse-id/gatehouse/authz"

// Rules are article 003's rules for the document app: Users read;
// Managers create and update; Admins do everything; everyone only within
// their own company (the {company} segment of the path must equal the
// caller's custom:company_name). The same list configures Gatehouse's
// forward-auth endpoint (see nginx.conf and the README), so the gateway
// and the app enforce the same thing.
func Rules() []authz.Rule {
	company := []authz.Condition{{Claim: "custom:company_name", PathValue: "company"}}
	readers := []string{"Users", "Managers", "Admins"}
	writers := []string{"Managers", "Admins"}
	return []authz.Rule{
		{Methods: []string{"GET"}, Path: "/healthz", Public: true},
		{Methods: []string{"GET"}, Path: "/me"},
		{Methods: []string{"GET"}, Path: "/companies/{company}/documents", Groups: readers, Claims: company},
		{Methods: []string{"GET"}, Path: "/companies/{company}/documents/{id}", Groups: readers, Claims: company},
		{Methods: []string{"POST"}, Path: "/companies/{company}/documents", Groups: writers, Claims: company},
		{Methods: []string{"PUT"}, Path: "/companies/{company}/documents/{id}", Groups: writers, Claims: company},
		{Methods: []string{"DELETE"}, Path: "/companies/{company}/documents/{id}", Groups: []string{"Admins"}, Claims: company},
	}
}
