package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// policyRule is one line of the password policy shown beside the field;
// hosted.js ticks it off as the person types (the server still decides).
type policyRule struct {
	Rule string // min, upper, lower, digit, symbol
	N    int
	Text string
}

func policyRules(pp identity.PasswordPolicy) []policyRule {
	min := pp.MinimumLength
	if min <= 0 {
		min = 8
	}
	rules := []policyRule{{Rule: "min", N: min, Text: fmt.Sprintf(text["policy.min"], min)}}
	if pp.RequireLowercase {
		rules = append(rules, policyRule{Rule: "lower", Text: text["policy.lower"]})
	}
	if pp.RequireUppercase {
		rules = append(rules, policyRule{Rule: "upper", Text: text["policy.upper"]})
	}
	if pp.RequireNumbers {
		rules = append(rules, policyRule{Rule: "digit", Text: text["policy.digit"]})
	}
	if pp.RequireSymbols {
		rules = append(rules, policyRule{Rule: "symbol", Text: text["policy.symbol"]})
	}
	return rules
}

// signUpAttrs are the attributes the sign-up form asks for: the company
// attribute (approval pools, or pools with the company lookup), then the
// pool's required custom attributes.
func signUpAttrs(p *identity.Pool) []identity.AttributeDef {
	pol := &p.Settings.SignUp
	var out []identity.AttributeDef
	seen := map[string]bool{}
	if pol.Approval != nil || pol.CompanyLookup || pol.CompanyAttribute != "" {
		name := pol.CompanyAttr()
		d := identity.AttributeDef{Name: name, Type: identity.AttrString, Required: true}
		for _, s := range p.Schema {
			if s.Name == name || "custom:"+s.Name == name {
				d = s
				d.Required = true
			}
		}
		d.Name = name
		out = append(out, d)
		seen[name] = true
	}
	for _, s := range p.Schema {
		name := s.Name
		if !strings.HasPrefix(name, "custom:") {
			name = "custom:" + name
		}
		if s.Required && !seen[name] {
			s.Name = name
			out = append(out, s)
			seen[name] = true
		}
	}
	return out
}

func signUpFields(p *identity.Pool, r *http.Request) []*formField {
	fields := []*formField{
		{Name: "email", ID: "username", Label: text["field.email"], Type: "email", Autocomplete: "username", Required: true,
			Value: strings.TrimSpace(r.FormValue("email")), MaxLength: 254},
		{Name: "password", ID: "password", Label: text["field.password"], Type: "password", Autocomplete: "new-password",
			Required: true, Hint: text["field.password_hint"], HintID: "password-policy", MaxLength: 256},
	}
	company := p.Settings.SignUp.CompanyAttr()
	for _, d := range signUpAttrs(p) {
		short := strings.TrimPrefix(d.Name, "custom:")
		f := &formField{Name: d.Name, ID: "attr-" + short, Label: attrLabel(short), Type: "text", Required: d.Required,
			Value: strings.TrimSpace(r.FormValue(d.Name)), MaxLength: d.MaxLength}
		if d.Type == identity.AttrNumber {
			f.Inputmode = "numeric"
		}
		if d.Name == company {
			f.Label = text["field.company"]
			f.Autocomplete = "organization"
			f.Hint = text["field.company_hint"]
			f.HintID = "company-hint"
			if p.Settings.SignUp.CompanyLookup {
				f.List = "company-names"
			}
		}
		fields = append(fields, f)
	}
	return fields
}

// attrLabel is the label of a custom attribute: a string from strings.go
// ("attr.<name>") or the name with underscores as spaces.
func attrLabel(short string) string {
	if t, ok := text["attr."+short]; ok {
		return t
	}
	s := strings.ReplaceAll(short, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (w *Web) signupData(h *hostedReq, fields []*formField, errs []formError) map[string]any {
	return map[string]any{"Fields": fields, "Errors": errs, "Policy": policyRules(h.pool.PasswordPolicy),
		"Lookup": h.pool.Settings.SignUp.CompanyLookup, "LookupURL": h.action("signup/companies")}
}

// signupShow is GET /{pool}/signup.
func (w *Web) signupShow(rw http.ResponseWriter, r *http.Request) {
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	if h.pool.AdminCreateUserOnly {
		w.hostedPage(rw, r, h, http.StatusForbidden, "message", "", map[string]any{"Title": text["signup.title"], "Message": text["signup.closed"]})
		return
	}
	w.hostedPage(rw, r, h, http.StatusOK, "signup", h.action("signup"), w.signupData(h, signUpFields(h.pool, r), nil))
}

// signupPost is POST /{pool}/signup: auth.SignUp, then the code page.
func (w *Web) signupPost(rw http.ResponseWriter, r *http.Request) {
	if !w.parseForm(rw, r) {
		return
	}
	h, err := w.loadHosted(r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	fields := signUpFields(h.pool, r)
	fail := func(status int, err error) {
		w.hostedPage(rw, r, h, status, "signup", h.action("signup"), w.signupData(h, fields, summarize(fields, err, "username")))
	}
	if !w.allow(rw, r, "signup", h) {
		fail(http.StatusTooManyRequests, identity.Errorf(identity.CodeTooManyRequests, "slow down"))
		return
	}
	// Required fields first, so the summary lists each empty one.
	var errs []formError
	for _, f := range fields {
		empty := f.Value == ""
		if f.Name == "password" {
			empty = r.PostFormValue("password") == ""
		}
		if f.Required && empty {
			f.Error = requiredText(f.Label)
			errs = append(errs, formError{ID: f.ID, Message: f.Error})
		}
	}
	if len(errs) > 0 {
		w.hostedPage(rw, r, h, http.StatusBadRequest, "signup", h.action("signup"), w.signupData(h, fields, errs))
		return
	}
	attrs := map[string]string{}
	for _, f := range fields[2:] {
		if f.Value != "" {
			attrs[f.Name] = f.Value
		}
	}
	email := fields[0].Value
	out, err := w.svc.SignUp(r.Context(), auth.SignUpInput{Client: h.client(), Username: email, Password: r.PostFormValue("password"),
		Attributes: attrs, Meta: meta(r)})
	if err != nil {
		fail(statusOf(err), err)
		return
	}
	if out.UserConfirmed {
		redirect(rw, r, h.link("login", "username", email, "notice", "verified"))
		return
	}
	redirect(rw, r, h.link("confirm", "username", email))
}

func statusOf(err error) int {
	switch identity.ErrorCode(err) {
	case identity.CodeInternal, identity.CodeUnavailable:
		return http.StatusServiceUnavailable
	case identity.CodeTooManyRequests, identity.CodeLimitExceeded:
		return http.StatusTooManyRequests
	case identity.CodeUsernameExists, identity.CodeAliasExists:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// companyNames is GET /{pool}/signup/companies?prefix=: the type-ahead of
// the sign-up form (auth.LookupCompanyNames, which the pool must enable),
// rate-limited per address. JSON {"names": [...]}.
func (w *Web) companyNames(rw http.ResponseWriter, r *http.Request) {
	poolID := r.PathValue("pool")
	rw.Header().Set("Content-Type", "application/json")
	if !w.limits["lookup"].allow(limitKey(poolID, r), w.opts.Now()) {
		rw.Header().Set("Retry-After", "1")
		rw.WriteHeader(http.StatusTooManyRequests)
		_, _ = rw.Write([]byte(`{"names":[]}`))
		return
	}
	names, err := w.svc.LookupCompanyNames(r.Context(), poolID, r.URL.Query().Get("prefix"))
	if err != nil {
		st := http.StatusBadRequest
		if identity.ErrorCode(err) == identity.CodeResourceNotFound {
			st = http.StatusNotFound
		}
		rw.WriteHeader(st)
		_, _ = rw.Write([]byte(`{"names":[]}`))
		return
	}
	if names == nil {
		names = []string{}
	}
	_ = json.NewEncoder(rw).Encode(map[string][]string{"names": names})
}

// requiredText is the message of an empty required field.
func requiredText(label string) string {
	if label == "" {
		return fmt.Sprintf(text["error.required"], label)
	}
	return fmt.Sprintf(text["error.required"], strings.ToLower(label[:1])+label[1:])
}
