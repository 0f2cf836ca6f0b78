package authz

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Defaults of Config.
const (
	DefaultMaxTokenSize    = 16 << 10
	DefaultLeeway          = 30 * time.Second
	DefaultMaxKeys         = 16
	DefaultMaxJWKSSize     = 64 << 10
	DefaultRefreshInterval = 10 * time.Second
	DefaultKeysTTL         = time.Hour
	DefaultHTTPTimeout     = 5 * time.Second

	maxKIDLen = 128
)

// Token uses.
const (
	TokenUseAccess = "access"
	TokenUseID     = "id"
)

// Config configures a Verifier. Issuer and ClientIDs are required.
type Config struct {
	// Issuer is the pool's issuer, exactly as in its tokens' iss claim and
	// its OpenID discovery document: <gatehouse base URL>/<pool id>.
	Issuer string
	// JWKSURL is where the pool's keys are published. Default:
	// Issuer + "/.well-known/jwks.json".
	JWKSURL string
	// ClientIDs are the app clients whose tokens are accepted: the
	// client_id claim of an access token, the aud claim of an ID token.
	ClientIDs []string
	// TokenUse is the token accepted: TokenUseAccess (default) or
	// TokenUseID. A token of the other use is refused, so an ID token is
	// never taken for an access token.
	TokenUse string
	// HTTPClient fetches the JWKS. Default: a client with a
	// DefaultHTTPTimeout timeout that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Leeway tolerates clock skew for nbf and iat (default DefaultLeeway;
	// a negative value means none). exp is checked without leeway.
	Leeway time.Duration
	// MaxTokenSize is the largest token looked at, checked before any
	// parsing (default DefaultMaxTokenSize).
	MaxTokenSize int
	// MaxKeys bounds the usable keys of the JWKS (default DefaultMaxKeys).
	MaxKeys int
	// MaxJWKSSize bounds the JWKS response in bytes (default
	// DefaultMaxJWKSSize).
	MaxJWKSSize int64
	// RefreshInterval is the least time between two JWKS fetches, however
	// many tokens name unknown kids (default DefaultRefreshInterval).
	RefreshInterval time.Duration
	// KeysTTL is how long a fetched JWKS is used before it is fetched
	// again (default DefaultKeysTTL). A key rotation is seen earlier, on
	// the first token signed with the new key.
	KeysTTL time.Duration
}

// Verifier verifies one pool's tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	clients map[string]bool
	keys    *keySet
}

// NewVerifier checks cfg, fills in its defaults and returns a Verifier.
// Nothing is fetched until the first token is verified.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || !(strings.HasPrefix(cfg.Issuer, "https://") || strings.HasPrefix(cfg.Issuer, "http://")) {
		return nil, errors.New("authz: Config.Issuer must be the pool's issuer URL")
	}
	if len(cfg.ClientIDs) == 0 {
		return nil, errors.New("authz: Config.ClientIDs must name at least one app client")
	}
	switch cfg.TokenUse {
	case "":
		cfg.TokenUse = TokenUseAccess
	case TokenUseAccess, TokenUseID:
	default:
		return nil, errors.New(`authz: Config.TokenUse must be "access" or "id"`)
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = strings.TrimRight(cfg.Issuer, "/") + "/.well-known/jwks.json"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: DefaultHTTPTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	} else if cfg.Leeway < 0 {
		cfg.Leeway = 0
	}
	if cfg.MaxTokenSize <= 0 {
		cfg.MaxTokenSize = DefaultMaxTokenSize
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.MaxJWKSSize <= 0 {
		cfg.MaxJWKSSize = DefaultMaxJWKSSize
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.KeysTTL <= 0 {
		cfg.KeysTTL = DefaultKeysTTL
	}
	v := &Verifier{cfg: cfg, clients: map[string]bool{}}
	for _, c := range cfg.ClientIDs {
		v.clients[c] = true
	}
	v.keys = &keySet{
		url: cfg.JWKSURL, client: cfg.HTTPClient, now: cfg.Now, ttl: cfg.KeysTTL,
		minInterval: cfg.RefreshInterval, maxKeys: cfg.MaxKeys, maxSize: cfg.MaxJWKSSize,
	}
	return v, nil
}

var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// header is the part of the JOSE header Verify reads itself, before
// go-jose parses anything.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit"`
}

// Verify checks raw, a compact JWS, and returns its identity. In order it
// refuses a token that: is larger than MaxTokenSize or does not have
// exactly three parts (before any decoding); has a header that is not a
// small JSON object, an alg other than ES256 or RS256 (never "none" or
// HS*), a crit member, or a missing or oversized kid; names a kid the
// pool's JWKS does not hold (the set is fetched again, rate-limited); was
// signed with an alg other than its key's; is ES256 with a high s (s >
// n/2, the malleable twin of a valid signature: Gatehouse issues only the
// low form, so every token has exactly one valid string); fails the
// signature check with
// that key (jku, x5u, jwk and x5c headers are never used to find a key);
// has a payload that is not a JSON object; lacks a numeric exp or is past
// it; has nbf or iat later than now + Leeway; has another iss; has another
// token_use; was issued to a client not in ClientIDs (client_id for access
// tokens, aud for ID tokens); lacks a sub.
//
// Errors: ErrInvalidToken (wrapped, with the reason) for any of these;
// ErrUnavailable (wrapped) when the JWKS cannot be fetched and no keys are
// known.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	claims, err := v.verifySignature(ctx, raw)
	if err != nil {
		return nil, err
	}
	return v.checkClaims(claims)
}

// verifySignature does everything up to and including the signature.
func (v *Verifier) verifySignature(ctx context.Context, raw string) (map[string]any, error) {
	hdr, err := parseHeader(raw, v.cfg.MaxTokenSize)
	if err != nil {
		return nil, err
	}
	k, err := v.keys.get(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	if k.alg != hdr.Alg {
		return nil, invalid("alg does not match the key")
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs)
	if err != nil {
		return nil, &reasonError{base: ErrInvalidToken, reason: "parse", err: err}
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("expected one signature")
	}
	if hdr.Alg == string(jose.ES256) && !lowS(jws.Signatures[0].Signature) {
		return nil, invalid("ECDSA signature with a high s")
	}
	// The bare public key: go-jose then ignores any key in the header.
	payload, err := jws.Verify(k.key)
	if err != nil {
		return nil, invalid("bad signature")
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, invalid("payload is not a JSON object")
	}
	return claims, nil
}

// parseHeader applies the cheap checks: size, shape, header JSON, alg,
// crit and kid. Its cost is bounded by maxSize whatever the input.
func parseHeader(raw string, maxSize int) (*header, error) {
	if len(raw) > maxSize {
		return nil, invalid("token too large")
	}
	if strings.Count(raw, ".") != 2 {
		return nil, invalid("not a compact JWS")
	}
	h64 := raw[:strings.IndexByte(raw, '.')]
	if len(h64) > 1024 {
		return nil, invalid("header too large")
	}
	hb, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return nil, invalid("header is not base64url")
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, invalid("header is not a JSON object")
	}
	if h.Alg != string(jose.ES256) && h.Alg != string(jose.RS256) {
		return nil, invalid("algorithm not allowed")
	}
	if len(h.Crit) > 0 {
		return nil, invalid("crit header not supported")
	}
	if h.Kid == "" || len(h.Kid) > maxKIDLen {
		return nil, invalid("missing or oversized kid")
	}
	return &h, nil
}

// checkClaims applies the claim checks and builds the Identity.
func (v *Verifier) checkClaims(c map[string]any) (*Identity, error) {
	now := v.cfg.Now()
	exp, ok := numericDate(c["exp"])
	if !ok {
		return nil, invalid("missing exp")
	}
	if !now.Before(exp) {
		return nil, invalid("expired")
	}
	if x, present := c["nbf"]; present {
		nbf, ok := numericDate(x)
		if !ok || nbf.After(now.Add(v.cfg.Leeway)) {
			return nil, invalid("not valid yet")
		}
	}
	if x, present := c["iat"]; present {
		iat, ok := numericDate(x)
		if !ok || iat.After(now.Add(v.cfg.Leeway)) {
			return nil, invalid("issued in the future")
		}
	}
	if iss, _ := c["iss"].(string); iss != v.cfg.Issuer {
		return nil, invalid("wrong issuer")
	}
	use, _ := c["token_use"].(string)
	if use != v.cfg.TokenUse {
		return nil, invalid("wrong token_use")
	}
	var client string
	if use == TokenUseAccess {
		client, _ = c["client_id"].(string)
		if !v.clients[client] {
			return nil, invalid("wrong client_id")
		}
	} else {
		client, ok = v.audience(c["aud"])
		if !ok {
			return nil, invalid("wrong audience")
		}
	}
	sub, _ := c["sub"].(string)
	if sub == "" {
		return nil, invalid("missing sub")
	}
	return identityFromClaims(c, client), nil
}

// audience returns the first aud value (a string or an array of strings)
// that is an accepted client.
func (v *Verifier) audience(aud any) (string, bool) {
	switch a := aud.(type) {
	case string:
		return a, v.clients[a]
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && v.clients[s] {
				return s, true
			}
		}
	}
	return "", false
}

// identityFromClaims builds the Identity of verified claims.
func identityFromClaims(c map[string]any, client string) *Identity {
	str := func(n string) string { s, _ := c[n].(string); return s }
	id := &Identity{
		Sub:      str("sub"),
		Username: str("username"),
		Email:    str("email"),
		Company:  str("custom:company_name"),
		ClientID: client,
		TokenUse: str("token_use"),
		Claims:   c,
	}
	if id.Username == "" {
		id.Username = str("cognito:username")
	}
	if gs, ok := c["cognito:groups"].([]any); ok {
		for _, g := range gs {
			if s, ok := g.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	}
	return id
}

// IdentityFromClaims builds an Identity from claims that were verified by
// other means (Gatehouse's forward-auth endpoint uses it for the claims its
// own service verified). It checks nothing.
func IdentityFromClaims(claims map[string]any) *Identity {
	client, _ := claims["client_id"].(string)
	if client == "" {
		client, _ = claims["aud"].(string)
	}
	return identityFromClaims(claims, client)
}

// numericDate reads a JSON number of seconds since the epoch.
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// p256HalfN is (n−1)/2 of P-256 (n is odd).
var p256HalfN = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// lowS reports whether sig, an ES256 JWS signature (r || s, 32 bytes
// each), has 0 < s <= n/2.
func lowS(sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	s := new(big.Int).SetBytes(sig[32:])
	return s.Sign() > 0 && s.Cmp(p256HalfN) <= 0
}
