package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The second-factor step of a hosted sign-in (docs/mfa.md): one page for
// the TOTP and email code challenges (with a recovery code instead), the
// choice between them, and the enrolment of an authenticator app when the
// pool or company requires MFA of a user who has none (a QR code rendered
// on the server and the key in text), and the passkey step (WEB_AUTHN:
// the challenge's request options in the form, static/passkeys.js posts
// the assertion as credential; "Use your passkey instead" from a code
// step). Every answer is a POST to
// /{pool}/mfa carrying the challenge's session; the session and the codes
// are checked by the service.

// signInCtx is the context of a hosted sign-in step: marked for step-up
// (auth.StepUpMFA) when the authorization request the sign-in returns to
// asks for MFA (acr_values, docs/oidc.md). The return_to is the user's
// own input, but it can only make their sign-in stricter; OIDC authorize
// is what refuses a code to a session without the factor.
//
// The hosted pages run WebAuthn (hosted_passkeys.go), so the context is
// also marked auth.PasskeyMFA for the page's origin: a user with a
// passkey may answer the second factor with it (WEB_AUTHN).
func signInCtx(r *http.Request, h *hostedReq) context.Context {
	ctx := auth.PasskeyMFA(r.Context(), passkeyOrigin(h, r))
	if h.returnTo == "" {
		return ctx
	}
	if u, err := url.Parse(h.returnTo); err == nil {
		if want, _ := auth.StepUpRequested(u.Query()); want {
			ctx = auth.StepUpMFA(ctx)
		}
	}
	return ctx
}

func isMFAChallenge(name string) bool {
	switch name {
	case auth.ChallengeSoftwareTokenMFA, auth.ChallengeEmailOTP, auth.ChallengeSelectMFAType, auth.ChallengeMFASetup,
		auth.ChallengeWebAuthn:
		return true
	}
	return false
}

// mfaState is what the page carries between steps.
type mfaState struct {
	challenge, session, username string
	secret                       string // MFA_SETUP: the key being enrolled
	// passkey: the user may answer with a passkey instead (the challenge
	// said WEB_AUTHN_AVAILABLE or listed WEB_AUTHN in MFAS_CAN_CHOOSE).
	// The form carries it back, but only to show the button: the service
	// refuses ANSWER WEB_AUTHN to a user without a passkey.
	passkey bool
	options string // WEB_AUTHN: CREDENTIAL_REQUEST_OPTIONS
}

// mfaStateOf is the page state of challenge c.
func mfaStateOf(c *auth.Challenge, username string) mfaState {
	st := mfaState{challenge: c.Name, session: c.Session, username: username,
		options: c.Parameters["CREDENTIAL_REQUEST_OPTIONS"]}
	var can []string
	_ = json.Unmarshal([]byte(c.Parameters["MFAS_CAN_CHOOSE"]), &can)
	st.passkey = c.Parameters["WEB_AUTHN_AVAILABLE"] == "true" || slices.Contains(can, auth.ChallengeWebAuthn)
	return st
}

type mfaChoice struct{ Value, Label string }

func codeField(err string) []*formField {
	return []*formField{{Name: "code", ID: "code", Label: text["field.otp"], Type: "text", Autocomplete: "one-time-code",
		Inputmode: "numeric", MaxLength: 6, Required: true, Error: err}}
}

// mfaPage renders the step for st. For MFA_SETUP without a key yet it
// starts the enrolment (AssociateSoftwareToken with the session).
func (w *Web) mfaPage(rw http.ResponseWriter, r *http.Request, h *hostedReq, status int, st mfaState, err error) {
	data := map[string]any{"Challenge": st.challenge, "Username": st.username, "PasskeyChoice": st.passkey}
	fields := codeField("")
	switch st.challenge {
	case auth.ChallengeWebAuthn:
		if st.options == "" { // a refused assertion: the options were used
			w.mfaFailed(rw, r, h, st, identity.Errorf(identity.CodeNotAuthorized, "%s", text["passkey.refused"]))
			return
		}
		data["Intro"] = text["mfa.passkey.intro"]
		data["PasskeyOptions"] = st.options
		fields = nil
	case auth.ChallengeSoftwareTokenMFA, auth.ChallengeEmailOTP:
		data["Intro"] = text["mfa.totp.intro"]
		if st.challenge == auth.ChallengeEmailOTP {
			data["Intro"] = text["mfa.email.intro"]
		}
		data["Recovery"] = []*formField{{Name: "recovery_code", ID: "recovery_code", Label: text["field.recovery_code"],
			Type: "text", Autocomplete: "off", MaxLength: 32}}
	case auth.ChallengeSelectMFAType:
		data["Intro"] = text["mfa.select.intro"]
		choices := []mfaChoice{{auth.ChallengeSoftwareTokenMFA, text["mfa.select."+auth.ChallengeSoftwareTokenMFA]},
			{auth.ChallengeEmailOTP, text["mfa.select."+auth.ChallengeEmailOTP]}}
		if st.passkey {
			choices = append(choices, mfaChoice{auth.ChallengeWebAuthn, text["mfa.select."+auth.ChallengeWebAuthn]})
		}
		data["Choices"] = choices
		data["PasskeyChoice"] = false
	case auth.ChallengeMFASetup:
		data["Intro"] = text["mfa.setup.intro"]
		uri := ""
		if st.secret == "" {
			setup, aerr := w.svc.AssociateSoftwareToken(r.Context(), auth.MFAAuth{Client: h.client(), Session: st.session})
			if aerr != nil {
				w.mfaFailed(rw, r, h, st, aerr)
				return
			}
			st.secret, st.session, uri = setup.SecretCode, setup.Session, setup.URI
		} else {
			uri = auth.TOTPURI(h.pool, st.username, st.secret)
		}
		qr, qerr := qrSVG(uri)
		if qerr != nil {
			w.errorPage(rw, r, qerr)
			return
		}
		data["QR"], data["Secret"] = qr, st.secret
	}
	data["Session"] = st.session
	data["Fields"] = fields
	if err != nil {
		data["Errors"] = summarize(fields, err, "code")
	}
	w.hostedPage(rw, r, h, status, "mfa", h.action("mfa"), data)
}

// mfaFailed answers a refused step: an expired or used session goes back
// to the sign-in page; a locked account says for how long; a wrong code
// shows the same step again.
func (w *Web) mfaFailed(rw http.ResponseWriter, r *http.Request, h *hostedReq, st mfaState, err error) {
	switch code := identity.ErrorCode(err); code {
	case identity.CodeNotAuthorized:
		fields := loginFields(st.username)
		w.hostedPage(rw, r, h, http.StatusUnauthorized, "login", h.action("login"), map[string]any{"Fields": fields,
			"Errors": summarize(fields, err, "password")})
	case identity.CodePasswordAttemptsExceeded:
		rw.Header().Set("Retry-After", strconv.Itoa(identity.RetryAfterSeconds(err)))
		fields := loginFields(st.username)
		w.hostedPage(rw, r, h, http.StatusTooManyRequests, "login", h.action("login"), map[string]any{"Fields": fields,
			"Errors": []formError{{ID: "password", Message: fmtText("login.locked", humanWait(identity.RetryAfter(err)))}}})
	case identity.CodeInternal, identity.CodeUnavailable:
		w.errorPage(rw, r, err)
	default:
		w.mfaPage(rw, r, h, http.StatusBadRequest, st, err)
	}
}

// mfaPost is POST /{pool}/mfa: answers the step the form carries.
func (w *Web) mfaPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	st := mfaState{challenge: r.PostFormValue("challenge"), session: r.PostFormValue("session"),
		username: strings.TrimSpace(r.PostFormValue("username")), secret: r.PostFormValue("secret"),
		passkey: r.PostFormValue("passkey") == "1"}
	if !isMFAChallenge(st.challenge) {
		w.errorPage(rw, r, identity.FieldError("challenge", "Unknown step."))
		return
	}
	if !w.allow(rw, r, "mfa", h) {
		w.mfaPage(rw, r, h, http.StatusTooManyRequests, st, identity.Errorf(identity.CodeTooManyRequests, "slow down"))
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	responses := map[string]string{"USERNAME": st.username}
	session := st.session
	switch st.challenge {
	case auth.ChallengeSelectMFAType:
		responses["ANSWER"] = r.PostFormValue("answer")
	case auth.ChallengeMFASetup:
		next, err := w.svc.VerifySoftwareToken(r.Context(), auth.VerifyTOTPInput{MFAAuth: auth.MFAAuth{Client: h.client(), Session: st.session}, Code: code})
		if err != nil {
			w.mfaFailed(rw, r, h, st, err)
			return
		}
		session = next
	case auth.ChallengeSoftwareTokenMFA:
		responses["SOFTWARE_TOKEN_MFA_CODE"] = code
	case auth.ChallengeEmailOTP:
		responses["EMAIL_OTP_CODE"] = code
	case auth.ChallengeWebAuthn:
		responses["CREDENTIAL"] = r.PostFormValue("credential")
	}
	if r.PostFormValue("answer") == auth.ChallengeWebAuthn && st.challenge != auth.ChallengeWebAuthn {
		// "Use your passkey" from a code step: the service answers with
		// the WEB_AUTHN challenge (if the user has a passkey).
		responses = map[string]string{"USERNAME": st.username, "ANSWER": auth.ChallengeWebAuthn}
	}
	if rc := strings.TrimSpace(r.PostFormValue("recovery_code")); rc != "" && r.PostFormValue("use") == "recovery" {
		delete(responses, "SOFTWARE_TOKEN_MFA_CODE")
		delete(responses, "EMAIL_OTP_CODE")
		responses["RECOVERY_CODE"] = rc
	}
	res, err := w.svc.RespondToAuthChallenge(signInCtx(r, h), auth.RespondInput{Client: h.client(), ChallengeName: st.challenge,
		Session: session, Responses: responses, Meta: meta(r)})
	if err != nil {
		w.mfaFailed(rw, r, h, st, err)
		return
	}
	w.signedIn(rw, r, h, st.username, res)
}
