package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// A user's remembered devices (Cognito's device tracking,
// docs/cognito.md): administrators list them and forget one, which ends
// the sign-ins issued to it.

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
