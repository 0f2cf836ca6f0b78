package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The pool's outbox (development mailbox and delivery status).

func (a *API) listEmails(w http.ResponseWriter, r *http.Request) error {
	limit, token, err := pageParams(r)
	if err != nil {
		return err
	}
	status, err := form.QueryString(r, "status", 32)
	if err != nil {
		return err
	}
	if status != "" && !slices.Contains(auth.EmailStatuses, status) {
		return identity.FieldError("status", "status must be one of %s.", strings.Join(auth.EmailStatuses, ", "))
	}
	es, next, err := a.svc.ListEmails(r.Context(), r.PathValue("pool"), status, limit, token)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(es, next, email))
}
