package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// approvalDecide is the POST of the confirmation page: CSRF check, then the
// link's decision. The first decision wins; later ones show who decided.
func (w *Web) approvalDecide(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, w.opts.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		w.errorPage(rw, r, identity.Errorf(identity.CodeForbidden, "bad form"))
		return
	}
	if !w.checkCSRF(r) {
		w.errorPage(rw, r, identity.Errorf(identity.CodeForbidden, "csrf"))
		return
	}
	l, err := w.svc.DecideRegistrationLink(r.Context(), r.PathValue("pool"), r.PathValue("token"), meta(r))
	var ie *identity.Error
	if err != nil && l != nil && errors.As(err, &ie) && ie.Code == identity.CodeConflict {
		w.render(rw, r, http.StatusConflict, "result", map[string]any{"Title": text["approval.title"], "Message": decidedText(l)})
		return
	}
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	key := "result.denied"
	if l.Request.State == identity.RegApproved {
		key = "result.approved"
	}
	w.render(rw, r, http.StatusOK, "result", map[string]any{"Title": text["result.title"], "Message": fmt.Sprintf(text[key], l.Request.Email)})
}
