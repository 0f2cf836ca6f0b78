package auth

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// App client limits.
const (
	clientIDLen        = 26
	clientSecretLen    = 51
	MaxClientNameLen   = 128
	MaxClientURLs      = 100
	MaxClientURLLen    = 1024
	MaxClientScopes    = 50
	MaxClientScopeLen  = 256
	OAuthFlowCode      = "code"
	OAuthFlowClientCrd = "client_credentials"
)

// DefaultAuthFlows are the flows of a client created without AuthFlows.
// Cognito's own default is SRP + refresh + custom auth; Gatehouse has no
// custom-auth challenges, and USER_PASSWORD_AUTH is what the native API and
// the hosted pages use, so the default is password + SRP + refresh.
var DefaultAuthFlows = []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken}

var (
	fixedClientIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	// RFC 6749 scope-token: %x21 / %x23-5B / %x5D-7E.
	scopeRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
)

// CreateClient validates in and creates an app client in in.PoolID. The id
// is 26 random lower-case alphanumerics unless in.ID is given. With
// GenerateSecret a 51-character secret is made; its SHA-256 is stored, and
// the secret sealed with the master key for Cognito's SECRET_HASH
// (secrethash.go); the secret is returned once, in CreatedClient.Secret.
//
// Validation: AuthFlows ⊆ the identity.Flow* names (default
// DefaultAuthFlows); Read/WriteAttributes name standard or schema
// attributes; CallbackURLs/LogoutURLs absolute https URLs (http only for
// localhost, 127.0.0.1 and [::1]) without fragment or user info, at most
// 100, kept exactly as given (matching is exact); OAuthFlows ⊆ {code,
// client_credentials}, code needs a callback URL, client_credentials needs a
// secret; OAuthScopes are RFC 6749 scope tokens; IDTokenSignedResponseAlg
// "", ES256 or RS256; BackchannelLogoutURI "" or a URL like a callback URL;
// RefreshRotation one of the identity.Rotation* modes, RefreshGraceSeconds
// 0..60 (kept as given; it matters only while the client rotates).
//
// Errors: resource_not_found (pool), invalid_parameter, conflict (in.ID taken).
func (s *Service) CreateClient(ctx context.Context, in CreateClientInput) (*CreatedClient, error) {
	p, err := s.getPool(ctx, s.cfg.Store, in.PoolID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &identity.AppClient{
		ID:              in.ID,
		PoolID:          p.ID,
		Name:            in.Name,
		AuthFlows:       append([]string(nil), in.AuthFlows...),
		Tokens:          in.Tokens,
		ReadAttributes:  append([]string(nil), in.ReadAttributes...),
		WriteAttributes: append([]string(nil), in.WriteAttributes...),
		CallbackURLs:    append([]string(nil), in.CallbackURLs...),
		LogoutURLs:      append([]string(nil), in.LogoutURLs...),
		OAuthFlows:      append([]string(nil), in.OAuthFlows...),
		OAuthScopes:     append([]string(nil), in.OAuthScopes...),
		CreatedAt:       now,
		UpdatedAt:       now,

		IDTokenSignedResponseAlg: in.IDTokenSignedResponseAlg,
		BackchannelLogoutURI:     in.BackchannelLogoutURI,
		RefreshRotation:          in.RefreshRotation,
		RefreshGraceSeconds:      in.RefreshGraceSeconds,
	}
	fixedID := in.ID != ""
	if fixedID && !fixedClientIDRE.MatchString(in.ID) {
		return nil, identity.FieldError("client_id", "Invalid client id %q: use 1 to 128 letters and digits.", safeEcho(in.ID))
	}
	var secret string
	if in.GenerateSecret {
		if secret, err = s.randomString(clientSecretLen, lowerAlnum); err != nil {
			return nil, err
		}
		c.SecretHash = sha256Hex(secret)
	}
	if len(c.AuthFlows) == 0 {
		c.AuthFlows = append([]string(nil), DefaultAuthFlows...)
	}
	if err := validateClient(p, c); err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 3; attempt++ {
		if !fixedID {
			if c.ID, err = s.randomString(clientIDLen, lowerAlnum); err != nil {
				return nil, err
			}
		}
		if secret != "" {
			if err := s.sealClientSecret(c, secret); err != nil {
				return nil, err
			}
		}
		err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			if err := q.CreateClient(ctx, c); err != nil {
				return err
			}
			return s.audit(ctx, q, p.ID, "client.create", "client:"+c.ID, map[string]string{"name": c.Name})
		})
		if !errors.Is(err, store.ErrConflict) || fixedID {
			break
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, identity.Errorf(identity.CodeConflict, "An app client with the id %s already exists.", c.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "User pool %s does not exist.", p.ID)
	}
	if err != nil {
		return nil, wrapStoreErr("create client", err)
	}
	return &CreatedClient{Client: c, Secret: secret}, nil
}

// GetClient returns the app client if it belongs to poolID.
//
// Errors: resource_not_found (pool or client, including a client of
// another pool).
func (s *Service) GetClient(ctx context.Context, poolID, clientID string) (*identity.AppClient, error) {
	return s.getPoolClient(ctx, s.cfg.Store, poolID, clientID)
}

func (s *Service) getPoolClient(ctx context.Context, q store.Querier, poolID, clientID string) (*identity.AppClient, error) {
	p, err := s.getPool(ctx, q, poolID)
	if err != nil {
		return nil, err
	}
	notFound := identity.Errorf(identity.CodeResourceNotFound, "User pool client %s does not exist.", safeEcho(clientID))
	if clientID == "" || len(clientID) > 128 {
		return nil, notFound
	}
	c, err := q.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.PoolID != p.ID) {
		return nil, notFound
	}
	if err != nil {
		return nil, wrapStoreErr("get client", err)
	}
	return c, nil
}

// ListClients lists the pool's app clients, limit 1..60 (0: 60).
//
// Errors: resource_not_found, invalid_parameter (limit, token).
func (s *Service) ListClients(ctx context.Context, poolID string, limit int, token string) ([]*identity.AppClient, string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, "", err
	}
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	cs, next, err := s.cfg.Store.ListClients(ctx, p.ID, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list clients", err)
	}
	return cs, next, nil
}

// UpdateClient validates and stores c (fetched by GetClient and changed).
// The id, pool, secret and creation time are kept from the stored client;
// an empty AuthFlows takes DefaultAuthFlows.
//
// Errors: resource_not_found, invalid_parameter.
func (s *Service) UpdateClient(ctx context.Context, c *identity.AppClient) (*identity.AppClient, error) {
	if c == nil {
		return nil, identity.FieldError("client", "An app client is required.")
	}
	nc := *c
	nc.AuthFlows = append([]string(nil), c.AuthFlows...)
	nc.ReadAttributes = append([]string(nil), c.ReadAttributes...)
	nc.WriteAttributes = append([]string(nil), c.WriteAttributes...)
	nc.CallbackURLs = append([]string(nil), c.CallbackURLs...)
	nc.LogoutURLs = append([]string(nil), c.LogoutURLs...)
	nc.OAuthFlows = append([]string(nil), c.OAuthFlows...)
	nc.OAuthScopes = append([]string(nil), c.OAuthScopes...)
	if len(nc.AuthFlows) == 0 {
		nc.AuthFlows = append([]string(nil), DefaultAuthFlows...)
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := s.getPoolClient(ctx, q, c.PoolID, c.ID)
		if err != nil {
			return err
		}
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		nc.SecretHash, nc.SecretSealed = cur.SecretHash, cur.SecretSealed
		nc.CreatedAt = cur.CreatedAt
		nc.UpdatedAt = s.now()
		if err := validateClient(p, &nc); err != nil {
			return err
		}
		if err := q.UpdateClient(ctx, &nc); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "client.update", "client:"+nc.ID, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("update client", err)
	}
	return &nc, nil
}

// RegenerateClientSecret replaces the client's secret and returns the new
// one once. A public client becomes confidential. The old secret stops
// working at once.
//
// Errors: resource_not_found.
func (s *Service) RegenerateClientSecret(ctx context.Context, poolID, clientID string) (*CreatedClient, error) {
	secret, err := s.randomString(clientSecretLen, lowerAlnum)
	if err != nil {
		return nil, err
	}
	var out *identity.AppClient
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		c, err := s.getPoolClient(ctx, q, poolID, clientID)
		if err != nil {
			return err
		}
		c.SecretHash = sha256Hex(secret)
		if err := s.sealClientSecret(c, secret); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := q.UpdateClient(ctx, c); err != nil {
			return err
		}
		out = c
		return s.audit(ctx, q, c.PoolID, "client.regenerate_secret", "client:"+c.ID, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("regenerate client secret", err)
	}
	return &CreatedClient{Client: out, Secret: secret}, nil
}

// DeleteClient deletes the app client. Its refresh tokens stay in the store
// until they expire, but are unusable: every refresh resolves the client
// first, which now fails with resource_not_found.
//
// Errors: resource_not_found.
func (s *Service) DeleteClient(ctx context.Context, poolID, clientID string) error {
	return wrapStoreErr("delete client", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		c, err := s.getPoolClient(ctx, q, poolID, clientID)
		if err != nil {
			return err
		}
		if err := q.DeleteClient(ctx, c.PoolID, c.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return identity.Errorf(identity.CodeResourceNotFound, "User pool client %s does not exist.", c.ID)
			}
			return err
		}
		return s.audit(ctx, q, c.PoolID, "client.delete", "client:"+c.ID, map[string]string{"name": c.Name})
	}))
}

// validateClient checks every settable field of c against pool p.
func validateClient(p *identity.Pool, c *identity.AppClient) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return identity.FieldError("name", "A client name is required.")
	}
	if !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > MaxClientNameLen || strings.IndexFunc(c.Name, unicode.IsControl) >= 0 {
		return identity.FieldError("name", "The client name must be 1 to %d printable characters.", MaxClientNameLen)
	}
	allowed := []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken, identity.FlowAdminUserPassword, identity.FlowCustomAuth, identity.FlowUserAuth}
	if err := checkSet("auth_flows", c.AuthFlows, func(f string) bool { return contains(allowed, f) },
		"Unknown auth flow %q; allowed: "+strings.Join(allowed, ", ")+"."); err != nil {
		return err
	}
	if err := validateLifetimes("tokens", c.Tokens); err != nil {
		return err
	}
	switch c.RefreshRotation {
	case identity.RotationAlways, identity.RotationEnabled, identity.RotationDisabled:
	default:
		return identity.FieldError("refresh_token_rotation", "Unknown refresh token rotation %q; use ENABLED or DISABLED.", safeEcho(string(c.RefreshRotation)))
	}
	if c.RefreshGraceSeconds < 0 || c.RefreshGraceSeconds > identity.MaxRefreshGraceSeconds {
		return identity.FieldError("refresh_token_retry_grace_seconds", "The retry grace period must be 0 to %d seconds.", identity.MaxRefreshGraceSeconds)
	}
	known := func(name string) bool { return StandardAttributes[name] || attrDef(p, name) != nil }
	if err := checkSet("read_attributes", c.ReadAttributes, func(a string) bool { return a == "sub" || known(a) },
		"Unknown attribute %q in read_attributes."); err != nil {
		return err
	}
	if err := checkSet("write_attributes", c.WriteAttributes, func(a string) bool {
		return known(a) && a != "email_verified" && a != "phone_number_verified"
	}, "The attribute %q cannot be in write_attributes (unknown, or a *_verified flag)."); err != nil {
		return err
	}
	// The company attribute is set by approvals and admins only
	// (security.md A1); no client writes it.
	if a := p.Settings.SignUp.CompanyAttr(); contains(c.WriteAttributes, a) {
		return identity.FieldError("write_attributes", "Invalid write attributes: %s is the pool's company attribute, which only an approval or an admin sets; no app client may write it.", a)
	}
	if err := validateRedirectURLs("callback_urls", c.CallbackURLs); err != nil {
		return err
	}
	if err := validateRedirectURLs("logout_urls", c.LogoutURLs); err != nil {
		return err
	}
	if err := checkSet("oauth_flows", c.OAuthFlows, func(f string) bool { return f == OAuthFlowCode || f == OAuthFlowClientCrd },
		"Unknown OAuth flow %q; allowed: code, client_credentials."); err != nil {
		return err
	}
	switch c.IDTokenSignedResponseAlg {
	case "", "ES256", "RS256":
	default:
		return identity.FieldError("id_token_signed_response_alg", "Unsupported id_token_signed_response_alg %q; use ES256 or RS256.", safeEcho(c.IDTokenSignedResponseAlg))
	}
	if c.BackchannelLogoutURI != "" {
		if err := validateRedirectURLs("backchannel_logout_uri", []string{c.BackchannelLogoutURI}); err != nil {
			return err
		}
	}
	if contains(c.OAuthFlows, OAuthFlowCode) && len(c.CallbackURLs) == 0 {
		return identity.FieldError("callback_urls", "The code flow needs at least one callback URL.")
	}
	if contains(c.OAuthFlows, OAuthFlowClientCrd) && !c.HasSecret() {
		return identity.FieldError("oauth_flows", "The client_credentials flow needs a client secret.")
	}
	if len(c.OAuthScopes) > MaxClientScopes {
		return identity.FieldError("oauth_scopes", "A client has at most %d scopes.", MaxClientScopes)
	}
	return checkSet("oauth_scopes", c.OAuthScopes, func(sc string) bool {
		return len(sc) <= MaxClientScopeLen && scopeRE.MatchString(sc)
	}, "Invalid scope %q: a scope is 1 to 256 printable ASCII characters without spaces, quotes or backslashes.")
}

// checkSet checks that every value passes ok and none repeats.
func checkSet(field string, values []string, ok func(string) bool, badFormat string) error {
	if len(values) > 200 {
		return identity.FieldError(field, "Too many values in %s.", field)
	}
	for i, v := range values {
		if !ok(v) {
			return identity.FieldError(field, badFormat, safeEcho(v))
		}
		if contains(values[:i], v) {
			return identity.FieldError(field, "%q is listed twice in %s.", safeEcho(v), field)
		}
	}
	return nil
}

// validateRedirectURLs checks callback or logout URLs. They are matched
// exactly later, so they are stored as given.
func validateRedirectURLs(field string, urls []string) error {
	if len(urls) > MaxClientURLs {
		return identity.FieldError(field, "At most %d URLs are allowed in %s.", MaxClientURLs, field)
	}
	for i, raw := range urls {
		if err := validateRedirectURL(field, raw); err != nil {
			return err
		}
		if contains(urls[:i], raw) {
			return identity.FieldError(field, "The URL %q is listed twice.", safeEcho(raw))
		}
	}
	return nil
}

func validateRedirectURL(field, raw string) error {
	bad := func(why string) error {
		return identity.FieldError(field, "Invalid URL %q: %s", safeEcho(raw), why)
	}
	if raw == "" || len(raw) > MaxClientURLLen || !utf8.ValidString(raw) {
		return bad("a URL is 1 to 1024 characters.")
	}
	for _, r := range raw {
		if r <= 0x20 || r == 0x7f || r == '\\' {
			return bad("spaces, control characters and backslashes are not allowed.")
		}
	}
	if strings.Contains(raw, "#") {
		return bad("fragments are not allowed.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return bad("it must be an absolute URL.")
	}
	if u.User != nil {
		return bad("user info (user@host) is not allowed.")
	}
	host := strings.ToLower(u.Hostname())
	switch u.Scheme {
	case "https":
	case "http":
		if host != "localhost" && host != "127.0.0.1" && host != "::1" {
			return bad("http is only allowed for localhost; use https.")
		}
	default:
		return bad("the scheme must be https (or http for localhost).")
	}
	if !validHostname(host) && !isIPLiteral(host) {
		return bad("the host name is not valid.")
	}
	return nil
}
