package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/ratelimit"
)

// Companies in a pool, and the public type-ahead of company names.

// companyAdmin accepts, on a company route, either an admin API key (as
// admin does) or a user's access token of the route's pool carrying
// aws.cognito.signin.user.admin (a relying party's "openid email" token
// does not act for its user; docs/security.md T2, T5); the user is then
// the actor "user:<sub>" and the service lets them reach only companies
// they approve for (company admins). Another pool's token is 401
// invalid_token, one without the scope 403 insufficient_scope.
func (a *API) companyAdmin(h handlerFunc) handlerFunc {
	adm := a.admin(scopePool, h)
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok || strings.HasPrefix(tok, "ghk_") {
			return adm(w, r)
		}
		_, u, claims, err := a.svc.AuthenticateAccessTokenFor(r.Context(), r.PathValue("pool"), tok)
		if err != nil {
			return err
		}
		if err := auth.RequireScope(claims, auth.ScopeUserAdmin); err != nil {
			return err
		}
		ctx := identity.WithActor(r.Context(), identity.Actor{ID: "user:" + u.Sub, IP: httpserver.RemoteIP(r)})
		return h(w, r.WithContext(ctx))
	}
}

type companyView struct {
	Name         string              `json:"name"`
	DisplayName  string              `json:"display_name"`
	EmailDomains []string            `json:"email_domains"`
	Group        string              `json:"group"`
	Approvers    []identity.Approver `json:"approvers"`
	Status       string              `json:"status"`
	RequireMFA   bool                `json:"require_mfa"`
	CreatedAt    *time.Time          `json:"created_at,omitempty"`
	UpdatedAt    *time.Time          `json:"updated_at,omitempty"`
}

func company(c *identity.Company) companyView {
	v := companyView{Name: c.Name, DisplayName: c.DisplayName, EmailDomains: c.EmailDomains, Group: c.Group,
		Approvers: c.Approvers, Status: c.Status, RequireMFA: c.RequireMFA, CreatedAt: tsp(c.CreatedAt), UpdatedAt: tsp(c.UpdatedAt)}
	if v.EmailDomains == nil {
		v.EmailDomains = []string{}
	}
	if v.Approvers == nil {
		v.Approvers = []identity.Approver{}
	}
	return v
}

type companyRequest struct {
	Name         string              `json:"name"`
	DisplayName  string              `json:"display_name"`
	EmailDomains []string            `json:"email_domains"`
	Group        string              `json:"group"`
	Approvers    []identity.Approver `json:"approvers"`
	Status       string              `json:"status"`
}

func (a *API) listCompanies(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	cs, next, err := a.svc.ListCompanies(r.Context(), r.PathValue("pool"), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(cs, next, company))
}

func (a *API) createCompany(w http.ResponseWriter, r *http.Request) error {
	var req companyRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := a.svc.CreateCompany(r.Context(), &identity.Company{PoolID: r.PathValue("pool"), Name: req.Name, DisplayName: req.DisplayName,
		EmailDomains: req.EmailDomains, Group: req.Group, Approvers: req.Approvers, Status: req.Status})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, company(c))
}

func (a *API) getCompany(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetCompany(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, company(c))
}

// updateCompanyRequest is a merge patch; absent fields keep their value.
type updateCompanyRequest struct {
	DisplayName  *string              `json:"display_name"`
	EmailDomains *[]string            `json:"email_domains"`
	Group        *string              `json:"group"`
	Approvers    *[]identity.Approver `json:"approvers"`
	Status       *string              `json:"status"`
}

func (a *API) updateCompany(w http.ResponseWriter, r *http.Request) error {
	var req updateCompanyRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	c, err := a.svc.GetCompany(r.Context(), r.PathValue("pool"), r.PathValue("company"))
	if err != nil {
		return err
	}
	if req.DisplayName != nil {
		c.DisplayName = *req.DisplayName
	}
	if req.EmailDomains != nil {
		c.EmailDomains = *req.EmailDomains
	}
	if req.Group != nil {
		c.Group = *req.Group
	}
	if req.Approvers != nil {
		c.Approvers = *req.Approvers
	}
	if req.Status != nil {
		c.Status = *req.Status
	}
	c, err = a.svc.UpdateCompany(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, company(c))
}

func (a *API) deleteCompany(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteCompany(r.Context(), r.PathValue("pool"), r.PathValue("company")); err != nil {
		return err
	}
	return noContent(w)
}

// companyLookups limits the public company-name lookup per client
// address (IPv6 by /64; internal/ratelimit): 10 requests a second with a
// burst of 30, per process.
var companyLookups = ratelimit.New(30, time.Second/10, ratelimit.DefaultMaxKeys)

type companyNamesView struct {
	Names []string `json:"names"`
}

// lookupCompanyNames is the public, rate-limited type-ahead.
func (a *API) lookupCompanyNames(w http.ResponseWriter, r *http.Request) error {
	if ok, _ := companyLookups.Allow(r.PathValue("pool")+"|"+ratelimit.IPKey(httpserver.RemoteIP(r)), a.opts.Now()); !ok {
		w.Header().Set("Retry-After", "1")
		return identity.Errorf(identity.CodeTooManyRequests, "Too many lookups; slow down.")
	}
	prefix, err := form.QueryString(r, "prefix", 256)
	if err != nil {
		return err
	}
	names, err := a.svc.LookupCompanyNames(r.Context(), r.PathValue("pool"), prefix)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return writeJSON(w, http.StatusOK, companyNamesView{Names: names})
}
