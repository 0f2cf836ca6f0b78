package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Federated sign-in on the hosted pages (docs/federation.md)
//
//	GET  /{pool}/federation/{provider}  a button: new state, nonce and PKCE
//	     verifier kept in a sealed cookie (10 min), then to the provider
//	GET  /{pool}/oauth2/idpresponse     the provider's callback (mounted by
//	     internal/oidc, which owns /{pool}/oauth2/): the state must match
//	     the cookie's; the cookie is deleted whatever happens
//	POST /{pool}/federation/continue    the link (local password) or
//	     company step, with the sealed ticket auth returned
//
// The cookie (gatehouse_fed_<pool>, __Host- and Secure over https,
// HttpOnly, SameSite=Lax so that the provider's top-level redirect carries
// it) binds the attempt to the browser that started it: a callback URL
// taken from another browser (login CSRF) finds no matching state.

const (
	fedCookiePurpose = "gatehouse/web/federation/v1"
	fedCookieTTL     = 10 * time.Minute
)

func init() {
	for k, v := range map[string]string{
		"federation.or":             "or",
		"federation.button":         "Continue with %s",
		"federation.failed":         "The sign-in with the identity provider did not complete. Please try again.",
		"federation.link.title":     "Link your account",
		"federation.link.intro":     "An account %s already exists here with the same verified email address. Enter its password once to link it: your sign-ins with this provider will then open that account.",
		"federation.link.submit":    "Link and sign in",
		"federation.company.title":  "Your company",
		"federation.company.intro":  "One more thing: name the company you work for. Someone there approves your account.",
		"federation.company.submit": "Continue",
	} {
		text[k] = v
	}
}

type fedCookie struct {
	Pool     string `json:"p"`
	Provider string `json:"pr"`
	Client   string `json:"c"`
	ReturnTo string `json:"r,omitempty"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Exp      int64  `json:"x"`
}

func (w *Web) fedCookieName(poolID string) string {
	return w.cookieName("gatehouse_fed_" + cookieSafe(poolID))
}

// providerButton is one "Continue with X" link on the sign-in and sign-up pages.
type providerButton struct {
	Name, Label, Href string
}

// providerButtons lists h's pool's identity providers as buttons.
func providerButtons(h *hostedReq) []providerButton {
	var out []providerButton
	for _, ip := range h.pool.Settings.IdentityProviders {
		out = append(out, providerButton{Name: ip.Name, Label: strings.Replace(text["federation.button"], "%s", ip.Name, 1),
			Href: h.federationLink(ip.Name)})
	}
	return out
}

// federationStart is GET /{pool}/federation/{provider}.
func (w *Web) federationStart(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	provider := r.PathValue("provider")
	req, err := federation.NewRequest(nil)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	to, err := w.svc.FederationAuthURL(r.Context(), h.client(), provider, req)
	if err != nil {
		if identity.ErrorCode(err) == identity.CodeInvalidParameter {
			err = identity.Errorf(identity.CodeResourceNotFound, "%s", identity.ErrorMessage(err))
		}
		w.errorPage(rw, r, err)
		return
	}
	b, err := json.Marshal(fedCookie{Pool: h.pool.ID, Provider: provider, Client: h.clientID, ReturnTo: h.returnTo,
		State: req.State, Nonce: req.Nonce, Verifier: req.Verifier, Exp: w.opts.Now().Add(fedCookieTTL).UnixMilli()})
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	sealed, err := w.box.Seal(fedCookiePurpose, b)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: w.fedCookieName(h.pool.ID), Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", Secure: w.secureCookies(), HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(fedCookieTTL / time.Second)})
	http.Redirect(rw, r, to, http.StatusFound)
}

// FederationCallback is GET /{pool}/oauth2/idpresponse, the upstream
// providers' redirect_uri; internal/oidc mounts it under its
// /{pool}/oauth2/ prefix.
func (w *Web) FederationCallback(rw http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	fc, ok := w.takeFedCookie(rw, r, poolID)
	q := r.URL.Query()
	req := &federation.Request{State: fc.State, Nonce: fc.Nonce, Verifier: fc.Verifier}
	if !ok || !req.StateMatches(q.Get("state")) {
		w.opts.Log.WarnContext(r.Context(), "web: federation callback without a matching state", "pool", poolID, "cookie", ok)
		w.fedFailed(rw, r, poolID, fc, http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		w.opts.Log.InfoContext(r.Context(), "web: federation refused upstream", "pool", poolID, "error", safeLog(e))
		w.fedFailed(rw, r, poolID, fc, http.StatusUnauthorized)
		return
	}
	w.fedSignIn(rw, r, poolID, fc, auth.FederatedSignInInput{Code: q.Get("code"), Request: req})
}

// fedSignIn finishes a provider's answer whose attempt (fc, in.Request)
// matched: the service checks the answer and signs in.
func (w *Web) fedSignIn(rw http.ResponseWriter, r *http.Request, poolID string, fc fedCookie, in auth.FederatedSignInInput) {
	p, err := w.svc.GetPool(r.Context(), poolID)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	h := &hostedReq{pool: p, clientID: fc.Client, returnTo: fc.ReturnTo}
	in.Client, in.Provider, in.Meta = h.client(), fc.Provider, meta(r)
	res, err := w.svc.FederatedSignIn(r.Context(), in)
	w.fedResult(rw, r, h, res, err)
}

// takeFedCookie reads and deletes the pool's federation cookie (one
// attempt per cookie); ok reports a sealed, unexpired cookie of poolID.
func (w *Web) takeFedCookie(rw http.ResponseWriter, r *http.Request, poolID string) (fedCookie, bool) {
	name := w.fedCookieName(poolID)
	c, cerr := r.Cookie(name)
	http.SetCookie(rw, &http.Cookie{Name: name, Value: "", Path: "/", Secure: w.secureCookies(), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	var fc fedCookie
	ok := cerr == nil && len(c.Value) <= 4096
	if ok {
		raw, err := base64.RawURLEncoding.DecodeString(c.Value)
		plain, err2 := w.box.Open(fedCookiePurpose, raw)
		ok = err == nil && err2 == nil && json.Unmarshal(plain, &fc) == nil &&
			fc.Pool == poolID && w.opts.Now().UnixMilli() < fc.Exp
	}
	return fc, ok
}

func safeLog(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// fedFailed shows the sign-in page with a generic error.
func (w *Web) fedFailed(rw http.ResponseWriter, r *http.Request, poolID string, fc fedCookie, status int) {
	p, err := w.svc.GetPool(r.Context(), poolID)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	h := &hostedReq{pool: p, clientID: fc.Client, returnTo: fc.ReturnTo}
	if h.clientID == "" {
		if h.clientID, err = w.defaultClient(r.Context(), p.ID); err != nil {
			w.errorPage(rw, r, err)
			return
		}
	}
	fields := loginFields("")
	w.hostedPage(rw, r, h, status, "login", h.action("login"), map[string]any{"Fields": fields,
		"Errors": []formError{{Message: text["federation.failed"]}}})
}

// fedResult answers a federated sign-in step: a session, the link or
// company page, the waiting page, or the sign-in page with the error.
func (w *Web) fedResult(rw http.ResponseWriter, r *http.Request, h *hostedReq, res *auth.FederatedResult, err error) {
	if err != nil {
		status := http.StatusUnauthorized
		if c := identity.ErrorCode(err); c == identity.CodeInternal || c == identity.CodeUnavailable {
			status = http.StatusServiceUnavailable
		} else if c == identity.CodeInvalidParameter || c == identity.CodeUserLambdaValidation {
			status = http.StatusForbidden
		}
		fields := loginFields("")
		w.hostedPage(rw, r, h, status, "login", h.action("login"), map[string]any{"Fields": fields,
			"Errors": []formError{{Message: userMessage(err)}}})
		return
	}
	switch {
	case res.Tokens != nil || res.Challenge != nil: // a session, or the second factor first
		w.signedIn(rw, r, h, res.User.Username, &auth.AuthResult{Tokens: res.Tokens, Challenge: res.Challenge})
	case res.Next == auth.FederatedNextPending:
		redirect(rw, r, h.link("pending"))
	case res.Next == auth.FederatedNextLink:
		fields := []*formField{{Name: "password", ID: "password", Label: text["field.password"], Type: "password",
			Autocomplete: "current-password", Required: true, MaxLength: 256}}
		w.hostedPage(rw, r, h, http.StatusOK, "federation", h.action("federation/continue"), map[string]any{
			"Title": text["federation.link.title"], "Intro": fmtText("federation.link.intro", res.LinkUsername),
			"Submit": text["federation.link.submit"], "Fields": fields, "Ticket": res.Ticket})
	case res.Next == auth.FederatedNextCompany:
		w.companyStep(rw, r, h, http.StatusOK, res.Ticket, nil)
	default:
		w.errorPage(rw, r, errors.New("web: federated sign-in without a result"))
	}
}

func fmtText(key string, args ...string) string {
	s := text[key]
	for _, a := range args {
		s = strings.Replace(s, "%s", a, 1)
	}
	return s
}

// companyStep asks for the company (approval pools without a mapped one).
func (w *Web) companyStep(rw http.ResponseWriter, r *http.Request, h *hostedReq, status int, ticket string, err error) {
	attr := h.pool.Settings.SignUp.CompanyAttr()
	fields := []*formField{{Name: "company", ID: "attr-" + strings.TrimPrefix(attr, "custom:"), Label: text["field.company"],
		Type: "text", Autocomplete: "organization", Required: true, MaxLength: 256}}
	data := map[string]any{"Title": text["federation.company.title"], "Intro": text["federation.company.intro"],
		"Submit": text["federation.company.submit"], "Fields": fields, "Ticket": ticket}
	if err != nil {
		data["Errors"] = summarize(fields, err, fields[0].ID)
	}
	w.hostedPage(rw, r, h, status, "federation", h.action("federation/continue"), data)
}

// federationContinue is POST /{pool}/federation/continue.
func (w *Web) federationContinue(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	if !w.allow(rw, r, "login", h) {
		w.fedResult(rw, r, h, nil, identity.Errorf(identity.CodeTooManyRequests, "slow down"))
		return
	}
	res, err := w.svc.FederatedContinue(r.Context(), auth.FederatedContinueInput{Client: h.client(),
		Ticket: r.PostFormValue("ticket"), Company: r.PostFormValue("company"),
		LinkPassword: r.PostFormValue("password"), Meta: meta(r)})
	if err != nil && identity.ErrorCode(err) == identity.CodeInvalidParameter && r.PostForm.Has("company") {
		// A blank or too long company: the same step again, with the error.
		w.companyStep(rw, r, h, http.StatusBadRequest, r.PostFormValue("ticket"), err)
		return
	}
	w.fedResult(rw, r, h, res, err)
}

// FederationPath is where /oauth2/authorize sends a browser without a
// session when the request names identity_provider: the provider's button
// link, which comes back to returnTo (validated as in SignInPath).
func FederationPath(poolID, clientID, provider, returnTo string) string {
	q := url.Values{}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if returnTo != "" && ValidReturnTo(poolID, returnTo) {
		q.Set("return_to", returnTo)
	}
	return "/" + url.PathEscape(poolID) + "/federation/" + url.PathEscape(provider) + "?" + q.Encode()
}
