package federation

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Facebook's endpoints (Graph API version pinned; override per provider).
const (
	FacebookAuthURL  = "https://www.facebook.com/v19.0/dialog/oauth"
	FacebookTokenURL = "https://graph.facebook.com/v19.0/oauth/access_token"
	FacebookGraphURL = "https://graph.facebook.com/v19.0"
)

// Request is one sign-in attempt at an upstream provider: the values the
// browser's cookie keeps between AuthCodeURL and Exchange.
type Request struct {
	State    string // sent upstream, compared at the callback
	Nonce    string // sent upstream (OIDC), compared with the ID token's
	Verifier string // PKCE code verifier; its S256 challenge is sent upstream
}

// NewRequest returns a request with 256-bit random state, nonce and
// verifier from rnd (crypto/rand.Reader when nil).
func NewRequest(rnd io.Reader) (*Request, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	gen := func() (string, error) {
		b := make([]byte, 32)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	var r Request
	var err error
	if r.State, err = gen(); err != nil {
		return nil, err
	}
	if r.Nonce, err = gen(); err != nil {
		return nil, err
	}
	if r.Verifier, err = gen(); err != nil {
		return nil, err
	}
	return &r, nil
}

// StateMatches compares the callback's state with the request's in
// constant time; an empty state never matches.
func (r *Request) StateMatches(state string) bool {
	return r != nil && r.State != "" && subtle.ConstantTimeCompare([]byte(r.State), []byte(state)) == 1
}

// Identity is what an upstream provider asserted about the person.
type Identity struct {
	Issuer        string // "" for Facebook
	Subject       string
	Email         string
	EmailVerified bool // only from an explicit upstream email_verified=true
	// Claims holds the upstream claims (ID token, else /me fields).
	Claims map[string]any
}

// Client talks to upstream providers. The zero value works (default HTTP
// client, real clock); discovery documents are cached per issuer.
type Client struct {
	HTTP *http.Client
	Now  func() time.Time
	// DiscoveryTTL is how long a discovered provider is reused (default 1 h).
	DiscoveryTTL time.Duration

	mu    sync.Mutex
	cache map[string]cachedProvider
}

type cachedProvider struct {
	p  *oidc.Provider
	at time.Time
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) ctx(ctx context.Context) context.Context {
	if c.HTTP != nil {
		return oidc.ClientContext(ctx, c.HTTP)
	}
	return ctx
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// Validate checks and normalises a provider's configuration (type,
// name, issuer, client id, scopes, mapping, URLs). Errors are
// *identity.Error with CodeInvalidParameter.
func Validate(p *identity.IdentityProvider) error {
	bad := func(field, format string, a ...any) error {
		return identity.FieldError("identity_providers."+field, format, a...)
	}
	if !namePattern.MatchString(p.Name) {
		return bad("name", "A provider name is 1 to 32 letters, digits, '_', '.' or '-'.")
	}
	switch p.Type {
	case identity.ProviderGoogle:
		if p.Issuer == "" {
			p.Issuer = identity.GoogleIssuer
		}
	case identity.ProviderOIDC:
		if p.Issuer == "" {
			return bad("issuer", "Provider %s: an OIDC provider needs its issuer.", p.Name)
		}
	case identity.ProviderFacebook:
		if p.Issuer != "" {
			return bad("issuer", "Provider %s: Facebook has no issuer.", p.Name)
		}
	default:
		return bad("type", "Provider %s: type must be OIDC, Google or Facebook.", p.Name)
	}
	for field, u := range map[string]string{"issuer": p.Issuer, "auth_url": p.AuthURL, "token_url": p.TokenURL, "graph_url": p.GraphURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || pu.User != nil || pu.Fragment != "" ||
			!(pu.Scheme == "https" || pu.Scheme == "http" && isLoopback(pu.Hostname())) {
			return bad(field, "Provider %s: %s must be an https URL (http only on loopback).", p.Name, field)
		}
	}
	if p.ClientID == "" || len(p.ClientID) > 512 {
		return bad("client_id", "Provider %s: client_id is required.", p.Name)
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"") {
			return bad("scopes", "Provider %s: bad scope %q.", p.Name, s)
		}
	}
	if len(p.Identifiers) > 50 {
		return bad("idp_identifiers", "Provider %s: at most 50 identifiers.", p.Name)
	}
	for i, id := range p.Identifiers {
		if id == "" || len(id) > 40 || strings.ContainsAny(id, " \t\r\n") || slices.Contains(p.Identifiers[:i], id) {
			return bad("idp_identifiers", "Provider %s: an identifier is 1 to 40 characters without spaces, each listed once.", p.Name)
		}
	}
	for attr, claim := range p.AttributeMapping {
		if attr == "" || claim == "" || attr == "sub" || attr == "username" || attr == "email_verified" {
			return bad("attribute_mapping", "Provider %s: cannot map %q to %q.", p.Name, attr, claim)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Scopes returns the scopes requested from p.
func Scopes(p *identity.IdentityProvider) []string {
	if len(p.Scopes) > 0 {
		return p.Scopes
	}
	if p.Type == identity.ProviderFacebook {
		return []string{"email", "public_profile"}
	}
	return []string{oidc.ScopeOpenID, "email", "profile"}
}

func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	ttl := c.DiscoveryTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	c.mu.Lock()
	if cp, ok := c.cache[issuer]; ok && c.now().Sub(cp.at) < ttl {
		c.mu.Unlock()
		return cp.p, nil
	}
	c.mu.Unlock()
	// go-oidc checks that the discovered issuer equals issuer exactly.
	p, err := oidc.NewProvider(c.ctx(ctx), issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", ErrUpstream, issuer, err)
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]cachedProvider{}
	}
	c.cache[issuer] = cachedProvider{p: p, at: c.now()}
	c.mu.Unlock()
	return p, nil
}

// ErrUpstream wraps a failure of the upstream provider (unreachable,
// refusing the code, a bad ID token). Callers show a generic message.
var ErrUpstream = errors.New("federation: upstream provider")

func (c *Client) config(ctx context.Context, p *identity.IdentityProvider, secret, redirectURI string) (*oauth2.Config, *oidc.Provider, error) {
	cfg := &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, RedirectURL: redirectURI, Scopes: Scopes(p)}
	if p.Type == identity.ProviderFacebook {
		cfg.Endpoint = oauth2.Endpoint{AuthURL: or(p.AuthURL, FacebookAuthURL), TokenURL: or(p.TokenURL, FacebookTokenURL),
			AuthStyle: oauth2.AuthStyleInParams}
		return cfg, nil, nil
	}
	op, err := c.provider(ctx, p.Issuer)
	if err != nil {
		return nil, nil, err
	}
	cfg.Endpoint = op.Endpoint()
	return cfg, op, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// AuthCodeURL returns the upstream authorization URL for r: code flow,
// state, nonce (OIDC), PKCE S256, redirect_uri.
func (c *Client) AuthCodeURL(ctx context.Context, p *identity.IdentityProvider, redirectURI string, r *Request) (string, error) {
	cfg, _, err := c.config(ctx, p, "", redirectURI)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.Verifier)}
	if p.Type != identity.ProviderFacebook {
		opts = append(opts, oidc.Nonce(r.Nonce))
	}
	return cfg.AuthCodeURL(r.State, opts...), nil
}

// Exchange redeems code (with secret and r's PKCE verifier) and returns
// the verified upstream identity. Errors wrap ErrUpstream.
func (c *Client) Exchange(ctx context.Context, p *identity.IdentityProvider, secret, redirectURI, code string, r *Request) (*Identity, error) {
	cfg, op, err := c.config(ctx, p, secret, redirectURI)
	if err != nil {
		return nil, err
	}
	hctx := c.ctx(ctx)
	if c.HTTP != nil {
		hctx = context.WithValue(hctx, oauth2.HTTPClient, c.HTTP)
	}
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: token exchange: %v", ErrUpstream, err)
	}
	if p.Type == identity.ProviderFacebook {
		return c.facebookMe(hctx, p, secret, tok.AccessToken)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no id_token in the token response", ErrUpstream)
	}
	v := op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: c.Now})
	idt, err := v.Verify(hctx, raw) // signature, iss, aud, exp
	if err != nil {
		return nil, fmt.Errorf("%w: id_token: %v", ErrUpstream, err)
	}
	if r.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(r.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: id_token nonce does not match the request", ErrUpstream)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: id_token claims: %v", ErrUpstream, err)
	}
	if idt.Subject == "" || len(idt.Subject) > 255 {
		return nil, fmt.Errorf("%w: id_token sub missing or too long", ErrUpstream)
	}
	id := &Identity{Issuer: idt.Issuer, Subject: idt.Subject, Claims: claims}
	id.Email, _ = claims["email"].(string)
	id.EmailVerified = truthy(claims["email_verified"])
	return id, nil
}

// truthy accepts true and "true" (some providers send strings).
func truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// facebookMe reads /me?fields=id,name,email with appsecret_proof.
// Facebook does not assert that the email is verified, so EmailVerified
// stays false (no account linking through Facebook).
func (c *Client) facebookMe(ctx context.Context, p *identity.IdentityProvider, secret, accessToken string) (*Identity, error) {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(accessToken))
	q := url.Values{"fields": {"id,name,email"}, "access_token": {accessToken}, "appsecret_proof": {hex.EncodeToString(m.Sum(nil))}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(or(p.GraphURL, FacebookGraphURL), "/")+"/me?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: graph /me: %v", ErrUpstream, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: graph /me: HTTP %d", ErrUpstream, resp.StatusCode)
	}
	claims := map[string]any{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: graph /me: %v", ErrUpstream, err)
	}
	sub, _ := claims["id"].(string)
	if sub == "" || len(sub) > 255 {
		return nil, fmt.Errorf("%w: graph /me: no id", ErrUpstream)
	}
	claims["sub"] = sub
	id := &Identity{Subject: sub, Claims: claims}
	id.Email, _ = claims["email"].(string)
	return id, nil
}

// MapAttributes applies p's AttributeMapping (pool attribute <- upstream
// claim) to claims; without a mapping, email <- email. Only string,
// number and boolean claims map; others are skipped.
func MapAttributes(p *identity.IdentityProvider, claims map[string]any) map[string]string {
	m := p.AttributeMapping
	if len(m) == 0 {
		m = map[string]string{"email": "email"}
	}
	out := map[string]string{}
	for attr, claim := range m {
		switch v := claims[claim].(type) {
		case string:
			if v != "" {
				out[attr] = v
			}
		case bool:
			out[attr] = fmt.Sprint(v)
		case float64:
			out[attr] = fmt.Sprint(v)
		}
	}
	return out
}

// MaxGroups bounds the groups taken from an upstream identity.
const MaxGroups = 200

// Groups returns the "groups" claim of an upstream identity (else
// "cognito:groups"): an array of strings, or one string; at most
// MaxGroups, each at most 256 bytes.
func Groups(claims map[string]any) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" && len(s) <= 256 && len(out) < MaxGroups {
			out = append(out, s)
		}
	}
	g := claims["groups"]
	if g == nil {
		g = claims["cognito:groups"] // Cognito or Gatehouse as the IdP
	}
	switch v := g.(type) {
	case []any:
		for _, g := range v {
			add(g)
		}
	case []string:
		for _, g := range v {
			add(g)
		}
	default:
		add(v)
	}
	return out
}
