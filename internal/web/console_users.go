package web

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// userStatuses are the statuses the user search offers.
var userStatuses = []string{"", string(identity.StatusConfirmed), string(identity.StatusUnconfirmed),
	string(identity.StatusForceChangePassword), string(identity.StatusResetRequired), "Disabled"}

// consoleUsers is GET /{pool}/console/users (pool admins): search by
// email prefix, status, company and group, 60 a page.
func (w *Web) consoleUsers(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	q := r.URL.Query()
	email, status, company, group := strings.TrimSpace(q.Get("email")), q.Get("status"), strings.TrimSpace(q.Get("company")), strings.TrimSpace(q.Get("group"))
	var users []*identity.User
	var next string
	var err error
	if group != "" {
		users, next, err = w.svc.ListUsersInGroup(c.ctx, c.pool.ID, group, 60, q.Get("page"))
	} else {
		filter := ""
		switch {
		case email != "":
			filter = `email ^= "` + filterQuote(strings.ToLower(email)) + `"`
		case status == "Disabled":
			filter = `status = "Disabled"`
		case status != "":
			filter = `cognito:user_status = "` + filterQuote(status) + `"`
		}
		users, next, err = w.svc.ListUsers(c.ctx, auth.ListUsersInput{PoolID: c.pool.ID, Filter: filter, Limit: 60, Token: q.Get("page")})
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	// The remaining conditions filter the page.
	attr := c.pool.Settings.SignUp.CompanyAttr()
	kept := users[:0:0]
	for _, u := range users {
		switch {
		case email != "" && !strings.HasPrefix(u.Email, strings.ToLower(email)):
		case status == "Disabled" && u.Enabled:
		case status != "" && status != "Disabled" && string(u.Status) != status:
		case company != "" && !strings.EqualFold(u.Attributes[attr], company):
		default:
			kept = append(kept, u)
		}
	}
	w.consoleRender(rw, r, c, http.StatusOK, "users", map[string]any{
		"Users": kept, "Email": email, "Status": status, "Statuses": userStatuses, "CompanyQ": company, "GroupQ": group,
		"CompanyAttr": attr, "Next": next, "Action": c.path("users"), "Notice": notice(r),
	})
}

func filterQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// consoleUserCreate is POST /{pool}/console/users: create a user with an
// emailed invitation (temporary password), as AdminCreateUser.
func (w *Web) consoleUserCreate(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	attrs := map[string]string{"email": email, "email_verified": "true"}
	if co := strings.TrimSpace(r.PostFormValue("company")); co != "" {
		attrs[c.pool.Settings.SignUp.CompanyAttr()] = co
	}
	username := email
	if c.pool.UsernameMode != identity.UsernameEmail {
		if u := strings.TrimSpace(r.PostFormValue("username")); u != "" {
			username = u
		}
	}
	v, err := w.svc.AdminCreateUser(c.ctx, auth.AdminCreateUserInput{PoolID: c.pool.ID, Username: username, Attributes: attrs})
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("users", v.User.Username), "invited")
}

// consoleUser is GET /{pool}/console/users/{username}: attributes,
// groups, linked identities and recent audit events (pool admins),
// sign-in state and the
// actions. A company admin sees members of their companies only (the
// service answers forbidden otherwise).
func (w *Web) consoleUser(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	v, err := w.svc.ConsoleGetUser(c.ctx, c.pool.ID, r.PathValue("username"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	u := v.User
	var events []*identity.AuditEvent
	if c.role.PoolAdmin {
		events, _, err = w.svc.ConsoleAudit(c.ctx, auth.ConsoleAuditQuery{AuditQuery: auth.AuditQuery{PoolID: c.pool.ID, Subject: "user:" + u.Sub, Limit: 20}})
		if err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
	}
	// Upstream identities linked to the user (pool admins; docs/federation.md).
	var links []*identity.LinkedIdentity
	if c.role.PoolAdmin {
		if links, err = w.svc.AdminListLinkedIdentities(c.ctx, c.pool.ID, u.Sub); err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
	}
	var passkeys []*auth.Passkey
	if c.role.PoolAdmin {
		if passkeys, err = w.svc.AdminListPasskeys(c.ctx, c.pool.ID, u.Username); err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
	}
	var names map[string]string
	if len(events) > 0 {
		if names, err = w.consoleNames(c, events); err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
	}
	keys := make([]string, 0, len(u.Attributes))
	for k := range u.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type kv struct{ K, V string }
	attrs := []kv{{"sub", u.Sub}, {"email", u.Email}, {"email_verified", strconv.FormatBool(u.EmailVerified)}}
	for _, k := range keys {
		attrs = append(attrs, kv{k, u.Attributes[k]})
	}
	companyAttr := c.pool.Settings.SignUp.CompanyAttr()
	// The user's factors, when the caller may act on the user (a company
	// admin sees none for a peer or a pool admin).
	mfa, _ := w.svc.AdminGetUserMFA(c.ctx, c.pool.ID, u.Username)
	// The user's active sessions: pool admins, and a company admin for
	// the plain members of their companies (the service refuses others).
	sessions, err := w.svc.ConsoleUserSessions(c.ctx, c.pool.ID, u.Username)
	if err != nil && identity.ErrorCode(err) != identity.CodeForbidden {
		w.consoleError(rw, r, c, err)
		return
	}
	// The user's remembered devices (Cognito's device tracking), with the
	// sessions' rules; shown when the pool remembers devices or the user
	// still has some.
	devices, derr := w.svc.ConsoleUserDevices(c.ctx, c.pool.ID, u.Username)
	if derr != nil && identity.ErrorCode(derr) != identity.CodeForbidden {
		w.consoleError(rw, r, c, derr)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "user", map[string]any{"MFA": mfa,
		"Title": u.Username, "U": u, "Attrs": attrs, "Groups": v.Groups, "Links": links, "Events": events, "Names": names,
		"Action": c.path("users", u.Username), "Delete": c.path("users", u.Username, "delete"), "Notice": notice(r),
		"CompanyAction": c.path("users", u.Username, "company"), "CompanyAttr": companyAttr, "Company": u.Attributes[companyAttr],
		"Passkeys": passkeys, "PasskeyAction": c.path("users", u.Username, "passkeys", "delete"),
		"Sessions": sessions, "SessionsShown": err == nil, "SessionAction": c.path("users", u.Username, "sessions", "delete"),
		"Devices": devices, "DevicesShown": derr == nil && (c.pool.Settings.Devices.Tracked || len(devices) > 0),
		"DeviceAction": c.path("users", u.Username, "devices", "forget"),
	})
}

// consoleUserItem makes the handler of a POST on one item of a user's
// page: it calls remove with the pool, the username and the form's field,
// then goes back to the user's page with notice, or shows the error.
func (w *Web) consoleUserItem(field, notice string, remove func(ctx context.Context, poolID, username, item string) error) func(http.ResponseWriter, *http.Request, *consoleReq) {
	return func(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
		name := r.PathValue("username")
		if err := remove(c.ctx, c.pool.ID, name, r.PostFormValue(field)); err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
		consoleBack(rw, r, c.path("users", name), notice)
	}
}

// consoleUserPasskeyDelete is POST /{pool}/console/users/{username}/passkeys/delete
// (pool admins): removes one passkey of the user.
func (w *Web) consoleUserPasskeyDelete() func(http.ResponseWriter, *http.Request, *consoleReq) {
	return w.consoleUserItem("id", "passkey_removed", w.svc.AdminDeletePasskey)
}

// consoleUserSessionDelete is POST /{pool}/console/users/{username}/sessions/delete:
// ends one active session of the user (pool admins; a company admin for
// the plain members of their companies, auth.ConsoleRevokeSession).
func (w *Web) consoleUserSessionDelete() func(http.ResponseWriter, *http.Request, *consoleReq) {
	return w.consoleUserItem("id", "session_revoked", w.svc.ConsoleRevokeSession)
}

// consoleUserDeviceForget is POST /{pool}/console/users/{username}/devices/forget:
// forgets one remembered device of the user and ends its sign-ins (pool
// admins; a company admin for the plain members of their companies,
// auth.ConsoleForgetDevice).
func (w *Web) consoleUserDeviceForget() func(http.ResponseWriter, *http.Request, *consoleReq) {
	return w.consoleUserItem("key", "device_forgotten", w.svc.ConsoleForgetDevice)
}

// consoleUserCompany is POST /{pool}/console/users/{username}/company
// (pool admins): sets the user's company attribute, or removes it when
// empty, through AdminUpdateUserAttributes / AdminDeleteUserAttributes,
// which move the company groups with it (security.md A3).
func (w *Web) consoleUserCompany(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	name := r.PathValue("username")
	attr := c.pool.Settings.SignUp.CompanyAttr()
	var err error
	if co := strings.TrimSpace(r.PostFormValue("company")); co != "" {
		err = w.svc.AdminUpdateUserAttributes(c.ctx, c.pool.ID, name, map[string]string{attr: co})
	} else {
		err = w.svc.AdminDeleteUserAttributes(c.ctx, c.pool.ID, name, []string{attr})
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("users", name), "company")
}

// consoleUserAction is POST /{pool}/console/users/{username}: action
// disable, enable, reset_password, sign_out (auth.ConsoleUserAction).
// Deleting goes through the confirmation page (consoleUserDelete).
func (w *Web) consoleUserAction(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	a := r.PostFormValue("action")
	if a == auth.ConsoleDelete {
		w.consoleError(rw, r, c, identity.Errorf(identity.CodeInvalidParameter, "Delete a user from its confirmation page."))
		return
	}
	name := r.PathValue("username")
	if err := w.svc.ConsoleUserAction(c.ctx, c.pool.ID, name, a); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("users", name), a)
}

// consoleUserDeleteShow is GET /{pool}/console/users/{username}/delete:
// the confirmation page.
func (w *Web) consoleUserDeleteShow(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	v, err := w.svc.ConsoleGetUser(c.ctx, c.pool.ID, r.PathValue("username"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "confirm", map[string]any{
		"Title": text["console.delete_user"], "Question": text["console.delete_user.q"], "Subject": v.User.Username,
		"Action": c.path("users", v.User.Username, "delete"), "Button": text["console.delete_user"],
		"Back": c.path("users", v.User.Username),
	})
}

// consoleUserDelete is POST /{pool}/console/users/{username}/delete
// (confirm=yes): deletes the user.
func (w *Web) consoleUserDelete(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	name := r.PathValue("username")
	if r.PostFormValue("confirm") != "yes" {
		consoleBack(rw, r, c.path("users", name), "")
		return
	}
	if err := w.svc.ConsoleUserAction(c.ctx, c.pool.ID, name, auth.ConsoleDelete); err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	if c.role.PoolAdmin {
		consoleBack(rw, r, c.path("users"), "deleted")
		return
	}
	consoleBack(rw, r, c.base, "deleted")
}
