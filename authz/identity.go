package authz

import (
	"context"
	"errors"
)

// Identity is a verified caller: the claims of a token that passed every
// check of a Verifier (or, behind a forward-auth proxy, what the proxy
// vouched for; see ProxyHeaders).
type Identity struct {
	// Sub is the user's stable id (the sub claim).
	Sub string
	// Username is the username claim (access tokens) or cognito:username
	// (ID tokens).
	Username string
	// Email is the email claim (ID tokens; empty in access tokens).
	Email string
	// Groups are the cognito:groups claim, in the order of the token.
	Groups []string
	// Company is the custom:company_name claim, "" when absent.
	Company string
	// ClientID is the app client the token was issued to: client_id for
	// access tokens, aud for ID tokens.
	ClientID string
	// TokenUse is "access" or "id".
	TokenUse string
	// Claims holds every claim as decoded by encoding/json (numbers are
	// float64, arrays []any). Rules read conditions from it.
	Claims map[string]any
}

// InGroup reports whether the identity is in group g.
func (id *Identity) InGroup(g string) bool {
	if id == nil {
		return false
	}
	for _, x := range id.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// Claim returns the claim named name as a string: strings as they are,
// booleans as "true"/"false", and "" for anything else (numbers, arrays,
// objects, absent). Rules compare claims through Claim, so a condition
// never matches a claim of an unexpected type.
func (id *Identity) Claim(name string) string {
	if id == nil {
		return ""
	}
	switch v := id.Claims[name].(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

// HasAMR reports whether the token's amr claim (how the user signed in,
// RFC 8176: "pwd", "otp", "mfa", ...) holds method.
func (id *Identity) HasAMR(method string) bool {
	if id == nil {
		return false
	}
	list, _ := id.Claims["amr"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok && s == method {
			return true
		}
	}
	return false
}

// StepUpChallenge is the WWW-Authenticate error of a valid token whose
// sign-in lacks the factor a rule requires (RFC 9470).
const StepUpChallenge = `error="insufficient_user_authentication", error_description="A second factor is required."`

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity the Middleware put in ctx, or nil and
// false when there is none (a public route, or no Middleware).
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(*Identity)
	return id, ok && id != nil
}

// Errors. Every refusal of a token wraps ErrInvalidToken (answered 401);
// ErrNoToken means the request carried no bearer token (also 401). Other
// errors (the JWKS endpoint unreachable, a cancelled context) wrap
// ErrUnavailable and are answered 503: the request is refused either way.
var (
	ErrNoToken      = errors.New("authz: no bearer token")
	ErrInvalidToken = errors.New("authz: invalid token")
	ErrUnavailable  = errors.New("authz: verification unavailable")
)

// invalid wraps ErrInvalidToken with a reason for logs.
func invalid(reason string) error {
	return &reasonError{base: ErrInvalidToken, reason: reason}
}

type reasonError struct {
	base   error
	reason string
	err    error
}

func (e *reasonError) Error() string {
	s := e.base.Error() + ": " + e.reason
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *reasonError) Unwrap() []error {
	if e.err != nil {
		return []error{e.base, e.err}
	}
	return []error{e.base}
}
