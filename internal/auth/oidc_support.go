package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// OAuth 2.0 / OpenID Connect support (internal/oidc is the HTTP surface).
//
// Authorization codes carry 256 bits of entropy; only their SHA-256 is
// stored (store.InsertOAuthCode), valid for OAuthCodeTTL, bound to the pool,
// client, user, redirect_uri, PKCE challenge, nonce and scope. Redeeming
// signs the tokens first (never inside a transaction, see tokens.go), then
// in one transaction marks the code used by a compare-and-set that also
// records the new refresh family and the sign-in's origin_jti, and inserts
// the refresh token. A code presented again (or raced) is refused and the
// sign-in it was exchanged for ends, in one transaction: its refresh family
// is revoked and its origin_jti recorded as revoked (as RevokeToken does),
// so the access and ID tokens issued from a stolen-and-replayed code stop
// working too (RFC 6749 §4.1.2, docs/security.md T10).
//
// The tokens are exactly the ones every other sign-in gets (issueTokens),
// plus the request's nonce in the ID token and the granted scopes in the
// access token's scope claim.

// OAuthCodeTTL is how long an authorization code may be redeemed.
const OAuthCodeTTL = 60 * time.Second

// OIDC scopes a user's code grant may carry.
const (
	ScopeOpenID    = "openid"
	ScopeEmail     = "email"
	ScopeProfile   = "profile"
	ScopePhone     = "phone"
	ScopeUserAdmin = scopeUserAdmin
	// ScopeOfflineAccess (OIDC Core §11) asks for a refresh token; granted
	// to clients allowed to refresh, which get one anyway.
	ScopeOfflineAccess = "offline_access"
)

// IsUserScope reports whether s is one of the built-in user scopes.
func IsUserScope(s string) bool {
	switch s {
	case ScopeOpenID, ScopeEmail, ScopeProfile, ScopePhone, ScopeUserAdmin:
		return true
	}
	return false
}

var errInvalidCode = identity.Errorf(identity.CodeNotAuthorized, "Invalid authorization code.")

// OAuthClient returns app client clientID and its pool without
// authenticating it (for /oauth2/authorize and /logout, where only the
// registered URLs are checked). Errors: invalid_parameter (empty or long
// id), resource_not_found (no such client).
func (s *Service) OAuthClient(ctx context.Context, clientID string) (*identity.AppClient, *identity.Pool, error) {
	return s.resolveClient(ctx, Client{ID: clientID, Hosted: true}, "")
}

// AuthenticateOAuthClient authenticates a client at the token or revoke
// endpoint: a confidential client must present its secret (compared in
// constant time); a public client must present none. Errors:
// resource_not_found, not_authorized.
func (s *Service) AuthenticateOAuthClient(ctx context.Context, clientID, secret string) (*identity.AppClient, *identity.Pool, error) {
	if len(secret) > 512 {
		return nil, nil, identity.Errorf(identity.CodeNotAuthorized, "Invalid client secret.")
	}
	cl, p, err := s.resolveClient(ctx, Client{ID: clientID, Secret: secret}, "")
	if err != nil {
		return nil, nil, err
	}
	if !cl.HasSecret() && secret != "" {
		return nil, nil, identity.Errorf(identity.CodeNotAuthorized, "Client %s has no secret.", cl.ID)
	}
	return cl, p, nil
}

// AuthorizationCodeInput is a granted authorization request.
type AuthorizationCodeInput struct {
	Pool                *identity.Pool
	Client              *identity.AppClient
	Sub                 string
	AuthTime            time.Time
	AMR                 []string // how the session signed in
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string // "S256" or ""
	Nonce               string
	Scope               string
}

// CreateAuthorizationCode stores a new single-use code for in and returns
// it. The caller (internal/oidc) has validated the client, redirect_uri,
// PKCE parameters and scopes. Errors: invalid_parameter for oversized
// values, internal.
func (s *Service) CreateAuthorizationCode(ctx context.Context, in AuthorizationCodeInput) (string, error) {
	if len(in.Nonce) > 512 || len(in.RedirectURI) > 2048 || len(in.CodeChallenge) > 128 || len(in.Scope) > 2048 {
		return "", identity.FieldError("request", "A parameter of the authorization request is too long.")
	}
	need, err := s.NeedsMFA(ctx, in.Pool.ID, in.Sub, in.AMR)
	if err != nil {
		return "", err
	}
	if need {
		return "", errMFARequired
	}
	raw, err := s.randomToken(32)
	if err != nil {
		return "", err
	}
	now := s.now()
	c := &identity.OAuthCode{AMR: strings.Join(in.AMR, " "), Hash: sha256Hex(raw), PoolID: in.Pool.ID, ClientID: in.Client.ID, UserSub: in.Sub,
		RedirectURI: in.RedirectURI, CodeChallenge: in.CodeChallenge, CodeChallengeMethod: in.CodeChallengeMethod,
		Nonce: in.Nonce, Scope: in.Scope, AuthTime: in.AuthTime.UTC(), ExpiresAt: now.Add(OAuthCodeTTL), CreatedAt: now}
	if err := s.cfg.Store.InsertOAuthCode(ctx, c); err != nil {
		return "", fmt.Errorf("insert oauth code: %w", err)
	}
	s.purgeOAuthCodes(ctx, now)
	return raw, nil
}

// oauthCodeRetention is how long a code is kept after it expired, so that
// a replay within it still revokes what the code was exchanged for.
const oauthCodeRetention = 24 * time.Hour

// purgeOAuthCodes deletes codes expired more than oauthCodeRetention ago,
// at most once per 10 minutes per Service (runPurge; piggybacked on code
// creation).
func (s *Service) purgeOAuthCodes(ctx context.Context, now time.Time) {
	s.runPurge(ctx, &s.codePurge, now, func() (int, error) {
		return s.cfg.Store.DeleteExpiredOAuthCodes(ctx, now.Add(-oauthCodeRetention))
	})
}

// RedeemCodeInput is an authorization_code grant from an authenticated
// client (AuthenticateOAuthClient).
type RedeemCodeInput struct {
	Pool         *identity.Pool
	Client       *identity.AppClient
	Code         string
	RedirectURI  string
	CodeVerifier string
}

// RedeemAuthorizationCode exchanges a code for tokens (ID token only when
// the scope has openid). It returns the tokens and the granted scope.
// Errors: not_authorized (unknown, expired, reused, other client's code,
// redirect_uri mismatch, PKCE failure, user disabled, signed out or gone
// since) — the token endpoint's invalid_grant; internal.
func (s *Service) RedeemAuthorizationCode(ctx context.Context, in RedeemCodeInput) (*Tokens, string, error) {
	if in.Code == "" || len(in.Code) > 256 || len(in.CodeVerifier) > 128 {
		return nil, "", errInvalidCode
	}
	hash := sha256Hex(in.Code)
	c, err := s.cfg.Store.GetOAuthCode(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errInvalidCode
	}
	if err != nil {
		return nil, "", fmt.Errorf("get oauth code: %w", err)
	}
	if c.ClientID != in.Client.ID || c.PoolID != in.Pool.ID {
		return nil, "", errInvalidCode
	}
	if !c.UsedAt.IsZero() {
		return nil, "", s.codeReused(ctx, in.Pool, c)
	}
	now := s.now()
	if !now.Before(c.ExpiresAt) {
		return nil, "", identity.Errorf(identity.CodeNotAuthorized, "The authorization code has expired.")
	}
	if subtle.ConstantTimeCompare([]byte(c.RedirectURI), []byte(in.RedirectURI)) != 1 {
		return nil, "", identity.Errorf(identity.CodeNotAuthorized, "redirect_uri does not match the authorization request.")
	}
	if err := checkPKCE(c, in.CodeVerifier); err != nil {
		return nil, "", err
	}
	u, err := s.cfg.Store.GetUser(ctx, c.PoolID, c.UserSub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errInvalidCode
	}
	if err != nil {
		return nil, "", fmt.Errorf("get user: %w", err)
	}
	if !u.Enabled {
		return nil, "", identity.Errorf(identity.CodeNotAuthorized, "User is disabled.")
	}
	if !canHoldTokens(u) || (!u.TokensValidAfter.IsZero() && c.CreatedAt.Before(u.TokensValidAfter)) {
		return nil, "", errInvalidCode
	}
	groups, err := groupNames(ctx, s.cfg.Store, u)
	if err != nil {
		return nil, "", err
	}
	origin, err := s.newJTI(now)
	if err != nil {
		return nil, "", err
	}
	family, err := s.newSub()
	if err != nil {
		return nil, "", err
	}
	g := &tokenGrant{pool: in.Pool, client: in.Client, user: u, groups: groups, authTime: c.AuthTime,
		originJTI: origin, now: now, nonce: c.Nonce, scope: c.Scope, amr: strings.Fields(c.AMR),
		acr: ACRFor(strings.Fields(c.AMR))}
	toks, err := s.issueTokens(withTokenSource(ctx, hooks.SourceTokenHostedAuth), g)
	if err != nil {
		return nil, "", err
	}
	_, _, refreshTTL := lifetimes(in.Pool, in.Client)
	raw, rt, err := s.newRefreshToken(g, family, now.Add(refreshTTL))
	if err != nil {
		return nil, "", err
	}
	errReused := errors.New("code reused")
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		ok, err := q.UseOAuthCode(ctx, hash, family, origin, now)
		if err != nil {
			return fmt.Errorf("use oauth code: %w", err)
		}
		if !ok {
			return errReused
		}
		if in.Client.AllowsFlow(identity.FlowRefreshToken) {
			if err := s.insertSignIn(ctx, q, rt); err != nil {
				return fmt.Errorf("insert refresh token: %w", err)
			}
		}
		return recordOIDCSession(ctx, q, in.Pool, in.Client, u.Sub, origin, now)
	})
	if errors.Is(err, errReused) {
		c2, gerr := s.cfg.Store.GetOAuthCode(ctx, hash)
		if gerr != nil {
			return nil, "", fmt.Errorf("get oauth code: %w", gerr)
		}
		return nil, "", s.codeReused(ctx, in.Pool, c2)
	}
	if err != nil {
		return nil, "", err
	}
	if in.Client.AllowsFlow(identity.FlowRefreshToken) {
		toks.RefreshToken = raw
	}
	if !hasScope(c.Scope, ScopeOpenID) {
		toks.IDToken = ""
	}
	return toks, c.Scope, nil
}

// codeReused ends the sign-in c was exchanged for (if any yet): in one
// transaction it revokes its refresh family, records its origin_jti as
// revoked (its access and ID tokens are then refused) and audits the
// replay.
func (s *Service) codeReused(ctx context.Context, p *identity.Pool, c *identity.OAuthCode) error {
	now := s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if c.FamilyID != "" {
			if err := q.RevokeRefreshFamily(ctx, c.FamilyID, now); err != nil {
				return fmt.Errorf("revoke refresh family: %w", err)
			}
		}
		if err := revokeOrigin(ctx, q, p.ID, c.UserSub, c.OriginJTI, now); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.oauth_code_reuse", "user:"+c.UserSub,
			map[string]string{"client_id": c.ClientID, "family": c.FamilyID})
	})
	if err != nil {
		return err
	}
	s.purgeRevokedOrigins(ctx, now)
	return identity.Errorf(identity.CodeNotAuthorized, "The authorization code was already used.")
}

// checkPKCE verifies RFC 7636 S256: BASE64URL(SHA256(verifier)) ==
// challenge. No challenge stored: no verifier may be sent either.
func checkPKCE(c *identity.OAuthCode, verifier string) error {
	if c.CodeChallenge == "" {
		if verifier != "" {
			return identity.Errorf(identity.CodeNotAuthorized, "code_verifier sent but no code_challenge was.")
		}
		return nil
	}
	if c.CodeChallengeMethod != "S256" || !ValidPKCEValue(verifier) {
		return identity.Errorf(identity.CodeNotAuthorized, "Invalid code_verifier.")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.CodeChallenge)) != 1 {
		return identity.Errorf(identity.CodeNotAuthorized, "Invalid code_verifier.")
	}
	return nil
}

// ValidPKCEValue reports whether v is a valid code_verifier (RFC 7636
// §4.1: 43–128 of [A-Za-z0-9-._~]); S256 challenges (43 characters of
// base64url) pass too.
func ValidPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func hasScope(scope, s string) bool {
	for _, f := range strings.Fields(scope) {
		if f == s {
			return true
		}
	}
	return false
}

// ClientCredentialsToken issues an access token to a confidential client
// (already authenticated) whose OAuthFlows include client_credentials, in
// Cognito's shape: sub and client_id are the client id, token_use access,
// scope the granted custom scopes, no user claims, no ID or refresh token.
// scope "" grants every custom scope of the client (OAuthScopes entries
// that are not user scopes); otherwise each requested scope must be one of
// them. Errors: not_authorized (flow not allowed, public client),
// invalid_parameter (scope not allowed).
func (s *Service) ClientCredentialsToken(ctx context.Context, p *identity.Pool, cl *identity.AppClient, scope string) (*Tokens, string, error) {
	if !cl.HasSecret() || !contains(cl.OAuthFlows, identity.OAuthFlowClientCredentials) {
		return nil, "", identity.Errorf(identity.CodeNotAuthorized, "Client %s may not use client_credentials.", cl.ID)
	}
	var allowed []string
	for _, sc := range cl.OAuthScopes {
		if !IsUserScope(sc) {
			allowed = append(allowed, sc)
		}
	}
	granted := allowed
	if strings.TrimSpace(scope) != "" {
		granted = nil
		for _, sc := range strings.Fields(scope) {
			if !contains(allowed, sc) {
				return nil, "", identity.FieldError("scope", "Scope %s is not allowed for this client.", safeEcho(sc))
			}
			if !contains(granted, sc) {
				granted = append(granted, sc)
			}
		}
	}
	if len(granted) == 0 {
		return nil, "", identity.FieldError("scope", "The client has no custom scopes.")
	}
	_, accessTTL, _ := lifetimes(p, cl)
	now := s.now()
	jti, err := s.newJTI(now)
	if err != nil {
		return nil, "", err
	}
	sc := strings.Join(granted, " ")
	claims := map[string]any{
		"sub":       cl.ID,
		"token_use": "access",
		"scope":     sc,
		"auth_time": now.Unix(),
		"iss":       s.Issuer(p),
		"exp":       now.Add(accessTTL).Unix(),
		"iat":       now.Unix(),
		"jti":       jti,
		"client_id": cl.ID,
		"version":   2,
	}
	tok, err := s.cfg.Tokens.Sign(ctx, p, claims)
	if err != nil {
		return nil, "", fmt.Errorf("sign access token: %w", err)
	}
	return &Tokens{AccessToken: tok, ExpiresIn: int(accessTTL / time.Second), TokenType: "Bearer"}, sc, nil
}

// OAuthUserInfo answers /oauth2/userInfo of pool poolID for a user's
// access token: sub, username, and the user's attributes the token's client
// may read (email and email_verified among them). The token must be one of
// that pool (AuthenticateAccessTokenFor) and carry the openid or
// aws.cognito.signin.user.admin scope. Errors: those of
// AuthenticateAccessTokenFor (invalid_token for another pool's token,
// not_authorized, user_disabled, ...), insufficient_scope for a token
// without those scopes.
func (s *Service) OAuthUserInfo(ctx context.Context, poolID, accessToken string) (map[string]any, error) {
	p, u, claims, err := s.AuthenticateAccessTokenFor(ctx, poolID, accessToken)
	if err != nil {
		return nil, err
	}
	if RequireScope(claims, ScopeOpenID) != nil && RequireScope(claims, ScopeUserAdmin) != nil {
		return nil, errInsufficientScope
	}
	var cl *identity.AppClient
	if id := strClaim(claims, "client_id"); id != "" {
		if c, err := s.cfg.Store.GetClient(ctx, id); err == nil {
			cl = c
		}
	}
	out := map[string]any{}
	for name, value := range u.Attributes {
		if readable(cl, name) {
			out[name] = value
		}
	}
	if u.Email != "" && readable(cl, "email") {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	out["sub"] = u.Sub
	out["username"] = cognitoUsername(p, u)
	return out, nil
}
