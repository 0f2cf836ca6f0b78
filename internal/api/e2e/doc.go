// Package e2e holds the native API's end-to-end tests: the real auth
// Service on a real SQLite store, behind the real middleware and a real
// listener, driven over HTTP. It has no code of its own; it is a separate
// package so the api package's unit tests do not depend on every backend
// compiling.
package e2e
