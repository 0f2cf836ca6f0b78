package web

import (
	"net/http"
	"sort"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// regStates are the states the list filters by.
var regStates = []string{"pending", "awaiting_verification", "approved", "denied", "expired", "no_approver", "all"}

// consoleRegistrations is GET /{pool}/console/registrations: requests of
// the pool (pool admin) or of the caller's companies (company admin),
// newest first; pending by default; checkboxes to decide many at once.
func (w *Web) consoleRegistrations(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "pending"
	}
	f := auth.RegistrationFilter{Company: r.URL.Query().Get("company")}
	if state != "all" {
		f.State = identity.RegistrationState(state)
	}
	var list []*identity.RegistrationRequest
	var next string
	var err error
	if f.Company == "" && !c.role.PoolAdmin {
		// A company admin of several companies: each company's list.
		for _, co := range c.role.Companies {
			f.Company = co.Name
			var l []*identity.RegistrationRequest
			l, _, err = w.svc.ListRegistrations(c.ctx, c.pool.ID, f, 60, "")
			if err != nil {
				break
			}
			list = append(list, l...)
		}
		f.Company = ""
		sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt.After(list[j].CreatedAt) })
	} else {
		list, next, err = w.svc.ListRegistrations(c.ctx, c.pool.ID, f, 60, r.URL.Query().Get("page"))
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	now := w.opts.Now()
	type row struct {
		*identity.RegistrationRequest
		Age string
	}
	rows := make([]row, 0, len(list))
	for _, x := range list {
		rows = append(rows, row{x, fmtAgo(now.Sub(x.CreatedAt))})
	}
	w.consoleRender(rw, r, c, http.StatusOK, "registrations", map[string]any{
		"Rows": rows, "State": state, "States": regStates, "Company": f.Company, "Next": next,
		"Action": c.path("registrations"), "Notice": notice(r),
	})
}

// consoleDecideMany is POST /{pool}/console/registrations: approve or deny
// the checked requests (ids) with decision. Each goes through
// auth.Service.DecideRegistration (the same rules and audit as the API):
// one already decided, or of another company, is reported, the others
// are decided.
func (w *Web) consoleDecideMany(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	d := identity.Decision(r.PostFormValue("decision"))
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		consoleBack(rw, r, c.path("registrations"), "none_selected")
		return
	}
	if len(ids) > 100 {
		ids = ids[:100]
	}
	var failed []string
	for _, id := range ids {
		if _, err := w.svc.DecideRegistration(c.ctx, c.pool.ID, id, d, r.PostFormValue("note"), meta(r)); err != nil {
			if identity.ErrorCode(err) == identity.CodeInvalidParameter {
				w.consoleError(rw, r, c, err)
				return
			}
			failed = append(failed, id+": "+userMessage(err))
		}
	}
	if len(failed) > 0 {
		w.consoleRender(rw, r, c, http.StatusConflict, "forbidden", map[string]any{"Title": text["console.partial"],
			"Message": text["console.partial.text"] + " " + joinLines(failed)})
		return
	}
	consoleBack(rw, r, c.path("registrations"), string(d)+"d")
}

func joinLines(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// consoleRegistration is GET /{pool}/console/registrations/{id}: the
// request, its audit trail, and the decision buttons while pending. The
// service answers forbidden for another company's request (403).
func (w *Web) consoleRegistration(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	det, err := w.svc.GetRegistration(c.ctx, c.pool.ID, r.PathValue("id"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	var names map[string]string
	if c.role.PoolAdmin {
		if names, err = w.consoleNames(c, det.Events); err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
	}
	w.consoleRender(rw, r, c, http.StatusOK, "registration", map[string]any{
		"Req": det.Request, "Events": det.Events, "Names": names, "Decider": auth.DeciderName(det.Request.DecidedBy),
		"Action": c.path("registrations", det.Request.ID), "Notice": notice(r),
	})
}

// consoleDecide is POST /{pool}/console/registrations/{id}: decision
// approve or deny, optional note.
func (w *Web) consoleDecide(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	id := r.PathValue("id")
	d := identity.Decision(r.PostFormValue("decision"))
	if _, err := w.svc.DecideRegistration(c.ctx, c.pool.ID, id, d, r.PostFormValue("note"), meta(r)); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("registrations", id), string(d)+"d")
}
