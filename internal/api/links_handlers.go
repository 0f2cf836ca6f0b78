package api

import (
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Upstream identities linked to a user (docs/federation.md, "Linking by
// an administrator"). {subject} is the upstream subject, URL-escaped.

type linkView struct {
	Provider     string    `json:"provider"`
	ProviderType string    `json:"provider_type"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

func linkedIdentity(l *identity.LinkedIdentity) linkView {
	return linkView{Provider: l.ProviderName, ProviderType: l.ProviderType, Subject: l.Subject, Issuer: l.Issuer, CreatedAt: l.CreatedAt.UTC()}
}

func (a *API) listUserIdentities(w http.ResponseWriter, r *http.Request) error {
	links, err := a.svc.AdminListLinkedIdentities(r.Context(), r.PathValue("pool"), r.PathValue("username"))
	if err != nil {
		return err
	}
	out := make([]linkView, len(links))
	for i, l := range links {
		out[i] = linkedIdentity(l)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"identities": out})
}

type linkRequest struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
}

func (a *API) linkUserIdentity(w http.ResponseWriter, r *http.Request) error {
	var req linkRequest
	if err := a.decode(r, &req); err != nil {
		return err
	}
	l, err := a.svc.AdminLinkProviderForUser(r.Context(), auth.LinkProviderInput{PoolID: r.PathValue("pool"),
		Username: r.PathValue("username"), Provider: req.Provider, Subject: req.Subject})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, linkedIdentity(l))
}

func (a *API) unlinkUserIdentity(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.AdminDisableProviderForUser(r.Context(), auth.UnlinkProviderInput{PoolID: r.PathValue("pool"),
		Username: r.PathValue("username"), Provider: r.PathValue("provider"), Subject: r.PathValue("subject")}); err != nil {
		return err
	}
	return noContent(w)
}
