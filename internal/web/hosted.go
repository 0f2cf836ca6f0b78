package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/pooldomain"
)

// The hosted pages live under /{pool}/ on the server's base URL, the same
// prefix as the pool's token issuer and approval links, and at Cognito's
// bare paths (/login, /signup, ...) on the pool's own domains
// (hosted_domain.go). Links the pages build are relative: to the prefix,
// or to the bare paths when the page was served on a bare path. Links in
// emails come from auth (the configured base URL), never from the
// request's Host.

// hostedReq is what every hosted page handler works with.
type hostedReq struct {
	pool     *identity.Pool
	clientID string
	returnTo string
	// bare: served on a bare path of the pool's own domain; links and
	// form actions stay on bare paths (hosted_domain.go).
	bare bool
	// issuer is the pool's issuer URL (configuration, never the Host),
	// set when bare: federated sign-in runs there (hosted_domain.go).
	issuer string
}

// formField is one input of a form, for the template.
type formField struct {
	Name         string // form field name
	ID           string // element id (error summary links to #ID)
	Label        string
	Type         string
	Autocomplete string
	Value        string
	Error        string
	Hint         string
	HintID       string
	Required     bool
	List         string // datalist id (company type-ahead)
	Inputmode    string
	MaxLength    int
	Rules        []policyRule // the password policy, on password fields
}

// formError is one line of the error summary.
type formError struct {
	ID      string // "" when not tied to a field
	Message string
}

// loadHosted resolves the pool and the app client of a hosted page. The
// client comes from client_id (query or form); without one, the pool's
// default (defaultClient). Errors: resource_not_found (pool or client).
func (w *Web) loadHosted(r *http.Request) (*hostedReq, error) {
	poolID := r.PathValue("pool")
	p, err := w.svc.GetPool(r.Context(), poolID)
	if err != nil {
		return nil, err
	}
	h := &hostedReq{pool: p}
	id := strings.TrimSpace(r.FormValue("client_id"))
	if id == "" {
		id, err = w.defaultClient(r.Context(), p.ID)
		if err != nil {
			return nil, err
		}
	} else if _, err := w.svc.GetClient(r.Context(), p.ID, id); err != nil {
		return nil, err
	}
	h.clientID = id
	if pooldomain.OnDomain(r) {
		h.bare, h.issuer = true, w.svc.Issuer(p)
	}
	if rt := r.FormValue("return_to"); rt != "" && h.validReturnTo(rt) {
		h.returnTo = rt
	} else if rt == "" && r.Method != http.MethodPost {
		// Cognito's hosted-UI parameters on /signup, /forgotPassword...:
		// come back to /oauth2/authorize with them afterwards.
		if q := oauthParams(r); q != "" {
			if to := h.authorizePath() + "?" + q; h.validReturnTo(to) {
				h.returnTo = to
			}
		}
	}
	return h, nil
}

// defaultClient is the client the hosted pages use when none is named: the
// first of the pool's clients (by id) without a secret, else the first.
func (w *Web) defaultClient(ctx context.Context, poolID string) (string, error) {
	list, _, err := w.svc.ListClients(ctx, poolID, 60, "")
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", identity.Errorf(identity.CodeResourceNotFound, "This pool has no app client for its hosted pages.")
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	for _, c := range list {
		if !c.HasSecret() {
			return c.ID, nil
		}
	}
	return list[0].ID, nil
}

func (h *hostedReq) client() auth.Client { return auth.Client{ID: h.clientID, Hosted: true} }

// link builds /{pool}/{page} carrying client_id and return_to, plus extra
// query pairs.
func (h *hostedReq) link(page string, extra ...string) string {
	q := url.Values{}
	q.Set("client_id", h.clientID)
	if h.returnTo != "" {
		q.Set("return_to", h.returnTo)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	return h.action(page) + "?" + q.Encode()
}

// action is the path of page: /{pool}/{page}, or its bare path on the
// pool's domain. It is also the path a page's form posts to (its CSRF
// token is bound to it).
func (h *hostedReq) action(page string) string {
	if h.bare {
		if p, ok := barePaths[page]; ok {
			return p
		}
	}
	return "/" + url.PathEscape(h.pool.ID) + "/" + page
}

// poolName is what the pages call the pool.
func poolName(p *identity.Pool) string {
	if p.Settings.Theme.ProductName != "" {
		return p.Settings.Theme.ProductName
	}
	return p.Name
}

// hostedPage renders a hosted page: the pool, theme, CSRF token for the
// form's action, hidden client_id/return_to and the error summary.
func (w *Web) hostedPage(rw http.ResponseWriter, r *http.Request, h *hostedReq, status int, page, action string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	if action != "" {
		csrf, err := w.csrfTokenFor(rw, r, action)
		if err != nil {
			w.errorPage(rw, r, err)
			return
		}
		data["CSRF"] = csrf
		data["Action"] = action
	}
	if page == "login" { // every sign-in page offers a passkey (hosted_passkeys.go)
		if err := w.passkeyData(rw, r, h, data); err != nil {
			w.errorPage(rw, r, err)
			return
		}
	}
	if rules, ok := data["Policy"].([]policyRule); ok {
		if fields, ok := data["Fields"].([]*formField); ok {
			for _, f := range fields {
				if f.HintID == "password-policy" {
					f.Rules = rules
				}
			}
		}
	}
	data["Pool"] = h.pool
	data["PoolName"] = poolName(h.pool)
	data["Theme"] = h.pool.Settings.Theme
	data["ThemeCSS"] = h.action("theme.css")
	data["ClientID"] = h.clientID
	data["Providers"] = providerButtons(h) // federation.go
	data["ReturnTo"] = h.returnTo
	data["Links"] = map[string]string{
		"login":  h.link("login"),
		"signup": h.link("signup"),
		"forgot": h.link("forgot"),
	}
	if _, ok := data["Title"]; !ok {
		data["Title"] = text[page+".title"]
	}
	w.setPageCSP(rw, h.pool)
	w.render(rw, r, status, page, data)
}

// setPageCSP sets the hosted pages' Content-Security-Policy: no inline
// script or style; script, style, fetch from this origin; the logo's
// origin for images. form-action is left out on purpose: after a sign-in
// the browser follows redirects to the relying party, and Chromium checks
// every hop of a form's redirect chain against form-action.
func (w *Web) setPageCSP(rw http.ResponseWriter, p *identity.Pool) {
	img := "'self'"
	if lu := p.Settings.Theme.LogoURL; lu != "" {
		if u, err := url.Parse(lu); err == nil && u.Scheme == "https" && u.Host != "" {
			img += " https://" + u.Host
		}
	}
	rw.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src "+img+
		"; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// fieldOf maps an auth error's Field to the page's input id.
func fieldOf(err error) string {
	var ie *identity.Error
	if !errors.As(err, &ie) {
		return ""
	}
	switch f := strings.ToLower(ie.Field); {
	case f == "":
		return ""
	case f == "password" || f == "new_password" || f == "proposed_password":
		return "password"
	case f == "username" || f == "email":
		return "username"
	case f == "code" || f == "confirmation_code":
		return "code"
	default:
		return "attr-" + strings.TrimPrefix(f, "custom:")
	}
}

// userMessage is the message shown for err: the service's own message for
// client errors (they are written for people), a generic one otherwise.
func userMessage(err error) string {
	switch identity.ErrorCode(err) {
	case identity.CodeInternal, identity.CodeUnavailable, "":
		return text["error.internal"]
	case identity.CodeTooManyRequests, identity.CodeLimitExceeded:
		return text["error.slow_down"]
	}
	return identity.ErrorMessage(err)
}

// summarize puts err into the form: on its field when it names one that
// the form has, else first field named by fallback.
func summarize(fields []*formField, err error, fallback string) []formError {
	id := fieldOf(err)
	found := false
	for _, f := range fields {
		if f.ID == id {
			found = true
		}
	}
	if !found {
		id = fallback
	}
	msg := userMessage(err)
	for _, f := range fields {
		if f.ID == id {
			f.Error = msg
		}
	}
	return []formError{{ID: id, Message: msg}}
}

// redirect answers a POST with 303 See Other.
func redirect(rw http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(rw, r, to, http.StatusSeeOther)
}

// parseForm caps and parses a POST body and checks its CSRF token; false
// means the answer was written.
func (w *Web) parseForm(rw http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, w.opts.MaxFormBytes)
	if err := r.ParseForm(); err != nil || !w.checkCSRF(r) {
		w.errorPage(rw, r, identity.Errorf(identity.CodeForbidden, "csrf"))
		return false
	}
	return true
}
