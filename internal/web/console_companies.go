package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// consoleCompanies is GET /{pool}/console/companies: every company for a
// pool admin, their own for a company admin (the service decides).
func (w *Web) consoleCompanies(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	list, next, err := w.svc.ListCompanies(c.ctx, c.pool.ID, 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "companies", map[string]any{"Companies": list, "Next": next,
		"Action": c.path("companies"), "Notice": notice(r)})
}

// consoleCompanyCreate is POST /{pool}/console/companies (pool admins).
func (w *Web) consoleCompanyCreate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	co := &identity.Company{PoolID: c.pool.ID, Name: strings.TrimSpace(r.PostFormValue("name")),
		DisplayName: strings.TrimSpace(r.PostFormValue("display_name")), EmailDomains: lines(r.PostFormValue("domains")),
		Approvers: approvers(r.PostFormValue("approvers"), nil)}
	out, err := w.svc.CreateCompany(c.ctx, co)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", out.Name), "saved")
}

// consoleCompany is GET /{pool}/console/companies/{name}: the company,
// its members, and the form to change it (a company admin may change the
// display name and approvers only; the service enforces it).
func (w *Web) consoleCompany(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	w.renderCompany(rw, r, c, nil)
}

// renderCompany renders the company page with extra data (the SCIM token
// just made, shown once).
func (w *Web) renderCompany(rw http.ResponseWriter, r *http.Request, c *consoleReq, extra map[string]any) {
	co, err := w.svc.GetCompany(c.ctx, c.pool.ID, r.PathValue("name"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	members, _, err := w.svc.ConsoleCompanyMembers(c.ctx, c.pool.ID, co.Name, 60, "")
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	var ap []string
	for _, a := range co.Approvers {
		if a.Sub != "" {
			ap = append(ap, "user:"+a.Sub)
		} else if a.AwaitingAccount {
			ap = append(ap, "user:"+a.Email) // a company admin once they sign up
		} else {
			ap = append(ap, a.Email)
		}
	}
	withMFA, err := w.svc.UsersWithMFA(c.ctx, c.pool.ID, members)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	data, err := w.companySSOData(c, co)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	for k, v := range map[string]any{"Title": co.Name, "Co": co, "Members": members,
		"WithMFA": withMFA, "MFAAction": c.path("companies", co.Name, "mfa"),
		"ApproverText": strings.Join(ap, "\n"), "DomainText": strings.Join(co.EmailDomains, "\n"),
		"Action": c.path("companies", co.Name), "Users": c.path("users"), "Notice": notice(r)} {
		data[k] = v
	}
	for k, v := range extra {
		data[k] = v
	}
	w.consoleRender(rw, r, c, http.StatusOK, "company", data)
}

// consoleCompanyUpdate is POST /{pool}/console/companies/{name}.
func (w *Web) consoleCompanyUpdate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	cur, err := w.svc.GetCompany(c.ctx, c.pool.ID, r.PathValue("name"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	next := *cur
	next.DisplayName = strings.TrimSpace(r.PostFormValue("display_name"))
	next.Approvers = approvers(r.PostFormValue("approvers"), cur.Approvers)
	if c.role.PoolAdmin {
		next.EmailDomains = lines(r.PostFormValue("domains"))
		next.Group = strings.TrimSpace(r.PostFormValue("group"))
		if s := r.PostFormValue("status"); s != "" {
			next.Status = s
		}
	}
	if _, err := w.svc.UpdateCompany(c.ctx, &next); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("companies", cur.Name), "saved")
}

// lines splits a textarea into trimmed non-empty lines (commas too).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// approvers reads one approver a line: an address (with @ and no user of
// that name: the service resolves) or a user's sub or username.
func approvers(s string, cur []identity.Approver) []identity.Approver {
	var out []identity.Approver
	for _, l := range lines(s) {
		// An approver awaiting an account (shown as user:<address>) stays
		// one while the line is kept.
		if i := slices.IndexFunc(cur, func(a identity.Approver) bool {
			return a.AwaitingAccount && strings.EqualFold("user:"+a.Email, l)
		}); i >= 0 {
			out = append(out, cur[i])
			continue
		}
		if strings.HasPrefix(l, "email:") {
			out = append(out, identity.Approver{Email: strings.TrimPrefix(l, "email:")})
		} else if strings.Contains(l, "@") && !strings.HasPrefix(l, "user:") {
			out = append(out, identity.Approver{Email: l})
		} else {
			out = append(out, identity.Approver{Sub: strings.TrimPrefix(l, "user:")})
		}
	}
	return out
}
