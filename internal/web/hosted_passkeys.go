package web

import (
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Passkeys on the hosted pages (docs/passkeys.md).
//
// The sign-in page carries a second form, hidden until static/passkeys.js
// finds WebAuthn in the browser: the script posts to passkey/options (CSRF
// token of that path) for the request options, asks the authenticator,
// puts the PublicKeyCredential JSON into the form's credential field and
// submits it to passkey, which signs in as the password form does. The
// account page lists the user's passkeys with a remove button each (a
// plain form; the service wants a sign-in at most auth.PasskeyFreshness
// old) and an enrol form driven the same way through
// account/passkeys/options. No inline script: the page's CSP allows
// script and fetch from this origin only.
//
// The ceremony's origin is the pool's base URL, or https://<host> on the
// pool's own domain (bare paths); auth refuses any other.

// passkeyOrigin is the origin the browser runs this page on, as the
// service knows it: "" for the base URL, else the pool domain's.
func passkeyOrigin(h *hostedReq, r *http.Request) string {
	if !h.bare {
		return ""
	}
	host := strings.ToLower(r.Host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return "https://" + host
}

// passkeyData adds the sign-in page's passkey form to data.
func (w *Web) passkeyData(rw http.ResponseWriter, r *http.Request, h *hostedReq, data map[string]any) error {
	csrf, err := w.csrfTokenFor(rw, r, h.action("passkey"))
	if err != nil {
		return err
	}
	optCSRF, err := w.csrfTokenFor(rw, r, h.action("passkey/options"))
	if err != nil {
		return err
	}
	data["Passkey"] = map[string]string{"Action": h.action("passkey"), "CSRF": csrf,
		"Options": h.action("passkey/options"), "OptionsCSRF": optCSRF}
	return nil
}

// writeJSON answers a script's fetch.
func writeJSON(rw http.ResponseWriter, status int, b []byte) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_, _ = rw.Write(b)
}

// optionsRequest checks the CSRF token of a script's options request and
// loads the page's pool and client; false means the answer was written.
func (w *Web) optionsRequest(rw http.ResponseWriter, r *http.Request) (*hostedReq, bool) {
	if !w.parseForm(rw, r) {
		return nil, false
	}
	h, err := w.loadHosted(r)
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, []byte(`{"error":"bad request"}`))
		return nil, false
	}
	return h, true
}

// passkeyOptions is POST /{pool}/passkey/options: request options of a
// passwordless sign-in (discoverable credentials), as JSON.
func (w *Web) passkeyOptions(rw http.ResponseWriter, r *http.Request) {
	h, ok := w.optionsRequest(rw, r)
	if !ok {
		return
	}
	if !w.allow(rw, r, "login", h) {
		writeJSON(rw, http.StatusTooManyRequests, []byte(`{"error":"slow down"}`))
		return
	}
	opts, err := w.svc.StartPasskeySignIn(r.Context(), h.client(), passkeyOrigin(h, r))
	if err != nil {
		w.opts.Log.WarnContext(r.Context(), "web: passkey options", "pool", h.pool.ID, "err", err)
		writeJSON(rw, http.StatusBadRequest, []byte(`{"error":"passkeys are not available here"}`))
		return
	}
	writeJSON(rw, http.StatusOK, opts)
}

// passkeySignIn is POST /{pool}/passkey: the assertion the script got
// from the authenticator; a sign-in like the password form's.
func (w *Web) passkeySignIn(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	fields := loginFields("")
	if !w.allow(rw, r, "login", h) {
		w.loginPage(rw, r, h, http.StatusTooManyRequests, fields, []formError{{Message: text["passkey.slow_down"]}})
		return
	}
	res, err := w.svc.CompletePasskeySignIn(r.Context(), auth.PasskeySignInInput{Client: h.client(),
		Credential: []byte(r.PostFormValue("credential")), Meta: meta(r)})
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeInternal, identity.CodeUnavailable:
			w.errorPage(rw, r, err)
			return
		case identity.CodeUserNotConfirmed, identity.CodeApprovalPending:
			redirect(rw, r, h.link("pending"))
			return
		}
		msg := text["passkey.refused"]
		if identity.ErrorCode(err) == identity.CodeUserDisabled {
			msg = identity.ErrorMessage(err)
		}
		w.loginPage(rw, r, h, http.StatusUnauthorized, fields, []formError{{Message: msg}})
		return
	}
	w.signedIn(rw, r, h, "", res)
}

// loginPage renders the sign-in page with errs.
func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request, h *hostedReq, status int, fields []*formField, errs []formError) {
	data := map[string]any{"Fields": fields, "Errors": errs}
	w.hostedPage(rw, r, h, status, "login", h.action("login"), data)
}

// accountPasskeyOptions is POST /{pool}/account/passkeys/options: creation
// options for the signed-in user, as JSON.
func (w *Web) accountPasskeyOptions(rw http.ResponseWriter, r *http.Request) {
	h, ok := w.optionsRequest(rw, r)
	if !ok {
		return
	}
	s, ok := w.CurrentSession(r, h.pool.ID)
	if !ok {
		writeJSON(rw, http.StatusUnauthorized, []byte(`{"error":"sign in first"}`))
		return
	}
	opts, err := w.svc.StartPasskeyRegistration(r.Context(), h.pool.ID, s.Sub, passkeyOrigin(h, r))
	if err != nil {
		status := http.StatusBadRequest
		if identity.ErrorCode(err) == identity.CodeInternal || identity.ErrorCode(err) == identity.CodeUnavailable {
			status = http.StatusServiceUnavailable
		}
		writeJSON(rw, status, []byte(`{"error":"passkeys are not available here"}`))
		return
	}
	writeJSON(rw, http.StatusOK, opts)
}

// accountPasskeyAdd is POST /{pool}/account/passkeys: stores the new
// passkey the script got from the authenticator.
func (w *Web) accountPasskeyAdd(rw http.ResponseWriter, r *http.Request) {
	w.accountPasskeyChange(rw, r, func(h *hostedReq, s *Session) (string, error) {
		_, err := w.svc.CompletePasskeyRegistration(r.Context(), h.pool.ID, s.Sub, []byte(r.PostFormValue("credential")),
			strings.TrimSpace(r.PostFormValue("name")))
		return "passkey_added", err
	})
}

// accountPasskeyDelete is POST /{pool}/account/passkeys/delete: removes
// one passkey, if the sign-in is recent enough.
func (w *Web) accountPasskeyDelete(rw http.ResponseWriter, r *http.Request) {
	w.accountPasskeyChange(rw, r, func(h *hostedReq, s *Session) (string, error) {
		return "passkey_removed", w.svc.DeletePasskey(r.Context(), auth.DeletePasskeyInput{PoolID: h.pool.ID, Sub: s.Sub,
			CredentialID: r.PostFormValue("id"), AuthTime: s.AuthTime, RequireFresh: true})
	})
}

// accountPasskeyChange runs change as accountChange does, a stale
// sign-in told to sign in again before removing a passkey.
func (w *Web) accountPasskeyChange(rw http.ResponseWriter, r *http.Request, change func(*hostedReq, *Session) (string, error)) {
	w.accountChange(rw, r, text["passkey.stale"], change)
}

// accountData is what the account page shows of the user's passkeys.
type passkeyRow struct {
	ID, Name, Created, LastUsed string
}

func (w *Web) passkeyRows(r *http.Request, h *hostedReq, sub string) ([]passkeyRow, error) {
	list, err := w.svc.ListPasskeys(r.Context(), h.pool.ID, sub)
	if err != nil {
		return nil, err
	}
	rows := make([]passkeyRow, len(list))
	for i, pk := range list {
		rows[i] = passkeyRow{ID: pk.ID, Name: pk.Name, Created: pk.CreatedAt.Format("2 Jan 2006 15:04 MST"), LastUsed: text["passkey.never"]}
		if !pk.LastUsedAt.IsZero() {
			rows[i].LastUsed = pk.LastUsedAt.Format("2 Jan 2006 15:04 MST")
		}
	}
	return rows, nil
}
