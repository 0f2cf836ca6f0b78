package auth

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Sessions and their revocation
//
// A sign-in starts a session: a refresh token family (see refresh.go) and
// the ID and access tokens minted from it. revokeSessions ends all of a
// user's sessions at once: it revokes every refresh token and sets
// User.TokensValidAfter, which AuthenticateAccessToken compares with the
// issue time of each access token. RevokeToken ends one session: its
// refresh family and, through the origin_jti its tokens share, its access
// and ID tokens (refresh.go).
//
// JWT iat has one-second precision, too coarse to tell a token minted just
// before a revocation from one minted just after it in the same second. So
// every jti is a UUIDv7, whose first 48 bits are the issue time in Unix
// milliseconds (RFC 9562), and the issue instant of a token is taken from
// its jti when that agrees with its iat (same second), else from iat alone
// (iat*1000, i.e. the start of its second, which errs towards rejecting).
// A token is revoked when its issue instant is before TokensValidAfter
// (millisecond precision, as the store keeps it); a token minted in the very
// millisecond of the revocation stays valid. The claims stay exactly
// Cognito's: jti is still a UUID, only its version says more.

// newJTI returns a UUIDv7 carrying t in milliseconds, random otherwise.
func (s *Service) newJTI(t time.Time) (string, error) {
	var b [16]byte
	if _, err := s.cfg.Rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(b[:6], ms[2:])
	b[6] = 0x70 | (b[6] & 0x0f) // version 7
	b[8] = 0x80 | (b[8] & 0x3f) // RFC 9562 variant
	return uuid.UUID(b).String(), nil
}

// jtiMillis returns the Unix millisecond timestamp of a UUIDv7 jti.
func jtiMillis(jti string) (int64, bool) {
	u, err := uuid.Parse(jti)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return 0, false
	}
	var ms [8]byte
	copy(ms[2:], u[:6])
	return int64(binary.BigEndian.Uint64(ms[:])), true
}

// issuedAtMillis returns the issue instant of a token in Unix milliseconds:
// from its jti when that is a UUIDv7 in the same second as iat, else the
// start of iat's second.
func issuedAtMillis(iat int64, jti string) int64 {
	if ms, ok := jtiMillis(jti); ok && ms >= 0 && ms/1000 == iat {
		return ms
	}
	return iat * 1000
}

// revokedBefore reports whether a token issued at (iat, jti) was issued
// before u.TokensValidAfter.
func revokedBefore(u *identity.User, iat int64, jti string) bool {
	if u.TokensValidAfter.IsZero() {
		return false
	}
	return issuedAtMillis(iat, jti) < u.TokensValidAfter.UnixMilli()
}

// revokeSessions ends every session of u: it sets u.TokensValidAfter to now
// (never moving it back), persists u with q.UpdateUser, and revokes all of
// u's refresh tokens. Access and ID tokens issued before now are refused by
// AuthenticateAccessToken from then on; tokens issued from now on are not.
//
// u must have been read through q (UpdateUser writes every field). Callers
// that change u as well make their changes before calling revokeSessions,
// which persists them in the same UpdateUser.
func (s *Service) revokeSessions(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	now := s.now()
	if now.After(u.TokensValidAfter) {
		u.TokensValidAfter = now
	}
	u.UpdatedAt = now
	if err := q.UpdateUser(ctx, u, uniqueEmailFor(p, u)); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if err := q.RevokeUserRefreshTokens(ctx, p.ID, u.Sub, now); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	// Relying parties that asked to be told end their sessions too
	// (Back-Channel Logout 1.0, oidc_session.go).
	return s.enqueueBackchannelLogout(ctx, q, p, u.Sub)
}
