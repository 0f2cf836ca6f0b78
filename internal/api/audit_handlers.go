package api

import (
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// The pool's audit log, newest first, filtered by actor, subject, action.

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	q := auth.AuditQuery{PoolID: r.PathValue("pool"), Limit: limit, Token: token}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"actor", &q.Actor}, {"subject", &q.Subject}, {"action", &q.Action}} {
		if *f.dst, err = form.QueryString(r, f.name, 256); err != nil {
			return err
		}
	}
	evs, next, err := a.svc.Audit(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(evs, next, audit))
}
