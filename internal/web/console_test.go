package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// consoleEnv is setup's pool with console people: root (pool admin, in
// the Admins group), carol (company admin of acme), mallory (neither);
// and two pending requests: ann for acme, gus for globex.
type consoleEnv struct {
	*env
	annReq, gusReq string
	carolSub       string
}

func consoleSetup(t *testing.T) *consoleEnv {
	t.Helper()
	return consoleSetupWith(t, setupOpts{})
}

// consoleSetupWith is consoleSetup with o (its rate burst is 1000).
func consoleSetupWith(t *testing.T, o setupOpts) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	o.rateBurst = 1000
	e := setup(t, o)
	for _, u := range []string{"root@example.org", "carol@acme.example", "mallory@example.org"} {
		confirmedUser(t, e, u)
	}
	if _, err := e.svc.CreateGroup(ctx, &identity.Group{PoolID: e.pool.ID, Name: identity.DefaultConsoleAdminGroup}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminAddUserToGroup(ctx, e.pool.ID, "root@example.org", identity.DefaultConsoleAdminGroup); err != nil {
		t.Fatal(err)
	}
	co := *e.company
	co.Approvers = append(co.Approvers, identity.Approver{Sub: "carol@acme.example"})
	if _, err := e.svc.UpdateCompany(ctx, &co); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.AdminGetUser(ctx, e.pool.ID, "carol@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	ce := &consoleEnv{env: e, carolSub: v.User.Sub}
	ce.annReq = ce.pendingSignUp("ann@example.org", "Acme Corporation")
	ce.gusReq = ce.pendingSignUp("gus@example.org", "Globex")
	return ce
}

// pendingSignUp signs up on the hosted pages and enters the emailed code;
// it returns the id of the pending request.
func (e *consoleEnv) pendingSignUp(email, company string) string {
	t := e.t
	t.Helper()
	b := e.browser()
	r := must(t, b.submit(e.page("signup?client_id="+e.clientID), signUpForm(email, company)), http.StatusSeeOther)
	loc := r.header.Get("Location")
	code := e.mail(email).Code()
	must(t, b.submit(e.base+loc, url.Values{"username": {email}, "code": {code}}), http.StatusSeeOther)
	list, _, err := e.svc.ListRegistrations(context.Background(), e.pool.ID, auth.RegistrationFilter{State: identity.RegPending}, 60, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.Email == email {
			return x.ID
		}
	}
	t.Fatalf("no pending request for %s", email)
	return ""
}

// consoleLogin signs in on the hosted sign-in page and returns the
// browser holding the session.
func (e *consoleEnv) consoleLogin(email string) *browser {
	e.t.Helper()
	b := e.browser()
	r := b.get(e.page("console"))
	must(e.t, r, http.StatusSeeOther)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/"+e.pool.ID+"/login?") || !strings.Contains(loc, "return_to=%2F"+e.pool.ID+"%2Fconsole") {
		e.t.Fatalf("console without a session went to %s", loc)
	}
	lu, _ := url.Parse(loc)
	r = b.submit(e.base+loc, url.Values{"username": {email}, "password": {pw}, "return_to": {lu.Query().Get("return_to")}})
	must(e.t, r, http.StatusSeeOther)
	if got := r.header.Get("Location"); got != "/"+e.pool.ID+"/console" {
		e.t.Fatalf("after sign-in: %s", got)
	}
	return b
}

func (e *consoleEnv) console(p string) string {
	if p == "" {
		return e.page("console")
	}
	return e.page("console/" + p)
}

// formCSRF is the CSRF token of the page's form that posts to path.
func formCSRF(t *testing.T, r resp, path string) string {
	t.Helper()
	re := regexp.MustCompile(`action="` + regexp.QuoteMeta(path) + `"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"`)
	m := re.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no form posting to %s:\n%s", path, r.body)
	}
	return m[1]
}

func contains(t *testing.T, r resp, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Fatalf("the page lacks %q:\n%s", w, r.body)
		}
	}
}

func lacks(t *testing.T, r resp, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(r.body, w) {
			t.Fatalf("the page shows %q:\n%s", w, r.body)
		}
	}
}

// TestConsoleCompanyAdminSeesOnlyTheirCompany: carol lists and approves
// acme's request, and gets 403 for globex's request, the users list, the
// audit log and a user outside her company — by URL and by a forged POST.
// security.md R4
func TestConsoleCompanyAdminSeesOnlyTheirCompany(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	b := e.consoleLogin("carol@acme.example")

	dash := must(t, b.get(e.console("")), http.StatusOK)
	contains(t, dash, "company admin", "<svg", "approvals pending")
	lacks(t, dash, "Audit log", "Failed sign-ins per day")

	list := must(t, b.get(e.console("registrations")), http.StatusOK)
	contains(t, list, "ann@example.org")
	lacks(t, list, "gus@example.org")

	for _, p := range []string{"registrations/" + e.gusReq, "users", "audit", "emails", "clients", "groups", "hooks", "policy",
		"users/root%40example.org", "users/gus%40example.org", "companies/globex-x", "registrations?company=globex-x"} {
		if r := b.get(e.console(p)); r.status != http.StatusForbidden {
			t.Fatalf("company admin GET %s: %d, want 403\n%s", p, r.status, r.body)
		}
	}
	// A forged decision on globex's request, with a valid token for her
	// own request's form: the CSRF check refuses it (the token is bound to
	// the path); and the service refuses it for her actor anyway.
	own := must(t, b.get(e.console("registrations/"+e.annReq)), http.StatusOK)
	r := b.post(e.console("registrations/"+e.gusReq), url.Values{"csrf": {formCSRF(t, own, "/"+e.pool.ID+"/console/registrations/"+e.annReq)}, "decision": {"approve"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("forged decision: %d", r.status)
	}
	ctx, role, err := e.svc.ConsoleSignIn(context.Background(), e.pool.ID, e.carolSub, "")
	if err != nil || role.PoolAdmin || len(role.Companies) != 1 {
		t.Fatalf("carol's role: %+v %v", role, err)
	}
	if _, err := e.svc.DecideRegistration(ctx, e.pool.ID, e.gusReq, identity.DecisionApprove, "", auth.RequestMeta{}); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("service decision on another company's request: %v", err)
	}
	if err := e.svc.ConsoleUserAction(ctx, e.pool.ID, "root@example.org", auth.ConsoleDisable); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("company admin disabling a pool admin: %v", err)
	}
	if _, _, err := e.svc.ConsoleAudit(ctx, auth.ConsoleAuditQuery{AuditQuery: auth.AuditQuery{PoolID: e.pool.ID}}); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("company admin reading the audit log: %v", err)
	}
	if err := e.svc.RequirePoolAdmin(ctx, e.pool.ID); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("RequirePoolAdmin for a company admin: %v", err)
	}

	// Approve from the list.
	r = b.post(e.console("registrations"), url.Values{"csrf": {formCSRF(t, list, "/"+e.pool.ID+"/console/registrations")}, "id": {e.annReq}, "decision": {"approve"}})
	must(t, r, http.StatusSeeOther)
	det := must(t, b.get(e.console("registrations/"+e.annReq)), http.StatusOK)
	contains(t, det, "approved", "registration.approve", "user:"+e.carolSub)
	// The applicant is now a member: carol sees and may act on her.
	ann := must(t, b.get(e.console("users/ann%40example.org")), http.StatusOK)
	contains(t, ann, "custom:company_name", "acme")
	gus, _, _ := e.svc.ListRegistrations(context.Background(), e.pool.ID, auth.RegistrationFilter{State: identity.RegPending}, 10, "")
	if len(gus) != 1 || gus[0].ID != e.gusReq {
		t.Fatalf("globex's request changed: %+v", gus)
	}
}

// TestConsolePoolAdmin: root sees everything, disables a user (audited
// with root's console actor), exports the audit log as CSV; mallory, in
// no admin role, gets 403; a POST without CSRF is refused.
func TestConsolePoolAdmin(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	m := e.consoleLogin("mallory@example.org")
	if r := m.get(e.console("")); r.status != http.StatusForbidden || !strings.Contains(r.body, "Not an admin") {
		t.Fatalf("mallory: %d %s", r.status, r.body)
	}
	if r := m.get(e.console("registrations/" + e.annReq)); r.status != http.StatusForbidden {
		t.Fatalf("mallory's request page: %d", r.status)
	}

	b := e.consoleLogin("root@example.org")
	dash := must(t, b.get(e.console("")), http.StatusOK)
	contains(t, dash, "pool admin", "Sign-ups per day", "Failed sign-ins per day", "<svg")
	list := must(t, b.get(e.console("registrations")), http.StatusOK)
	contains(t, list, "ann@example.org", "gus@example.org")
	for _, p := range []string{"users", "users?email=ann", "users?status=UNCONFIRMED", "users?group=Admins", "companies", "companies/acme",
		"groups", "groups/Admins", "clients", "clients/" + e.clientID, "policy", "hooks", "audit", "audit?action=user.sign_in", "emails",
		"emails?status=sent", "users/mallory%40example.org", "users/mallory%40example.org/delete", "registrations/" + e.gusReq} {
		must(t, b.get(e.console(p)), http.StatusOK)
	}
	users := must(t, b.get(e.console("users?email=mal")), http.StatusOK)
	contains(t, users, "mallory@example.org")
	lacks(t, users, ">root@example.org</a>")

	// Deny one from its page.
	gp := must(t, b.get(e.console("registrations/"+e.gusReq)), http.StatusOK)
	must(t, b.post(e.console("registrations/"+e.gusReq), url.Values{"csrf": {formCSRF(t, gp, "/"+e.pool.ID+"/console/registrations/"+e.gusReq)}, "decision": {"deny"}}), http.StatusSeeOther)
	// A second decision says who decided.
	r := b.post(e.console("registrations/"+e.gusReq), url.Values{"csrf": {formCSRF(t, gp, "/"+e.pool.ID+"/console/registrations/"+e.gusReq)}, "decision": {"approve"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "already decided") {
		t.Fatalf("second decision: %d %s", r.status, r.body)
	}

	// Disable mallory; without the token the POST is refused.
	up := must(t, b.get(e.console("users/mallory%40example.org")), http.StatusOK)
	if r := b.post(e.console("users/mallory%40example.org"), url.Values{"action": {"disable"}}); r.status != http.StatusForbidden {
		t.Fatalf("POST without CSRF: %d", r.status)
	}
	must(t, b.post(e.console("users/mallory%40example.org"), url.Values{"csrf": {formCSRF(t, up, "/"+e.pool.ID+"/console/users/mallory@example.org")}, "action": {"disable"}}), http.StatusSeeOther)
	v, err := e.svc.AdminGetUser(context.Background(), e.pool.ID, "mallory@example.org")
	if err != nil || v.User.Enabled {
		t.Fatalf("mallory still enabled: %v", err)
	}
	// Mallory's session ended with it.
	if r := m.get(e.console("")); r.status != http.StatusSeeOther {
		t.Fatalf("disabled user's console: %d", r.status)
	}
	// Root cannot disable themself.
	rp := must(t, b.get(e.console("users/root%40example.org")), http.StatusOK)
	if r := b.post(e.console("users/root%40example.org"), url.Values{"csrf": {formCSRF(t, rp, "/"+e.pool.ID+"/console/users/root@example.org")}, "action": {"disable"}}); r.status != http.StatusBadRequest {
		t.Fatalf("self-disable: %d", r.status)
	}

	audit := must(t, b.get(e.console("audit?action=admin.user_disable")), http.StatusOK)
	contains(t, audit, "admin.user_disable", `title="user:`, ">user:root@example.org</span></td><td>console</td>")
	csvResp := must(t, b.get(e.console("audit?format=csv")), http.StatusOK)
	if ct := csvResp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("CSV content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(csvResp.body)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][1] != "action" {
		t.Fatalf("CSV: %v %q", err, rows)
	}
	found := false
	for _, row := range rows {
		if row[1] == "registration.deny" {
			found = true
		}
	}
	if !found {
		t.Fatalf("CSV lacks the denial: %q", rows)
	}

	// Delete needs the confirmation field.
	dp := must(t, b.get(e.console("users/mallory%40example.org/delete")), http.StatusOK)
	must(t, b.post(e.console("users/mallory%40example.org/delete"), url.Values{"csrf": {formCSRF(t, dp, "/"+e.pool.ID+"/console/users/mallory@example.org/delete")}}), http.StatusSeeOther)
	if _, err := e.svc.AdminGetUser(context.Background(), e.pool.ID, "mallory@example.org"); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}
	must(t, b.post(e.console("users/mallory%40example.org/delete"), url.Values{"csrf": {formCSRF(t, dp, "/"+e.pool.ID+"/console/users/mallory@example.org/delete")}, "confirm": {"yes"}}), http.StatusSeeOther)
	if _, err := e.svc.AdminGetUser(context.Background(), e.pool.ID, "mallory@example.org"); identity.ErrorCode(err) != identity.CodeUserNotFound {
		t.Fatalf("after delete: %v", err)
	}

	// A client secret is shown once.
	cp := must(t, b.get(e.console("clients")), http.StatusOK)
	r = b.post(e.console("clients"), url.Values{"csrf": {formCSRF(t, cp, "/"+e.pool.ID+"/console/clients")}, "name": {"backend"}, "secret": {"yes"},
		"auth_flow": {identity.FlowRefreshToken}})
	must(t, r, http.StatusOK)
	contains(t, r, "shown only this once", `id="client-secret"`)

	// The outbox: an invitation discarded before delivery is never sent,
	// and a Retry cannot undo the discard.
	ctx := context.Background()
	if _, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: "ivy@example.org",
		Attributes: map[string]string{"email": "ivy@example.org", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	emailTo := func(to string) *identity.Email {
		t.Helper()
		es, _, err := e.svc.ListEmails(ctx, e.pool.ID, "", 60, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range es {
			if m.To == to {
				return m
			}
		}
		t.Fatal("no email to " + to)
		return nil
	}
	ivy := func() *identity.Email { t.Helper(); return emailTo("ivy@example.org") }
	m0 := ivy()
	op := must(t, b.get(e.console("emails?status=queued")), http.StatusOK)
	act := "/" + e.pool.ID + "/console/emails/" + strconv.FormatInt(m0.ID, 10)
	must(t, b.post(e.base+act, url.Values{"csrf": {formCSRF(t, op, act)}, "op": {"discard"}}), http.StatusSeeOther)
	e.drain()
	if m := ivy(); m.Status != identity.EmailDiscarded || !strings.HasPrefix(m.LastError, auth.DiscardedPrefix+"user:") {
		t.Fatalf("discarded email: %+v", m)
	}
	if r := b.post(e.base+act, url.Values{"csrf": {formCSRF(t, op, act)}, "op": {"retry"}}); r.status != http.StatusBadRequest {
		t.Fatalf("retrying a discarded email: %d", r.status)
	}
	if len(e.smtp.MessagesTo("ivy@example.org")) != 0 {
		t.Fatal("a discarded email was sent")
	}

	// An email the relay refused is dead; Send again re-arms its job and
	// it goes out; then the bulk "send all dead emails again" after an
	// outage.
	e.smtp.Fail(mailtest.StageRcpt, 550, "mailbox unavailable", 1)
	if _, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: "joe@example.org",
		Attributes: map[string]string{"email": "joe@example.org", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	joe := emailTo("joe@example.org")
	if joe.Status != identity.EmailDead {
		t.Fatalf("refused email: %+v", joe)
	}
	op = must(t, b.get(e.console("emails?status=dead")), http.StatusOK)
	contains(t, op, "joe@example.org", `id="retry-`+strconv.FormatInt(joe.ID, 10)+`"`, `id="retry-dead"`)
	act = "/" + e.pool.ID + "/console/emails/" + strconv.FormatInt(joe.ID, 10)
	must(t, b.post(e.base+act, url.Values{"csrf": {formCSRF(t, op, act)}, "op": {"retry"}}), http.StatusSeeOther)
	if got := e.mail("joe@example.org"); !strings.Contains(got.Text, "joe@example.org") {
		t.Fatalf("invitation after retry: %q", got.Text)
	}
	if m := emailTo("joe@example.org"); m.Status != identity.EmailSent || m.JobID != joe.JobID {
		t.Fatalf("retried email: %+v (job %d before)", m, joe.JobID)
	}
	// A second retry of a sent email is refused by the service.
	if r := b.post(e.base+act, url.Values{"csrf": {formCSRF(t, op, act)}, "op": {"retry"}}); r.status != http.StatusBadRequest {
		t.Fatalf("retrying a sent email: %d", r.status)
	}
	e.smtp.Fail(mailtest.StageMail, 550, "relay down", 1)
	if _, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: "kim@example.org",
		Attributes: map[string]string{"email": "kim@example.org", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	op = must(t, b.get(e.console("emails?status=dead")), http.StatusOK)
	all := "/" + e.pool.ID + "/console/emails/retry-dead"
	must(t, b.post(e.base+all, url.Values{"csrf": {formCSRF(t, op, all)}}), http.StatusSeeOther)
	e.mail("kim@example.org")
	if m := emailTo("kim@example.org"); m.Status != identity.EmailSent {
		t.Fatalf("bulk-retried email: %+v", m)
	}
	evs, _, _ := e.svc.Audit(ctx, auth.AuditQuery{PoolID: e.pool.ID, Action: "email.retry"})
	if len(evs) != 1 || !strings.HasPrefix(evs[0].Actor, "user:") {
		t.Fatalf("email.retry audit: %+v", evs)
	}
	if evs, _, _ := e.svc.Audit(ctx, auth.AuditQuery{PoolID: e.pool.ID, Action: "email.retry_dead"}); len(evs) != 1 || evs[0].Detail["count"] != "1" {
		t.Fatalf("email.retry_dead audit: %+v", evs)
	}

	// The jobs page lists the pool's jobs, and only those: a global job
	// and another pool's stay with the global admins. Retry and Discard
	// work on the pool's own.
	var global *identity.Job
	if err := e.st.InTx(ctx, func(q store.Querier) error {
		var err error
		global, err = jobs.Enqueue(ctx, q, "maintenance.global", nil, time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	op = must(t, b.get(e.console("jobs")), http.StatusOK)
	contains(t, op, "email.send", `id="job-`+strconv.FormatInt(joe.JobID, 10)+`"`)
	if strings.Contains(op.body, "maintenance.global") {
		t.Fatal("the console lists a global job")
	}
	root, err := e.st.GetUserByUsername(ctx, e.pool.ID, "root@example.org")
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := e.svc.ConsoleSignIn(ctx, e.pool.ID, root.Sub, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DiscardJob(admin, e.pool.ID, global.ID); identity.ErrorCode(err) != identity.CodeResourceNotFound {
		t.Fatalf("a pool admin's discard of a global job: %v", err)
	}
	if _, _, err := e.svc.ListJobs(admin, "", "", "", 0, ""); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("a pool admin listed every job: %v", err)
	}
	if j, _ := e.st.GetJob(ctx, global.ID); j.State != identity.JobPending {
		t.Fatalf("global job: %+v", j)
	}
	// Run now on a pending job, Discard on a dead one, from the page.
	kimJob := emailTo("kim@example.org").JobID
	e.smtp.Fail(mailtest.StageMail, 451, "busy", 1)
	if _, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: "lea@example.org",
		Attributes: map[string]string{"email": "lea@example.org", "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	lea := emailTo("lea@example.org")
	if lea.Status != identity.EmailRetrying {
		t.Fatalf("lea: %+v", lea)
	}
	op = must(t, b.get(e.console("jobs?state=pending")), http.StatusOK)
	act = "/" + e.pool.ID + "/console/jobs/" + strconv.FormatInt(lea.JobID, 10)
	must(t, b.post(e.base+act, url.Values{"csrf": {formCSRF(t, op, act)}, "op": {"retry"}}), http.StatusSeeOther)
	e.mail("lea@example.org")
	if m := emailTo("lea@example.org"); m.Status != identity.EmailSent || m.Attempts != 2 {
		t.Fatalf("lea after Run now: %+v", m)
	}
	op = must(t, b.get(e.console("jobs")), http.StatusOK)
	if strings.Contains(op.body, `id="job-discard-`+strconv.FormatInt(kimJob, 10)+`"`) {
		t.Fatal("a done job offers Discard")
	}
}

// TestConsoleDashboardCounts: the dashboard's numbers come from the
// requests and the audit log, with the injected clock.
func TestConsoleDashboardCounts(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	b := e.browser()
	r := b.submit(e.page("login?client_id="+e.clientID), url.Values{"username": {"root@example.org"}, "password": {"wrong " + pw}})
	if r.status == http.StatusSeeOther {
		t.Fatalf("a wrong password signed in")
	}
	e.clock.Advance(3 * time.Hour)
	rootCtx, _, err := e.svc.ConsoleSignIn(ctx, e.pool.ID, mustSub(t, e, "root@example.org"), "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.ConsoleDashboard(rootCtx, e.pool.ID, 14)
	if err != nil {
		t.Fatal(err)
	}
	if sum(d.SignUps) != 2 || sum(d.SignInFailures) != 1 || len(d.PendingAges) != 2 || d.PendingAges[0] < 3*time.Hour {
		t.Fatalf("dashboard: %+v", d)
	}
	if _, err := e.svc.DecideRegistration(rootCtx, e.pool.ID, e.annReq, identity.DecisionApprove, "", auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.svc.ConsoleDashboard(rootCtx, e.pool.ID, 14)
	if len(d.PendingAges) != 1 || d.Approved != 1 || len(d.DecisionTimes) != 1 || d.DecisionTimes[0] < 3*time.Hour {
		t.Fatalf("after a decision: %+v", d)
	}
	page := must(t, e.consoleLogin("root@example.org").get(e.console("")), http.StatusOK)
	contains(t, page, `aria-label="Time to decision"`, "1–24 hours: 1", "median time to decision 3.0 h")
	if _, err := e.svc.ConsoleDashboard(rootCtx, e.pool.ID, 91); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("91 days: %v", err)
	}
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

func mustSub(t *testing.T, e *consoleEnv, username string) string {
	t.Helper()
	v, err := e.svc.AdminGetUser(context.Background(), e.pool.ID, username)
	if err != nil {
		t.Fatal(err)
	}
	return v.User.Sub
}

// TestConsoleManage: a pool admin invites a user, manages a group's
// members and a company; a company admin may rename her company and
// change its approvers but not its domains (the service refuses).
func TestConsoleManage(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	root := e.consoleLogin("root@example.org")
	base := "/" + e.pool.ID + "/console"

	up := must(t, root.get(e.console("users")), http.StatusOK)
	r := must(t, root.post(e.console("users"), url.Values{"csrf": {formCSRF(t, up, base+"/users")}, "email": {"ivy@example.org"}, "company": {"acme"}}), http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/users/ivy@example.org?notice=invited") {
		t.Fatalf("after invite: %s", loc)
	}
	if m := e.mail("ivy@example.org"); !strings.Contains(m.Text, "ivy@example.org") {
		t.Fatalf("invitation: %q", m.Text)
	}
	v, err := e.svc.AdminGetUser(ctx, e.pool.ID, "ivy@example.org")
	if err != nil || v.User.Status != identity.StatusForceChangePassword || v.User.Attributes["custom:company_name"] != "acme" {
		t.Fatalf("invited user: %+v %v", v, err)
	}

	gp := must(t, root.get(e.console("groups/Admins")), http.StatusOK)
	must(t, root.post(e.console("groups/Admins"), url.Values{"csrf": {formCSRF(t, gp, base+"/groups/Admins")}, "op": {"add"}, "username": {"ivy@example.org"}}), http.StatusSeeOther)
	gp = must(t, root.get(e.console("groups/Admins")), http.StatusOK)
	contains(t, gp, ">ivy@example.org</a>")
	must(t, root.post(e.console("groups/Admins"), url.Values{"csrf": {formCSRF(t, gp, base+"/groups/Admins")}, "op": {"remove"}, "username": {"ivy@example.org"}}), http.StatusSeeOther)
	if gs, _ := e.svc.AdminListGroupsForUser(ctx, e.pool.ID, "ivy@example.org"); len(gs) != 1 || gs[0].Name != "acme" {
		t.Fatalf("ivy's groups after removal: %v", gs) // invited into acme: its group stays (security.md A4)
	}

	carol := e.consoleLogin("carol@acme.example")
	cp := must(t, carol.get(e.console("companies/acme")), http.StatusOK)
	contains(t, cp, "user:"+e.carolSub)
	tok := formCSRF(t, cp, base+"/companies/acme")
	ap := "user:" + e.carolSub + "\nboss@acme.example"
	must(t, carol.post(e.console("companies/acme"), url.Values{"csrf": {tok}, "display_name": {"Acme Corp."}, "approvers": {ap}}), http.StatusSeeOther)
	co, _ := e.svc.GetCompany(ctx, e.pool.ID, "acme")
	if co.DisplayName != "Acme Corp." || len(co.Approvers) != 2 {
		t.Fatalf("company after carol's edit: %+v", co)
	}
	// Domains in her form are ignored (not a field for her); removing
	// an approver, herself included, is refused by the service
	// (security.md R3).
	r = carol.post(e.console("companies/acme"), url.Values{"csrf": {tok}, "display_name": {"Acme"}, "approvers": {"boss@acme.example"}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "not remove one") {
		t.Fatalf("carol removing herself: %d %s", r.status, r.body)
	}
	r = carol.post(e.console("companies/acme"), url.Values{"csrf": {tok}, "display_name": {"Acme"}, "approvers": {"user:" + e.carolSub}})
	if r.status != http.StatusForbidden {
		t.Fatalf("carol removing her peer: %d %s", r.status, r.body)
	}
	ctxCarol, _, _ := e.svc.ConsoleSignIn(ctx, e.pool.ID, e.carolSub, "")
	co.EmailDomains = []string{"acme.example"}
	if _, err := e.svc.UpdateCompany(ctxCarol, co); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("company admin changing domains: %v", err)
	}
	// The pool admin may.
	cp = must(t, root.get(e.console("companies/acme")), http.StatusOK)
	must(t, root.post(e.console("companies/acme"), url.Values{"csrf": {formCSRF(t, cp, base+"/companies/acme")}, "display_name": {"Acme"},
		"approvers": {ap}, "domains": {"acme.example"}, "group": {"acme"}, "status": {"active"}}), http.StatusSeeOther)
	if co, _ = e.svc.GetCompany(ctx, e.pool.ID, "acme"); strings.Join(co.EmailDomains, ",") != "acme.example" {
		t.Fatalf("domains: %+v", co)
	}

	// A hook's test button sends a test event and shows the answer.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b) // a pre sign-up event answered unchanged
	}))
	t.Cleanup(hs.Close)
	if _, _, err := e.svc.PutHook(ctx, e.pool.ID, identity.TriggerPreSignUp, auth.HookInput{URL: hs.URL}); err != nil {
		t.Fatal(err)
	}
	hp := must(t, root.get(e.console("hooks")), http.StatusOK)
	contains(t, hp, hs.URL)
	act := base + "/hooks/pre_sign_up/test"
	r = must(t, root.post(e.base+act, url.Values{"csrf": {formCSRF(t, hp, act)}}), http.StatusOK)
	contains(t, r, "the hook answered correctly", "HTTP 200")
	if r := carol.get(e.console("hooks")); r.status != http.StatusForbidden {
		t.Fatalf("company admin's hooks page: %d", r.status)
	}
}
