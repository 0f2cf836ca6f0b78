package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// notices are the messages a page may show from its ?notice= parameter
// (keys only: nothing from the URL is echoed).
var notices = map[string]string{
	"verified":  "notice.verified",
	"reset":     "notice.reset",
	"signedout": "notice.signedout",
	"approved":  "notice.approved",

	"passkey_added":   "notice.passkey_added",
	"passkey_removed": "notice.passkey_removed",

	"password_changed": "notice.password_changed",
	"email_pending":    "notice.email_pending",
	"email_changed":    "notice.email_changed",
	"email_verified":   "notice.email_verified",
	"totp_added":       "notice.totp_added",
	"factor_removed":   "notice.factor_removed",
	"session_revoked":  "notice.session_revoked",
	"sessions_revoked": "notice.sessions_revoked",
	"device_forgotten": "notice.device_forgotten",
}

func noticeText(r *http.Request) string {
	if k, ok := notices[r.URL.Query().Get("notice")]; ok {
		return text[k]
	}
	return ""
}

func loginFields(username string) []*formField {
	return []*formField{
		{Name: "username", ID: "username", Label: text["field.email"], Type: "email", Autocomplete: "username", Value: username, Required: true, MaxLength: 254},
		{Name: "password", ID: "password", Label: text["field.password"], Type: "password", Autocomplete: "current-password", Required: true, MaxLength: 256},
	}
}

// loginShow is GET /{pool}/login. A browser already signed in goes on to
// return_to (or the account page), unless its sign-in lacks the second
// factor the pool or company now requires.
func (w *Web) loginShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	// Cognito's /login?client_id=&response_type=&redirect_uri=...: the
	// authorization request itself, which validates it and comes back here.
	if q := oauthParams(r); q != "" && r.URL.Query().Get("return_to") == "" {
		http.Redirect(rw, r, h.authorizePath()+"?"+q, http.StatusFound)
		return
	}
	if s, ok := w.CurrentSession(r, h.pool.ID); ok && r.URL.Query().Get("prompt") != "login" {
		// A session without the second factor the pool now asks for
		// signs in again (docs/mfa.md).
		if need, err := w.svc.NeedsMFA(r.Context(), h.pool.ID, s.Sub, s.AMR); err == nil && !need {
			http.Redirect(rw, r, w.afterSignIn(h), http.StatusFound)
			return
		}
	}
	username := r.URL.Query().Get("username")
	fields := loginFields(username)
	if sso, err := w.svc.HasCompanySSO(r.Context(), h.pool.ID); err != nil {
		w.errorPage(rw, r, err)
		return
	} else if sso {
		// Home-realm discovery: the email first (docs/company-sso.md).
		if to, err := w.homeRealm(r, h, username); err != nil {
			w.errorPage(rw, r, err)
			return
		} else if to != "" {
			http.Redirect(rw, r, to, http.StatusFound)
			return
		}
		fields = fields[:1]
	}
	w.hostedPage(rw, r, h, http.StatusOK, "login", h.action("login"), map[string]any{
		"Fields": fields, "Notice": noticeText(r)})
}

// homeRealm returns the company provider's link for the address (hint),
// or "" when no company with single sign-on owns its domain.
func (w *Web) homeRealm(r *http.Request, h *hostedReq, hint string) (string, error) {
	if hint == "" {
		return "", nil
	}
	provider, err := w.svc.HomeRealm(r.Context(), h.pool.ID, hint)
	if err != nil || provider == "" {
		return "", err
	}
	return h.federationLink(provider), nil
}

// loginPost is POST /{pool}/login: USER_PASSWORD_AUTH through auth.
func (w *Web) loginPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	fields := loginFields(username)
	if !w.allow(rw, r, "login", h) {
		w.hostedPage(rw, r, h, http.StatusTooManyRequests, "login", h.action("login"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, identity.Errorf(identity.CodeTooManyRequests, "slow down"), "username")})
		return
	}
	// Home-realm discovery: an address of a company with single sign-on
	// goes to its provider, password or not; another address without a
	// password gets the password step.
	sso, err := w.svc.HasCompanySSO(r.Context(), h.pool.ID)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	if sso {
		if to, err := w.homeRealm(r, h, username); err != nil {
			w.errorPage(rw, r, err)
			return
		} else if to != "" {
			redirect(rw, r, to)
			return
		}
		if !r.PostForm.Has("password") && username != "" {
			w.hostedPage(rw, r, h, http.StatusOK, "login", h.action("login"), map[string]any{"Fields": fields})
			return
		}
	}
	res, err := w.svc.InitiateAuth(signInCtx(r, h), auth.InitiateAuthInput{Client: h.client(), Flow: auth.AuthUserPassword,
		Username: username, Password: r.PostFormValue("password"), Meta: meta(r)})
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeUserNotConfirmed, identity.CodeApprovalPending:
			// The password was right (status is checked after it).
			w.notConfirmed(rw, r, h, username)
			return
		case identity.CodePasswordResetRequired:
			redirect(rw, r, h.link("forgot", "username", username, "notice", "reset_required"))
			return
		}
		status := http.StatusUnauthorized
		data := map[string]any{"Fields": fields, "Errors": summarize(fields, err, "password")}
		switch code := identity.ErrorCode(err); {
		case code == identity.CodeInternal || code == identity.CodeUnavailable:
			status = http.StatusServiceUnavailable
		case code == identity.CodePasswordAttemptsExceeded:
			// Locked (only said where the pool does not hide which
			// accounts exist): how long, and the way out.
			status = http.StatusTooManyRequests
			wait := identity.RetryAfter(err)
			rw.Header().Set("Retry-After", strconv.Itoa(identity.RetryAfterSeconds(err)))
			data["Errors"] = []formError{{ID: "password", Message: fmt.Sprintf(text["login.locked"], humanWait(wait))}}
			data["ResetHint"], data["ResetLink"] = text["login.locked_reset"], h.link("forgot", "username", username)
		case code == identity.CodeTooManyRequests || code == identity.CodeLimitExceeded:
			status = http.StatusTooManyRequests
			if secs := identity.RetryAfterSeconds(err); secs > 0 {
				rw.Header().Set("Retry-After", strconv.Itoa(secs))
			}
		case identity.ErrorMessage(err) == "Incorrect username or password.":
			// The same hint for every wrong answer, whoever the name
			// belongs to (with PreventUserExistenceErrors a locked account
			// answers this too): it tells nothing about the account.
			max := h.pool.MaxFailedAttempts
			if max <= 0 {
				max = auth.DefaultMaxFailures
			}
			data["ResetHint"], data["ResetLink"] = fmt.Sprintf(text["login.failed_hint"], max), h.link("forgot", "username", username)
		}
		w.hostedPage(rw, r, h, status, "login", h.action("login"), data)
		return
	}
	w.signedIn(rw, r, h, username, res)
}

// humanWait renders a lockout's remaining time for people ("45 seconds",
// "1 minute", "3 minutes", "2 hours"), rounded up.
func humanWait(d time.Duration) string {
	switch {
	case d <= time.Minute:
		n := int((d + time.Second - 1) / time.Second)
		if n <= 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	case d <= 90*time.Minute:
		n := int((d + time.Minute - 1) / time.Minute)
		if n == 1 {
			return "1 minute"
		}
		return strconv.Itoa(n) + " minutes"
	default:
		n := int((d + time.Hour - 1) / time.Hour)
		return strconv.Itoa(n) + " hours"
	}
}

// notConfirmed sends a user whose password was right but who is not
// confirmed either to the code page (email not verified yet) or to the
// waiting-for-approval page.
func (w *Web) notConfirmed(rw http.ResponseWriter, r *http.Request, h *hostedReq, username string) {
	v, err := w.svc.AdminGetUser(r.Context(), h.pool.ID, username)
	if err == nil && v.User.EmailVerified {
		redirect(rw, r, h.link("pending"))
		return
	}
	redirect(rw, r, h.link("confirm", "username", username, "notice", "unconfirmed"))
}

// signedIn finishes a sign-in: tokens start a session; a
// NEW_PASSWORD_REQUIRED challenge shows its page.
func (w *Web) signedIn(rw http.ResponseWriter, r *http.Request, h *hostedReq, username string, res *auth.AuthResult) {
	if res.Challenge != nil {
		if isMFAChallenge(res.Challenge.Name) {
			w.mfaPage(rw, r, h, http.StatusOK, mfaStateOf(res.Challenge, username), nil)
			return
		}
		if res.Challenge.Name != auth.ChallengeNewPasswordRequired {
			w.errorPage(rw, r, identity.Errorf(identity.CodeUnsupported, "challenge %s", res.Challenge.Name))
			return
		}
		w.hostedPage(rw, r, h, http.StatusOK, "newpassword", h.action("new-password"), map[string]any{
			"Fields": newPasswordFields(h.pool, username), "Session": res.Challenge.Session, "Username": username,
			"Policy": policyRules(h.pool.PasswordPolicy)})
		return
	}
	if res.Tokens == nil {
		w.errorPage(rw, r, identity.Errorf(identity.CodeInternal, "no tokens"))
		return
	}
	_, u, claims, err := w.svc.AuthenticateAccessTokenFor(r.Context(), h.pool.ID, res.Tokens.AccessToken)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	now := w.opts.Now().UTC()
	s := &Session{PoolID: h.pool.ID, Sub: u.Sub, Username: u.Username, ClientID: h.clientID, AuthTime: now,
		Expires: now.Add(w.opts.SessionTTL), refresh: res.Tokens.RefreshToken, AMR: auth.AMRClaim(claims)}
	if err := w.startSession(rw, s); err != nil {
		w.errorPage(rw, r, err)
		return
	}
	redirect(rw, r, w.afterSignIn(h))
}

// afterSignIn is where a signed-in browser goes: return_to, else the
// account page.
func (w *Web) afterSignIn(h *hostedReq) string {
	if h.returnTo != "" {
		return h.returnTo
	}
	return h.link("account")
}

func newPasswordFields(p *identity.Pool, username string) []*formField {
	return []*formField{
		{Name: "username", ID: "username", Label: text["field.email"], Type: "email", Autocomplete: "username", Value: username, Required: true},
		{Name: "password", ID: "password", Label: text["field.new_password"], Type: "password", Autocomplete: "new-password",
			Required: true, Hint: text["field.password_hint"], HintID: "password-policy", MaxLength: 256},
	}
}

// newPasswordPost is POST /{pool}/new-password: answers
// NEW_PASSWORD_REQUIRED with the session the sign-in returned.
func (w *Web) newPasswordPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	session := r.PostFormValue("session")
	res, err := w.svc.RespondToAuthChallenge(signInCtx(r, h), auth.RespondInput{Client: h.client(),
		ChallengeName: auth.ChallengeNewPasswordRequired, Session: session,
		Responses: map[string]string{"USERNAME": username, "NEW_PASSWORD": r.PostFormValue("password")}, Meta: meta(r)})
	if err != nil {
		if identity.ErrorCode(err) == identity.CodeNotAuthorized {
			// The challenge expired: sign in again.
			fields := loginFields(username)
			w.hostedPage(rw, r, h, http.StatusUnauthorized, "login", h.action("login"), map[string]any{"Fields": fields,
				"Errors": summarize(fields, err, "password")})
			return
		}
		fields := newPasswordFields(h.pool, username)
		w.hostedPage(rw, r, h, http.StatusBadRequest, "newpassword", h.action("new-password"), map[string]any{
			"Fields": fields, "Errors": summarize(fields, err, "password"), "Session": session, "Username": username,
			"Policy": policyRules(h.pool.PasswordPolicy)})
		return
	}
	w.signedIn(rw, r, h, username, res)
}

// accountShow is GET /{pool}/account: the signed-in landing page.
func (w *Web) accountShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	s, ok := w.CurrentSession(r, h.pool.ID)
	if !ok {
		http.Redirect(rw, r, h.signInPath(h.action("account")), http.StatusFound)
		return
	}
	w.accountPage(rw, r, h, s, http.StatusOK, nil)
}

// accountPage renders the account page of session s with errs.
func (w *Web) accountPage(rw http.ResponseWriter, r *http.Request, h *hostedReq, s *Session, status int, errs []formError) {
	v, err := w.svc.AdminGetUser(r.Context(), h.pool.ID, s.Username)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	var attrs []kv
	company := v.User.Attributes[h.pool.Settings.SignUp.CompanyAttr()]
	if company != "" {
		attrs = append(attrs, kv{text["field.company"], company})
	}
	passkeys, err := w.passkeyRows(r, h, s.Sub)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	data := map[string]any{
		"Email": v.User.Email, "PendingEmail": v.User.PendingEmail, "EmailVerified": v.User.EmailVerified,
		"Sub": v.User.Sub, "Groups": strings.Join(v.Groups, ", "), "Attrs": attrs,
		"Passkeys": passkeys, "Errors": errs, "Notice": noticeText(r)}
	if err := w.accountData(rw, r, h, s, data); err != nil {
		w.errorPage(rw, r, err)
		return
	}
	w.hostedPage(rw, r, h, status, "account", h.action("signout"), data)
}

type kv struct{ K, V string }

// signoutShow is GET /{pool}/signout: a button (a GET changes nothing).
func (w *Web) signoutShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	w.hostedPage(rw, r, h, http.StatusOK, "signout", h.action("signout"), nil)
}

// signoutPost is POST /{pool}/signout: ends the session (and tells the
// relying parties with a back-channel logout URI, auth.EndOIDCSession),
// then goes to return_to or the sign-in page.
func (w *Web) signoutPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	sess, signedIn := w.CurrentSession(r, h.pool.ID)
	if signedIn {
		if err := w.svc.EndOIDCSession(r.Context(), h.pool, nil, sess.Sub); err != nil {
			// The session still ends; the relying parties are not told.
			w.opts.Log.WarnContext(r.Context(), "web: back-channel logout at sign-out", "pool", h.pool.ID, "err", err)
		}
	}
	w.EndSession(rw, r, h.pool.ID)
	next := h.returnTo
	if next == "" {
		next = h.link("login", "notice", "signedout")
	}
	// Signed in through a SAML company provider: on to its IdP's single
	// logout, which comes back to next (saml.go).
	if signedIn && w.samlLogoutStart(rw, r, h.pool, sess.Sub, next) {
		return
	}
	redirect(rw, r, next)
}
