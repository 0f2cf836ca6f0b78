package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Active sign-ins (issue 14; docs/hosted-pages.md "Active sign-ins")
//
// Every sign-in that issues a refresh token starts a family; insertSignIn
// writes the family's first token together with a sign_ins row (migration
// 0020: the client, the User-Agent, the client IP as httpserver decided
// it) in the sign-in's own transaction. A sign-in is active while its
// family has a live token (neither used nor revoked, not expired) issued
// at or after the user's TokensValidAfter; the live token's issue time is
// when it was last used (a refresh rotates it), so the refresh path
// writes nothing more than before. Ending one (RevokeSession) revokes the
// family and records its origin_jti as revoked, as RevokeToken does, so
// the access and ID tokens of that sign-in are refused at once wherever
// revocation is checked (AuthenticateAccessToken, forward-auth after its
// cache TTL), and the hosted session holding its refresh token ends
// (HostedSessionLive).

// signInMetaKey carries the RequestMeta of a sign-in's request to the
// place that writes its sign_ins row.
type signInMetaKey struct{}

// withSignInMeta returns ctx carrying m for insertSignIn.
func withSignInMeta(ctx context.Context, m RequestMeta) context.Context {
	if m == (RequestMeta{}) {
		return ctx
	}
	return context.WithValue(ctx, signInMetaKey{}, m)
}

// Bounds of what a sign_ins row keeps of the request.
const (
	maxSignInUserAgent = 512
	maxSignInIP        = 64
)

// cleanHeader keeps at most n bytes of v (on a rune boundary), without
// control characters: a header is the client's to write.
func cleanHeader(v string, n int) string {
	v = strings.Map(func(r rune) rune {
		if isControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, v)
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// insertSignIn writes rt, the first token of a new family, and the
// family's sign_ins row through q (the sign-in's transaction).
func (s *Service) insertSignIn(ctx context.Context, q store.Querier, rt *identity.RefreshToken) error {
	if err := q.InsertRefreshToken(ctx, rt); err != nil {
		return err
	}
	m, _ := ctx.Value(signInMetaKey{}).(RequestMeta)
	return q.InsertSignIn(ctx, &store.SignIn{PoolID: rt.PoolID, FamilyID: rt.FamilyID, UserSub: rt.UserSub, ClientID: rt.ClientID,
		UserAgent: cleanHeader(m.UserAgent, maxSignInUserAgent), IP: cleanHeader(m.IP, maxSignInIP),
		CreatedAt: rt.IssuedAt, ExpiresAt: rt.ExpiresAt})
}

// ActiveSession is one active sign-in of a user, as the account page,
// the native API and the console show it.
type ActiveSession struct {
	ID         string // the refresh token family
	ClientID   string
	ClientName string
	// Device summarises the User-Agent ("Firefox on Linux"); "" when the
	// sign-in recorded none (started before migration 0020, or by a token
	// exchange that did not see the browser).
	Device     string
	UserAgent  string
	IP         string
	SignedInAt time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	// Current marks the caller's own sign-in.
	Current bool
}

// SessionRef names the caller's own sign-in among a user's sessions: the
// refresh token of a hosted session, or the origin_jti of an access
// token. Both empty: none is current.
type SessionRef struct {
	Refresh   string
	OriginJTI string
}

// current returns the family of ref among list, or "".
func (s *Service) currentFamily(ctx context.Context, p *identity.Pool, u *identity.User, ref SessionRef, list []*store.SignIn) string {
	if ref.Refresh != "" && len(ref.Refresh) <= maxRefreshLen {
		rt, err := s.cfg.Store.GetRefreshToken(ctx, sha256Hex(ref.Refresh))
		if err == nil && rt.PoolID == p.ID && rt.UserSub == u.Sub {
			return rt.FamilyID
		}
	}
	if ref.OriginJTI != "" {
		for _, si := range list {
			if si.OriginJTI == ref.OriginJTI {
				return si.FamilyID
			}
		}
	}
	return ""
}

// liveSignIns returns u's active sign-ins through q: the store's list
// without the families a global sign-out ended (TokensValidAfter).
func (s *Service) liveSignIns(ctx context.Context, q store.Querier, u *identity.User) ([]*store.SignIn, error) {
	list, err := q.ListSignIns(ctx, u.PoolID, u.Sub, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	kept := list[:0]
	for _, si := range list {
		if u.TokensValidAfter.IsZero() || !si.LastUsed.Before(u.TokensValidAfter) {
			kept = append(kept, si)
		}
	}
	return kept, nil
}

// sessionViews turns list into ActiveSessions, marking current.
func (s *Service) sessionViews(ctx context.Context, p *identity.Pool, list []*store.SignIn, current string) []*ActiveSession {
	names := map[string]string{}
	out := make([]*ActiveSession, 0, len(list))
	for _, si := range list {
		name, ok := names[si.ClientID]
		if !ok {
			if cl, err := s.cfg.Store.GetClient(ctx, si.ClientID); err == nil && cl.PoolID == p.ID {
				name = cl.Name
			}
			names[si.ClientID] = name
		}
		out = append(out, &ActiveSession{ID: si.FamilyID, ClientID: si.ClientID, ClientName: name,
			Device: DeviceOf(si.UserAgent), UserAgent: si.UserAgent, IP: si.IP, SignedInAt: si.AuthTime,
			LastUsedAt: si.LastUsed, ExpiresAt: si.ExpiresAt, Current: si.FamilyID == current && current != ""})
	}
	return out
}

// userSessions lists u's active sessions, ref marking the caller's.
func (s *Service) userSessions(ctx context.Context, p *identity.Pool, u *identity.User, ref SessionRef) ([]*ActiveSession, error) {
	list, err := s.liveSignIns(ctx, s.cfg.Store, u)
	if err != nil {
		return nil, err
	}
	return s.sessionViews(ctx, p, list, s.currentFamily(ctx, p, u, ref, list)), nil
}

var errNoSession = identity.Errorf(identity.CodeResourceNotFound, "No such session.")

// endSessions ends the sign-ins of u that match (each: its family
// revoked, its origin recorded as revoked) through q, audits event by
// the context's actor, and returns how many ended. The relying parties
// with a back-channel logout URI are told of each one.
func (s *Service) endSessions(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, event string, match func(*store.SignIn) bool) (int, error) {
	list, err := s.liveSignIns(ctx, q, u)
	if err != nil {
		return 0, err
	}
	now, n := s.now(), 0
	for _, si := range list {
		if !match(si) {
			continue
		}
		if err := q.RevokeRefreshFamily(ctx, si.FamilyID, now); err != nil {
			return 0, fmt.Errorf("revoke refresh family: %w", err)
		}
		if err := revokeOrigin(ctx, q, p.ID, u.Sub, si.OriginJTI, now); err != nil {
			return 0, err
		}
		if si.OriginJTI != "" {
			if err := s.tellSessions(ctx, q, p, u.Sub, si.OriginJTI); err != nil {
				return 0, err
			}
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.audit(ctx, q, p.ID, event, "user:"+u.Sub, map[string]string{"sessions": fmt.Sprint(n)})
}

// userTx runs fn on the user sub of pool poolID, read in fn's own
// transaction. Errors: resource_not_found (pool), user_not_found.
func (s *Service) userTx(ctx context.Context, poolID, sub string, fn func(q store.Querier, p *identity.Pool, u *identity.User) error) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		u, err := q.GetUser(ctx, poolID, sub)
		if errors.Is(err, store.ErrNotFound) {
			return errUserNotFound
		}
		if err != nil {
			return fmt.Errorf("get user: %w", err)
		}
		return fn(q, p, u)
	})
}

// revokeOne ends u's sign-in id. Errors: resource_not_found "No such
// session." (not an active session of u).
func (s *Service) revokeOne(ctx context.Context, poolID, sub, id, event string) error {
	return wrapStoreErr("revoke session", s.userTx(ctx, poolID, sub, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		n, err := s.endSessions(ctx, q, p, u, event, func(si *store.SignIn) bool { return si.FamilyID == id })
		if err == nil && n == 0 {
			return errNoSession
		}
		return err
	}))
}

// revokeOthers ends every sign-in of u except ref's.
func (s *Service) revokeOthers(ctx context.Context, poolID, sub string, ref SessionRef) (int, error) {
	var n int
	err := s.userTx(ctx, poolID, sub, func(q store.Querier, p *identity.Pool, u *identity.User) error {
		keep, err := s.keepFamily(ctx, q, p, u, ref)
		if err != nil {
			return err
		}
		n, err = s.endSessions(ctx, q, p, u, "user.sessions_revoked", func(si *store.SignIn) bool { return si.FamilyID != keep })
		return err
	})
	return n, wrapStoreErr("revoke other sessions", err)
}

// keepFamily is the family of ref for u, read through q; "" when ref
// names none (then every session ends).
func (s *Service) keepFamily(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, ref SessionRef) (string, error) {
	list, err := s.liveSignIns(ctx, q, u)
	if err != nil {
		return "", err
	}
	return s.currentFamily(ctx, p, u, ref, list), nil
}

// ListUserSessions lists the active sessions of the user sub of pool
// poolID (the hosted account page, whose session proved the user); ref
// marks the caller's own. Errors: resource_not_found, user_not_found.
func (s *Service) ListUserSessions(ctx context.Context, poolID, sub string, ref SessionRef) ([]*ActiveSession, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	u, err := s.cfg.Store.GetUser(ctx, poolID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return s.userSessions(ctx, p, u, ref)
}

// RevokeUserSession ends one active session of the user sub (the hosted
// account page's "Sign out" on a row): its refresh tokens stop working
// and the access and ID tokens of that sign-in are refused from now on.
// Audited as user.session_revoked. Errors: resource_not_found "No such
// session." (also for another user's session), user_not_found.
func (s *Service) RevokeUserSession(ctx context.Context, poolID, sub, id string) error {
	return s.revokeOne(ctx, poolID, sub, id, "user.session_revoked")
}

// RevokeOtherUserSessions ends every active session of the user sub but
// the one ref names ("Sign out everywhere else") and returns how many
// ended. Audited as user.sessions_revoked.
func (s *Service) RevokeOtherUserSessions(ctx context.Context, poolID, sub string, ref SessionRef) (int, error) {
	return s.revokeOthers(ctx, poolID, sub, ref)
}

// HostedSessionLive reports whether the sign-in behind a hosted session's
// refresh token has not been ended (RevokeUserSession, RevokeToken,
// reuse detection). A session without a refresh token (older cookies) is
// live; one whose token is unknown is not.
func (s *Service) HostedSessionLive(ctx context.Context, poolID, sub, refresh string) bool {
	if refresh == "" {
		return true
	}
	if len(refresh) > maxRefreshLen {
		return false
	}
	rt, err := s.cfg.Store.GetRefreshToken(ctx, sha256Hex(refresh))
	return err == nil && rt.PoolID == poolID && rt.UserSub == sub && rt.RevokedAt.IsZero()
}

// ListMySessions lists the access token's user's active sessions, the
// token's own marked current. Errors: those of authenticateSelf.
func (s *Service) ListMySessions(ctx context.Context, accessToken string) ([]*ActiveSession, error) {
	p, u, claims, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.userSessions(ctx, p, u, SessionRef{OriginJTI: strClaim(claims, "origin_jti")})
}

// RevokeMySession ends one of the access token's user's sessions (its
// own included). Errors: those of authenticateSelf, resource_not_found
// "No such session." (also for another user's session).
func (s *Service) RevokeMySession(ctx context.Context, accessToken, id string) error {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.revokeOne(ctx, p.ID, u.Sub, id, "user.session_revoked")
}

// AdminListSessions lists a user's active sessions for an administrator
// (a company admin: for the members adminUserTx would let them act on).
// Errors: resource_not_found, user_not_found, forbidden.
func (s *Service) AdminListSessions(ctx context.Context, poolID, username string) ([]*ActiveSession, error) {
	var (
		p    *identity.Pool
		u    *identity.User
		list []*store.SignIn
	)
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		var err error
		if p, u, err = s.adminTarget(ctx, q, poolID, username); err != nil {
			return err
		}
		list, err = s.liveSignIns(ctx, q, u)
		return err
	})
	if err != nil {
		return nil, wrapStoreErr("admin list sessions", err)
	}
	return s.sessionViews(ctx, p, list, ""), nil
}

// AdminRevokeSession ends one active session of a user for an
// administrator. Audited as admin.user_session_revoked. Errors: those of
// AdminListSessions, resource_not_found "No such session.".
func (s *Service) AdminRevokeSession(ctx context.Context, poolID, username, id string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.user_session_revoked", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		n, err := s.endSessions(ctx, q, p, u, "user.session_revoked", func(si *store.SignIn) bool { return si.FamilyID == id })
		if err == nil && n == 0 {
			return nil, errNoSession
		}
		return map[string]string{"session": id}, err
	})
}

// ConsoleUserSessions lists a user's sessions for the console: any user
// for a pool admin, plain members of their companies for a company admin
// (checkMember, then checkCompanyAdminTarget in the read's transaction).
func (s *Service) ConsoleUserSessions(ctx context.Context, poolID, username string) ([]*ActiveSession, error) {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	if callerSub(ctx) != "" {
		ctx = context.WithValue(ctx, companyAdminActionKey{}, true)
	}
	return s.AdminListSessions(ctx, poolID, u.Username)
}

// ConsoleRevokeSession ends one of a user's sessions from the console,
// with ConsoleUserSessions' rules.
func (s *Service) ConsoleRevokeSession(ctx context.Context, poolID, username, id string) error {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return err
	}
	if callerSub(ctx) != "" {
		ctx = context.WithValue(ctx, companyAdminActionKey{}, true)
	}
	return s.AdminRevokeSession(ctx, poolID, u.Username, id)
}

// DeviceOf summarises a User-Agent for people: "<browser> on <system>"
// for the common browsers, else the product name of the first token
// (at most 40 characters), "" for none.
func DeviceOf(ua string) string {
	if ua == "" {
		return ""
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"CriOS/", "Chrome"}, {"FxiOS/", "Firefox"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	}
	product, _, _ := strings.Cut(ua, " ")
	product, _, _ = strings.Cut(product, "/")
	if utf8.RuneCountInString(product) > 40 {
		product = string([]rune(product)[:40])
	}
	if system != "" && product != "Mozilla" {
		return product + " on " + system
	}
	if product == "Mozilla" {
		return system
	}
	return product
}
