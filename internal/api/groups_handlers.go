package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Groups in a pool.

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	gs, next, err := a.svc.ListGroups(r.Context(), r.PathValue("pool"), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(gs, next, group))
}

type createGroupRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Precedence  *int   `json:"precedence"`
	RoleARN     string `json:"role_arn"`
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var req createGroupRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	g, err := a.svc.CreateGroup(r.Context(), &identity.Group{PoolID: r.PathValue("pool"), Name: req.Name,
		Description: req.Description, Precedence: req.Precedence, RoleARN: req.RoleARN})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, group(g))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.svc.GetGroup(r.Context(), r.PathValue("pool"), r.PathValue("group"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, group(g))
}

// updateGroupRequest is a merge patch; absent fields keep their value.
type updateGroupRequest struct {
	Description *string `json:"description"`
	Precedence  *int    `json:"precedence"`
	RoleARN     *string `json:"role_arn"`
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	var req updateGroupRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	g, err := a.svc.GetGroup(r.Context(), r.PathValue("pool"), r.PathValue("group"))
	if err != nil {
		return err
	}
	if req.Description != nil {
		g.Description = *req.Description
	}
	if req.Precedence != nil {
		g.Precedence = req.Precedence
	}
	if req.RoleARN != nil {
		g.RoleARN = *req.RoleARN
	}
	g, err = a.svc.UpdateGroup(r.Context(), g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, group(g))
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteGroup(r.Context(), r.PathValue("pool"), r.PathValue("group")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) listUsersInGroup(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	us, next, err := a.svc.ListUsersInGroup(r.Context(), r.PathValue("pool"), r.PathValue("group"), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(us, next, adminUser))
}
