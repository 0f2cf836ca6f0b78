package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

// clientCreds reads the client's credentials: HTTP Basic
// (client_secret_basic, form-urlencoded id and secret, RFC 6749 §2.3.1) or
// client_id / client_secret in the body (client_secret_post, or a public
// client's client_id alone). Both at once is invalid_request.
func clientCreds(r *http.Request) (id, secret string, basic, ok bool) {
	bid, bsecret, hasBasic := r.BasicAuth()
	pid, _ := singleParam(r.PostForm, "client_id")
	psecret, _ := singleParam(r.PostForm, "client_secret")
	if hasBasic {
		if psecret != "" {
			return "", "", true, false
		}
		uid, err1 := url.QueryUnescape(bid)
		usec, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil || (pid != "" && pid != uid) {
			return "", "", true, false
		}
		return uid, usec, true, true
	}
	return pid, psecret, false, true
}

// parseForm reads an application/x-www-form-urlencoded body (at most
// MaxFormBytes), refusing repeated parameters.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("Content-Type", "The body must be application/x-www-form-urlencoded."))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("body", "The form could not be read."))
		return false
	}
	for name, v := range r.PostForm {
		if len(v) > 1 {
			h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError(name, "A parameter is repeated."))
			return false
		}
	}
	return true
}

// parsePageForm is parseForm for the browser endpoints (authorize and
// logout by POST): failures are error pages, not JSON.
func (h *Handler) parsePageForm(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		h.errorPage(w, r, http.StatusBadRequest, "The request body must be a form (application/x-www-form-urlencoded).")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	return true
}

// authClient authenticates the client of a token or revoke request;
// failures answer invalid_client (401).
func (h *Handler) authClient(w http.ResponseWriter, r *http.Request) (*identity.AppClient, *identity.Pool, bool) {
	id, secret, basic, ok := clientCreds(r)
	if !ok {
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("client_id", "Conflicting client credentials."))
		return nil, nil, false
	}
	cl, p, err := h.svc.AuthenticateOAuthClient(r.Context(), id, secret)
	if err == nil && p.ID != r.PathValue("pool") {
		err = identity.Errorf(identity.CodeNotAuthorized, "The client does not belong to this pool.")
	}
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeInternal, identity.CodeUnavailable:
			h.jsonError(w, r, http.StatusInternalServerError, "server_error", err)
		default:
			if basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
			}
			h.jsonError(w, r, http.StatusUnauthorized, "invalid_client", identity.Errorf(identity.CodeNotAuthorized, "Client authentication failed."))
		}
		return nil, nil, false
	}
	return cl, p, true
}

// grantError answers a failed grant: invalid_grant for not_authorized
// (bad code, verifier, refresh token), invalid_scope / invalid_request for
// bad parameters.
func (h *Handler) grantError(w http.ResponseWriter, r *http.Request, err error) {
	switch identity.ErrorCode(err) {
	case identity.CodeInvalidParameter:
		code := "invalid_request"
		var e *identity.Error
		if errors.As(err, &e) && e.Field == "scope" {
			code = "invalid_scope"
		}
		h.jsonError(w, r, http.StatusBadRequest, code, err)
	case identity.CodeInternal, identity.CodeUnavailable:
		h.jsonError(w, r, http.StatusInternalServerError, "server_error", err)
	case identity.CodeTooManyRequests, identity.CodeLimitExceeded:
		h.jsonError(w, r, http.StatusTooManyRequests, "slow_down", err)
	default:
		h.jsonError(w, r, http.StatusBadRequest, "invalid_grant", err)
	}
}

// token is POST /{pool}/oauth2/token.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	cl, p, ok := h.authClient(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		if len(cl.OAuthFlows) > 0 && !hasField(cl.OAuthFlows, identity.OAuthFlowCode) {
			h.jsonError(w, r, http.StatusBadRequest, "unauthorized_client", identity.Errorf(identity.CodeNotAuthorized, "The client may not use the authorization code flow."))
			return
		}
		toks, scope, err := h.svc.RedeemAuthorizationCode(r.Context(), auth.RedeemCodeInput{Pool: p, Client: cl,
			Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"), CodeVerifier: f.Get("code_verifier")})
		if err != nil {
			h.grantError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: toks.AccessToken, IDToken: toks.IDToken,
			RefreshToken: toks.RefreshToken, TokenType: "Bearer", ExpiresIn: toks.ExpiresIn, Scope: scope})
	case "refresh_token":
		rt := f.Get("refresh_token")
		if rt == "" {
			h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("refresh_token", "refresh_token is missing."))
			return
		}
		_, secret, _, _ := clientCreds(r)
		res, err := h.svc.InitiateAuth(r.Context(), auth.InitiateAuthInput{Client: auth.Client{ID: cl.ID, Secret: secret},
			Flow: auth.AuthRefreshToken, RefreshToken: rt, Meta: meta(r)})
		if err != nil {
			if strings.Contains(identity.ErrorMessage(err), "flow not enabled") {
				h.jsonError(w, r, http.StatusBadRequest, "unauthorized_client", err)
				return
			}
			h.grantError(w, r, err)
			return
		}
		if res.Tokens == nil {
			h.jsonError(w, r, http.StatusBadRequest, "invalid_grant", identity.Errorf(identity.CodeNotAuthorized, "Unexpected challenge."))
			return
		}
		// The refreshed tokens have exactly the sign-in's scope (auth keeps
		// it with the refresh family); say which (RFC 6749 §5.1).
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: res.Tokens.AccessToken, IDToken: res.Tokens.IDToken,
			RefreshToken: res.Tokens.RefreshToken, TokenType: "Bearer", ExpiresIn: res.Tokens.ExpiresIn, Scope: res.Tokens.Scope})
	case "client_credentials":
		if !cl.HasSecret() || !hasField(cl.OAuthFlows, identity.OAuthFlowClientCredentials) {
			h.jsonError(w, r, http.StatusBadRequest, "unauthorized_client", identity.Errorf(identity.CodeNotAuthorized, "The client may not use client_credentials."))
			return
		}
		toks, scope, err := h.svc.ClientCredentialsToken(r.Context(), p, cl, f.Get("scope"))
		if err != nil {
			h.grantError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: toks.AccessToken, TokenType: "Bearer", ExpiresIn: toks.ExpiresIn, Scope: scope})
	case "":
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("grant_type", "grant_type is missing."))
	default:
		h.jsonError(w, r, http.StatusBadRequest, "unsupported_grant_type", identity.FieldError("grant_type", "Unsupported grant_type."))
	}
}

// bearerToken reads the access token of a userInfo request (RFC 6750):
// the Authorization header (§2.1), or on a POST the form body's
// access_token (§2.2). Both at once, or a repeated access_token, is
// invalid (§2: one method per request); ok is false and the answer sent.
func (h *Handler) bearerToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	authz := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(authz, "Bearer ")
	if !found {
		tok, found = strings.CutPrefix(authz, "bearer ")
	}
	tok = strings.TrimSpace(tok)
	if r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		if !h.parseForm(w, r) {
			return "", false
		}
		if body := r.PostForm.Get("access_token"); body != "" {
			if authz != "" {
				h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("access_token", "The access token must be sent one way only."))
				return "", false
			}
			return body, true
		}
	}
	if !found || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		h.jsonError(w, r, http.StatusUnauthorized, "invalid_request", identity.Errorf(identity.CodeNotAuthorized, "A Bearer access token is required."))
		return "", false
	}
	return tok, true
}

// userInfo is GET or POST /{pool}/oauth2/userInfo (or userinfo) with a
// Bearer access token (bearerToken) issued by this pool: another pool's token,
// however valid there, is 401 invalid_token (auth.OAuthUserInfo checks the
// issuer against the path's pool; on a pool's own domain the "pool" path
// value is the domain's pool). A token without the openid (or
// aws.cognito.signin.user.admin) scope is 403 insufficient_scope.
func (h *Handler) userInfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.bearerToken(w, r)
	if !ok {
		return
	}
	claims, err := h.svc.OAuthUserInfo(r.Context(), r.PathValue("pool"), tok)
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeInternal, identity.CodeUnavailable:
			h.jsonError(w, r, http.StatusInternalServerError, "server_error", err)
		case identity.CodeInsufficientScope:
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="insufficient_scope", scope="openid"`)
			h.jsonError(w, r, http.StatusForbidden, "insufficient_scope", err)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
			h.jsonError(w, r, http.StatusUnauthorized, "invalid_token", err)
		}
		return
	}
	writeJSON(w, http.StatusOK, claims)
}

// revoke is POST /{pool}/oauth2/revoke (RFC 7009): a refresh, access or
// ID token of the client ends its sign-in: the refresh family, and the
// access and ID tokens sharing its origin_jti (auth.RevokeOAuthToken).
// token_type_hint is accepted and not needed (§2.1: the server looks the
// token up anyway). Unknown tokens answer 200 as well; a client_credentials
// access token is 400 unsupported_token_type (§2.2.1).
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	cl, _, ok := h.authClient(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("token", "token is missing."))
		return
	}
	_, secret, _, _ := clientCreds(r)
	if err := h.svc.RevokeOAuthToken(r.Context(), auth.Client{ID: cl.ID, Secret: secret}, tok); err != nil {
		if auth.IsUnsupportedTokenType(err) {
			h.jsonError(w, r, http.StatusBadRequest, "unsupported_token_type", err)
			return
		}
		switch identity.ErrorCode(err) {
		case identity.CodeInternal, identity.CodeUnavailable:
			h.jsonError(w, r, http.StatusInternalServerError, "server_error", err)
		case identity.CodeNotAuthorized:
			// RFC 7009 §2.1: a token of another client is not revoked;
			// the answer is the same as for an unknown token.
			w.WriteHeader(http.StatusOK)
		default:
			h.jsonError(w, r, http.StatusBadRequest, "invalid_request", err)
		}
		return
	}
	w.WriteHeader(http.StatusOK)
}

// introspect is POST /{pool}/oauth2/introspect (RFC 7662): a confidential
// client of the pool (client_secret_basic or client_secret_post; §2.1
// requires authorization, so a public client is invalid_client) asks
// whether token is active (auth.Introspect). Every answer about the token
// is 200: {"active": false} for anything unknown, expired, revoked or of
// another pool.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	cl, p, ok := h.authClient(w, r)
	if !ok {
		return
	}
	if !cl.HasSecret() {
		h.jsonError(w, r, http.StatusUnauthorized, "invalid_client", identity.Errorf(identity.CodeNotAuthorized, "Introspection needs a confidential client (with a secret)."))
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		h.jsonError(w, r, http.StatusBadRequest, "invalid_request", identity.FieldError("token", "token is missing."))
		return
	}
	out, err := h.svc.Introspect(r.Context(), p, cl, tok)
	if err != nil {
		h.jsonError(w, r, http.StatusInternalServerError, "server_error", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
