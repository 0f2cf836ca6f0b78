// Package identity holds Gatehouse's domain types, statuses and error codes.
//
// It depends on the standard library only. Every other package speaks in these
// types: the store persists them, the auth service changes them, and each
// surface (native API, Cognito API, OIDC, pages, CLI) maps them to its wire
// format. Errors that reach a client are *Error values carrying a stable Code
// and a message that is safe to show; each surface maps codes to its own wire
// format in exactly one function.
package identity
