package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Tokens
//
// ID and access tokens are JWTs signed with the pool's active key
// (s.cfg.Tokens.Sign) and carry Cognito's claims (../shared/reference/
// cognito.md). The refresh token is 32 random bytes, base64url, of which
// only the SHA-256 is stored; it rotates on every use (refresh.go).
//
// Token signing never runs inside a store transaction: the token manager
// may read (or on first use create) the pool's keys through the store, and
// on SQLite the single write connection is held by the transaction.

const (
	scopeUserAdmin   = "aws.cognito.signin.user.admin"
	refreshTokenSize = 32 // bytes of entropy
	maxRefreshLen    = 256
)

// lifetimes returns the ID, access and refresh token lifetimes: the
// client's override, else the pool's, else the defaults.
func lifetimes(p *identity.Pool, cl *identity.AppClient) (id, access, refresh time.Duration) {
	pick := func(c, pl, def time.Duration) time.Duration {
		if c > 0 {
			return c
		}
		if pl > 0 {
			return pl
		}
		return def
	}
	var ct identity.TokenLifetimes
	if cl != nil {
		ct = cl.Tokens
	}
	return pick(ct.ID, p.Tokens.ID, DefaultIDTokenTTL),
		pick(ct.Access, p.Tokens.Access, DefaultAccessTokenTTL),
		pick(ct.Refresh, p.Tokens.Refresh, DefaultRefreshTokenTTL)
}

// cognitoUsername is the cognito:username / username claim: the sub when
// the email is the username (Cognito's UsernameAttributes=[email]).
func cognitoUsername(p *identity.Pool, u *identity.User) string {
	if p.UsernameMode == identity.UsernameEmail {
		return u.Sub
	}
	return u.Username
}

// readable reports whether the client may read attribute name.
func readable(cl *identity.AppClient, name string) bool {
	return cl == nil || len(cl.ReadAttributes) == 0 || contains(cl.ReadAttributes, name)
}

// tokenGrant is what a new set of tokens is minted from.
type tokenGrant struct {
	pool      *identity.Pool
	client    *identity.AppClient
	user      *identity.User
	groups    []string
	authTime  time.Time // of the sign-in that started the session
	originJTI string    // shared by every token of the session
	now       time.Time
	// nonce (OIDC authorization requests) goes into the ID token; scope,
	// when set, replaces the access token's default scope (oidc_support.go)
	// and is kept with the refresh family, so that a refresh reissues
	// exactly it (refresh.go).
	nonce string
	scope string
	// amr says how the user signed in (RFC 8176: pwd, otp, mfa, fed; hwk
	// or swk for a passkey, passkeys.go); it goes into both tokens and is
	// kept with the refresh family.
	amr []string
	// acr (OIDC authorization codes only) goes into the ID token: ACRFor
	// the sign-in's amr (mfa.go).
	acr string
	// deviceKey is the device of the sign-in (devices.go): the access
	// token's device_key claim, kept with the refresh family.
	deviceKey string
	// session, when set, is the user's session read with the request
	// (a refresh's store.GetRefreshSession): its linked identities make
	// the identities claim without another read.
	session *store.UserSession
}

// grantedScope is the scope of g's access token before hooks: the one
// granted (an authorization code's, or the one kept with the refresh
// family), else aws.cognito.signin.user.admin, the scope of every sign-in
// through InitiateAuth and of refresh families written before migration
// 0009 (docs/security.md T6).
func (g *tokenGrant) grantedScope() string {
	if g.scope != "" {
		return g.scope
	}
	return scopeUserAdmin
}

// groupNames loads the names of u's groups (precedence order) through q.
func groupNames(ctx context.Context, q store.Querier, u *identity.User) ([]string, error) {
	gs, err := q.ListGroupsForUser(ctx, u.PoolID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
	}
	return names, nil
}

// issueTokens signs the ID and access tokens of g. The refresh token is
// made separately (newRefreshToken) because only its hash is stored and it
// is written in the flow's transaction.
func (s *Service) issueTokens(ctx context.Context, g *tokenGrant) (*Tokens, error) {
	p, cl, u := g.pool, g.client, g.user
	idTTL, accessTTL, _ := lifetimes(p, cl)
	iss := s.Issuer(p)
	iat := g.now.Unix()
	authTime := g.authTime.Unix()

	idJTI, err := s.newJTI(g.now)
	if err != nil {
		return nil, err
	}
	accessJTI, err := s.newJTI(g.now)
	if err != nil {
		return nil, err
	}
	// Cognito's event_id: one UUID per authentication event (a sign-in
	// or a refresh), the same in the ID and access token issued together.
	eventID, err := s.newSub()
	if err != nil {
		return nil, err
	}

	// ID token: readable attributes first, so that no attribute can
	// override a reserved claim set after them.
	id := make(map[string]any, len(u.Attributes)+24) // the attributes and up to 24 claims: no regrowth
	for name, value := range u.Attributes {
		if readable(cl, name) {
			id[name] = value // custom:* and standard attributes, as strings
		}
	}
	if _, ok := id["phone_number_verified"]; ok {
		id["phone_number_verified"] = u.Attributes["phone_number_verified"] == "true"
	}
	if u.Email != "" {
		if readable(cl, "email") {
			id["email"] = u.Email
		}
		// Only once set, as Cognito's ID tokens (and its attribute
		// listings) carry it: never verified nor unverified, no claim.
		if readable(cl, "email_verified") && (u.EmailVerified || u.EmailVerifiedFalse) {
			id["email_verified"] = u.EmailVerified
		}
	}
	id["sub"] = u.Sub
	id["aud"] = cl.ID
	id["token_use"] = "id"
	id["auth_time"] = authTime
	id["iss"] = iss
	id["cognito:username"] = cognitoUsername(p, u)
	id["exp"] = g.now.Add(idTTL).Unix()
	id["iat"] = iat
	id["jti"] = idJTI
	id["origin_jti"] = g.originJTI
	id["event_id"] = eventID
	// OpenID sign-ins (an authorization code with scope openid, and its
	// refreshes) carry what relying parties check beyond Cognito's claims:
	// azp (OIDC Core §2), the party the token was issued to; sid (Front-
	// and Back-Channel Logout), the relying party's session, which is the
	// sign-in (origin_jti) its tokens share, so a logout token or an
	// id_token_hint names exactly it; preferred_username (§5.1); at_hash
	// below. Cognito's own flows keep Cognito's claim set.
	oidc := hasScope(g.scope, ScopeOpenID)
	if oidc {
		id["azp"] = cl.ID
		id["sid"] = g.originJTI
		id["preferred_username"] = preferredUsername(u)
	}
	if len(g.groups) > 0 {
		id["cognito:groups"] = g.groups
	}
	if len(g.amr) > 0 {
		id["amr"] = g.amr
	}
	if g.nonce != "" {
		id["nonce"] = g.nonce
	}
	if g.acr != "" {
		id["acr"] = g.acr
	}
	if len(g.amr) > 0 {
		id["amr"] = g.amr
	}
	// Cognito's identities claim for users with linked identities (federation.go).
	idents, err := identitiesClaim(ctx, s.cfg.Store, u, g.session)
	if err != nil {
		return nil, fmt.Errorf("identities claim: %w", err)
	}
	if idents != "" {
		id["identities"] = idents
	}

	access := map[string]any{
		"sub":        u.Sub,
		"token_use":  "access",
		"scope":      g.grantedScope(),
		"auth_time":  authTime,
		"iss":        iss,
		"exp":        g.now.Add(accessTTL).Unix(),
		"iat":        iat,
		"origin_jti": g.originJTI,
		"event_id":   eventID,
		"jti":        accessJTI,
		"client_id":  cl.ID,
		"username":   cognitoUsername(p, u),
	}
	if len(g.groups) > 0 {
		access["cognito:groups"] = g.groups
	}
	if len(g.amr) > 0 {
		access["amr"] = g.amr
	}
	if g.deviceKey != "" {
		access["device_key"] = g.deviceKey
	}

	if err := s.preTokenGeneration(ctx, g, id, access); err != nil { // hooks: may change claims
		return nil, err
	}
	accessToken, err := s.cfg.Tokens.Sign(ctx, p, access)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	// OIDC Core §3.1.3.6: at_hash, the left half of the SHA-256 of the
	// access token (both algorithms hash with SHA-256).
	if oidc {
		sum := sha256.Sum256([]byte(accessToken))
		id["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	idToken, err := s.cfg.Tokens.SignAs(ctx, p, idTokenAlg(cl, oidc), id)
	if err != nil {
		return nil, fmt.Errorf("sign id token: %w", err)
	}
	return &Tokens{
		IDToken:     idToken,
		AccessToken: accessToken,
		ExpiresIn:   int(accessTTL / time.Second),
		TokenType:   "Bearer",
		Scope:       g.grantedScope(),
	}, nil
}

// idTokenAlg is the algorithm of cl's ID tokens: its
// id_token_signed_response_alg; else, for an OpenID sign-in (oidc: an
// authorization code with scope openid, and its refreshes), RS256, the
// default of OpenID Connect Dynamic Client Registration §2 that every
// relying party accepts; else "" (the pool's SigningAlg, as for the access
// token). So the Cognito and native sign-ins keep the pool's algorithm
// (ES256 unless set: an RSA-2048 signature costs ≈ 30 ES256 ones, and a
// refresh signs two tokens; docs/benchmarks.md).
func idTokenAlg(cl *identity.AppClient, oidc bool) string {
	switch {
	case cl.IDTokenSignedResponseAlg != "":
		return cl.IDTokenSignedResponseAlg
	case oidc:
		return "RS256"
	}
	return ""
}

// preferredUsername is OIDC's preferred_username: the user's own
// preferred_username attribute, else the username they sign in with.
func preferredUsername(u *identity.User) string {
	if v := u.Attributes["preferred_username"]; v != "" {
		return v
	}
	return u.Username
}

// newRefreshToken returns a fresh opaque refresh token and its stored
// record, in family familyID. expiresAt is the absolute expiry of the
// family, which rotation does not extend.
func (s *Service) newRefreshToken(g *tokenGrant, familyID string, expiresAt time.Time) (string, *identity.RefreshToken, error) {
	raw, err := s.randomToken(refreshTokenSize)
	if err != nil {
		return "", nil, err
	}
	return raw, &identity.RefreshToken{
		Hash:      sha256Hex(raw),
		PoolID:    g.pool.ID,
		ClientID:  g.client.ID,
		UserSub:   g.user.Sub,
		FamilyID:  familyID,
		OriginJTI: g.originJTI,
		Scope:     g.grantedScope(),
		AuthTime:  g.authTime,
		AMR:       strings.Join(g.amr, " "),
		DeviceKey: g.deviceKey,
		IssuedAt:  g.now,
		ExpiresAt: expiresAt,
	}, nil
}

// newSession prepares the tokens of a fresh sign-in of u through client cl:
// a new origin_jti, a new refresh token family, and signed ID and access
// tokens. The caller writes the returned record (q.InsertRefreshToken) in
// its own transaction; nothing is written here.
func (s *Service) newSession(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, amr []string) (*Tokens, *identity.RefreshToken, error) {
	groups, err := groupNames(ctx, s.cfg.Store, u)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	origin, err := s.newJTI(now)
	if err != nil {
		return nil, nil, err
	}
	family, err := s.newSub()
	if err != nil {
		return nil, nil, err
	}
	g := &tokenGrant{pool: p, client: cl, user: u, groups: groups, authTime: now, originJTI: origin, now: now, amr: amr,
		deviceKey: deviceOf(ctx).known}
	toks, err := s.issueTokens(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	_, _, refreshTTL := lifetimes(p, cl)
	raw, rt, err := s.newRefreshToken(g, family, now.Add(refreshTTL))
	if err != nil {
		return nil, nil, err
	}
	toks.RefreshToken = raw
	return toks, rt, nil
}

// numClaim reads a numeric claim as decoded by encoding/json (float64 or
// json.Number) or as set in Go (int64, int).
func numClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || math.IsInf(n, 0) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// strClaim reads a string claim.
func strClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}
