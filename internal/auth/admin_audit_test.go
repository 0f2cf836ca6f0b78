package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestAuditAndEmails(t *testing.T) {
	adminEachBackend(t, func(t *testing.T, e *adminEnv) {
		p := e.pool(nil)
		q := e.pool(nil)
		ctx := identity.WithActor(e.ctx, identity.Actor{ID: "apikey:ghk_test", IP: "192.0.2.1"})
		if _, err := e.s.AdminCreateUser(ctx, AdminCreateUserInput{PoolID: p.ID, Username: "ann@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.AdminCreateUser(ctx, AdminCreateUserInput{PoolID: q.ID, Username: "bob@example.com"}); err != nil {
			t.Fatal(err)
		}
		evs, next, err := e.s.Audit(e.ctx, AuditQuery{PoolID: p.ID, Action: "admin.user_create"})
		if err != nil || next != "" || len(evs) != 1 {
			t.Fatalf("Audit = %d events, %q, %v", len(evs), next, err)
		}
		if ev := evs[0]; ev.Actor != "admin-key:ghk_test" || ev.Via != "api" || ev.IP != "192.0.2.1" || ev.Detail["username"] != "ann@example.com" || ev.Subject == "" {
			t.Errorf("event = %+v", ev)
		}
		evs, _, _ = e.s.Audit(e.ctx, AuditQuery{Actor: "admin-key:ghk_test"})
		if len(evs) != 2 {
			t.Errorf("by actor: %d events", len(evs))
		}
		evs, next, _ = e.s.Audit(e.ctx, AuditQuery{Limit: 1})
		if len(evs) != 1 || next == "" {
			t.Errorf("limit 1: %d events, next %q", len(evs), next)
		}
		for _, l := range []int{-1, 1001} {
			_, _, err := e.s.Audit(e.ctx, AuditQuery{Limit: l})
			admWantCode(t, err, identity.CodeInvalidParameter)
		}

		es, _, err := e.s.ListEmails(e.ctx, "", "", 0, "")
		if err != nil || len(es) != 2 {
			t.Fatalf("all emails = %d, %v", len(es), err)
		}
		es, _, _ = e.s.ListEmails(e.ctx, q.ID, identity.EmailQueued, 0, "")
		if len(es) != 1 || es[0].To != "bob@example.com" {
			t.Errorf("pool emails = %+v", es)
		}
		es, _, _ = e.s.ListEmails(e.ctx, q.ID, identity.EmailSent, 0, "")
		if len(es) != 0 {
			t.Errorf("sent emails = %d", len(es))
		}
		_, _, err = e.s.ListEmails(e.ctx, "", "bounced", 0, "")
		admWantCode(t, err, identity.CodeInvalidParameter)
		_, _, err = e.s.ListEmails(e.ctx, "", "", 5000, "")
		admWantCode(t, err, identity.CodeInvalidParameter)
	})
}
