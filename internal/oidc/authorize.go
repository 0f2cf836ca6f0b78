package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// loginAfterParam is added to the authorize request sent back from the
// sign-in page after prompt=login: a session older than it (Unix ms) does
// not count. It can only make the check stricter, so a client may send it.
const loginAfterParam = "gh_login_after"

// freshSignInWindow bounds how long after an authorization request sent
// the browser to sign in (loginAfterParam) that sign-in satisfies the
// request's max_age: the time a person takes on the sign-in page.
const freshSignInWindow = 15 * time.Minute

// authorize is GET or POST /{pool}/oauth2/authorize (OIDC Core §3.1.2.1:
// both; POST takes the parameters form-encoded in the body).
//
// Until client_id and redirect_uri are validated, every error is a page
// (never a redirect). After, errors go back to redirect_uri with error,
// error_description and state (RFC 6749 §4.1.2.1), in the query or, with
// response_mode=form_post, as an auto-submitted form (OAuth 2.0 Form Post
// Response Mode).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	q, ok := h.pageParams(w, r)
	if !ok {
		return
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		h.errorPage(w, r, http.StatusBadRequest, "client_id is missing.")
		return
	}
	cl, p, err := h.svc.OAuthClient(r.Context(), clientID)
	if err != nil || p.ID != poolID {
		if err != nil && identity.ErrorCode(err) == identity.CodeInternal {
			h.opts.Log.ErrorContext(r.Context(), "oidc: authorize", "err", err)
			h.errorPage(w, r, http.StatusInternalServerError, "An internal error occurred.")
			return
		}
		h.errorPage(w, r, http.StatusBadRequest, "Unknown client.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !exactMember(cl.CallbackURLs, redirectURI) {
		h.errorPage(w, r, http.StatusBadRequest, "redirect_uri is not registered for this client.")
		return
	}
	state := q.Get("state")
	mode := q.Get("response_mode")
	if mode != "" && mode != "query" && mode != "form_post" {
		mode = "" // the error itself goes back the default way
		http.Redirect(w, r, withParams(redirectURI, "error", "invalid_request", "error_description",
			"response_mode must be query or form_post.", "state", state), http.StatusFound)
		return
	}
	fail := func(code, desc string) {
		h.respond(w, r, redirectURI, mode, "error", code, "error_description", desc, "state", state)
	}
	// OIDC Core §6: request objects are not supported; say so.
	if q.Has("request") {
		fail("request_not_supported", "Request objects (request) are not supported.")
		return
	}
	if q.Has("request_uri") {
		fail("request_uri_not_supported", "request_uri is not supported.")
		return
	}
	if len(state) > 2048 {
		fail("invalid_request", "state is too long.")
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		if rt == "" {
			fail("invalid_request", "response_type is missing.")
		} else {
			fail("unsupported_response_type", "Only response_type=code is supported.")
		}
		return
	}
	if len(cl.OAuthFlows) > 0 && !hasField(cl.OAuthFlows, identity.OAuthFlowCode) {
		fail("unauthorized_client", "The client may not use the authorization code flow.")
		return
	}
	scope, ok := grantScope(cl, q.Get("scope"))
	if !ok {
		fail("invalid_scope", "A requested scope is not allowed for this client.")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge.")
		return
	case challenge == "" && !cl.HasSecret():
		fail("invalid_request", "PKCE (code_challenge with code_challenge_method=S256) is required for public clients.")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "Only code_challenge_method=S256 is supported.")
		return
	case challenge != "" && (len(challenge) != 43 || !auth.ValidPKCEValue(challenge)):
		fail("invalid_request", "code_challenge is not a base64url SHA-256.")
		return
	}
	nonce := q.Get("nonce")
	if len(nonce) > 512 {
		fail("invalid_request", "nonce is too long.")
		return
	}
	wantMFA, err := auth.StepUpRequested(q)
	if err != nil {
		fail("invalid_request", identity.ErrorMessage(err))
		return
	}
	prompt := q.Get("prompt")
	for _, pr := range strings.Fields(prompt) {
		if pr != "none" && pr != "login" && pr != "consent" && pr != "select_account" {
			fail("invalid_request", "Unsupported prompt value.")
			return
		}
	}
	promptNone := hasField(strings.Fields(prompt), "none")
	promptLogin := hasField(strings.Fields(prompt), "login")
	if promptNone && promptLogin {
		fail("invalid_request", "prompt=none cannot be combined with other values.")
		return
	}

	maxAge := int64(-1)
	if ma := q.Get("max_age"); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil || n < 0 {
			fail("invalid_request", "max_age must be a non-negative integer.")
			return
		}
		maxAge = n
	}
	now := h.opts.Now()
	sess, signedIn := h.pages.CurrentSession(r, poolID)
	// stale: a session that exists but is too old for this request; the
	// sign-in page must then ask for the password (prompt=login) instead
	// of sending the browser straight back.
	stale := false
	if signedIn {
		// loginAfter marks a request that already sent the browser to sign
		// in: a session older than it does not count, and one signed in
		// after it (within freshSignInWindow) satisfies max_age, so the
		// re-authentication happens once instead of looping.
		la, err := strconv.ParseInt(q.Get(loginAfterParam), 10, 64)
		hasLA := err == nil
		if hasLA && sess.AuthTime.UnixMilli() < la {
			signedIn, stale = false, true
		}
		freshAfterRequest := hasLA && sess.AuthTime.UnixMilli() >= la && now.UnixMilli()-la <= freshSignInWindow.Milliseconds()
		if maxAge >= 0 && now.Sub(sess.AuthTime).Seconds() > float64(maxAge) && !freshAfterRequest {
			signedIn, stale = false, true
		}
		// A session without the second factor the policy now asks for
		// (started before MFA was required) signs in again (docs/mfa.md).
		if signedIn {
			need, err := h.svc.NeedsMFA(r.Context(), poolID, sess.Sub, sess.AMR)
			if err != nil {
				h.opts.Log.ErrorContext(r.Context(), "oidc: mfa policy", "err", err)
				fail("server_error", "Internal error.")
				return
			}
			if need {
				signedIn, stale = false, true
			}
			// Step-up: the relying party asked for MFA (acr_values or an
			// essential acr claim) and this session did not prove it.
			if wantMFA && !slices.Contains(sess.AMR, auth.AMRMFA) {
				signedIn, stale = false, true
			}
		}
	}
	if promptLogin || !signedIn {
		if promptNone {
			fail("login_required", "The user is not signed in.")
			return
		}
		// Back to this request after the sign-in; prompt=login becomes a
		// freshness bound, so the sign-in does not loop.
		back := url.Values{}
		for k, v := range q {
			if k == "prompt" || k == loginAfterParam {
				continue
			}
			back[k] = v
		}
		if promptLogin || maxAge >= 0 {
			back.Set(loginAfterParam, strconv.FormatInt(now.UnixMilli(), 10))
		}
		returnTo := "/" + url.PathEscape(poolID) + "/oauth2/authorize?" + back.Encode()
		to := web.SignInPath(poolID, cl.ID, returnTo)
		onDomain := pooldomain.OnDomain(r)
		if onDomain {
			// On the pool's own domain the sign-in stays on its bare paths.
			to = web.DomainSignInPath(cl.ID, "/oauth2/authorize?"+back.Encode())
		}
		if promptLogin || stale {
			to += "&prompt=login"
		}
		// Cognito's identity_provider: straight to that upstream provider
		// (COGNITO: the pool's own sign-in page). docs/federation.md.
		idp := q.Get("identity_provider")
		if idp == "" {
			// Home-realm discovery (docs/company-sso.md): Cognito's
			// idp_identifier (a domain or an address), else OIDC's
			// login_hint, names a company with its own provider.
			// A pool provider listing idp_identifier among its
			// IdpIdentifiers comes first, as in Cognito.
			idp = auth.ProviderForIdentifier(p, q.Get("idp_identifier"))
			for _, hint := range []string{q.Get("idp_identifier"), q.Get("login_hint")} {
				if idp != "" || hint == "" {
					continue
				}
				if idp, err = h.svc.HomeRealm(r.Context(), poolID, hint); err != nil {
					fail("server_error", "Internal error.")
					return
				}
			}
		}
		if hint := q.Get("login_hint"); idp == "" && hint != "" && len(hint) <= 320 {
			// OIDC login_hint pre-fills the sign-in page's first step.
			to += "&username=" + url.QueryEscape(hint)
		}
		if idp != "" && idp != "COGNITO" {
			to = web.FederationPath(poolID, cl.ID, idp, returnTo)
			if onDomain {
				// The provider calls back to the issuer (its registered
				// redirect_uri): the federated sign-in runs there. From
				// configuration, never from the Host.
				to = strings.TrimSuffix(h.svc.Issuer(p), "/"+p.ID) + to
			}
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}

	code, err := h.svc.CreateAuthorizationCode(r.Context(), auth.AuthorizationCodeInput{Pool: p, Client: cl, Sub: sess.Sub,
		AuthTime: sess.AuthTime, AMR: sess.AMR, RedirectURI: redirectURI, CodeChallenge: challenge, CodeChallengeMethod: method,
		Nonce: nonce, Scope: scope})
	if err != nil {
		if identity.ErrorCode(err) == identity.CodeInternal || identity.ErrorCode(err) == identity.CodeUnavailable {
			h.opts.Log.ErrorContext(r.Context(), "oidc: create code", "err", err)
			fail("server_error", "Internal error.")
			return
		}
		fail("invalid_request", identity.ErrorMessage(err))
		return
	}
	h.respond(w, r, redirectURI, mode, "code", code, "state", state)
}

// pageParams reads the parameters of a browser endpoint (authorize,
// logout): the query of a GET, the form body of a POST; a repeated
// parameter is an error page (RFC 6749 §3.1). ok is false when a page was
// sent.
func (h *Handler) pageParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if !h.parsePageForm(w, r) {
			return nil, false
		}
		q = r.PostForm
	}
	for name := range q {
		if len(q[name]) > 1 {
			h.errorPage(w, r, http.StatusBadRequest, "The parameter "+name+" is repeated.")
			return nil, false
		}
	}
	return q, true
}

// respond sends the authorization response (or error) to redirectURI:
// in its query (302), or with mode form_post as a page that POSTs the
// parameters there (OAuth 2.0 Form Post Response Mode §2).
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, redirectURI, mode string, kv ...string) {
	if mode != "form_post" {
		http.Redirect(w, r, withParams(redirectURI, kv...), http.StatusFound)
		return
	}
	var fields [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			fields = append(fields, [2]string{kv[i], kv[i+1]})
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src '"+formPostScriptHash+"'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	w.WriteHeader(http.StatusOK)
	_ = formPostTmpl.Execute(w, map[string]any{"Action": redirectURI, "Fields": fields, "Script": template.JS(formPostScript)})
}

// formPostScript submits the form; the CSP allows exactly it (by hash).
const formPostScript = "document.forms[0].submit();"

var formPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

var formPostTmpl = template.Must(template.New("fp").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>
<body><form method="post" action="{{.Action}}">{{range .Fields}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">{{end}}
<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript></form>
<script>{{.Script}}</script></body></html>`))

// grantScope decides the granted scopes. No scope requested: the
// client's user scopes, or "openid" when it lists none. Otherwise each
// requested user scope (openid, email, profile, phone) the client may
// have is granted; offline_access is granted to a client allowed to
// refresh (it gets a refresh token either way, as from Cognito); any
// other scope without a "/" (address, groups, a typo) is ignored, as
// Keycloak, Hydra and Zitadel do (RFC 6749 §3.3 lets the server grant
// less than asked; the response's scope says what was granted).
//
// Refused with invalid_scope: aws.cognito.signin.user.admin from a client
// that does not list it, since it lets the token change the account
// (docs/security.md T5, granted only to a client that lists it, as
// Cognito's AllowedOAuthScopes); a custom resource scope (resource/scope),
// which belongs to client_credentials.
func grantScope(cl *identity.AppClient, requested string) (string, bool) {
	req := splitScope(requested)
	if len(req) == 0 {
		for _, s := range cl.OAuthScopes {
			if auth.IsUserScope(s) {
				req = append(req, s)
			}
		}
		if len(req) == 0 {
			req = []string{auth.ScopeOpenID}
		}
	}
	var out []string
	for _, s := range req {
		switch {
		case s == auth.ScopeUserAdmin && !hasField(cl.OAuthScopes, s), strings.Contains(s, "/"):
			return "", false
		case s == auth.ScopeOfflineAccess:
			if !cl.AllowsFlow(identity.FlowRefreshToken) {
				continue
			}
		case !auth.IsUserScope(s), len(cl.OAuthScopes) > 0 && !hasField(cl.OAuthScopes, s):
			continue
		}
		if !hasField(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, " "), true
}

// withParams adds the non-empty pairs to u's query, keeping what u has
// (the registered URI is used as registered otherwise).
func withParams(u string, kv ...string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}

// logout is GET or POST /{pool}/logout: Cognito's (client_id and
// logout_uri) and OpenID Connect RP-Initiated Logout 1.0's
// (id_token_hint, client_id, post_logout_redirect_uri, state; §2, §3).
//
// id_token_hint alone names the client (its aud; with client_id as well,
// both must agree) and the relying party's sign-in (its sid), which ends
// too. The redirect target must be one of the client's LogoutURLs exactly;
// without one, the browser gets a "you are signed out" page. The hosted
// session ends in every case, and clients with a backchannel_logout_uri
// are told (auth.EndOIDCSession). Anything not registered is an error
// page, never a redirect, and then nothing is ended.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	q, ok := h.pageParams(w, r)
	if !ok {
		return
	}
	p, err := h.svc.GetPool(r.Context(), poolID)
	if err != nil {
		h.pageError(w, r, err, "Unknown user pool.")
		return
	}
	var hint *auth.IDTokenHint
	clientID := q.Get("client_id")
	if raw := q.Get("id_token_hint"); raw != "" {
		if hint, err = h.svc.VerifyIDTokenHint(r.Context(), p, raw); err != nil {
			h.errorPage(w, r, http.StatusBadRequest, "id_token_hint is not an ID token of this issuer.")
			return
		}
		if clientID != "" && clientID != hint.ClientID {
			h.errorPage(w, r, http.StatusBadRequest, "client_id does not match the id_token_hint's audience.")
			return
		}
		clientID = hint.ClientID
	}
	target := q.Get("logout_uri")
	if target == "" {
		target = q.Get("post_logout_redirect_uri")
	}
	if clientID != "" {
		cl, cp, err := h.svc.OAuthClient(r.Context(), clientID)
		if err != nil || cp.ID != p.ID {
			h.pageError(w, r, err, "Unknown client.")
			return
		}
		if target != "" && !exactMember(cl.LogoutURLs, target) {
			h.errorPage(w, r, http.StatusBadRequest, "logout_uri is not registered for this client.")
			return
		}
	} else if target != "" {
		h.errorPage(w, r, http.StatusBadRequest, "A logout redirect needs client_id or id_token_hint.")
		return
	}
	sub := ""
	if sess, ok := h.pages.CurrentSession(r, poolID); ok {
		sub = sess.Sub
	}
	if err := h.svc.EndOIDCSession(r.Context(), p, hint, sub); err != nil {
		h.pageError(w, r, err, "")
		return
	}
	h.pages.EndSession(w, r, poolID)
	if target == "" {
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		w.WriteHeader(http.StatusOK)
		_ = signedOutTmpl.Execute(w, nil)
		return
	}
	http.Redirect(w, r, withParams(target, "state", q.Get("state")), http.StatusFound)
}

// pageError shows err as an error page: a 500 for internal failures (the
// cause logged), else a 400 with msg.
func (h *Handler) pageError(w http.ResponseWriter, r *http.Request, err error, msg string) {
	if c := identity.ErrorCode(err); err != nil && (c == identity.CodeInternal || c == identity.CodeUnavailable) {
		h.opts.Log.ErrorContext(r.Context(), "oidc: page", "path", r.URL.Path, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "An internal error occurred.")
		return
	}
	h.errorPage(w, r, http.StatusBadRequest, msg)
}

var signedOutTmpl = template.Must(template.New("out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed out</title></head>
<body><main><h1>You are signed out</h1><p>You can close this window.</p></main></body></html>`))
