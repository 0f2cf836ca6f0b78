package oidc

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// loginAfterParam is added to the authorize request sent back from the
// sign-in page after prompt=login: a session older than it (Unix ms) does
// not count. It can only make the check stricter, so a client may send it.
const loginAfterParam = "gh_login_after"

// authorize is GET /{pool}/oauth2/authorize.
//
// Until client_id and redirect_uri are validated, every error is a page
// (never a redirect). After, errors go back to redirect_uri with error,
// error_description and state (RFC 6749 §4.1.2.1).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	q := r.URL.Query()
	for name := range q {
		if len(q[name]) > 1 {
			h.errorPage(w, r, http.StatusBadRequest, "The parameter "+name+" is repeated.")
			return
		}
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
	fail := func(code, desc string) {
		http.Redirect(w, r, withParams(redirectURI, "error", code, "error_description", desc, "state", state), http.StatusFound)
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

	sess, signedIn := h.pages.CurrentSession(r, poolID)
	if signedIn {
		if la, err := strconv.ParseInt(q.Get(loginAfterParam), 10, 64); err == nil && sess.AuthTime.UnixMilli() < la {
			signedIn = false
		}
		if ma := q.Get("max_age"); ma != "" {
			n, err := strconv.ParseInt(ma, 10, 64)
			if err != nil || n < 0 {
				fail("invalid_request", "max_age must be a non-negative integer.")
				return
			}
			if h.opts.Now().Sub(sess.AuthTime).Seconds() > float64(n) {
				signedIn = false
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
		if promptLogin {
			back.Set(loginAfterParam, strconv.FormatInt(h.opts.Now().UnixMilli(), 10))
		}
		returnTo := "/" + url.PathEscape(poolID) + "/oauth2/authorize?" + back.Encode()
		to := web.SignInPath(poolID, cl.ID, returnTo)
		onDomain := pooldomain.OnDomain(r)
		if onDomain {
			// On the pool's own domain the sign-in stays on its bare paths.
			to = web.DomainSignInPath(cl.ID, "/oauth2/authorize?"+back.Encode())
		}
		if promptLogin {
			to += "&prompt=login"
		}
		// Cognito's identity_provider: straight to that upstream provider
		// (COGNITO: the pool's own sign-in page). docs/federation.md.
		idp := q.Get("identity_provider")
		if idp == "" {
			// Home-realm discovery (docs/company-sso.md): Cognito's
			// idp_identifier (a domain or an address), else OIDC's
			// login_hint, names a company with its own provider.
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
		AuthTime: sess.AuthTime, RedirectURI: redirectURI, CodeChallenge: challenge, CodeChallengeMethod: method,
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
	http.Redirect(w, r, withParams(redirectURI, "code", code, "state", state), http.StatusFound)
}

// grantScope validates the requested scopes: each must be a user scope
// (openid, email, profile, phone, aws.cognito.signin.user.admin) and, when
// the client lists OAuthScopes, one of them. No scope requested: the
// client's user scopes, or "openid" when it lists none.
//
// aws.cognito.signin.user.admin lets the token change the account
// (docs/security.md T5), so it is granted only to a client that lists it
// explicitly, as Cognito's AllowedOAuthScopes; a client listing no scopes
// gets the OpenID scopes only.
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
		if !auth.IsUserScope(s) || (len(cl.OAuthScopes) > 0 && !hasField(cl.OAuthScopes, s)) ||
			(s == auth.ScopeUserAdmin && !hasField(cl.OAuthScopes, s)) {
			return "", false
		}
		if !hasField(out, s) {
			out = append(out, s)
		}
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

// logout is GET /{pool}/logout (Cognito's): client_id and logout_uri (or
// OIDC's post_logout_redirect_uri), matched exactly against the client's
// LogoutURLs; the hosted session ends and the browser goes to logout_uri
// (with state when given). Anything unregistered is a page, never a
// redirect.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	q := r.URL.Query()
	cl, p, err := h.svc.OAuthClient(r.Context(), q.Get("client_id"))
	if err != nil || p.ID != poolID {
		h.errorPage(w, r, http.StatusBadRequest, "Unknown client.")
		return
	}
	target := q.Get("logout_uri")
	if target == "" {
		target = q.Get("post_logout_redirect_uri")
	}
	if !exactMember(cl.LogoutURLs, target) {
		h.errorPage(w, r, http.StatusBadRequest, "logout_uri is not registered for this client.")
		return
	}
	h.pages.EndSession(w, r, poolID)
	http.Redirect(w, r, withParams(target, "state", q.Get("state")), http.StatusFound)
}
