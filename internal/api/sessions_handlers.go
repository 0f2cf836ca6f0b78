package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// Active sessions (sign-ins): the caller's own (access token) and a
// user's (admin key). A session is a refresh token family; deleting one
// ends it at once (its refresh tokens revoked, its access and ID tokens
// refused). Gatehouse's own: Cognito has no session list.

type sessionView struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name,omitempty"`
	Device     string    `json:"device,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	IP         string    `json:"ip,omitempty"`
	SignedInAt time.Time `json:"signed_in_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

type sessionList struct {
	Sessions []sessionView `json:"sessions"`
}

func sessionsOut(list []*auth.ActiveSession) sessionList {
	out := sessionList{Sessions: make([]sessionView, 0, len(list))}
	for _, s := range list {
		out.Sessions = append(out.Sessions, sessionView{ID: s.ID, ClientID: s.ClientID, ClientName: s.ClientName, Device: s.Device,
			UserAgent: s.UserAgent, IP: s.IP, SignedInAt: s.SignedInAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt, Current: s.Current})
	}
	return out
}

// listMySessions is GET /api/v1/me/sessions.
func (a *API) listMySessions(w http.ResponseWriter, r *http.Request, tok string) error {
	list, err := a.svc.ListMySessions(r.Context(), tok)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sessionsOut(list))
}

// deleteMySession is DELETE /api/v1/me/sessions/{id}.
func (a *API) deleteMySession(w http.ResponseWriter, r *http.Request, tok string) error {
	if err := a.svc.RevokeMySession(r.Context(), tok, r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}

// listUserSessions is GET /api/v1/pools/{pool}/users/{username}/sessions.
func (a *API) listUserSessions(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.AdminListSessions(r.Context(), r.PathValue("pool"), r.PathValue("username"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sessionsOut(list))
}

// deleteUserSession is DELETE /api/v1/pools/{pool}/users/{username}/sessions/{id}.
func (a *API) deleteUserSession(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.AdminRevokeSession(r.Context(), r.PathValue("pool"), r.PathValue("username"), r.PathValue("id")); err != nil {
		return err
	}
	return noContent(w)
}
