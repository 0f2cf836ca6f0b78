package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// OpenID Connect sessions at relying parties (internal/oidc is the HTTP
// surface): RFC 7009 revocation of access and ID tokens, RFC 7662
// introspection, RP-Initiated Logout's id_token_hint, and Back-Channel
// Logout 1.0.
//
// A relying party's session is the sign-in its tokens share: the
// origin_jti, which its ID tokens also carry as sid. Ending it revokes the
// sign-in's refresh tokens (store.RevokeRefreshOrigin) and records the
// origin as revoked (its access and ID tokens are refused from then on),
// exactly as revoking its refresh token does.

// errUnsupportedTokenType is RFC 7009's unsupported_token_type: a
// client_credentials access token belongs to no sign-in and expires on its
// own.
var errUnsupportedTokenType = identity.Errorf(identity.CodeUnsupported, "This access token (client_credentials) cannot be revoked; it expires on its own.")

// IsUnsupportedTokenType reports whether err is RevokeOAuthToken's answer
// for a token it cannot revoke (RFC 7009 §2.2.1 unsupported_token_type).
func IsUnsupportedTokenType(err error) bool { return errors.Is(err, errUnsupportedTokenType) }

// looksLikeJWT reports whether tok has the shape of a compact JWS (refresh
// tokens are opaque base64url without dots).
func looksLikeJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

// poolJWT verifies tok as a token of pool p (signature and issuer; expired
// tokens pass when expired is set). ok is false for anything else.
func (s *Service) poolJWT(ctx context.Context, p *identity.Pool, tok string, expired bool) (map[string]any, bool) {
	verify := s.cfg.Tokens.Verify
	if expired {
		verify = s.cfg.Tokens.VerifyExpired
	}
	claims, err := verify(ctx, p, tok, s.Issuer(p))
	return claims, err == nil
}

// tokenClient is the client a verified ID or access token was issued to.
func tokenClient(claims map[string]any) string {
	if strClaim(claims, "token_use") == "id" {
		return strClaim(claims, "aud")
	}
	return strClaim(claims, "client_id")
}

// RevokeOAuthToken is /oauth2/revoke (RFC 7009) for client c: a refresh
// token as RevokeToken; an access or ID token (also expired) of the
// client ends its sign-in (endSignIn). Unknown tokens and tokens of
// another client are not an error or answer not_authorized (the surface
// answers 200 either way, §2.2). Errors: those of RevokeToken; the
// unsupported_token_type error (IsUnsupportedTokenType) for a
// client_credentials access token.
func (s *Service) RevokeOAuthToken(ctx context.Context, c Client, tok string) error {
	if !looksLikeJWT(tok) {
		return s.RevokeToken(ctx, c, tok)
	}
	cl, p, err := s.resolveClient(ctx, c, "")
	if err != nil {
		return err
	}
	claims, ok := s.poolJWT(ctx, p, tok, true)
	if !ok {
		return nil
	}
	if tokenClient(claims) != cl.ID {
		return identity.Errorf(identity.CodeNotAuthorized, "The token was not issued to this client.")
	}
	origin, sub := strClaim(claims, "origin_jti"), strClaim(claims, "sub")
	if origin == "" || sub == cl.ID {
		return errUnsupportedTokenType
	}
	return s.endSignIn(ctx, p, sub, origin, cl.ID, "user.revoke_token")
}

// endSignIn ends the sign-in origin of user sub in one transaction
// (RFC 7009 revocation by its own client, which is not told): its refresh
// tokens are revoked, the origin is recorded as revoked, its relying-party
// session forgotten and the event audited.
func (s *Service) endSignIn(ctx context.Context, p *identity.Pool, sub, origin, clientID, event string) error {
	now := s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := s.revokeSignIn(ctx, q, p, sub, origin, now); err != nil {
			return err
		}
		if err := q.DeleteOIDCSession(ctx, p.ID, origin); err != nil {
			return fmt.Errorf("delete oidc session: %w", err)
		}
		return s.audit(ctx, q, p.ID, event, "user:"+sub, map[string]string{"client_id": clientID})
	})
	if err != nil {
		return err
	}
	s.purgeRevokedOrigins(ctx, now)
	return nil
}

// revokeSignIn revokes, through q, the refresh tokens of the sign-in
// origin and records the origin as revoked (its access and ID tokens are
// refused from then on).
func (s *Service) revokeSignIn(ctx context.Context, q store.Querier, p *identity.Pool, sub, origin string, now time.Time) error {
	if err := q.RevokeRefreshOrigin(ctx, p.ID, origin, now); err != nil {
		return fmt.Errorf("revoke refresh origin: %w", err)
	}
	return revokeOrigin(ctx, q, p.ID, sub, origin, now)
}

// IDTokenHint is what a verified id_token_hint names.
type IDTokenHint struct {
	ClientID string // its aud
	Sub      string
	SID      string // the relying party's sign-in (origin_jti)
}

// VerifyIDTokenHint checks an id_token_hint (OpenID Connect RP-Initiated
// Logout 1.0 §2): an ID token this pool signed (also expired, as the
// specification asks), token_use id, with an aud. Errors: invalid_token.
func (s *Service) VerifyIDTokenHint(ctx context.Context, p *identity.Pool, raw string) (*IDTokenHint, error) {
	claims, ok := s.poolJWT(ctx, p, raw, true)
	if !ok || strClaim(claims, "token_use") != "id" || strClaim(claims, "aud") == "" || strClaim(claims, "sub") == "" {
		return nil, identity.Errorf(identity.CodeInvalidToken, "Invalid id_token_hint.")
	}
	return &IDTokenHint{ClientID: strClaim(claims, "aud"), Sub: strClaim(claims, "sub"), SID: strClaim(claims, "origin_jti")}, nil
}

// EndOIDCSession is RP-initiated logout (and the hosted pages'
// sign-out) in one transaction. The sign-in hint names (when given) ends
// as after RFC 7009 revocation, and its relying party is told if it has a
// backchannel_logout_uri. sub is the user of the browser's hosted session
// that ends ("" for none): the relying parties that user signed in to are
// told (enqueueBackchannelLogout). A hint without that user's hosted
// session (a leaked or old ID token, another browser) ends only its own
// sign-in: it never signs its user out of other relying parties. With
// neither nothing is written. Errors: internal.
func (s *Service) EndOIDCSession(ctx context.Context, p *identity.Pool, hint *IDTokenHint, sub string) error {
	if (hint == nil || hint.SID == "") && sub == "" {
		return nil
	}
	now := s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		detail := map[string]string{}
		if hint != nil && hint.SID != "" {
			detail["client_id"] = hint.ClientID
			if err := s.revokeSignIn(ctx, q, p, hint.Sub, hint.SID, now); err != nil {
				return err
			}
			if err := s.tellSessions(ctx, q, p, hint.Sub, hint.SID); err != nil {
				return err
			}
			if err := q.DeleteOIDCSession(ctx, p.ID, hint.SID); err != nil {
				return fmt.Errorf("delete oidc session: %w", err)
			}
			if err := s.audit(ctx, q, p.ID, "user.oidc_logout", "user:"+hint.Sub, detail); err != nil {
				return err
			}
		}
		if sub == "" {
			return nil
		}
		if err := s.enqueueBackchannelLogout(ctx, q, p, sub); err != nil {
			return err
		}
		if hint != nil && hint.SID != "" && hint.Sub == sub {
			return nil // audited above
		}
		return s.audit(ctx, q, p.ID, "user.oidc_logout", "user:"+sub, nil)
	})
	if err != nil {
		return err
	}
	s.purgeRevokedOrigins(ctx, now)
	return nil
}

// Introspect is RFC 7662 token introspection for client cl (a confidential
// client of pool p, authenticated by the caller): an access token of the
// pool (any client's: resource servers introspect tokens issued to the
// apps calling them) or a refresh token of cl. The answer is {"active":
// false} for anything not currently valid (unknown, expired, revoked,
// another pool's, a disabled or signed-out user), else active with the
// token's scope, client_id, username, sub, token_type, exp, iat, iss and
// jti. Errors: internal.
func (s *Service) Introspect(ctx context.Context, p *identity.Pool, cl *identity.AppClient, tok string) (map[string]any, error) {
	inactive := map[string]any{"active": false}
	if tok == "" || len(tok) > 16<<10 {
		return inactive, nil
	}
	if !looksLikeJWT(tok) {
		return s.introspectRefresh(ctx, p, cl, tok)
	}
	claims, ok := s.poolJWT(ctx, p, tok, false)
	if !ok || strClaim(claims, "token_use") != "access" {
		return inactive, nil
	}
	out := map[string]any{"active": true, "token_type": "Bearer", "iss": claims["iss"], "exp": claims["exp"],
		"iat": claims["iat"], "sub": claims["sub"], "client_id": claims["client_id"], "scope": claims["scope"],
		"jti": claims["jti"], "token_use": "access"}
	if strClaim(claims, "sub") == strClaim(claims, "client_id") && strClaim(claims, "username") == "" {
		// client_credentials: active while its client exists in the pool.
		c, err := s.cfg.Store.GetClient(ctx, strClaim(claims, "client_id"))
		if errors.Is(err, store.ErrNotFound) || (err == nil && c.PoolID != p.ID) {
			return inactive, nil
		}
		if err != nil {
			return nil, fmt.Errorf("get client: %w", err)
		}
		return out, nil
	}
	_, u, _, err := s.AuthenticateAccessTokenFor(ctx, p.ID, tok)
	if err != nil {
		if c := identity.ErrorCode(err); c == identity.CodeInternal || c == identity.CodeUnavailable {
			return nil, err
		}
		return inactive, nil
	}
	out["username"] = cognitoUsername(p, u)
	return out, nil
}

// introspectRefresh answers for a refresh token of cl.
func (s *Service) introspectRefresh(ctx context.Context, p *identity.Pool, cl *identity.AppClient, tok string) (map[string]any, error) {
	inactive := map[string]any{"active": false}
	if len(tok) > maxRefreshLen {
		return inactive, nil
	}
	rt, err := s.cfg.Store.GetRefreshToken(ctx, sha256Hex(tok))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	now := s.now()
	if rt.PoolID != p.ID || rt.ClientID != cl.ID || !rt.RevokedAt.IsZero() || !rt.UsedAt.IsZero() || !now.Before(rt.ExpiresAt) {
		return inactive, nil
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, rt.UserSub)
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if !u.Enabled || !canHoldTokens(u) || rt.IssuedAt.Before(u.TokensValidAfter) {
		return inactive, nil
	}
	return map[string]any{"active": true, "token_type": "refresh_token", "client_id": rt.ClientID, "sub": rt.UserSub,
		"username": cognitoUsername(p, u), "scope": rt.Scope, "iss": s.Issuer(p), "exp": rt.ExpiresAt.Unix(),
		"iat": rt.IssuedAt.Unix()}, nil
}

// Back-Channel Logout 1.0.

// BackchannelLogoutJobKind is the job kind that delivers one logout token
// to one client's backchannel_logout_uri; register
// BackchannelLogoutHandler for it.
const BackchannelLogoutJobKind = "oidc.backchannel_logout"

// maxBackchannelSessions bounds the relying-party sessions one sign-out
// tells (the oldest first; the rest expire on their own).
const maxBackchannelSessions = 1000

type backchannelPayload struct {
	PoolID   string `json:"pool_id"`
	ClientID string `json:"client_id"`
	Sub      string `json:"sub"`
	SID      string `json:"sid,omitempty"`
}

// recordOIDCSession records, through q (the code redemption's
// transaction), that user sub signed in to client cl with the sign-in
// origin: the relying party a later sign-out tells (migration 0027). The
// row lives as long as the sign-in's refresh family could.
func recordOIDCSession(ctx context.Context, q store.Querier, p *identity.Pool, cl *identity.AppClient, sub, origin string, now time.Time) error {
	_, _, refreshTTL := lifetimes(p, cl)
	err := q.InsertOIDCSession(ctx, &identity.OIDCSession{PoolID: p.ID, OriginJTI: origin, UserSub: sub, ClientID: cl.ID,
		CreatedAt: now, ExpiresAt: now.Add(refreshTTL)})
	switch {
	case errors.Is(err, store.ErrNotFound): // the user was deleted meanwhile
		return errInvalidCode
	case err != nil:
		return fmt.Errorf("insert oidc session: %w", err)
	}
	return nil
}

// enqueueBackchannelLogout enqueues, through q (the sign-out's own
// transaction), one delivery job per relying-party session of user sub
// whose client has a backchannel_logout_uri: the logout token names the
// user (sub) and that session (sid). Clients the user never signed in to
// through an authorization code are not told. Every session told is
// deleted (told once); sessions of clients without a URI are kept.
func (s *Service) enqueueBackchannelLogout(ctx context.Context, q store.Querier, p *identity.Pool, sub string) error {
	return s.tellSessions(ctx, q, p, sub, "")
}

// tellSessions is enqueueBackchannelLogout for the session origin only
// ("" for every session of the user).
func (s *Service) tellSessions(ctx context.Context, q store.Querier, p *identity.Pool, sub, origin string) error {
	ss, err := q.ListOIDCSessions(ctx, p.ID, sub, s.now(), maxBackchannelSessions)
	if err != nil {
		return fmt.Errorf("list oidc sessions: %w", err)
	}
	clients := map[string]*identity.AppClient{}
	for _, sess := range ss {
		if origin != "" && sess.OriginJTI != origin {
			continue
		}
		cl, seen := clients[sess.ClientID]
		if !seen {
			cl, err = q.GetClient(ctx, sess.ClientID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				cl = nil
			case err != nil:
				return fmt.Errorf("get client: %w", err)
			case cl.PoolID != p.ID:
				cl = nil
			}
			clients[sess.ClientID] = cl
		}
		if cl == nil || cl.BackchannelLogoutURI == "" {
			continue
		}
		pl := backchannelPayload{PoolID: p.ID, ClientID: cl.ID, Sub: sub, SID: sess.OriginJTI}
		if _, err := jobs.EnqueueForPool(ctx, q, p.ID, BackchannelLogoutJobKind, pl, time.Time{}); err != nil {
			return err
		}
		if err := q.DeleteOIDCSession(ctx, p.ID, sess.OriginJTI); err != nil {
			return fmt.Errorf("delete oidc session: %w", err)
		}
	}
	return nil
}

// LogoutTokenType is the JOSE typ header of logout tokens (Back-Channel
// Logout 1.0 §2.4).
const LogoutTokenType = "logout+jwt"

// logoutTokenTTL is the lifetime of a logout token (Back-Channel Logout
// §2.4 recommends a short one; it is signed at each delivery attempt).
const logoutTokenTTL = 2 * time.Minute

// BackchannelLogoutHandler delivers a logout token (Back-Channel Logout
// 1.0 §2.4): iss, aud (the client), iat, exp, jti, sub, sid when known,
// and the back-channel logout event, signed with the client's ID token
// algorithm, POSTed as logout_token under the hooks' outbound network
// policy. A 2xx answer is done; a 4xx other than 429 is final (the client
// refused it, §2.8); anything else is retried with backoff. A client or
// pool deleted since, or whose URI was removed, drops the job.
func (s *Service) BackchannelLogoutHandler() jobs.Handler {
	return func(ctx context.Context, job *identity.Job) error {
		var pl backchannelPayload
		if err := jobs.DecodePayload(job, &pl); err != nil {
			return err
		}
		// Gone since (client or pool deleted, URI removed): nothing to tell.
		cl, err := s.cfg.Store.GetClient(ctx, pl.ClientID)
		if err == nil && (cl.PoolID != pl.PoolID || cl.BackchannelLogoutURI == "") {
			return nil
		}
		var p *identity.Pool
		if err == nil {
			p, err = s.cfg.Store.GetPool(ctx, cl.PoolID)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("load client and pool: %w", err)
		}
		now := s.now()
		jti, err := s.newJTI(now)
		if err != nil {
			return err
		}
		claims := map[string]any{"iss": s.Issuer(p), "aud": cl.ID, "iat": now.Unix(), "exp": now.Add(logoutTokenTTL).Unix(),
			"jti": jti, "sub": pl.Sub, "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
		if pl.SID != "" {
			claims["sid"] = pl.SID
		}
		// typ logout+jwt (§2.4): no logout token passes for an ID or
		// access token, and relying-party libraries check it.
		tok, err := s.cfg.Tokens.SignTyped(ctx, p, idTokenAlg(cl, true), LogoutTokenType, claims)
		if err != nil {
			return fmt.Errorf("sign logout token: %w", err)
		}
		status, err := s.hookClient().PostForm(ctx, cl.BackchannelLogoutURI, url.Values{"logout_token": {tok}})
		switch {
		case err != nil:
			return fmt.Errorf("pool %s client %s back-channel logout: %w", p.ID, cl.ID, err)
		case status >= 200 && status < 300:
			return nil
		case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
			return jobs.Permanent(fmt.Errorf("pool %s client %s back-channel logout: HTTP %d", p.ID, cl.ID, status))
		default:
			return fmt.Errorf("pool %s client %s back-channel logout: HTTP %d", p.ID, cl.ID, status)
		}
	}
}
