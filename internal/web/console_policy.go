package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The sign-up policy form (GET and POST /{pool}/console/policy, pool
// admins): invite-only, unique email, the email-domain allow-list and its
// domain rules (domain → group and/or company; rows are added with a
// button that re-shows the form and removed with a Remove box, both
// without JavaScript), default groups, the company attribute and
// type-ahead, and the approval workflow (expiry, reminders, auto-approval
// by company domain, what happens on denial and without approvers, pool
// admin addresses). It saves through auth.Service.UpdateSignUpPolicy,
// which checks the caller again and validates as UpdatePool does; any
// problem re-shows the form with every problem listed and changes nothing.

// The policy form's strings (joined into text, strings.go).
func init() {
	for k, v := range policyText {
		text[k] = v
	}
}

var policyText = map[string]string{
	"console.policy.now":                 "In effect now",
	"console.policy.now.invite":          "Invite only: people cannot sign up themselves; admins create users and the users get an invitation.",
	"console.policy.now.open":            "Anyone may sign up; the email address must be verified.",
	"console.policy.now.allow_list":      "Only email addresses at the listed domains, or at a company's email domains, may sign up.",
	"console.policy.now.approval":        "Every sign-up needs approval by the company's approvers; a request nobody decides expires after %s.",
	"console.policy.now.reminder":        "Approvers are reminded after %s.",
	"console.policy.now.auto":            "Addresses at the company's own email domains are approved at once.",
	"console.policy.now.no_approval":     "No approval: a user is active once the email is verified.",
	"console.policy.now.groups":          "New users join: %s.",
	"console.policy.who":                 "Who may sign up",
	"console.policy.invite_only":         "Invite only: no self sign-up (admins create users)",
	"console.policy.unique_email":        "Unique email: no two users share an email address",
	"console.policy.unique_always":       "Email addresses are unique: in this pool the username is the email address.",
	"console.policy.unique_hint":         "Can only be turned on while the pool has no users.",
	"console.policy.allow_list":          "Allow-list: only the email domains below, and companies' email domains, may sign up",
	"console.policy.domains":             "Email domain rules",
	"console.policy.domains.hint":        "A new user with an address at the domain joins the group (created on first use) and, if given, the company. Leave a row empty to skip it; tick Remove to delete a rule.",
	"console.policy.domain":              "Email domain",
	"console.policy.group":               "Group",
	"console.policy.company":             "Company",
	"console.policy.remove":              "Remove",
	"console.policy.row":                 "Rule %d",
	"console.policy.more":                "Add domain rows",
	"console.policy.more_rows":           "Rows added. Nothing is saved until you press Save policy.",
	"console.policy.groups":              "Groups and companies",
	"console.policy.default_groups":      "Default groups (one a line)",
	"console.policy.default_groups.hint": "Every user who becomes active joins these groups (created on first use).",
	"console.policy.company_attr":        "Company attribute",
	"console.policy.company_attr.hint":   "The attribute that names the applicant's company; empty means %s.",
	"console.policy.company_lookup":      "Offer the company type-ahead on the sign-up page (lists companies' display names publicly)",
	"console.policy.approval":            "Approval",
	"console.policy.approval.on":         "Require approval: the company's approvers decide every self sign-up",
	"console.policy.approval.hint":       "The settings below apply while approval is on; turning it off forgets them.",
	"console.policy.expiry":              "Requests expire after",
	"console.policy.expiry.hint":         "Days (7d) or hours (36h), up to 365 days; empty means 7 days.",
	"console.policy.reminder":            "Remind approvers after",
	"console.policy.reminder.hint":       "Days (2d) or hours (12h); empty means 2 days.",
	"console.policy.no_reminder":         "Send no reminders",
	"console.policy.auto":                "Approve at once when the verified email is at one of the company's email domains",
	"console.policy.on_deny":             "When a request is denied or expires",
	"console.policy.on_deny.delete":      "Delete the account",
	"console.policy.on_deny.disable":     "Keep the account, disabled and unconfirmed",
	"console.policy.on_no":               "When the company is unknown or has no approver",
	"console.policy.on_no.reject":        "Refuse the sign-up and tell the applicant",
	"console.policy.on_no.admins":        "Ask the pool's admins (the addresses below)",
	"console.policy.pool_admins":         "Pool admin addresses (one a line)",
	"console.policy.pool_admins.hint":    "Asked when a request goes to the pool's admins.",
	"console.policy.save":                "Save policy",
	"console.policy.err.no_domain":       "Rule %d has no email domain: enter one, or tick Remove.",
	"console.policy.err.too_many":        "At most %d domain rules can be edited here; declare more with gatehouse apply.",
	"console.policy.err.duration":        "Give a number of days or hours, for example 7d or 36h.",
	"console.notice.policy_saved":        "The sign-up policy was saved. It applies to sign-ups from now on.",
	"console.notice.policy_unchanged":    "Nothing changed: the form matched the stored policy.",
}

const (
	policyBlankRows = 2    // empty domain rows under the stored ones
	policyMoreRows  = 3    // rows the "Add rows" button adds
	policyMaxRows   = 1000 // domain rows a form may carry
)

// policyRow is one domain rule row of the form.
type policyRow struct {
	N                      int
	Domain, Group, Company string
	Remove                 bool
	Err                    string // the row's problem, shown under it
	ErrOn                  string // "domain" or "group": the input at fault
}

// policyForm is the form's state: the stored settings on GET, the posted
// values when the form is shown again.
type policyForm struct {
	InviteOnly, UniqueEmail, AllowList, CompanyLookup bool
	Approval, AutoApprove, NoReminder                 bool
	Rows                                              []policyRow
	DefaultGroups, CompanyAttribute                   string
	Expiry, Reminder, OnDeny, OnNoApprover            string
	PoolAdmins                                        string
	// Errs maps an input's id to its problem.
	Errs map[string]string
	// TooMany: the post said it had more rows than a form may carry.
	TooMany bool
}

// policyFormOf fills the form from stored settings.
func policyFormOf(s auth.SignUpSettings) *policyForm {
	p := s.Policy
	f := &policyForm{InviteOnly: s.AdminCreateUserOnly, UniqueEmail: s.UniqueEmail, AllowList: p.DomainAllowList,
		CompanyLookup: p.CompanyLookup, DefaultGroups: strings.Join(p.DefaultGroups, "\n"), CompanyAttribute: p.CompanyAttribute,
		OnDeny: identity.OnDenyDelete, OnNoApprover: identity.NoApproverReject, Errs: map[string]string{}}
	for i, r := range p.Domains {
		f.Rows = append(f.Rows, policyRow{N: i, Domain: r.Domain, Group: r.Group, Company: r.Company})
	}
	f.addRows(policyBlankRows)
	if a := p.Approval; a != nil {
		f.Approval, f.AutoApprove = true, a.AutoApproveCompanyDomain
		f.Expiry = fmtDays(a.Expiry)
		if a.Reminder < 0 {
			f.NoReminder = true
		} else {
			f.Reminder = fmtDays(a.Reminder)
		}
		if a.OnDeny != "" {
			f.OnDeny = a.OnDeny
		}
		if a.OnNoApprover != "" {
			f.OnNoApprover = a.OnNoApprover
		}
		f.PoolAdmins = strings.Join(a.PoolAdmins, "\n")
	}
	return f
}

func (f *policyForm) addRows(n int) {
	for i := 0; i < n && len(f.Rows) < policyMaxRows; i++ {
		f.Rows = append(f.Rows, policyRow{N: len(f.Rows)})
	}
}

// policyFormPosted reads the posted form. It does not judge the values;
// parsePolicy does.
func policyFormPosted(r *http.Request) *policyForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	f := &policyForm{InviteOnly: on("invite_only"), UniqueEmail: on("unique_email"), AllowList: on("domain_allow_list"),
		CompanyLookup: on("company_lookup"), Approval: on("approval"), AutoApprove: on("auto_approve"), NoReminder: on("no_reminder"),
		DefaultGroups: r.PostFormValue("default_groups"), CompanyAttribute: v("company_attribute"), Expiry: v("expiry"),
		Reminder: v("reminder"), OnDeny: v("on_deny"), OnNoApprover: v("on_no_approver"), PoolAdmins: r.PostFormValue("pool_admins"),
		Errs: map[string]string{}}
	n, err := strconv.Atoi(r.PostFormValue("rows"))
	if err != nil || n < 0 {
		n = 0
	}
	if n > policyMaxRows {
		f.TooMany, n = true, policyMaxRows
	}
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		f.Rows = append(f.Rows, policyRow{N: i, Domain: v("domain." + k), Group: v("group." + k), Company: v("company." + k), Remove: on("remove." + k)})
	}
	return f
}

// settings turns the form into sign-up settings; problems of the form
// itself (durations, a rule without a domain) go into f.Errs. rowOf maps
// the index of a rule in the policy to its row.
func (f *policyForm) settings(p *identity.Pool) (s auth.SignUpSettings, rowOf []int) {
	s.AdminCreateUserOnly = f.InviteOnly
	s.UniqueEmail = f.UniqueEmail
	if p.UsernameMode == identity.UsernameEmail {
		s.UniqueEmail = p.UniqueEmail // usernames are emails: unique anyway; not on the form
	}
	pol := &s.Policy
	pol.DomainAllowList, pol.CompanyLookup, pol.CompanyAttribute = f.AllowList, f.CompanyLookup, f.CompanyAttribute
	for i := range f.Rows {
		r := &f.Rows[i]
		switch {
		case r.Remove, r.Domain == "" && r.Group == "" && r.Company == "":
		case r.Domain == "":
			r.Err, r.ErrOn = fmt.Sprintf(text["console.policy.err.no_domain"], i+1), "domain"
		default:
			pol.Domains = append(pol.Domains, identity.DomainRule{Domain: r.Domain, Group: r.Group, Company: r.Company})
			rowOf = append(rowOf, i)
		}
	}
	pol.DefaultGroups = splitLines(f.DefaultGroups)
	if !f.Approval {
		return s, rowOf
	}
	a := &identity.ApprovalPolicy{AutoApproveCompanyDomain: f.AutoApprove, OnDeny: f.OnDeny, OnNoApprover: f.OnNoApprover,
		PoolAdmins: splitLines(f.PoolAdmins)}
	// The default radio button stands for an unset value: keep it unset
	// when it is, so that saving an untouched form changes nothing.
	var stored identity.ApprovalPolicy
	if cur := p.Settings.SignUp.Approval; cur != nil {
		stored = *cur
	}
	if a.OnDeny == identity.OnDenyDelete && stored.OnDeny == "" {
		a.OnDeny = ""
	}
	if a.OnNoApprover == identity.NoApproverReject && stored.OnNoApprover == "" {
		a.OnNoApprover = ""
	}
	var err error
	if a.Expiry, err = parseDays(f.Expiry, true); err != nil {
		f.Errs["expiry"] = text["console.policy.err.duration"]
	}
	if f.NoReminder {
		a.Reminder = -1
	} else if a.Reminder, err = parseDays(f.Reminder, false); err != nil {
		f.Errs["reminder"] = text["console.policy.err.duration"]
	}
	pol.Approval = a
	return s, rowOf
}

// place puts a service error on the form: on the input it names (a domain
// rule's row, a list's item named in the message), else on the summary.
func (f *policyForm) place(err error, s auth.SignUpSettings, rowOf []int) (general []string) {
	var list auth.SignUpPolicyErrors
	if !errors.As(err, &list) {
		var ie *identity.Error
		if errors.As(err, &ie) {
			list = auth.SignUpPolicyErrors{{Err: ie, Index: -1}}
		} else {
			return []string{userMessage(err)}
		}
	}
	for _, x := range list {
		msg := userMessage(x.Err)
		item := func(items []string) string {
			if x.Index >= 0 && x.Index < len(items) {
				return fmt.Sprintf("%s: %s", items[x.Index], msg)
			}
			return msg
		}
		switch field := x.Err.Field; {
		case (field == "sign_up.domains" || field == "sign_up.domains.group") && x.Index >= 0 && x.Index < len(rowOf):
			r := &f.Rows[rowOf[x.Index]]
			if r.Err == "" {
				r.Err, r.ErrOn = msg, "domain"
				if field == "sign_up.domains.group" {
					r.ErrOn = "group"
				}
			}
		case field == "sign_up.default_groups":
			f.addErr("default_groups", item(s.Policy.DefaultGroups))
		case field == "sign_up.company_attribute":
			f.addErr("company_attribute", msg)
		case field == "sign_up.approval.on_deny":
			f.addErr("on_deny", msg)
		case field == "sign_up.approval.on_no_approver":
			f.addErr("on_no_approver", msg)
		case field == "sign_up.approval.expiry":
			f.addErr("expiry", msg)
		case field == "sign_up.approval.pool_admins" && s.Policy.Approval != nil:
			f.addErr("pool_admins", item(s.Policy.Approval.PoolAdmins))
		case field == "unique_email":
			f.addErr("unique_email", msg)
		default:
			general = append(general, msg)
		}
	}
	return general
}

// addErr keeps the first problem of an input and appends the others.
func (f *policyForm) addErr(id, msg string) {
	if old, ok := f.Errs[id]; ok {
		f.Errs[id] = old + " " + msg
		return
	}
	f.Errs[id] = msg
}

// policyErrOrder is the order of the inputs on the page, for the summary.
var policyErrOrder = []string{"invite_only", "unique_email", "domain_allow_list", "rows", "default_groups", "company_attribute",
	"company_lookup", "approval", "expiry", "reminder", "auto_approve", "on_deny", "on_no_approver", "pool_admins"}

// summary lists the form's problems in page order; each links to its input.
func (f *policyForm) summary(general []string) []formError {
	var out []formError
	for _, m := range general {
		out = append(out, formError{Message: m})
	}
	for _, id := range policyErrOrder {
		if id == "rows" {
			for _, r := range f.Rows {
				if r.Err != "" {
					out = append(out, formError{ID: r.ErrOn + "-" + strconv.Itoa(r.N), Message: r.Err})
				}
			}
			continue
		}
		if m, ok := f.Errs[id]; ok {
			target := id
			switch id { // the first radio button
			case "on_deny":
				target = "on_deny-" + identity.OnDenyDelete
			case "on_no_approver":
				target = "on_no_approver-" + identity.NoApproverReject
			}
			out = append(out, formError{ID: target, Message: m})
		}
	}
	return out
}

// consolePolicy is GET /{pool}/console/policy (pool admins): the sign-up
// policy form, filled with the stored settings.
func (w *Web) consolePolicy(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	w.renderPolicy(rw, r, c, http.StatusOK, policyFormOf(auth.SignUpSettingsOf(c.pool)), nil, notice(r))
}

// consolePolicySave is POST /{pool}/console/policy (pool admins; the
// service checks again). op=more shows the form again with more empty
// domain rows and saves nothing; otherwise the settings are checked as a
// whole (every problem listed, 400, nothing saved) and saved through
// auth.Service.UpdateSignUpPolicy, then the page is shown again with a
// confirmation.
func (w *Web) consolePolicySave(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	f := policyFormPosted(r)
	if r.PostFormValue("op") == "more" {
		f.addRows(policyMoreRows)
		w.renderPolicy(rw, r, c, http.StatusOK, f, nil, text["console.policy.more_rows"])
		return
	}
	s, rowOf := f.settings(c.pool)
	var general []string
	if f.TooMany {
		general = append(general, fmt.Sprintf(text["console.policy.err.too_many"], policyMaxRows))
	}
	if errs := auth.CheckSignUpPolicy(s.Policy); len(errs) > 0 {
		general = append(general, f.place(errs, s, rowOf)...)
	}
	if sum := f.summary(general); len(sum) > 0 {
		w.renderPolicy(rw, r, c, http.StatusBadRequest, f, sum, "")
		return
	}
	_, changed, err := w.svc.UpdateSignUpPolicy(c.ctx, c.pool.ID, s)
	if err != nil {
		switch identity.ErrorCode(err) {
		case identity.CodeInvalidParameter:
			w.renderPolicy(rw, r, c, http.StatusBadRequest, f, f.summary(f.place(err, s, rowOf)), "")
		default:
			w.consoleError(rw, r, c, err)
		}
		return
	}
	key := "policy_saved"
	if len(changed) == 0 {
		key = "policy_unchanged"
	}
	consoleBack(rw, r, c.path("policy"), key)
}

func (w *Web) renderPolicy(rw http.ResponseWriter, r *http.Request, c *consoleReq, status int, f *policyForm, errs []formError, note string) {
	// Names for the inputs' suggestion lists; a failure only loses the
	// suggestions.
	var companies, groups []string
	if list, _, err := w.svc.ListCompanies(c.ctx, c.pool.ID, 60, ""); err == nil {
		for _, co := range list {
			companies = append(companies, co.Name)
		}
	}
	if list, _, err := w.svc.ListGroups(c.ctx, c.pool.ID, 60, ""); err == nil {
		for _, g := range list {
			groups = append(groups, g.Name)
		}
	}
	var attrs []string
	for _, d := range c.pool.Schema {
		attrs = append(attrs, d.Name)
	}
	slices.Sort(attrs)
	w.consoleRender(rw, r, c, status, "policy", map[string]any{
		"F": f, "Errors": errs, "Notice": note, "Action": c.path("policy"), "P": c.pool,
		"EmailUsernames": c.pool.UsernameMode == identity.UsernameEmail, "AdminGroup": c.pool.Settings.Console.AdminGroupName(),
		"Companies": companies, "GroupNames": groups, "Attrs": attrs, "InEffect": policyInEffect(c.pool),
		"DefaultAttr": identity.DefaultCompanyAttribute,
	})
}

// policyInEffect describes the stored settings in words.
func policyInEffect(p *identity.Pool) []string {
	pol := p.Settings.SignUp
	if p.AdminCreateUserOnly {
		return []string{text["console.policy.now.invite"]}
	}
	var out []string
	if pol.DomainAllowList {
		out = append(out, text["console.policy.now.allow_list"])
	} else {
		out = append(out, text["console.policy.now.open"])
	}
	if pol.Approval != nil {
		a := pol.Approval
		s := fmt.Sprintf(text["console.policy.now.approval"], fmtDays(a.ExpiryOrDefault()))
		if d := a.ReminderOrDefault(); d > 0 {
			s += " " + fmt.Sprintf(text["console.policy.now.reminder"], fmtDays(d))
		}
		if a.AutoApproveCompanyDomain {
			s += " " + text["console.policy.now.auto"]
		}
		out = append(out, s)
	} else {
		out = append(out, text["console.policy.now.no_approval"])
	}
	if len(pol.DefaultGroups) > 0 {
		out = append(out, fmt.Sprintf(text["console.policy.now.groups"], strings.Join(pol.DefaultGroups, ", ")))
	}
	return out
}

// splitLines returns the non-empty lines of s, trimmed (only newlines
// separate: a group name may hold a comma).
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// fmtDays writes a duration as the form reads it: 7d, 36h, 90m; "" for 0.
func fmtDays(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// parseDays reads a duration: "" (0, the default), whole days ("7d",
// "7"), or Go's syntax ("36h", "1h30m"), optionally after days ("2d12h").
// Only the expiry may be negative (the service answers that one).
func parseDays(s string, negative bool) (time.Duration, error) {
	bad := errors.New("bad duration")
	s = strings.ToLower(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return 0, nil
	}
	neg := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if !negative {
			return 0, bad
		}
		neg, s = true, rest
	}
	var d time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 || !strings.ContainsAny(s, "hmsuµn") {
		num, rest := s, ""
		if i >= 0 {
			num, rest = s[:i], s[i+1:]
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > 100000 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
		s = rest
	}
	if s != "" {
		x, err := time.ParseDuration(s)
		if err != nil || x < 0 || x > 100000*24*time.Hour {
			return 0, bad
		}
		d += x
	}
	if neg {
		d = -d
	}
	return d, nil
}

// Num is the row's number as people count (1, 2, ...).
func (r policyRow) Num() int { return r.N + 1 }
