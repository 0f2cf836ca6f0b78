package web

import (
	"html/template"
	"net/http"

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
