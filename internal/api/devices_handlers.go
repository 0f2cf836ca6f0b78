package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A user's remembered devices (Cognito's device tracking,
// docs/cognito.md): administrators list them and forget one, which ends
// the sign-ins issued to it; the user lists and forgets their own
// (/api/v1/me/devices) through the calls of the hosted account page
// (auth.ListUserDevices, auth.ForgetUserDevice), where another user's key
// is 404, as an unknown one.

// maxDeviceLimit is the most devices a page holds (Cognito's ListDevices).
const maxDeviceLimit = 60

type deviceView struct {
	DeviceKey         string     `json:"device_key"`
	Name              string     `json:"name,omitempty"`
	Status            string     `json:"status"`
	LastIPUsed        string     `json:"last_ip_used,omitempty"`
	CreatedAt         *time.Time `json:"created_at,omitempty"`
	UpdatedAt         *time.Time `json:"updated_at,omitempty"`
	LastAuthenticated *time.Time `json:"last_authenticated_at,omitempty"`
}

func device(d *identity.Device) deviceView {
	return deviceView{DeviceKey: d.Key, Name: d.Name, Status: d.Status, LastIPUsed: d.LastIP,
		CreatedAt: tsp(d.CreatedAt), UpdatedAt: tsp(d.UpdatedAt), LastAuthenticated: tsp(d.LastAuthAt)}
}

func (a *API) listUserDevices(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	limit = min(limit, maxDeviceLimit)
	page, err := a.svc.ListDevices(r.Context(), "", r.PathValue("pool"), r.PathValue("username"), limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page.Devices, page.Next, device))
}

func (a *API) forgetUserDevice(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ForgetDevice(r.Context(), "", r.PathValue("pool"), r.PathValue("username"), r.PathValue("device")); err != nil {
		return err
	}
	return noContent(w)
}

// selfHandler is a handler for the caller's own account that takes the
// access token's pool and user.
type selfHandler func(w http.ResponseWriter, r *http.Request, p *identity.Pool, u *identity.User) error

// self authenticates the access token as user does, requires the scope
// aws.cognito.signin.user.admin (as every self-service operation: a token
// a relying party got with "openid email" reads userInfo, never changes
// the account), puts the actor "user:<sub>" in the context and calls h
// with the token's pool and user.
func (a *API) self(h selfHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			return identity.Errorf(identity.CodeUnauthenticated, "An access token is required (Authorization: Bearer <token>).")
		}
		p, u, claims, err := a.svc.AuthenticateAccessToken(r.Context(), tok)
		if err != nil {
			return err
		}
		if err := auth.RequireScope(claims, auth.ScopeUserAdmin); err != nil {
			return err
		}
		ctx := identity.WithActor(r.Context(), identity.Actor{ID: "user:" + u.Sub, IP: httpserver.RemoteIP(r)})
		return h(w, r.WithContext(ctx), p, u)
	}
}

// listMyDevices is GET /api/v1/me/devices: at most 60, by key.
func (a *API) listMyDevices(w http.ResponseWriter, r *http.Request, p *identity.Pool, u *identity.User) error {
	list, err := a.svc.ListUserDevices(r.Context(), p.ID, u.Sub)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list, "", device))
}

// forgetMyDevice is DELETE /api/v1/me/devices/{key}.
func (a *API) forgetMyDevice(w http.ResponseWriter, r *http.Request, p *identity.Pool, u *identity.User) error {
	if err := a.svc.ForgetUserDevice(r.Context(), p.ID, u.Sub, r.PathValue("key")); err != nil {
		return err
	}
	return noContent(w)
}
