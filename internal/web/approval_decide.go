package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gatehouse-id/gatehouse/internal/auth"
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
		w.render(rw, r, http.StatusConflict, "result", resultData(r, l, fmt.Sprintf(text["approval.title_for"], l.PoolName), decidedText(l)))
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
	w.render(rw, r, http.StatusOK, "result", resultData(r, l, fmt.Sprintf(text["result.title_for"], l.PoolName), fmt.Sprintf(text[key], l.Request.Email)))
}

// resultData is the page after a decision: it names the pool and leads on
// to the console, where company admins see the company's other requests.
func resultData(r *http.Request, l *auth.RegistrationLink, title, message string) map[string]any {
	return map[string]any{"Title": title, "PoolName": l.PoolName, "Message": message,
		"Onward": fmt.Sprintf(text["result.onward"], l.PoolName), "ConsoleURL": "/" + url.PathEscape(r.PathValue("pool")) + "/console/registrations"}
}
