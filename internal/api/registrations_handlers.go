package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Registration requests of the approval workflow.

type registrationView struct {
	ID          string      `json:"id"`
	State       string      `json:"state"`
	UserSub     string      `json:"user_sub"`
	Username    string      `json:"username"`
	Email       string      `json:"email"`
	CompanyName string      `json:"company_name"`
	Company     string      `json:"company,omitempty"`
	Reason      string      `json:"reason,omitempty"`
	IP          string      `json:"ip,omitempty"`
	UserAgent   string      `json:"user_agent,omitempty"`
	DecidedBy   string      `json:"decided_by,omitempty"`
	DecidedVia  string      `json:"decided_via,omitempty"`
	DecidedAt   *time.Time  `json:"decided_at,omitempty"`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
	CreatedAt   *time.Time  `json:"created_at,omitempty"`
	UpdatedAt   *time.Time  `json:"updated_at,omitempty"`
	Events      []auditView `json:"events,omitempty"`
}

func registration(r *identity.RegistrationRequest) registrationView {
	return registrationView{ID: r.ID, State: string(r.State), UserSub: r.UserSub, Username: r.Username, Email: r.Email,
		CompanyName: r.CompanyName, Company: r.Company, Reason: r.Reason, IP: r.IP, UserAgent: r.UserAgent,
		DecidedBy: r.DecidedBy, DecidedVia: r.DecidedVia, DecidedAt: tsp(r.DecidedAt), ExpiresAt: tsp(r.ExpiresAt), CreatedAt: tsp(r.CreatedAt), UpdatedAt: tsp(r.UpdatedAt)}
}

func (a *API) listRegistrations(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	state, err := form.QueryString(r, "state", 64)
	if err != nil {
		return err
	}
	comp, err := form.QueryString(r, "company", 256)
	if err != nil {
		return err
	}
	list, next, err := a.svc.ListRegistrations(r.Context(), r.PathValue("pool"),
		auth.RegistrationFilter{State: identity.RegistrationState(state), Company: comp}, limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list, next, registration))
}

func (a *API) getRegistration(w http.ResponseWriter, r *http.Request) error {
	d, err := a.svc.GetRegistration(r.Context(), r.PathValue("pool"), r.PathValue("registration"))
	if err != nil {
		return err
	}
	v := registration(d.Request)
	v.Events = make([]auditView, 0, len(d.Events))
	for _, e := range d.Events {
		v.Events = append(v.Events, audit(e))
	}
	return writeJSON(w, http.StatusOK, v)
}

type decisionRequest struct {
	Reason string `json:"reason"`
}

func (a *API) decideRegistration(d identity.Decision) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req decisionRequest
		if r.ContentLength != 0 {
			if err := a.decode(r, &req); err != nil {
				return err
			}
		}
		reg, err := a.svc.DecideRegistration(r.Context(), r.PathValue("pool"), r.PathValue("registration"), d, req.Reason, meta(r))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, registration(reg))
	}
}
