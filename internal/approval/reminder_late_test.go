package approval_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// An applicant who proves the email only after the reminder delay has
// passed (here: a fresh code two days after signing up) still gets the
// approvers reminded — the reminder counts from when the approvers were
// asked, not from the sign-up.
func TestReminderCountsFromVerification(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(nil))
	acme(e, nil)
	const who = "late@x.example"
	e.must(e.signUp(who, "Acme"), http.StatusCreated)
	e.mail(who) // the first code, left unused
	e.clock.Advance(49 * time.Hour)
	e.drain()
	e.must(e.do("POST", "/api/v1/auth/resend-code", "", map[string]any{"client_id": e.clientID, "username": who}), http.StatusOK)
	code := e.mail(who).Code()
	e.must(e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": e.clientID, "username": who, "code": code}), http.StatusNoContent)
	if m := e.mail("boss@acme.example"); strings.Contains(m.Subject, "Reminder") {
		t.Fatalf("first approver email is a reminder: %q", m.Subject)
	}
	e.clock.Advance(47 * time.Hour)
	e.noMail("boss@acme.example")
	e.clock.Advance(2 * time.Hour)
	if m := e.mail("boss@acme.example"); !strings.Contains(m.Subject, "Reminder") {
		t.Fatalf("no reminder two days after the approvers were asked: %q", m.Subject)
	}
}
