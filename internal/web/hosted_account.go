package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The self-service account page (docs/hosted-pages.md "The account
// page"): change password, change email with re-verification, the
// authenticator app and recovery codes, and the active sign-ins. Every
// change is a POST with the CSRF token of its own path, for the user of
// the browser's hosted session, through the same auth flows as the
// Cognito and native APIs (auth.ChangeUserPassword, ChangeUserEmail,
// StartAccountTOTP, ...). Changing the password asks for the current
// one; the other changes ask for a sign-in at most auth.PasskeyFreshness
// old (the page then offers "Sign in again", prompt=login).

// accountForms are the account page's form paths (under /{pool}/).
var accountForms = []string{
	"account/passkeys", "account/passkeys/options", "account/passkeys/delete",
	"account/password", "account/email", "account/email/verify",
	"account/totp", "account/totp/confirm", "account/factors/delete", "account/recovery-codes",
	"account/sessions/delete", "account/sessions/others", "account/devices/forget",
}

// formTokens returns each page's action and, under page+"#csrf", its
// CSRF token.
func (w *Web) formTokens(rw http.ResponseWriter, r *http.Request, h *hostedReq, pages []string) (map[string]string, error) {
	forms := map[string]string{}
	for _, page := range pages {
		tok, err := w.csrfTokenFor(rw, r, h.action(page))
		if err != nil {
			return nil, err
		}
		forms[page] = h.action(page)
		forms[page+"#csrf"] = tok
	}
	return forms, nil
}

// sessionRow is one active sign-in on the page.
type sessionRow struct {
	ID, Device, IP, App, SignedIn, LastUsed string
	Current                                 bool
}

func fmtTime(t interface{ Format(string) string }) string { return t.Format("2 Jan 2006 15:04 MST") }

// accountSessions reads the rows of the active sign-ins.
func (w *Web) accountSessions(r *http.Request, h *hostedReq, s *Session) ([]sessionRow, error) {
	list, err := w.svc.ListUserSessions(r.Context(), h.pool.ID, s.Sub, auth.SessionRef{Refresh: s.refresh})
	if err != nil {
		return nil, err
	}
	rows := make([]sessionRow, len(list))
	for i, a := range list {
		rows[i] = sessionRow{ID: a.ID, Device: a.Device, IP: a.IP, App: a.ClientName, SignedIn: fmtTime(a.SignedInAt),
			LastUsed: fmtTime(a.LastUsedAt), Current: a.Current}
		if rows[i].Device == "" {
			rows[i].Device = text["sessions.unknown_device"]
		}
		if rows[i].App == "" {
			rows[i].App = a.ClientID
		}
	}
	return rows, nil
}

// deviceRow is one remembered device on the page.
type deviceRow struct {
	Key, Name, Status, Added, LastUsed, IP string
	Remembered                             bool
}

// accountDevices reads the rows of the user's remembered devices; shown
// is false when the pool remembers no devices and the user has none.
func (w *Web) accountDevices(r *http.Request, h *hostedReq, s *Session) (rows []deviceRow, shown bool, err error) {
	list, err := w.svc.ListUserDevices(r.Context(), h.pool.ID, s.Sub)
	if err != nil {
		return nil, false, err
	}
	for _, d := range list {
		row := deviceRow{Key: d.Key, Name: d.Name, IP: d.LastIP, Added: fmtTime(d.CreatedAt),
			Remembered: d.Status == identity.DeviceRemembered, Status: text["account.devices.not_remembered"]}
		if row.Remembered {
			row.Status = text["account.devices.remembered"]
		}
		if row.Name == "" {
			row.Name = text["account.devices.unnamed"]
		}
		if !d.LastAuthAt.IsZero() {
			row.LastUsed = fmtTime(d.LastAuthAt)
		}
		rows = append(rows, row)
	}
	return rows, h.pool.Settings.Devices.Tracked || len(rows) > 0, nil
}

// factorRow is one second factor on the page.
type factorRow struct{ ID, Kind, Name, Added string }

func accountFactors(v *auth.UserMFA) []factorRow {
	var rows []factorRow
	for _, f := range v.Factors {
		if f.Type == identity.FactorTOTP && !f.Confirmed {
			continue // an enrolment not finished
		}
		kind := text["factor."+f.Type]
		if kind == "" {
			kind = f.Type
		}
		rows = append(rows, factorRow{ID: f.ID, Kind: kind, Name: f.Name, Added: fmtTime(f.CreatedAt)})
	}
	return rows
}

// accountData adds the account page's forms, factors and sessions.
func (w *Web) accountData(rw http.ResponseWriter, r *http.Request, h *hostedReq, s *Session, data map[string]any) error {
	forms, err := w.formTokens(rw, r, h, accountForms)
	if err != nil {
		return err
	}
	data["PasskeyForms"], data["Forms"] = forms, forms
	sessions, err := w.accountSessions(r, h, s)
	if err != nil {
		return err
	}
	data["Sessions"] = sessions
	others := 0
	for _, x := range sessions {
		if !x.Current {
			others++
		}
	}
	data["OtherSessions"] = others
	if data["Devices"], data["DevicesShown"], err = w.accountDevices(r, h, s); err != nil {
		return err
	}
	mfa, err := w.svc.GetAccountMFA(r.Context(), h.pool.ID, s.Sub)
	if err != nil {
		return err
	}
	data["Factors"], data["RecoveryLeft"] = accountFactors(mfa), mfa.RecoveryCodesLeft
	data["HasFactor"] = len(mfa.Settings) > 0
	data["TOTPAllowed"] = !h.pool.Settings.MFA.SoftwareTokenDisabled
	data["Reauth"] = h.signInPath(h.action("account")) + "&prompt=login"
	data["PasswordFields"] = []*formField{
		{Name: "current_password", ID: "current_password", Label: text["field.current_password"], Type: "password", Autocomplete: "current-password", Required: true, MaxLength: 256},
		{Name: "password", ID: "password", Label: text["field.new_password"], Type: "password", Autocomplete: "new-password",
			Required: true, Hint: text["field.password_hint"], HintID: "password-policy", MaxLength: 256, Rules: policyRules(h.pool.PasswordPolicy)},
	}
	data["EmailFields"] = []*formField{{Name: "email", ID: "new_email", Label: text["field.new_email"], Type: "email", Autocomplete: "email", Required: true, MaxLength: 254}}
	data["VerifyFields"] = []*formField{{Name: "code", ID: "email_code", Label: text["field.code"], Type: "text", Autocomplete: "one-time-code",
		Inputmode: "numeric", MaxLength: 16, Required: true}}
	return nil
}

// accountChange runs change for the signed-in user and comes back to the
// account page with its notice, or shows the page with the error.
// staleMsg replaces a not_authorized error's message when set.
func (w *Web) accountChange(rw http.ResponseWriter, r *http.Request, staleMsg string, change func(*hostedReq, *Session) (string, error)) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	s, ok := w.CurrentSession(r, h.pool.ID)
	if !ok {
		http.Redirect(rw, r, h.signInPath(h.action("account")), http.StatusSeeOther)
		return
	}
	notice, err := change(h, s)
	if errors.Is(err, errWritten) {
		return
	}
	if err != nil {
		if c := identity.ErrorCode(err); c == identity.CodeInternal || c == identity.CodeUnavailable {
			w.errorPage(rw, r, err)
			return
		}
		msg := userMessage(err)
		if identity.ErrorCode(err) == identity.CodeNotAuthorized && staleMsg != "" {
			msg = staleMsg
		}
		w.accountPage(rw, r, h, s, http.StatusBadRequest, []formError{{Message: msg}})
		return
	}
	redirect(rw, r, h.link("account", "notice", notice))
}

func factorInput(h *hostedReq, s *Session) auth.AccountFactorInput {
	return auth.AccountFactorInput{PoolID: h.pool.ID, Sub: s.Sub, AuthTime: s.AuthTime}
}

// accountPassword is POST /{pool}/account/password: the current password
// and a new one; every other sign-in of the user ends.
func (w *Web) accountPassword(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, "", func(h *hostedReq, s *Session) (string, error) {
		return "password_changed", w.svc.ChangeUserPassword(r.Context(), auth.ChangeUserPasswordInput{PoolID: h.pool.ID, Sub: s.Sub,
			Previous: r.PostFormValue("current_password"), Proposed: r.PostFormValue("password"), Keep: auth.SessionRef{Refresh: s.refresh}})
	})
}

// accountEmail is POST /{pool}/account/email: a new address, pending
// until the code sent to it is entered.
func (w *Web) accountEmail(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, text["account.stale"], func(h *hostedReq, s *Session) (string, error) {
		out, err := w.svc.ChangeUserEmail(r.Context(), auth.ChangeUserEmailInput{PoolID: h.pool.ID, Sub: s.Sub, ClientID: h.clientID,
			Email: r.PostFormValue("email"), AuthTime: s.AuthTime})
		if err != nil {
			return "", err
		}
		if out.PendingEmail == "" {
			return "email_changed", nil
		}
		return "email_pending", nil
	})
}

// accountEmailVerify is POST /{pool}/account/email/verify: the code sent
// to the new (or unverified) address.
func (w *Web) accountEmailVerify(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, "", func(h *hostedReq, s *Session) (string, error) {
		return "email_verified", w.svc.VerifyUserEmail(r.Context(), h.pool.ID, s.Sub, strings.TrimSpace(r.PostFormValue("code")))
	})
}

// accountTOTP is POST /{pool}/account/totp: starts an authenticator app's
// enrolment and shows its QR code, its key in text and the code field.
func (w *Web) accountTOTP(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, text["account.stale"], func(h *hostedReq, s *Session) (string, error) {
		setup, err := w.svc.StartAccountTOTP(r.Context(), factorInput(h, s))
		if err != nil {
			return "", err
		}
		w.totpPage(rw, r, h, http.StatusOK, setup.URI, setup.SecretCode, nil)
		return "", errWritten
	})
}

// errWritten tells accountChange that change answered itself.
var errWritten = errors.New("answered")

// totpPage renders the enrolment step.
func (w *Web) totpPage(rw http.ResponseWriter, r *http.Request, h *hostedReq, status int, uri, secret string, err error) {
	qr, qerr := qrSVG(uri)
	if qerr != nil {
		w.errorPage(rw, r, qerr)
		return
	}
	fields := codeField("")
	data := map[string]any{"QR": qr, "Secret": secret, "Fields": fields, "Back": h.link("account"),
		"NameField": []*formField{{Name: "name", ID: "device_name", Label: text["field.device_name"], Type: "text", Autocomplete: "off", MaxLength: 64}}}
	if err != nil {
		data["Errors"] = summarize(fields, err, "code")
	}
	w.hostedPage(rw, r, h, status, "account_totp", h.action("account/totp/confirm"), data)
}

// accountTOTPConfirm is POST /{pool}/account/totp/confirm: the app's
// first code turns it on.
func (w *Web) accountTOTPConfirm(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, text["account.stale"], func(h *hostedReq, s *Session) (string, error) {
		err := w.svc.ConfirmAccountTOTP(r.Context(), factorInput(h, s), strings.TrimSpace(r.PostFormValue("code")),
			strings.TrimSpace(r.PostFormValue("name")))
		switch c := identity.ErrorCode(err); {
		case err == nil:
			return "totp_added", nil
		case c == identity.CodeEnableSoftwareTokenMFA || c == identity.CodeInvalidParameter:
			// A wrong code: the same step again. The key shown is the
			// one the service stored (only its owner's page sends it).
			secret := r.PostFormValue("secret")
			w.totpPage(rw, r, h, http.StatusBadRequest, auth.TOTPURI(h.pool, s.Username, secret), secret, err)
			return "", errWritten
		}
		return "", err
	})
}

// accountFactorDelete is POST /{pool}/account/factors/delete.
func (w *Web) accountFactorDelete(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, text["account.stale"], func(h *hostedReq, s *Session) (string, error) {
		return "factor_removed", w.svc.RemoveAccountFactor(r.Context(), factorInput(h, s), r.PostFormValue("id"))
	})
}

// accountRecoveryCodes is POST /{pool}/account/recovery-codes: new codes,
// shown once on the answer (never stored in the clear).
func (w *Web) accountRecoveryCodes(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, text["account.stale"], func(h *hostedReq, s *Session) (string, error) {
		codes, err := w.svc.NewAccountRecoveryCodes(r.Context(), factorInput(h, s))
		if err != nil {
			return "", err
		}
		rw.Header().Set("Cache-Control", "no-store")
		w.hostedPage(rw, r, h, http.StatusOK, "account_codes", "", map[string]any{"Codes": codes, "Back": h.link("account")})
		return "", errWritten
	})
}

// accountSessionDelete is POST /{pool}/account/sessions/delete: "Sign
// out" on one row (the user's own sessions only: the service looks the
// id up among them).
func (w *Web) accountSessionDelete(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, "", func(h *hostedReq, s *Session) (string, error) {
		return "session_revoked", w.svc.RevokeUserSession(r.Context(), h.pool.ID, s.Sub, r.PostFormValue("id"))
	})
}

// accountDeviceForget is POST /{pool}/account/devices/forget: "Forget"
// on one remembered device (the user's own only: the service looks the
// key up among them); the device's sign-ins end with it.
func (w *Web) accountDeviceForget(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, "", func(h *hostedReq, s *Session) (string, error) {
		return "device_forgotten", w.svc.ForgetUserDevice(r.Context(), h.pool.ID, s.Sub, r.PostFormValue("key"))
	})
}

// accountSessionsOthers is POST /{pool}/account/sessions/others: "Sign
// out everywhere else".
func (w *Web) accountSessionsOthers(rw http.ResponseWriter, r *http.Request) {
	w.accountChange(rw, r, "", func(h *hostedReq, s *Session) (string, error) {
		_, err := w.svc.RevokeOtherUserSessions(r.Context(), h.pool.ID, s.Sub, auth.SessionRef{Refresh: s.refresh})
		return "sessions_revoked", err
	})
}
