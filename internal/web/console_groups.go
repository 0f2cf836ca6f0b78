package web

import (
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// consoleGroups is GET /{pool}/console/groups (pool admins).
func (w *Web) consoleGroups(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	list, next, err := w.svc.ListGroups(c.ctx, c.pool.ID, 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "groups", map[string]any{"Groups": list, "Next": next,
		"AdminGroup": c.pool.Settings.Console.AdminGroupName(), "Action": c.path("groups"), "Notice": notice(r)})
}

// consoleGroupCreate is POST /{pool}/console/groups.
func (w *Web) consoleGroupCreate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	g, err := w.svc.CreateGroup(c.ctx, &identity.Group{PoolID: c.pool.ID, Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description"))})
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("groups", g.Name), "saved")
}

// consoleGroup is GET /{pool}/console/groups/{name}: members and the
// add/remove form.
func (w *Web) consoleGroup(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	g, err := w.svc.GetGroup(c.ctx, c.pool.ID, r.PathValue("name"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	members, next, err := w.svc.ListUsersInGroup(c.ctx, c.pool.ID, g.Name, 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "group", map[string]any{"Title": g.Name, "G": g, "Members": members, "Next": next,
		"Action": c.path("groups", g.Name), "Users": c.path("users"), "Notice": notice(r)})
}

// consoleGroupMember is POST /{pool}/console/groups/{name}: op add or
// remove the user username.
func (w *Web) consoleGroupMember(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	name, user := r.PathValue("name"), strings.TrimSpace(r.PostFormValue("username"))
	var err error
	switch r.PostFormValue("op") {
	case "add":
		err = w.svc.AdminAddUserToGroup(c.ctx, c.pool.ID, user, name)
	case "remove":
		err = w.svc.AdminRemoveUserFromGroup(c.ctx, c.pool.ID, user, name)
	default:
		err = identity.FieldError("op", "op must be add or remove.")
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("groups", name), "saved")
}
