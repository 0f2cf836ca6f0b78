package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Refresh tokens
//
// A refresh token is 32 random bytes (base64url); the store keeps its
// SHA-256 only. The tokens of one sign-in form a family with one absolute
// expiry (the refresh lifetime counted from the sign-in) and one origin_jti.
// Each use rotates: in one transaction the presented token is marked used
// by a compare-and-set (store.MarkRefreshTokenUsed) and its successor is
// inserted, so of several concurrent uses exactly one succeeds. Presenting a
// token that was already used is taken as theft: the whole family is
// revoked (in its own committed transaction), including the successor the
// legitimate holder got. A successful refresh is not audited (it is the
// hottest path and changes no account state); reuse is.
//
// Rotation is the client's choice (identity.AppClient.RefreshRotation).
// With rotation off (Cognito's DISABLED) a refresh writes nothing: it
// returns new ID and access tokens, and the refresh token keeps working
// until it expires or its sign-in is revoked — every revocation check below
// runs the same. With rotation on, a used token presented again within the
// client's RefreshGraceSeconds (Cognito's RetryGracePeriodSeconds, for a
// client retrying a refresh whose answer it lost) gets another successor
// (store.ReissueRefreshToken); after it, it is reuse.
//
// The refresh path is kept cheap: no password hashing, one read for the
// token with its user and groups (store.GetRefreshSession) besides the
// client's, two signatures, and one write (store.RotateRefreshToken: one
// statement on PostgreSQL).

var (
	errInvalidRefresh = identity.Errorf(identity.CodeNotAuthorized, "Invalid Refresh Token")
	errRevokedRefresh = identity.Errorf(identity.CodeNotAuthorized, "Refresh Token has been revoked")
	errExpiredRefresh = identity.Errorf(identity.CodeNotAuthorized, "Refresh Token has expired")
	// AWS: "You can't authenticate with REFRESH_TOKEN_AUTH in app clients
	// with refresh token rotation enabled."
	errRefreshFlowRotating = identity.Errorf(identity.CodeInvalidParameter,
		"REFRESH_TOKEN_AUTH is not supported for app clients with refresh token rotation enabled; use GetTokensFromRefreshToken.")
)

// refresh returns new ID and access tokens of the same session (same
// auth_time and origin_jti) and, when the client rotates, a new refresh
// token in place of raw. Errors are not_authorized:
// an unknown token or one of another client ("Invalid Refresh Token"), a
// revoked or reused one, or a user revoked, deleted or disabled meanwhile
// ("Refresh Token has been revoked", "User is disabled."), an expired one.
// refreshHash is a SECRET_HASH sent with a refresh, and the USERNAME sent
// beside it if any.
type refreshHash struct{ value, username string }

// check verifies the hash for the refresh token's user u: Cognito's
// refresh carries no USERNAME, and SDKs compute the hash with the
// username the user signs in with, or with the sub (its username in
// pools where the email is the username), so either is accepted, as is a
// USERNAME sent beside it that names u. Errors: not_authorized.
func (h *refreshHash) check(s *Service, cl *identity.AppClient, u *identity.User) error {
	names := []string{u.Username, u.Sub}
	if h.username != "" && (normalizeUsername(h.username) == u.Username || h.username == u.Sub) {
		names = append(names, h.username)
	}
	var err error
	for _, n := range names {
		if err = s.checkSecretHash(cl, h.value, n); err == nil {
			return nil
		}
	}
	return err
}

func (s *Service) refresh(ctx context.Context, p *identity.Pool, cl *identity.AppClient, raw string, secretHash *refreshHash) (*AuthResult, error) {
	if raw == "" {
		return nil, identity.FieldError("REFRESH_TOKEN", "Missing required parameter REFRESH_TOKEN")
	}
	if len(raw) > maxRefreshLen {
		return nil, errInvalidRefresh
	}
	hash := sha256Hex(raw)
	rt, se, err := s.cfg.Store.GetRefreshSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidRefresh
	}
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	if rt.ClientID != cl.ID || rt.PoolID != p.ID {
		return nil, errInvalidRefresh
	}
	if secretHash != nil {
		if err := secretHash.check(s, cl, se.User); err != nil {
			return nil, err
		}
	}
	now := s.now()
	if !rt.RevokedAt.IsZero() {
		return nil, errRevokedRefresh
	}
	retry := false // a used token within the client's grace period
	if !rt.UsedAt.IsZero() {
		if !cl.Rotates() || !cl.InRetryGrace(rt.UsedAt, now) {
			return nil, s.refreshReused(ctx, p, rt)
		}
		retry = true
	}
	if !now.Before(rt.ExpiresAt) {
		return nil, errExpiredRefresh
	}
	u, groups := se.User, se.Groups
	if !u.Enabled {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "User is disabled.")
	}
	if !canHoldTokens(u) || rt.IssuedAt.Before(u.TokensValidAfter) {
		return nil, errRevokedRefresh
	}
	if err := checkRefreshDevice(rt, deviceOf(ctx).param); err != nil { // devices.go
		return nil, err
	}
	// The scope granted at the sign-in, exactly (security.md T6).
	g := &tokenGrant{pool: p, client: cl, user: u, groups: groups, authTime: rt.AuthTime, originJTI: rt.OriginJTI, now: now, amr: strings.Fields(rt.AMR),
		scope: rt.Scope, deviceKey: rt.DeviceKey, session: se}
	ctx = withTokenSource(ctx, hooks.SourceTokenRefreshTokens)
	if !cl.Rotates() {
		toks, err := s.issueTokens(ctx, g)
		if err != nil {
			return nil, err
		}
		s.purgeRefreshTokens(ctx, now)
		return &AuthResult{Tokens: toks}, nil
	}
	newRaw, next, err := s.newRefreshToken(g, rt.FamilyID, rt.ExpiresAt)
	if err != nil {
		return nil, err
	}
	var toks *Tokens
	var rot rotation
	if hookFor(p, identity.TriggerPreTokenGeneration) == nil {
		// The rotation's write waits for its commit (an fsync, or a
		// round trip to PostgreSQL) while the signatures need the CPU:
		// they run at the same time, and the tokens are handed out only
		// if the write succeeded. Without a hook, signing fails only on an
		// internal error, which the client takes as a lost answer (a
		// retry within the grace period gets a successor).
		done := make(chan rotation, 1)
		go func() { done <- s.rotateRefresh(ctx, cl, hash, next, now, retry) }()
		toks, err = s.issueTokens(ctx, g)
		rot = <-done
	} else {
		// A pre-token-generation hook may refuse the refresh: then the
		// presented token must stay unused, so the write comes after it.
		if toks, err = s.issueTokens(ctx, g); err == nil {
			rot = s.rotateRefresh(ctx, cl, hash, next, now, retry)
		}
	}
	if err != nil {
		return nil, err
	}
	if rot.err != nil {
		return nil, rot.err
	}
	if !rot.ok && rot.retry {
		return nil, errRevokedRefresh // its sign-in ended meanwhile
	}
	if !rot.ok {
		return nil, s.refreshReused(ctx, p, rt)
	}
	toks.RefreshToken = newRaw
	s.purgeRefreshTokens(ctx, now)
	return &AuthResult{Tokens: toks}, nil
}

// rotation is the outcome of rotateRefresh: ok, the successor was
// written; retry, as a retry within the grace period.
type rotation struct {
	ok, retry bool
	err       error
}

// rotateRefresh writes next as the successor of the token hashed hash:
// a rotation (compare-and-set on the unused token), or, for a retry
// within cl's grace period, a reissue. A rotation lost to a concurrent
// use of the same token within the grace period is a retry too.
func (s *Service) rotateRefresh(ctx context.Context, cl *identity.AppClient, hash string, next *identity.RefreshToken, now time.Time, retry bool) rotation {
	var ok bool
	var err error
	if retry {
		ok, err = s.cfg.Store.ReissueRefreshToken(ctx, hash, next)
	} else {
		ok, err = s.cfg.Store.RotateRefreshToken(ctx, hash, next, now)
	}
	if err != nil {
		return rotation{err: fmt.Errorf("rotate refresh token: %w", err)}
	}
	if !ok && !retry && cl.RefreshGraceSeconds > 0 {
		// A concurrent use of the same token won the rotation (a client
		// retrying before the first answer came): within the grace
		// period this is a retry too.
		if cur, err := s.cfg.Store.GetRefreshToken(ctx, hash); err == nil && cur.RevokedAt.IsZero() && !cur.UsedAt.IsZero() &&
			cl.InRetryGrace(cur.UsedAt, now) {
			retry = true
			if ok, err = s.cfg.Store.ReissueRefreshToken(ctx, hash, next); err != nil {
				return rotation{err: fmt.Errorf("reissue refresh token: %w", err)}
			}
		}
	}
	return rotation{ok: ok, retry: retry}
}

// RefreshTokenRetention is how long an expired refresh token is kept:
// presented within it, it is answered "Refresh Token has expired";
// after it, "Invalid Refresh Token".
const RefreshTokenRetention = 7 * 24 * time.Hour

// purgeRefreshTokens deletes refresh tokens expired more than
// RefreshTokenRetention ago, one bounded batch (store) at most once a
// minute per Service (runPurge; piggybacked on a successful refresh). A
// family's tokens all expire together (the family's lifetime is
// counted from the sign-in), so no live family loses a token it needs for
// reuse detection.
func (s *Service) purgeRefreshTokens(ctx context.Context, now time.Time) {
	s.runPurge(ctx, &s.refreshPurge, now, func() (int, error) {
		n, err := s.cfg.Store.DeleteExpiredRefreshTokens(ctx, now.Add(-RefreshTokenRetention))
		if err != nil {
			return n, err
		}
		m, err := s.cfg.Store.DeleteExpiredSignIns(ctx, now.Add(-RefreshTokenRetention)) // their families' rows
		return n + m, err
	})
}

// refreshReused ends rt's sign-in after a used (or concurrently used)
// token was presented: in one transaction it revokes the family, records
// the sign-in's origin_jti as revoked (so its access and ID tokens are
// refused too, as after RevokeToken) and audits it; it returns the
// caller's answer. Whoever holds the family — thief or owner — signs in
// again.
func (s *Service) refreshReused(ctx context.Context, p *identity.Pool, rt *identity.RefreshToken) error {
	now := s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.RevokeRefreshFamily(ctx, rt.FamilyID, now); err != nil {
			return fmt.Errorf("revoke refresh family: %w", err)
		}
		if err := revokeOrigin(ctx, q, p.ID, rt.UserSub, rt.OriginJTI, now); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.refresh_token_reuse", "user:"+rt.UserSub,
			map[string]string{"client_id": rt.ClientID, "family": rt.FamilyID})
	})
	if err != nil {
		return err
	}
	s.purgeRevokedOrigins(ctx, now)
	return errRevokedRefresh
}

// revokeOrigin records the sign-in originJTI of user sub as revoked until
// no token of it can be unexpired (RevokedOriginRetention), through q. An
// empty origin (tokens issued before origin_jti existed) and a user
// deleted meanwhile (whose tokens are refused anyway) are no error.
func revokeOrigin(ctx context.Context, q store.Querier, poolID, sub, originJTI string, now time.Time) error {
	if originJTI == "" {
		return nil
	}
	err := q.RevokeOrigin(ctx, poolID, sub, originJTI, now, now.Add(RevokedOriginRetention))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke origin: %w", err)
	}
	return nil
}

// RevokeToken ends the sign-in a refresh token belongs to, as Cognito's
// RevokeToken and RFC 7009: it revokes the token and every token of its
// family, and records the family's origin_jti as revoked
// (store.RevokeOrigin), so that the ID and access tokens issued from that
// sign-in (at it and by every refresh since) are refused by
// AuthenticateAccessToken: not_authorized "Access Token has been revoked".
// Other sign-ins of the user are not affected (GlobalSignOut ends them all).
// No token of the sign-in can be issued after the revocation commits (a
// refresh's compare-and-set fails on the revoked token, and
// RevokeRefreshFamily also revokes a successor a concurrent refresh
// commits while it runs), so the record is
// kept for RevokedOriginRetention, the longest an access or ID token can
// live, and then pruned (purgeRevokedOrigins).
//
// An unknown token is not an error (RFC 7009 §2.2); a token of another
// client is not_authorized.
func (s *Service) RevokeToken(ctx context.Context, c Client, refreshToken string) error {
	cl, p, err := s.resolveClient(ctx, c, "")
	if err != nil {
		return err
	}
	if refreshToken == "" {
		return identity.FieldError("token", "A refresh token is required.")
	}
	if len(refreshToken) > maxRefreshLen {
		return nil
	}
	rt, err := s.cfg.Store.GetRefreshToken(ctx, sha256Hex(refreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get refresh token: %w", err)
	}
	if rt.ClientID != cl.ID || rt.PoolID != p.ID {
		return identity.Errorf(identity.CodeNotAuthorized, "The token was not issued to this client.")
	}
	now := s.now()
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.RevokeRefreshFamily(ctx, rt.FamilyID, now); err != nil {
			return fmt.Errorf("revoke refresh family: %w", err)
		}
		if err := revokeOrigin(ctx, q, p.ID, rt.UserSub, rt.OriginJTI, now); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.revoke_token", "user:"+rt.UserSub, map[string]string{"client_id": cl.ID})
	})
	if err != nil {
		return err
	}
	s.purgeRevokedOrigins(ctx, now)
	return nil
}

// RevokedOriginRetention is how long a revoked sign-in is remembered: the
// longest ID or access token lifetime (exp and origin_jti are claims no
// hook may change), plus a margin for clock skew between nodes.
const RevokedOriginRetention = MaxTokenTTL + 5*time.Minute

// purgeRevokedOrigins deletes revoked sign-ins whose retention ended, at
// most once per 10 minutes per Service (runPurge; piggybacked on
// RevokeToken). Rows left behind by a quiet node are harmless: they match no
// unexpired token.
func (s *Service) purgeRevokedOrigins(ctx context.Context, now time.Time) {
	s.runPurge(ctx, &s.originPurge, now, func() (int, error) {
		return s.cfg.Store.DeleteExpiredRevokedOrigins(ctx, now)
	})
}
