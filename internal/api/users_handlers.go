package api

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// User administration in a pool. {username} is the username (or, in email
// pools, the email address), URL-escaped.

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	filter, err := form.QueryString(r, "filter", 1024)
	if err != nil {
		return err
	}
	us, next, err := a.svc.ListUsers(r.Context(), auth.ListUsersInput{PoolID: r.PathValue("pool"), Filter: filter, Limit: limit, Token: token})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(us, next, adminUser))
}

type createUserRequest struct {
	Username          string            `json:"username"`
	Attributes        map[string]string `json:"attributes"`
	TemporaryPassword string            `json:"temporary_password"`
	MessageAction     string            `json:"message_action"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	switch req.MessageAction {
	case "", "SUPPRESS", "RESEND":
	default:
		return identity.FieldError("message_action", `message_action must be "", "SUPPRESS" or "RESEND".`)
	}
	v, err := a.svc.AdminCreateUser(r.Context(), auth.AdminCreateUserInput{PoolID: r.PathValue("pool"),
		Username: req.Username, Attributes: req.Attributes, TemporaryPassword: req.TemporaryPassword,
		MessageAction: req.MessageAction})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, adminUserWithGroups(v))
}

type importUsersRequest struct {
	Users   []auth.ImportedUser `json:"users"`
	Replace bool                `json:"replace,omitempty"`
}

type importUserFailure struct {
	Index    int           `json:"index"`
	Username string        `json:"username"`
	Code     identity.Code `json:"code"`
	Field    string        `json:"field,omitempty"`
	Message  string        `json:"message"`
}

// importUsers is POST /api/v1/pools/{pool}/users/import: users as
// "gatehouse users export" writes them (password hashes from other
// systems too, docs/migration.md), at most auth.MaxImportUsers a call.
func (a *API) importUsers(w http.ResponseWriter, r *http.Request) error {
	var req importUsersRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	rep, err := a.svc.ImportUsers(r.Context(), r.PathValue("pool"), req.Users, req.Replace)
	if err != nil {
		return err
	}
	out := struct {
		Created  int                 `json:"created"`
		Replaced int                 `json:"replaced"`
		Skipped  int                 `json:"skipped"`
		Failed   []importUserFailure `json:"failed"`
	}{rep.Created, rep.Replaced, rep.Skipped, []importUserFailure{}}
	for _, f := range rep.Failed {
		var ie *identity.Error
		_ = errors.As(f.Err, &ie)
		out.Failed = append(out.Failed, importUserFailure{Index: f.Index, Username: f.Username, Code: ie.Code, Field: ie.Field, Message: ie.Message})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.AdminGetUser(r.Context(), r.PathValue("pool"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminUserWithGroups(v))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminDeleteUser(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) updateUserAttributes(w http.ResponseWriter, r *http.Request) error {
	var req attributesRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.AdminUpdateUserAttributes(r.Context(), r.PathValue("pool"), r.PathValue("username"), req.Attributes); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) deleteUserAttributes(w http.ResponseWriter, r *http.Request) error {
	var req namesRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.AdminDeleteUserAttributes(r.Context(), r.PathValue("pool"), r.PathValue("username"), req.Names); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) disableUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminDisableUser(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) enableUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminEnableUser(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) confirmUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminConfirmSignUp(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) resetUserPassword(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminResetUserPassword(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) signOutUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminUserGlobalSignOut(r.Context(), r.PathValue("pool"), r.PathValue("username")); err != nil {
		return err
	}
	return noContent(w)
}

type setPasswordRequest struct {
	Password  string `json:"password"`
	Permanent bool   `json:"permanent"`
}

func (a *API) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	var req setPasswordRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	if err := a.svc.AdminSetUserPassword(r.Context(), r.PathValue("pool"), r.PathValue("username"), req.Password, req.Permanent); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) listGroupsForUser(w http.ResponseWriter, r *http.Request) error {
	gs, err := a.svc.AdminListGroupsForUser(r.Context(), r.PathValue("pool"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(gs, "", group))
}

func (a *API) addUserToGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminAddUserToGroup(r.Context(), r.PathValue("pool"), r.PathValue("username"), r.PathValue("group")); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) removeUserFromGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminRemoveUserFromGroup(r.Context(), r.PathValue("pool"), r.PathValue("username"), r.PathValue("group")); err != nil {
		return err
	}
	return noContent(w)
}
