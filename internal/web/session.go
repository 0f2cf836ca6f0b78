package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
)

// Hosted sign-in sessions
//
// A successful sign-in on the hosted pages starts a session: a sealed
// cookie (secretbox, AES-256-GCM under a key derived from
// Options.CSRFKey, purpose "gatehouse/web/session/v1") holding the pool,
// the user's sub and username, the app client, the sign-in time, the
// expiry and the refresh token of the sign-in. Nothing is stored server
// side; every CurrentSession call checks, through auth.Service, that the
// user still exists with the same sub, is enabled and CONFIRMED, and that
// the session started at or after the user's TokensValidAfter — so a
// global sign-out, an admin sign-out, a password reset or disabling the
// user ends every hosted session at once; and that the sign-in's refresh
// token family was not revoked (auth.HostedSessionLive), so "Sign out"
// on one of the user's sessions ends that browser's session at once. Signing out (EndSession) revokes
// the session's refresh token family, and with it the access and ID tokens
// of that sign-in (auth.RevokeToken), and deletes the cookie; a copy of the
// cookie taken before then is refused from then on too, since its family
// is revoked (a cookie without a refresh token, from an older version,
// stays usable until it expires, Options.SessionTTL, default 8 h, unless
// the user's sessions are revoked globally).
//
// The cookie is __Host-gatehouse_session_<pool> (Secure, HttpOnly,
// SameSite=Lax, Path=/, no Domain) unless Options.BaseURL is plain http:
// then (development) browsers refuse __Host- and Secure cookies from
// non-local origins, so the name loses the prefix and the cookie its
// Secure flag: gatehouse_session_<pool>.

// Session is a signed-in browser on a pool's hosted pages.
type Session struct {
	PoolID   string
	Sub      string
	Username string
	ClientID string
	// AuthTime is when the user entered the password (OIDC auth_time).
	AuthTime time.Time
	// AMR says how the session signed in (the ID token's amr).
	AMR     []string
	Expires time.Time
	// refresh is the refresh token of the sign-in, revoked at sign-out.
	refresh string
}

// sessionPurpose binds sealed session cookies to this use.
const sessionPurpose = "gatehouse/web/session/v1"

type sessionWire struct {
	P   string   `json:"p"`
	S   string   `json:"s"`
	U   string   `json:"u"`
	C   string   `json:"c"`
	At  int64    `json:"at"` // Unix ms
	Exp int64    `json:"exp"`
	R   string   `json:"r,omitempty"`
	M   []string `json:"m,omitempty"`
}

// newSessionBox derives the session box from the CSRF key.
func newSessionBox(key []byte) (*secretbox.Box, error) {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("gatehouse/web/session-key/v1"))
	return secretbox.New(m.Sum(nil))
}

// secureCookies reports whether the pages are served over HTTPS (from the
// configured base URL, never from request headers).
func (w *Web) secureCookies() bool {
	return !strings.HasPrefix(strings.ToLower(w.opts.BaseURL), "http://")
}

// cookieName returns name with the __Host- prefix when cookies are Secure.
func (w *Web) cookieName(name string) string {
	if w.secureCookies() {
		return "__Host-" + name
	}
	return name
}

// SessionCookieName is the name of poolID's session cookie.
func (w *Web) SessionCookieName(poolID string) string {
	return w.cookieName("gatehouse_session_" + cookieSafe(poolID))
}

// cookieSafe returns id if it holds only [A-Za-z0-9_-], else a hash of it.
func cookieSafe(id string) string {
	ok := id != "" && len(id) <= 64
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:12])
}

// CurrentSession returns the browser's hosted-UI session for poolID, if it
// has a valid one: the cookie opens, belongs to poolID, has not expired,
// and the user is still enabled, CONFIRMED, with the same sub, and was not
// signed out globally since AuthTime. Any failure (including a store
// outage) is "no session": the caller sends the browser to sign in.
func (w *Web) CurrentSession(r *http.Request, poolID string) (*Session, bool) {
	c, err := r.Cookie(w.SessionCookieName(poolID))
	if err != nil || c.Value == "" || len(c.Value) > 4096 {
		return nil, false
	}
	s, ok := w.openSession(c.Value)
	if !ok || s.PoolID != poolID || !w.opts.Now().Before(s.Expires) {
		return nil, false
	}
	v, err := w.svc.AdminGetUser(r.Context(), poolID, s.Username)
	if err != nil || v == nil || v.User == nil {
		return nil, false
	}
	u := v.User
	if u.Sub != s.Sub || !u.Enabled || (u.Status != identity.StatusConfirmed && u.Status != identity.StatusExternalProvider) {
		return nil, false
	}
	if !u.TokensValidAfter.IsZero() && s.AuthTime.UnixMilli() < u.TokensValidAfter.UnixMilli() {
		return nil, false
	}
	// Signed out from another browser ("Sign out" on the account page's
	// sessions, the native API or the console) or revoked otherwise.
	if !w.svc.HostedSessionLive(r.Context(), poolID, s.Sub, s.refresh) {
		return nil, false
	}
	// From here on the request is the user's: whatever the pages do for
	// it is audited as "user:<sub>" (the one place the hosted pages name
	// their actor; an explicit actor, the console's, still wins).
	identity.SetUser(r.Context(), s.Sub)
	return s, true
}

func (w *Web) openSession(v string) (*Session, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, false
	}
	plain, err := w.box.Open(sessionPurpose, raw)
	if err != nil {
		return nil, false
	}
	var sw sessionWire
	if err := json.Unmarshal(plain, &sw); err != nil || sw.P == "" || sw.S == "" || sw.U == "" {
		return nil, false
	}
	return &Session{PoolID: sw.P, Sub: sw.S, Username: sw.U, ClientID: sw.C,
		AuthTime: time.UnixMilli(sw.At).UTC(), Expires: time.UnixMilli(sw.Exp).UTC(), refresh: sw.R, AMR: sw.M}, true
}

// startSession sets the session cookie of s.
func (w *Web) startSession(rw http.ResponseWriter, s *Session) error {
	b, err := json.Marshal(sessionWire{P: s.PoolID, S: s.Sub, U: s.Username, C: s.ClientID,
		At: s.AuthTime.UnixMilli(), Exp: s.Expires.UnixMilli(), R: s.refresh, M: s.AMR})
	if err != nil {
		return err
	}
	sealed, err := w.box.Seal(sessionPurpose, b)
	if err != nil {
		return err
	}
	http.SetCookie(rw, &http.Cookie{Name: w.SessionCookieName(s.PoolID), Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", Secure: w.secureCookies(), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: int(s.Expires.Sub(w.opts.Now()).Seconds())})
	return nil
}

// EndSession signs the browser out of poolID: it revokes the session's
// refresh token family (best effort) and deletes the cookie. Part of the
// OIDC /logout endpoint as well as the sign-out page.
func (w *Web) EndSession(rw http.ResponseWriter, r *http.Request, poolID string) {
	name := w.SessionCookieName(poolID)
	if c, err := r.Cookie(name); err == nil {
		if s, ok := w.openSession(c.Value); ok && s.PoolID == poolID && s.refresh != "" {
			if err := w.svc.RevokeToken(r.Context(), auth.Client{ID: s.ClientID, Hosted: true}, s.refresh); err != nil {
				w.opts.Log.WarnContext(r.Context(), "web: revoke at sign-out", "pool", poolID, "err", err)
			}
		}
	}
	http.SetCookie(rw, &http.Cookie{Name: name, Value: "", Path: "/", Secure: w.secureCookies(), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// SignInPath is where /oauth2/authorize sends a browser without a session:
// the pool's sign-in page, which comes back to returnTo (validated with
// ValidReturnTo; an invalid one is dropped) after a successful sign-in.
// clientID names the app client the user signs in to.
func SignInPath(poolID, clientID, returnTo string) string {
	q := url.Values{}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if returnTo != "" && ValidReturnTo(poolID, returnTo) {
		q.Set("return_to", returnTo)
	}
	p := "/" + url.PathEscape(poolID) + "/login"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// ValidReturnTo reports whether s is a safe place to send a browser after
// sign-in for poolID: a same-origin relative reference (no scheme, no
// host, no "//" in the path, no backslash, no control characters) whose path is under
// "/<poolID>/", holds no dot segments (raw or percent-encoded), and no
// encoded slash or backslash. At most 4096 bytes.
func ValidReturnTo(poolID, s string) bool {
	prefix := "/" + poolID + "/"
	if poolID == "" || len(s) > 4096 || !strings.HasPrefix(s, prefix) {
		return false
	}
	pathPart, _, _ := strings.Cut(s, "?")
	if strings.Contains(pathPart, "//") || strings.ContainsAny(s, "\\") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	lower := strings.ToLower(u.EscapedPath())
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%2e") {
		return false
	}
	p := u.Path
	if !strings.HasPrefix(p, prefix) {
		return false
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}
