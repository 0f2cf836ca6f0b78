package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// approvalShow is GET (and HEAD) of an approve or deny link: it shows the
// request and a one-button form. It writes nothing.
func (w *Web) approvalShow(rw http.ResponseWriter, r *http.Request) {
	l, err := w.svc.RegistrationLink(r.Context(), r.PathValue("pool"), r.PathValue("token"))
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	csrf, err := w.csrfToken(rw, r)
	if err != nil {
		w.errorPage(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "approval", approvalData(l, csrf, r.URL.Path))
}

func approvalData(l *auth.RegistrationLink, csrf, action string) map[string]any {
	req := l.Request
	d := map[string]any{
		"Title":    fmt.Sprintf(text["approval.title_for"], l.PoolName),
		"PoolName": l.PoolName,
		"Req":      req,
		"When":     req.CreatedAt.UTC().Format(time.RFC1123),
		"Approver": l.Approver,
		"Decision": string(l.Action),
		"Decided":  l.Decided,
		"CSRF":     csrf,
		"Action":   action,
	}
	if l.Decided {
		d["DecidedText"] = decidedText(l)
	}
	return d
}

func decidedText(l *auth.RegistrationLink) string {
	return fmt.Sprintf(text["approval.decided"], l.Request.State, auth.DeciderName(l.Request.DecidedBy),
		l.Request.DecidedAt.UTC().Format(time.RFC1123))
}
