package api

import (
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// maxCredentialBytes caps a bearer token or API key before anything parses it.
const maxCredentialBytes = 8 << 10

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxCredentialBytes {
		return "", false
	}
	return tok, true
}

// keyScope says what an admin route needs from an API key.
type keyScope int

const (
	// scopePool: the route has a {pool}; a pool-scoped key must match it.
	scopePool keyScope = iota
	// scopeGlobal: only a global key (listing and creating pools, and
	// deleting one: the key would delete its own tenant).
	scopeGlobal
)

// admin authenticates the API key in "Authorization: Bearer <key>" with
// svc.AuthenticateAPIKey and puts the actor "apikey:<id>" in the context.
// No or wrong key: 401 unauthenticated. A pool-scoped key on another pool
// or on a global route: 403 forbidden, answered before the pool is looked
// up so a key cannot probe which pools exist.
func (a *API) admin(scope keyScope, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return identity.Errorf(identity.CodeUnauthenticated, "An admin API key is required (Authorization: Bearer <key>).")
		}
		key, err := a.svc.AuthenticateAPIKey(r.Context(), tok)
		if err != nil {
			switch identity.ErrorCode(err) {
			case identity.CodeUnauthenticated, identity.CodeNotAuthorized, identity.CodeInvalidToken,
				identity.CodeInvalidParameter, identity.CodeResourceNotFound, identity.CodeForbidden:
				// Whatever the reason (unknown, revoked, malformed), the
				// answer is the same.
				return &identity.Error{Code: identity.CodeUnauthenticated, Message: "The API key is not valid.", Err: err}
			}
			return err // throttled, or a server fault
		}
		if key.PoolID != "" {
			if scope == scopeGlobal || r.PathValue("pool") != key.PoolID {
				return identity.Errorf(identity.CodeForbidden, "This API key may only manage pool %s.", key.PoolID)
			}
		}
		ctx := identity.WithActor(r.Context(), identity.Actor{ID: "apikey:" + key.ID, IP: httpserver.RemoteIP(r)})
		return h(w, r.WithContext(ctx))
	}
}

// userHandler is a handler for the caller's own account.
type userHandler func(w http.ResponseWriter, r *http.Request, accessToken string) error

// user authenticates the access token in "Authorization: Bearer <token>"
// (svc.AuthenticateAccessToken: signature, expiry, token_use, revocation,
// disabled users) and puts the actor "user:<sub>" in the context before
// calling h with the token the service methods take.
func (a *API) user(h userHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return identity.Errorf(identity.CodeUnauthenticated, "An access token is required (Authorization: Bearer <token>).")
		}
		_, u, _, err := a.svc.AuthenticateAccessToken(r.Context(), tok)
		if err != nil {
			return err
		}
		ctx := identity.WithActor(r.Context(), identity.Actor{ID: "user:" + u.Sub, IP: httpserver.RemoteIP(r)})
		return h(w, r.WithContext(ctx), tok)
	}
}

// clientCreds are the client fields every end-user body carries.
type clientCreds struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// client returns the calling app client: client_id and client_secret from
// the body, or HTTP Basic (client_id:client_secret, RFC 6749 §2.3.1) for
// confidential clients. Both at once must name the same client, and the
// secret may come from one place only.
func client(r *http.Request, c clientCreds) (auth.Client, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		if c.ClientID != "" && c.ClientID != id {
			return auth.Client{}, identity.FieldError("client_id", "client_id differs from the HTTP Basic user name.")
		}
		if c.ClientSecret != "" {
			return auth.Client{}, identity.FieldError("client_secret", "Send the client secret in the body or with HTTP Basic, not both.")
		}
		c.ClientID, c.ClientSecret = id, secret
	}
	if c.ClientID == "" {
		return auth.Client{}, identity.FieldError("client_id", "client_id is required.")
	}
	return auth.Client{ID: c.ClientID, Secret: c.ClientSecret}, nil
}
