package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Authenticator finds the caller of a request. *Verifier (a bearer token)
// and ProxyHeaders (identity headers set by a trusted forward-auth proxy)
// implement it.
//
// Errors: ErrNoToken when the request names no caller, ErrInvalidToken
// (wrapped) when it names one that does not check out, anything else when
// the caller could not be checked (answered 503).
type Authenticator interface {
	Authenticate(r *http.Request) (*Identity, error)
}

// BearerToken returns the token of r's "Authorization: Bearer <token>"
// header. Errors: ErrNoToken without an Authorization header,
// ErrInvalidToken (wrapped) for another scheme, several headers or an
// empty token.
func BearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", invalid("several Authorization headers")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", invalid("not a bearer token")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", invalid("empty bearer token")
	}
	return tok, nil
}

// Authenticate verifies r's bearer token (see Verify and BearerToken).
func (v *Verifier) Authenticate(r *http.Request) (*Identity, error) {
	tok, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	if len(tok) > v.cfg.MaxTokenSize {
		return nil, invalid("token too large")
	}
	return v.Verify(r.Context(), tok)
}

// Middleware authorizes each request with Policy before it reaches the
// wrapped handler, which finds the caller with FromContext.
//
// For a request matching a public rule, the handler runs without an
// identity. For one matching no rule: 403. Otherwise Auth authenticates
// the caller: no or an invalid token is answered 401 with a
// WWW-Authenticate header (RFC 6750); a caller outside the rule's groups
// or conditions 403; an error checking the token (JWKS unreachable) 503;
// and a panic while authenticating or deciding 503. Nothing unexpected
// lets a request through.
type Middleware struct {
	Auth   Authenticator
	Policy *Policy
	// Realm is the WWW-Authenticate realm (default "api").
	Realm string
	// Log receives refusals at debug level and failures at error level
	// (default: discard).
	Log *slog.Logger
}

// Wrap returns next behind the middleware.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, d, err := m.decide(r)
		if err != nil {
			m.log().Error("authz: cannot decide", "method", r.Method, "path", r.URL.Path, "err", err)
			writeRefusal(w, http.StatusServiceUnavailable, "", "Authorization is unavailable; try again later.")
			return
		}
		switch d.Status {
		case http.StatusOK:
			if id != nil {
				r = r.WithContext(NewContext(r.Context(), id))
			}
			next.ServeHTTP(w, r)
		case http.StatusUnauthorized:
			m.log().Debug("authz: unauthenticated", "method", r.Method, "path", r.URL.Path, "reason", d.Reason)
			challenge := fmt.Sprintf("Bearer realm=%q", m.realm())
			switch {
			case d.StepUp:
				challenge += ", " + StepUpChallenge
			case d.Reason != ErrNoToken.Error():
				challenge += `, error="invalid_token"`
			}
			writeRefusal(w, http.StatusUnauthorized, challenge, "A valid bearer token is required.")
		default:
			m.log().Debug("authz: forbidden", "method", r.Method, "path", r.URL.Path, "rule", d.Rule, "reason", d.Reason)
			writeRefusal(w, http.StatusForbidden, "", "You are not allowed to do this.")
		}
	})
}

// Decide authenticates r if its rule needs it and decides. It never
// panics: a panic inside is returned as an error, and so is a failure to
// check the token; the caller refuses the request on any error.
func (m *Middleware) Decide(r *http.Request) (*Identity, Decision, error) {
	return m.decide(r)
}

func (m *Middleware) decide(r *http.Request) (id *Identity, d Decision, err error) {
	defer func() {
		if p := recover(); p != nil {
			id, d, err = nil, Decision{Status: http.StatusServiceUnavailable}, fmt.Errorf("authz: panic: %v", p)
		}
	}()
	if m.Policy == nil || m.Auth == nil {
		return nil, Decision{}, errors.New("authz: Middleware needs Auth and Policy")
	}
	d = m.Policy.Check(r, nil)
	if d.Status != http.StatusUnauthorized {
		return nil, d, nil // public, or no rule
	}
	id, err = m.Auth.Authenticate(r)
	switch {
	case errors.Is(err, ErrNoToken):
		return nil, Decision{Status: http.StatusUnauthorized, Rule: d.Rule, Reason: ErrNoToken.Error()}, nil
	case errors.Is(err, ErrInvalidToken):
		return nil, Decision{Status: http.StatusUnauthorized, Rule: d.Rule, Reason: err.Error()}, nil
	case err != nil:
		return nil, Decision{}, err
	case id == nil:
		return nil, Decision{}, errors.New("authz: authenticator returned no identity")
	}
	return id, m.Policy.Check(r, id), nil
}

func (m *Middleware) realm() string {
	if m.Realm == "" {
		return "api"
	}
	return m.Realm
}

func (m *Middleware) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// writeRefusal answers status with a small problem document.
func writeRefusal(w http.ResponseWriter, status int, challenge, detail string) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": http.StatusText(status), "detail": detail})
}

// Identity headers a forward-auth proxy sets on the upstream request
// (Gatehouse's forward-auth endpoint answers them; nginx, Traefik and
// Caddy copy them). Groups are comma-separated.
const (
	HeaderSub      = "X-Auth-Sub"
	HeaderUsername = "X-Auth-Username"
	HeaderEmail    = "X-Auth-Email"
	HeaderGroups   = "X-Auth-Groups"
	HeaderCompany  = "X-Auth-Company"
)

// ProxyHeaders authenticates requests by the identity headers a
// forward-auth proxy (nginx auth_request, Traefik ForwardAuth, Caddy
// forward_auth in front of Gatehouse's forward-auth endpoint) sets after
// the token was checked. It believes them only from a peer address in
// Trusted; the proxy must also overwrite (or remove) these headers when a
// client sends them, as the example configurations do.
type ProxyHeaders struct {
	Trusted []netip.Prefix
}

// Authenticate returns the identity of the headers. Errors:
// ErrInvalidToken (wrapped) when the peer is not trusted, ErrNoToken when
// X-Auth-Sub is missing.
func (p ProxyHeaders) Authenticate(r *http.Request) (*Identity, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	trusted := false
	if err == nil {
		ip = ip.Unmap()
		for _, pr := range p.Trusted {
			if pr.Contains(ip) {
				trusted = true
				break
			}
		}
	}
	if !trusted {
		return nil, invalid("identity headers from an untrusted peer")
	}
	sub := r.Header.Get(HeaderSub)
	if sub == "" {
		return nil, ErrNoToken
	}
	id := &Identity{
		Sub:      sub,
		Username: r.Header.Get(HeaderUsername),
		Email:    r.Header.Get(HeaderEmail),
		Company:  r.Header.Get(HeaderCompany),
		TokenUse: TokenUseAccess,
	}
	var groups []any
	for _, g := range strings.Split(r.Header.Get(HeaderGroups), ",") {
		if g = strings.TrimSpace(g); g != "" {
			id.Groups = append(id.Groups, g)
			groups = append(groups, g)
		}
	}
	id.Claims = map[string]any{"sub": id.Sub, "username": id.Username, "token_use": TokenUseAccess}
	if id.Email != "" {
		id.Claims["email"] = id.Email
	}
	if id.Company != "" {
		id.Claims["custom:company_name"] = id.Company
	}
	if groups != nil {
		id.Claims["cognito:groups"] = groups
	}
	return id, nil
}
