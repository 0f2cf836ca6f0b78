package forwardauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Pattern is the ServeMux pattern the handler is mounted at: any method
// (nginx's auth_request subrequest keeps the original method; Traefik and
// Caddy send GET), {pool} is the pool id. The pool comes last so that the
// pattern cannot overlap the pool-first routes (/{pool}/.well-known/...).
const Pattern = "/authz/check/{pool}"

// Defaults of Options.
const (
	DefaultCacheTTL  = 5 * time.Second
	DefaultCacheSize = 10000
	maxURILen        = 8 << 10
)

// Authenticator is what the handler needs of *auth.Service.
type Authenticator interface {
	// AuthenticateAccessTokenFor verifies an access token of pool poolID
	// (signature, iss — another pool's token is invalid — exp, token_use)
	// and that its user exists, is enabled and was not signed out globally
	// after the token was issued, and that its sign-in was not ended
	// (RevokeToken, a replayed code, a reused refresh token). No scope is
	// required (docs/security.md T5).
	AuthenticateAccessTokenFor(ctx context.Context, poolID, accessToken string) (*identity.Pool, *identity.User, map[string]any, error)
}

// Pool is the forward-auth configuration of one pool.
type Pool struct {
	// Policy decides each request; required.
	Policy *authz.Policy
	// Clients, when not empty, lists the app clients whose access tokens
	// are accepted (their client_id claim).
	Clients []string
}

// Options configures the handler.
type Options struct {
	// Pools holds the rules of each pool, by pool id. A pool not listed
	// has no forward-auth: every check for it is refused (403).
	Pools map[string]Pool
	// CacheTTL is how long a verified token is remembered, which is also
	// the longest a global sign-out, a RevokeToken, a disable or a
	// deletion takes to reach the authorizer. Zero disables the cache
	// (every check reads the user and the revoked sign-ins from the store).
	CacheTTL time.Duration
	// CacheSize bounds the verified-token cache (default
	// DefaultCacheSize entries).
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives refusals at debug level and failures at error level.
	Log *slog.Logger
}

// Handler is the forward-auth endpoint. It is safe for concurrent use.
type Handler struct {
	svc   Authenticator
	opts  Options
	cache *cache
}

// New returns the handler. Mount it at Pattern.
func New(svc Authenticator, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	h := &Handler{svc: svc, opts: opts}
	if opts.CacheTTL > 0 {
		h.cache = &cache{max: opts.CacheSize, m: map[[32]byte]cacheEntry{}}
	}
	return h
}

// ServeHTTP answers one check: 200 with the X-Auth-* identity headers, 401
// with WWW-Authenticate, 403, or 503. See doc.go.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			h.opts.Log.Error("forward-auth: panic", "panic", p)
			refuse(w, http.StatusServiceUnavailable, "")
		}
	}()
	poolID := r.PathValue("pool")
	if poolID == "" {
		poolID = poolFromPath(r.URL.Path)
	}
	cfg, ok := h.opts.Pools[poolID]
	if !ok || cfg.Policy == nil {
		h.opts.Log.Debug("forward-auth: no rules for pool", "pool", poolID)
		refuse(w, http.StatusForbidden, "")
		return
	}
	orig, err := originalRequest(r)
	if err != nil {
		h.opts.Log.Debug("forward-auth: bad original request", "pool", poolID, "err", err)
		refuse(w, http.StatusForbidden, "")
		return
	}
	d := cfg.Policy.Check(orig, nil)
	switch d.Status {
	case http.StatusOK: // a public route
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	case http.StatusUnauthorized:
	default:
		h.opts.Log.Debug("forward-auth: forbidden", "pool", poolID, "method", orig.Method, "path", orig.URL.Path, "reason", d.Reason)
		refuse(w, http.StatusForbidden, "")
		return
	}
	tok, err := authz.BearerToken(r)
	if errors.Is(err, authz.ErrNoToken) {
		refuse(w, http.StatusUnauthorized, `Bearer realm="`+poolID+`"`)
		return
	}
	if err != nil {
		refuse(w, http.StatusUnauthorized, `Bearer realm="`+poolID+`", error="invalid_token"`)
		return
	}
	id, err := h.verify(r.Context(), poolID, cfg, tok)
	if err != nil {
		if errors.Is(err, authz.ErrInvalidToken) {
			h.opts.Log.Debug("forward-auth: invalid token", "pool", poolID, "err", err)
			refuse(w, http.StatusUnauthorized, `Bearer realm="`+poolID+`", error="invalid_token"`)
			return
		}
		h.opts.Log.Error("forward-auth: cannot verify", "pool", poolID, "err", err)
		refuse(w, http.StatusServiceUnavailable, "")
		return
	}
	d = cfg.Policy.Check(orig, id)
	if d.StepUp {
		h.opts.Log.Debug("forward-auth: step-up", "pool", poolID, "sub", id.Sub, "method", orig.Method, "path", orig.URL.Path)
		refuse(w, http.StatusUnauthorized, `Bearer realm="`+poolID+`", `+authz.StepUpChallenge)
		return
	}
	if !d.Allowed() {
		h.opts.Log.Debug("forward-auth: forbidden", "pool", poolID, "sub", id.Sub, "method", orig.Method, "path", orig.URL.Path, "reason", d.Reason)
		refuse(w, http.StatusForbidden, "")
		return
	}
	hd := w.Header()
	hd.Set(authz.HeaderSub, id.Sub)
	hd.Set(authz.HeaderUsername, headerValue(id.Username))
	hd.Set(authz.HeaderEmail, headerValue(id.Email))
	hd.Set(authz.HeaderGroups, headerValue(joinGroups(id.Groups)))
	hd.Set(authz.HeaderCompany, headerValue(id.Company))
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// verify returns the identity of tok, from the cache or the service.
// Errors: authz.ErrInvalidToken (wrapped) for any refusal of the token,
// anything else for a failure to check it.
func (h *Handler) verify(ctx context.Context, poolID string, cfg Pool, tok string) (*authz.Identity, error) {
	if len(tok) > authz.DefaultMaxTokenSize {
		return nil, errInvalid("token too large")
	}
	now := h.opts.Now()
	var key [32]byte
	if h.cache != nil {
		key = sha256.Sum256([]byte(tok))
		if e, ok := h.cache.get(key, now); ok {
			if e.pool != poolID {
				return nil, errInvalid("token of another pool")
			}
			return e.id, nil
		}
	}
	p, u, claims, err := h.svc.AuthenticateAccessTokenFor(ctx, poolID, tok)
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeInvalidToken, identity.CodeNotAuthorized, identity.CodeUserNotFound, identity.CodeUserDisabled:
			return nil, errors.Join(authz.ErrInvalidToken, err)
		}
		return nil, err
	}
	if p == nil || u == nil || claims == nil {
		return nil, errors.New("forward-auth: service returned no identity")
	}
	if p.ID != poolID {
		return nil, errInvalid("token of another pool")
	}
	if len(cfg.Clients) > 0 {
		client, _ := claims["client_id"].(string)
		ok := false
		for _, c := range cfg.Clients {
			ok = ok || c == client
		}
		if !ok {
			return nil, errInvalid("client not accepted")
		}
	}
	id := identityOf(p, u, claims)
	if h.cache != nil {
		until := now.Add(h.opts.CacheTTL)
		if exp, ok := claims["exp"].(float64); ok && time.Unix(int64(exp), 0).Before(until) {
			until = time.Unix(int64(exp), 0)
		}
		h.cache.put(key, cacheEntry{pool: poolID, id: id, until: until}, now)
	}
	return id, nil
}

// identityOf merges the token's claims with the user's current record:
// access tokens carry no attributes, so email and custom:* come from the
// user (as they are now, not as they were at sign-in). The company is the
// pool's company attribute as stored, which only approvals and admins
// write (docs/security.md A1, A7): it wins over any claim of that name (a
// pre token generation hook's), and custom:company_name — what rules and
// X-Auth-Company read as the company — carries it too when the pool's
// company attribute has another name.
func identityOf(p *identity.Pool, u *identity.User, claims map[string]any) *authz.Identity {
	c := make(map[string]any, len(claims)+len(u.Attributes)+2)
	for k, v := range u.Attributes {
		c[k] = v
	}
	if u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	for k, v := range claims { // the token's own claims win
		c[k] = v
	}
	attr := p.Settings.SignUp.CompanyAttr()
	for _, k := range []string{attr, identity.DefaultCompanyAttribute} {
		if co := u.Attributes[attr]; co != "" {
			c[k] = co
		} else {
			delete(c, k)
		}
	}
	return authz.IdentityFromClaims(c)
}

func errInvalid(reason string) error {
	return errors.Join(authz.ErrInvalidToken, errors.New(reason))
}

// originalRequest rebuilds the method and URI the proxy is asking about:
// X-Original-Method and X-Original-URI (nginx), else X-Forwarded-Method
// and X-Forwarded-Uri (Traefik, Caddy). Both must be present exactly once,
// the method one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, and the
// URI an origin-form request target ("/path?query") of at most 8 KiB.
func originalRequest(r *http.Request) (*http.Request, error) {
	method, uri, err := pair(r, "X-Original-Method", "X-Original-Uri")
	if err != nil {
		return nil, err
	}
	if method == "" && uri == "" {
		if method, uri, err = pair(r, "X-Forwarded-Method", "X-Forwarded-Uri"); err != nil {
			return nil, err
		}
	}
	if method == "" || uri == "" {
		return nil, errors.New("original method and URI headers missing")
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		return nil, errors.New("unsupported original method")
	}
	if len(uri) > maxURILen || !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") {
		return nil, errors.New("original URI is not an origin-form path")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.Host != "" || u.Scheme != "" || u.Opaque != "" {
		return nil, errors.New("original URI does not parse")
	}
	req := &http.Request{Method: method, URL: u, RequestURI: uri, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	return req.WithContext(r.Context()), nil
}

// pair reads two headers that must each appear at most once.
func pair(r *http.Request, mh, uh string) (method, uri string, err error) {
	ms, us := r.Header.Values(mh), r.Header.Values(uh)
	if len(ms) > 1 || len(us) > 1 {
		return "", "", errors.New("repeated " + mh + " or " + uh)
	}
	if len(ms) == 1 {
		method = ms[0]
	}
	if len(us) == 1 {
		uri = us[0]
	}
	return method, uri, nil
}

// poolFromPath reads {pool} of /authz/check/{pool} when the handler is not
// behind a ServeMux that set it.
func poolFromPath(p string) string {
	pool, ok := strings.CutPrefix(p, "/authz/check/")
	if !ok || strings.Contains(pool, "/") {
		return ""
	}
	return pool
}

// joinGroups joins group names with commas, leaving out any name that
// holds a comma itself (Gatehouse allows them): split again upstream, a
// group "Users,Admins" would otherwise read as membership of Admins.
// Leaving one out can only take a permission away.
func joinGroups(groups []string) string {
	var b strings.Builder
	for _, g := range groups {
		if strings.Contains(g, ",") {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(g)
	}
	return b.String()
}

// headerValue drops control characters, so that a value never splits a
// header.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func refuse(w http.ResponseWriter, status int, challenge string) {
	h := w.Header()
	for _, n := range []string{authz.HeaderSub, authz.HeaderUsername, authz.HeaderEmail, authz.HeaderGroups, authz.HeaderCompany} {
		h.Del(n)
	}
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status) + "\n"))
}

// cache remembers verified tokens (by SHA-256) until their entry's until.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]cacheEntry
}

type cacheEntry struct {
	pool  string
	id    *authz.Identity
	until time.Time
}

func (c *cache) get(k [32]byte, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.until) {
		delete(c.m, k)
		return cacheEntry{}, false
	}
	return e, true
}

// put adds an entry. When the cache is full it first drops the expired
// entries and, if that frees less than a quarter, arbitrary others until a
// quarter is free: the bound holds and the sweep is paid once per
// max/4 insertions.
func (c *cache) put(k [32]byte, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, old := range c.m {
			if !now.Before(old.until) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max-c.max/4 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = e
}

// cacheLen is the number of cached tokens (for tests).
func (h *Handler) cacheLen() int {
	if h.cache == nil {
		return 0
	}
	h.cache.mu.Lock()
	defer h.cache.mu.Unlock()
	return len(h.cache.m)
}
