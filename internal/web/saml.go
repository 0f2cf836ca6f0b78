package web

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// SAML 2.0 company providers (docs/company-sso.md):
//
//	GET  /{pool}/saml/{id}/metadata      the service provider's metadata
//	POST /{pool}/saml/{id}/acs           the IdP's HTTP-POST (cross-site:
//	     the SameSite=Lax sign-in cookie does not come along); a page that
//	     posts the same fields on to .../acs/continue from this origin
//	POST /{pool}/saml/{id}/acs/continue  with the cookie: RelayState must be
//	     the cookie's state, the provider the cookie's; then auth checks
//	     the response (signature, audience, recipient, time, InResponseTo,
//	     replay) and signs in as for OpenID Connect

var samlRelayPage = template.Must(template.New("relay").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing in…</title>
<script src="/-/static/hosted.js" defer></script></head>
<body><form method="post" action="{{.Action}}" data-autosubmit>
<input type="hidden" name="SAMLResponse" value="{{.Response}}">
<input type="hidden" name="RelayState" value="{{.Relay}}">
<noscript><p>Continue to finish signing in.</p></noscript>
<button type="submit">Continue</button></form></body></html>`))

// samlMetadata is GET /{pool}/saml/{id}/metadata.
func (w *Web) samlMetadata(rw http.ResponseWriter, r *http.Request) {
	b, err := w.svc.CompanySAMLMetadata(r.Context(), r.PathValue("pool"), r.PathValue("id"))
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = rw.Write(b)
}

// samlACS is POST /{pool}/saml/{id}/acs: the hop described above. It
// checks nothing but sizes: the continuation checks everything.
func (w *Web) samlACS(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, federation.MaxSAMLResponse*2)
	if err := r.ParseForm(); err != nil || r.PostFormValue("SAMLResponse") == "" {
		w.errorPage(rw, r, identity.Errorf(identity.CodeInvalidParameter, "No SAML response."))
		return
	}
	w.setPageCSP(rw, &identity.Pool{})
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_ = samlRelayPage.Execute(rw, map[string]string{"Action": r.URL.Path + "/continue",
		"Response": r.PostFormValue("SAMLResponse"), "Relay": r.PostFormValue("RelayState")})
}

// samlContinue is POST /{pool}/saml/{id}/acs/continue.
func (w *Web) samlContinue(rw http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	r.Body = http.MaxBytesReader(rw, r.Body, federation.MaxSAMLResponse*2)
	if err := r.ParseForm(); err != nil {
		w.errorPage(rw, r, identity.Errorf(identity.CodeInvalidParameter, "No SAML response."))
		return
	}
	fc, ok := w.takeFedCookie(rw, r, poolID)
	req := &federation.Request{State: fc.State, Nonce: fc.Nonce, Verifier: fc.Verifier}
	if !ok || fc.Provider != identity.CompanyIdPPrefix+r.PathValue("id") || !req.StateMatches(r.PostFormValue("RelayState")) {
		w.opts.Log.WarnContext(r.Context(), "web: SAML response without a matching sign-in", "pool", poolID, "cookie", ok)
		w.fedFailed(rw, r, poolID, fc, http.StatusBadRequest)
		return
	}
	w.fedSignIn(rw, r, poolID, fc, auth.FederatedSignInInput{SAMLResponse: r.PostFormValue("SAMLResponse"), Request: req})
}

// Single logout (docs/company-sso.md):
//
//	GET|POST /{pool}/saml/{id}/slo   the IdP's LogoutRequest (it ends the
//	     user's sessions and answers with a signed LogoutResponse by
//	     redirect) or its LogoutResponse to the LogoutRequest the sign-out
//	     page sent (matched with the sealed cookie set then)

const samlSLOPurpose = "gatehouse/web/saml-slo/v1"

type samlSLOState struct {
	Pool string `json:"p"`
	ID   string `json:"i"`
	Next string `json:"n"`
	Exp  int64  `json:"e"`
}

func (w *Web) samlSLOCookieName(poolID string) string {
	return w.cookieName("gatehouse_saml_slo_" + cookieSafe(poolID))
}

// samlLogoutStart sends the browser on to the IdP of the user's SAML
// company provider with a signed LogoutRequest, after the Gatehouse
// session ended; next is where it comes back to. False: no SAML single
// logout to do (or it failed, logged), the caller goes on.
func (w *Web) samlLogoutStart(rw http.ResponseWriter, r *http.Request, pool *identity.Pool, sub, next string) bool {
	to, id, err := w.svc.CompanySAMLLogoutStart(r.Context(), pool, sub, "")
	if err != nil {
		w.opts.Log.WarnContext(r.Context(), "web: SAML logout start", "pool", pool.ID, "err", err)
		return false
	}
	if to == "" {
		return false
	}
	b, _ := json.Marshal(samlSLOState{Pool: pool.ID, ID: id, Next: next, Exp: w.opts.Now().Add(10 * time.Minute).UnixMilli()})
	sealed, err := w.box.Seal(samlSLOPurpose, b)
	if err != nil {
		return false
	}
	http.SetCookie(rw, &http.Cookie{Name: w.samlSLOCookieName(pool.ID), Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", Secure: w.secureCookies(), HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	redirect(rw, r, to)
	return true
}

// samlSLO is GET|POST /{pool}/saml/{id}/slo.
func (w *Web) samlSLO(rw http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	r.Body = http.MaxBytesReader(rw, r.Body, federation.MaxSAMLResponse*2)
	if err := r.ParseForm(); err != nil {
		w.errorPage(rw, r, identity.Errorf(identity.CodeInvalidParameter, "No SAML logout message."))
		return
	}
	var st samlSLOState
	if c, err := r.Cookie(w.samlSLOCookieName(poolID)); err == nil && len(c.Value) <= 4096 {
		raw, err := base64.RawURLEncoding.DecodeString(c.Value)
		plain, err2 := w.box.Open(samlSLOPurpose, raw)
		if err != nil || err2 != nil || json.Unmarshal(plain, &st) != nil || st.Pool != poolID || w.opts.Now().UnixMilli() >= st.Exp {
			st = samlSLOState{}
		}
	}
	relay := r.Form.Get("RelayState")
	if len(relay) > 80 {
		relay = ""
	}
	res, err := w.svc.CompanySAMLLogout(r.Context(), poolID, r.PathValue("id"), r.URL.RawQuery, r.PostForm, st.ID, relay)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	if res.Response {
		http.SetCookie(rw, &http.Cookie{Name: w.samlSLOCookieName(poolID), Value: "", Path: "/", Secure: w.secureCookies(),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
		next := st.Next
		if !ValidReturnTo(poolID, next) {
			next = "/" + url.PathEscape(poolID) + "/login?notice=signedout"
		}
		redirect(rw, r, next)
		return
	}
	w.EndSession(rw, r, poolID)
	redirect(rw, r, res.RedirectURL)
}
