// Package e2e holds the native API's end-to-end tests: the real auth
// Service on a real SQLite store, behind the real middleware and a real
// listener, driven over HTTP. Every call is validated against the OpenAPI
// document (contract_test.go). It has no code of its own but a Go client
// generated from that document (apiclient, used by client_test.go) to
// prove that generated clients work; it is a separate package so the api
// package's unit tests do not depend on every backend compiling.
//
// Regenerate the client after changing internal/api/openapi.yaml:
//
//	go generate ./internal/api/e2e
package e2e

//go:generate sh -c "cd apiclient && go tool oapi-codegen -config oapi-codegen.yaml ../../openapi.yaml"
