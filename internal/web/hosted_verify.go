package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func codeFields(username string) []*formField {
	return []*formField{
		{Name: "username", ID: "username", Label: text["field.email"], Type: "email", Autocomplete: "username", Value: username, Required: true, MaxLength: 254},
		{Name: "code", ID: "code", Label: text["field.code"], Type: "text", Autocomplete: "one-time-code", Inputmode: "numeric",
			Required: true, MaxLength: 16, Hint: text["field.code_hint"], HintID: "code-hint"},
	}
}

func (w *Web) confirmData(h *hostedReq, fields []*formField, errs []formError, notice string) map[string]any {
	csrf := map[string]any{"Fields": fields, "Errors": errs, "Notice": notice, "ResendAction": h.action("confirm/resend")}
	return csrf
}

// confirmShow is GET /{pool}/confirm?username=: the code entry page.
func (w *Web) confirmShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	notice := text["confirm.sent"]
	switch r.URL.Query().Get("notice") {
	case "unconfirmed":
		notice = text["confirm.unconfirmed"]
	case "resent":
		notice = text["confirm.resent"]
	}
	d := w.confirmData(h, codeFields(r.URL.Query().Get("username")), nil, notice)
	resend, err := w.csrfTokenFor(rw, r, h.action("confirm/resend"))
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	d["ResendCSRF"] = resend
	w.hostedPage(rw, r, h, http.StatusOK, "confirm", h.action("confirm"), d)
}

// confirmPost is POST /{pool}/confirm: auth.ConfirmSignUp, then the
// sign-in page (open pools) or the waiting-for-approval page.
func (w *Web) confirmPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	fields := codeFields(username)
	fail := func(status int, err error) {
		d := w.confirmData(h, fields, summarize(fields, err, "code"), "")
		if tok, terr := w.csrfTokenFor(rw, r, h.action("confirm/resend")); terr == nil {
			d["ResendCSRF"] = tok
		}
		w.hostedPage(rw, r, h, status, "confirm", h.action("confirm"), d)
	}
	if !w.allow(rw, r, "confirm", h) {
		fail(http.StatusTooManyRequests, identity.Errorf(identity.CodeTooManyRequests, "slow down"))
		return
	}
	err = w.svc.ConfirmSignUp(r.Context(), auth.ConfirmSignUpInput{Client: h.client(), Username: username,
		Code: strings.TrimSpace(r.PostFormValue("code")), Meta: meta(r)})
	if err != nil {
		if c := identity.ErrorCode(err); c == identity.CodeUserNotConfirmed || c == identity.CodeApprovalPending { // already verified, waiting
			redirect(rw, r, h.link("pending"))
			return
		}
		fail(statusOf(err), err)
		return
	}
	// Confirmed now, or waiting for the approvers (approval pools).
	if v, err := w.svc.AdminGetUser(r.Context(), h.pool.ID, username); err == nil && v.User.Status != identity.StatusConfirmed {
		redirect(rw, r, h.link("pending"))
		return
	}
	redirect(rw, r, h.link("login", "username", username, "notice", "verified"))
}

// confirmResend is POST /{pool}/confirm/resend: a new code.
func (w *Web) confirmResend(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	if !w.allow(rw, r, "forgot", h) {
		fields := codeFields(username)
		d := w.confirmData(h, fields, summarize(fields, identity.Errorf(identity.CodeTooManyRequests, "slow down"), "username"), "")
		w.hostedPage(rw, r, h, http.StatusTooManyRequests, "confirm", h.action("confirm"), d)
		return
	}
	_, err = w.svc.ResendConfirmationCode(r.Context(), h.client(), username, meta(r))
	if err != nil && identity.ErrorCode(err) != identity.CodeUserNotFound && identity.ErrorCode(err) != identity.CodeNotAuthorized {
		fields := codeFields(username)
		w.hostedPage(rw, r, h, statusOf(err), "confirm", h.action("confirm"), w.confirmData(h, fields, summarize(fields, err, "username"), ""))
		return
	}
	redirect(rw, r, h.link("confirm", "username", username, "notice", "resent"))
}

// pendingShow is GET /{pool}/pending: "waiting for approval".
func (w *Web) pendingShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	w.hostedPage(rw, r, h, http.StatusOK, "message", "", map[string]any{"Title": text["pending.title"],
		"Message": fmt.Sprintf(text["pending.body"], poolName(h.pool)), "Next": text["pending.next"]})
}

func forgotFields(username string) []*formField {
	return []*formField{{Name: "username", ID: "username", Label: text["field.email"], Type: "email", Autocomplete: "username",
		Value: username, Required: true, MaxLength: 254}}
}

// forgotShow is GET /{pool}/forgot.
func (w *Web) forgotShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	notice := ""
	if r.URL.Query().Get("notice") == "reset_required" {
		notice = text["forgot.required"]
	}
	w.hostedPage(rw, r, h, http.StatusOK, "forgot", h.action("forgot"), map[string]any{
		"Fields": forgotFields(r.URL.Query().Get("username")), "Notice": notice})
}

// forgotPost is POST /{pool}/forgot: auth.ForgotPassword. Unknown
// addresses get the same answer as known ones.
func (w *Web) forgotPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	fields := forgotFields(username)
	if !w.allow(rw, r, "forgot", h) {
		w.hostedPage(rw, r, h, http.StatusTooManyRequests, "forgot", h.action("forgot"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, identity.Errorf(identity.CodeTooManyRequests, "slow down"), "username")})
		return
	}
	if username == "" {
		w.hostedPage(rw, r, h, http.StatusBadRequest, "forgot", h.action("forgot"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, identity.FieldError("username", "%s", requiredText(text["field.email"])), "username")})
		return
	}
	_, err = w.svc.ForgotPassword(r.Context(), auth.ForgotPasswordInput{Client: h.client(), Username: username, Meta: meta(r)})
	switch identity.ErrorCode(err) {
	case "", identity.CodeUserNotFound, identity.CodeNotAuthorized, identity.CodeInvalidParameter:
		// Same answer whether or not the account exists (and could be reset).
		redirect(rw, r, h.link("reset", "username", username))
	default:
		w.hostedPage(rw, r, h, statusOf(err), "forgot", h.action("forgot"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, err, "username")})
	}
}

func resetFields(username string) []*formField {
	f := codeFields(username)
	f[1].Hint = text["reset.code_hint"]
	return append(f, &formField{Name: "password", ID: "password", Label: text["field.new_password"], Type: "password",
		Autocomplete: "new-password", Required: true, Hint: text["field.password_hint"], HintID: "password-policy", MaxLength: 256})
}

// resetShow is GET /{pool}/reset?username=: code and new password.
func (w *Web) resetShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	w.hostedPage(rw, r, h, http.StatusOK, "reset", h.action("reset"), map[string]any{
		"Fields": resetFields(r.URL.Query().Get("username")), "Policy": policyRules(h.pool.PasswordPolicy), "Notice": text["reset.sent"]})
}

// resetPost is POST /{pool}/reset: auth.ConfirmForgotPassword, then the
// sign-in page.
func (w *Web) resetPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	fields := resetFields(username)
	fail := func(status int, err error) {
		w.hostedPage(rw, r, h, status, "reset", h.action("reset"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, err, "code"), "Policy": policyRules(h.pool.PasswordPolicy)})
	}
	if !w.allow(rw, r, "confirm", h) {
		fail(http.StatusTooManyRequests, identity.Errorf(identity.CodeTooManyRequests, "slow down"))
		return
	}
	err = w.svc.ConfirmForgotPassword(r.Context(), auth.ConfirmForgotPasswordInput{Client: h.client(), Username: username,
		Code: strings.TrimSpace(r.PostFormValue("code")), NewPassword: r.PostFormValue("password"), Meta: meta(r)})
	if err != nil {
		fail(statusOf(err), err)
		return
	}
	redirect(rw, r, h.link("login", "username", username, "notice", "reset"))
}
