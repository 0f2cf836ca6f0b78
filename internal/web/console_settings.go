package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

type hookRow struct {
	Trigger identity.HookTrigger
	Hook    *identity.Hook
	Test    string
}

// consoleHooks is GET /{pool}/console/hooks (pool admins).
func (w *Web) consoleHooks(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	w.renderHooks(rw, r, c, nil)
}

func (w *Web) renderHooks(rw http.ResponseWriter, r *http.Request, c *consoleReq, res *auth.HookTestResult) {
	hs, err := w.svc.GetHooks(c.ctx, c.pool.ID)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	var rows []hookRow
	for _, t := range identity.HookTriggers {
		var h *identity.Hook
		switch t {
		case identity.TriggerPreSignUp:
			h = hs.PreSignUp
		case identity.TriggerPostConfirmation:
			h = hs.PostConfirmation
		case identity.TriggerPreTokenGeneration:
			h = hs.PreTokenGeneration
		case identity.TriggerCustomMessage:
			h = hs.CustomMessage
		case identity.TriggerUserMigration:
			h = hs.UserMigration
		}
		rows = append(rows, hookRow{Trigger: t, Hook: h, Test: c.path("hooks", string(t), "test")})
	}
	w.consoleRender(rw, r, c, http.StatusOK, "hooks", map[string]any{"Rows": rows, "Result": res})
}

// consoleHookTest is POST /{pool}/console/hooks/{trigger}/test: sends the
// trigger a test event (auth.Service.TestHook) and shows the answer.
func (w *Web) consoleHookTest(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	res, err := w.svc.TestHook(c.ctx, c.pool.ID, identity.HookTrigger(r.PathValue("trigger")))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.renderHooks(rw, r, c, res)
}

// consoleAudit is GET /{pool}/console/audit (pool admins): filter by
// actor, subject, action and time (from, to: YYYY-MM-DD or RFC 3339);
// format=csv downloads the matching events (at most 10,000).
func (w *Web) consoleAudit(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	q := r.URL.Query()
	f := auth.ConsoleAuditQuery{AuditQuery: auth.AuditQuery{PoolID: c.pool.ID, Actor: strings.TrimSpace(q.Get("actor")),
		Subject: strings.TrimSpace(q.Get("subject")), Action: strings.TrimSpace(q.Get("action")), Limit: 100, Token: q.Get("page")}}
	var bad error
	if f.Since, bad = parseWhen(q.Get("from"), false); bad == nil {
		f.Until, bad = parseWhen(q.Get("to"), true)
	}
	if bad != nil {
		w.consoleError(rw, r, c, bad)
		return
	}
	if q.Get("format") == "csv" {
		w.auditCSV(rw, r, c, f)
		return
	}
	evs, next, err := w.svc.ConsoleAudit(c.ctx, f)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	names, err := w.consoleNames(c, evs)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	nq := strings.NewReplacer("page=", "x=").Replace(q.Encode())
	w.consoleRender(rw, r, c, http.StatusOK, "audit", map[string]any{"Events": evs, "Names": names, "Next": next, "Q": q,
		"Action": c.path("audit"), "Query": nq})
}

func parseWhen(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, identity.FieldError("from", "Give times as YYYY-MM-DD or RFC 3339.")
}

func (w *Web) auditCSV(rw http.ResponseWriter, r *http.Request, c *consoleReq, f auth.ConsoleAuditQuery) {
	f.Limit = auth.MaxAuditLimit
	f.Token = ""
	var all []*identity.AuditEvent
	for len(all) < 10000 {
		evs, next, err := w.svc.ConsoleAudit(c.ctx, f)
		if err != nil {
			w.consoleError(rw, r, c, err)
			return
		}
		all = append(all, evs...)
		if next == "" {
			break
		}
		f.Token = next
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="audit-`+cookieSafe(c.pool.ID)+`.csv"`)
	cw := csv.NewWriter(rw)
	_ = cw.Write([]string{"time", "action", "actor", "via", "subject", "ip", "detail"})
	for _, e := range all {
		d, _ := json.Marshal(e.Detail)
		_ = cw.Write([]string{e.Time.UTC().Format(time.RFC3339Nano), e.Action, csvSafe(e.Actor), e.Via, csvSafe(e.Subject), e.IP, csvSafe(string(d))})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var emailStatuses = append([]string{""}, auth.EmailStatuses...)

// consoleEmails is GET /{pool}/console/emails (pool admins): the outbox
// by status, newest first, without bodies (they hold codes).
func (w *Web) consoleEmails(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	st := r.URL.Query().Get("status")
	list, next, err := w.svc.ConsoleEmails(c.ctx, c.pool.ID, st, 60, r.URL.Query().Get("page"))
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	w.consoleRender(rw, r, c, http.StatusOK, "emails", map[string]any{"Emails": list, "Next": next, "Status": st,
		"Statuses": emailStatuses, "Action": c.path("emails"), "Notice": notice(r)})
}

// consoleEmailAction is POST /{pool}/console/emails/{id}: op retry (a
// dead email is queued again through its job, a retrying one sent now) or
// discard (one not sent is given up, a send in flight abandoned), through
// auth.Service.RetryEmail/DiscardEmail.
func (w *Web) consoleEmailAction(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.consoleError(rw, r, c, identity.Errorf(identity.CodeResourceNotFound, "Email not found."))
		return
	}
	switch r.PostFormValue("op") {
	case "retry":
		err = w.svc.RetryEmail(c.ctx, c.pool.ID, id)
	case "discard":
		err = w.svc.DiscardEmail(c.ctx, c.pool.ID, id)
	default:
		err = identity.FieldError("op", "op must be retry or discard.")
	}
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	consoleBack(rw, r, c.path("emails"), "email_"+r.PostFormValue("op"))
}
