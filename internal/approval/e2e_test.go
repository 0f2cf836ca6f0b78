package approval_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// acme creates article 000's company with one plain-address approver.
func acme(e *env, extra map[string]any) {
	body := map[string]any{"name": "Acme", "display_name": "Ácme Corp", "approvers": []map[string]string{{"email": "boss@acme.example"}}}
	for k, v := range extra {
		body[k] = v
	}
	e.createCompany(body)
}

// Article 000: approve. The applicant verifies the email first; only then
// is the approver asked; the user stays UNCONFIRMED until approved; the
// approval confirms the user, adds the company group, and the ID token
// carries custom:company_name and the group.
func TestArticle000Approve(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		acme(e, nil)
		e.must(e.signUp("john@mycompany.example", "acme"), http.StatusCreated)
		// Before verification nobody is asked.
		e.mail("john@mycompany.example") // the code
		e.noMail("boss@acme.example")
		if got := e.registrations("awaiting_verification"); len(got) != 1 {
			t.Fatalf("awaiting: %v", got)
		}
		code := ""
		// Resend and use the newest code.
		e.must(e.do("POST", "/api/v1/auth/resend-code", "", map[string]any{"client_id": e.clientID, "username": "john@mycompany.example"}), http.StatusOK)
		code = e.mail("john@mycompany.example").Code()
		e.must(e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": e.clientID, "username": "john@mycompany.example", "code": code}), http.StatusNoContent)

		if st, u := e.user("john@mycompany.example"); st != 200 || u.Status != "UNCONFIRMED" {
			t.Fatalf("after verification: %d %+v", st, u)
		}
		if c := e.signIn("john@mycompany.example").code(); c != string(identity.CodeApprovalPending) {
			t.Fatalf("sign-in before approval: %s", c)
		}
		m := e.mail("boss@acme.example")
		if !strings.Contains(m.Text, "john@mycompany.example") || !strings.Contains(m.Text, "Acme") || !strings.Contains(m.Text, "approval-test/1.0") {
			t.Fatalf("approval email lacks details: %s", m.Text)
		}
		approve, _ := links(t, m)
		if !strings.HasPrefix(approve, e.srv.URL+"/"+e.pool.ID+"/approval/") {
			t.Fatalf("link not built from the base URL: %s", approve)
		}
		res := e.decideByLink(approve)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Approved") {
			t.Fatalf("decision: %d %s", res.status, res.body)
		}
		if !strings.Contains(e.mail("john@mycompany.example").Subject, "approved") {
			t.Fatal("no approval email to the applicant")
		}
		_, u := e.user("john@mycompany.example")
		if u.Status != "CONFIRMED" || !slices.Contains(u.Groups, "Acme") {
			t.Fatalf("after approval: %+v", u)
		}
		// Token check.
		var tok struct {
			IDToken string `json:"id_token"`
		}
		e.must(e.signIn("john@mycompany.example"), http.StatusOK).decode(t, &tok)
		c := claims(t, tok.IDToken)
		if c["custom:company_name"] != "Acme" {
			t.Errorf("custom:company_name = %v", c["custom:company_name"])
		}
		groups, _ := c["cognito:groups"].([]any)
		if !slices.Contains(groups, any("Acme")) {
			t.Errorf("cognito:groups = %v", c["cognito:groups"])
		}
		// Audit trail through the API.
		reg := e.registrations("approved")
		if len(reg) != 1 || reg[0]["decided_by"] != "approver-link:boss@acme.example" || reg[0]["decided_via"] != "email-link" {
			t.Fatalf("approved list: %v", reg)
		}
		var detail struct {
			Events []struct {
				Action string
				IP     string
				Detail map[string]string
			}
		}
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/registrations/"+reg[0]["id"].(string), e.adminKey, nil), 200).decode(t, &detail)
		var actions []string
		for _, ev := range detail.Events {
			actions = append(actions, ev.Action)
			if ev.Action == "registration.approve" && (ev.IP == "" || ev.Detail["user_agent"] != "approver-browser/2.0") {
				t.Errorf("approve event lacks ip/user agent: %+v", ev)
			}
		}
		for _, want := range []string{"registration.create", "registration.pending", "registration.approve"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit %v lacks %s", actions, want)
			}
		}
	})
}

// Mail scanners and second decisions: GET and HEAD five times change
// nothing; a POST without the CSRF token (or cookie) is refused; the deny
// link after approval shows who decided and sends no second email.
func TestLinksSafeAgainstScannersAndSecondDecision(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		acme(e, map[string]any{"approvers": []map[string]string{{"email": "boss@acme.example"}, {"email": "cfo@acme.example"}}})
		e.signUpAndVerify("ann@elsewhere.example", "Acme")
		approve, deny := links(t, e.mail("boss@acme.example"))
		_, deny2 := links(t, e.mail("cfo@acme.example"))
		for i := 0; i < 5; i++ {
			for _, l := range []string{approve, deny} {
				for _, m := range []string{"GET", "HEAD"} {
					p := e.open(m, l)
					if p.status != http.StatusOK {
						t.Fatalf("%s %d: %d", m, i, p.status)
					}
					if p.header.Get("Content-Security-Policy") == "" || p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Referrer-Policy") != "no-referrer" {
						t.Fatalf("security headers missing: %v", p.header)
					}
				}
			}
		}
		if got := e.registrations("pending"); len(got) != 1 {
			t.Fatalf("scanners changed the request: %v", got)
		}
		e.noMail("ann@elsewhere.example")

		p := e.open("GET", deny)
		for _, tc := range []struct {
			name   string
			cookie *http.Cookie
			csrf   string
		}{
			{"no token", p.cookie, ""},
			{"no cookie", nil, p.csrf()},
			{"forged token", p.cookie, "AAAA" + p.csrf()[4:]},
			{"token of another path", p.cookie, e.open("GET", approve).csrf()},
		} {
			if r := e.post(deny, tc.cookie, tc.csrf); r.status != http.StatusForbidden {
				t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
			}
		}
		if got := e.registrations("pending"); len(got) != 1 {
			t.Fatal("a refused POST changed the request")
		}
		// The CFO opens the deny page before the boss decides ...
		late := e.open("GET", deny2)
		if r := e.decideByLink(approve); r.status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		e.mail("ann@elsewhere.example")
		// ... and presses the button after: refused, naming who decided.
		if r := e.post(deny2, late.cookie, late.csrf()); r.status != http.StatusConflict || !strings.Contains(r.body, "boss@acme.example") {
			t.Fatalf("late decision: %d %s", r.status, r.body)
		}
		// The other approver's deny link now says who decided.
		p = e.open("GET", deny2)
		if p.status != http.StatusOK || !strings.Contains(p.body, "already decided") || !strings.Contains(p.body, "boss@acme.example") || p.csrf() != "" {
			t.Fatalf("decided page: %d %s", p.status, p.body)
		}
		// The API refuses a second decision too.
		id := e.registrations("approved")[0]["id"].(string)
		if c := e.do("POST", "/api/v1/pools/"+e.pool.ID+"/registrations/"+id+"/deny", e.adminKey, nil).code(); c != "conflict" {
			t.Fatalf("API second decision: %s", c)
		}
		e.noMail("ann@elsewhere.example")
		if _, u := e.user("ann@elsewhere.example"); u.Status != "CONFIRMED" {
			t.Fatalf("user: %+v", u)
		}
		// A bad token is a 404 page, not an error leak.
		if p := e.open("GET", e.srv.URL+"/"+e.pool.ID+"/approval/nope"); p.status != http.StatusNotFound {
			t.Fatalf("bad token: %d", p.status)
		}
	})
}

// Article 000: deny. The user is removed and told.
func TestArticle000Deny(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		acme(e, nil)
		e.signUpAndVerify("mallory@evil.example", "Acme")
		_, deny := links(t, e.mail("boss@acme.example"))
		if r := e.decideByLink(deny); r.status != http.StatusOK || !strings.Contains(r.body, "Denied") {
			t.Fatalf("deny: %d %s", r.status, r.body)
		}
		m := e.mail("mallory@evil.example")
		if !strings.Contains(m.Text, "denied") {
			t.Fatalf("denial email: %s", m.Text)
		}
		if st, _ := e.user("mallory@evil.example"); st != http.StatusNotFound {
			t.Fatalf("denied user still there: %d", st)
		}
		if got := e.registrations("denied"); len(got) != 1 {
			t.Fatalf("denied: %v", got)
		}
	})
}

// Deny with on_deny=disable through the native API: the user is kept,
// disabled and unconfirmed.
func TestDenyKeepsDisabledUser(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(func(ap *identity.ApprovalPolicy) { ap.OnDeny = identity.OnDenyDisable }))
		acme(e, nil)
		e.signUpAndVerify("x@y.example", "Acme")
		e.mail("boss@acme.example")
		id := e.registrations("pending")[0]["id"].(string)
		e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/registrations/"+id+"/deny", e.adminKey, map[string]string{"reason": "not ours"}), 200)
		_, u := e.user("x@y.example")
		if u.Enabled || u.Status != "UNCONFIRMED" {
			t.Fatalf("user: %+v", u)
		}
		if !strings.Contains(e.mail("x@y.example").Text, "not activated") {
			t.Fatal("no denial email")
		}
	})
}

// Article 000: unknown company, and a company without any approver: the
// request ends as no_approver, the user is removed and told why.
func TestArticle000UnknownCompanyAndNoApprover(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		e.createCompany(map[string]any{"name": "Lonely"})
		for _, tc := range []struct{ email, company, reason, text string }{
			{"a@x.example", "Nonexistent Inc", "unknown_company", "could not find the company"},
			{"b@x.example", "lonely", "no_approver", "Nobody at Lonely"},
		} {
			e.signUpAndVerify(tc.email, tc.company)
			m := e.mail(tc.email)
			if !strings.Contains(m.Text, tc.text) {
				t.Errorf("%s: email %q", tc.reason, m.Text)
			}
			if st, _ := e.user(tc.email); st != http.StatusNotFound {
				t.Errorf("%s: user kept", tc.reason)
			}
		}
		got := e.registrations("no_approver")
		reasons := map[any]bool{}
		for _, r := range got {
			reasons[r["reason"]] = true
		}
		if len(got) != 2 || !reasons["no_approver"] || !reasons["unknown_company"] {
			t.Fatalf("no_approver: %v", got)
		}
	})
}

// With on_no_approver=admins the request goes to the pool's admins.
func TestNoApproverRoutedToPoolAdmins(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(func(ap *identity.ApprovalPolicy) {
		ap.OnNoApprover = identity.NoApproverAdmins
		ap.PoolAdmins = []string{"ops@app.example"}
	}))
	e.signUpAndVerify("c@x.example", "Who Knows")
	approve, _ := links(t, e.mail("ops@app.example"))
	if r := e.decideByLink(approve); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if _, u := e.user("c@x.example"); u.Status != "CONFIRMED" {
		t.Fatalf("user %+v", u)
	}
}

// Article 000: a reminder after 2 days (default), escalation when nobody
// in the company can approve any more, and expiry after 7 days: the
// jobs were scheduled at sign-up and fire when due.
func TestArticle000ReminderAndExpiry(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(func(ap *identity.ApprovalPolicy) { ap.PoolAdmins = []string{"ops@app.example"} }))
		acme(e, nil)
		e.signUpAndVerify("slow@x.example", "Acme")
		e.mail("boss@acme.example")
		e.clock.Advance(47 * time.Hour)
		e.noMail("boss@acme.example")
		e.clock.Advance(2 * time.Hour)
		m := e.mail("boss@acme.example")
		if !strings.Contains(m.Subject, "Reminder") {
			t.Fatalf("reminder subject %q", m.Subject)
		}
		approve, _ := links(t, m)
		// A reminder job that runs again sends nothing twice.
		e.noMail("boss@acme.example")
		e.clock.Advance(5 * 24 * time.Hour)
		e.drain()
		if got := e.registrations("expired"); len(got) != 1 {
			t.Fatalf("expired: %v", got)
		}
		if !strings.Contains(e.mail("slow@x.example").Text, "in time") {
			t.Fatal("no expiry email")
		}
		if st, _ := e.user("slow@x.example"); st != http.StatusNotFound {
			t.Fatal("expired user kept")
		}
		if p := e.open("GET", approve); !strings.Contains(p.body, "already decided: expired") {
			t.Fatalf("expired link page: %d %s", p.status, p.body)
		}
	})
}

// Escalation: at reminder time the company has no usable approver any more.
func TestReminderEscalatesToPoolAdmins(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(func(ap *identity.ApprovalPolicy) { ap.PoolAdmins = []string{"ops@app.example"} }))
	acme(e, nil)
	e.signUpAndVerify("d@x.example", "Acme")
	e.mail("boss@acme.example")
	e.must(e.do("PATCH", "/api/v1/pools/"+e.pool.ID+"/companies/acme", e.adminKey, map[string]any{"approvers": []any{}}), 200)
	e.clock.Advance(49 * time.Hour)
	if m := e.mail("ops@app.example"); !strings.Contains(m.Subject, "Reminder") {
		t.Fatalf("escalation: %q", m.Subject)
	}
}

// Article 000 §5: auto-approve when the verified email's domain belongs to
// the named company.
func TestAutoApproveCompanyDomain(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(func(ap *identity.ApprovalPolicy) { ap.AutoApproveCompanyDomain = true }))
	acme(e, map[string]any{"email_domains": []string{"acme.example"}})
	e.signUpAndVerify("eve@acme.example", "Acme")
	if _, u := e.user("eve@acme.example"); u.Status != "CONFIRMED" || !slices.Contains(u.Groups, "Acme") {
		t.Fatalf("user %+v", u)
	}
	e.noMail("boss@acme.example")
	// Another domain still needs the approver.
	e.signUpAndVerify("frank@gmail.example", "Acme")
	e.mail("boss@acme.example")
}

// A company admin (a pool user listed as approver) decides through the
// native API with their access token, sees only their company, and cannot
// act as a pool admin.
func TestCompanyAdminThroughAPI(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(nil))
	// The company admin is a confirmed pool user.
	e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/users", e.adminKey, map[string]any{"username": "admin@acme.example",
		"temporary_password": pw, "message_action": "SUPPRESS"}), http.StatusCreated)
	e.must(e.do("PUT", "/api/v1/pools/"+e.pool.ID+"/users/admin@acme.example/password", e.adminKey, map[string]any{"password": pw, "permanent": true}), http.StatusNoContent)
	acme(e, map[string]any{"approvers": []map[string]string{{"sub": "admin@acme.example"}}})
	e.createCompany(map[string]any{"name": "Other", "approvers": []map[string]string{{"email": "o@other.example"}}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	e.must(e.signIn("admin@acme.example"), 200).decode(t, &tok)
	at := tok.AccessToken

	e.signUpAndVerify("g@x.example", "Acme")
	e.signUpAndVerify("h@x.example", "Other")
	// The company admin's own account is active, so they get the email.
	e.mail("admin@acme.example")

	var list struct{ Items []map[string]any }
	e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/registrations", at, nil), 200).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0]["email"] != "g@x.example" {
		t.Fatalf("company admin list: %v", list.Items)
	}
	if r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/registrations?company=other", at, nil); r.status != http.StatusForbidden {
		t.Fatalf("other company: %d", r.status)
	}
	other := e.registrations("pending")
	var otherID, mineID string
	for _, r := range other {
		if r["email"] == "h@x.example" {
			otherID = r["id"].(string)
		} else {
			mineID = r["id"].(string)
		}
	}
	if r := e.do("POST", "/api/v1/pools/"+e.pool.ID+"/registrations/"+otherID+"/approve", at, nil); r.status != http.StatusForbidden {
		t.Fatalf("deciding for another company: %d %s", r.status, r.body)
	}
	e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/registrations/"+mineID+"/approve", at, nil), 200)
	// Company routes: own company yes, others no, pool-admin routes no.
	e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/companies/acme", at, nil), 200)
	e.must(e.do("PATCH", "/api/v1/pools/"+e.pool.ID+"/companies/acme", at, map[string]any{"display_name": "Acme Worldwide"}), 200)
	for _, r := range []resp{
		e.do("GET", "/api/v1/pools/"+e.pool.ID+"/companies/other", at, nil),
		e.do("PATCH", "/api/v1/pools/"+e.pool.ID+"/companies/acme", at, map[string]any{"email_domains": []string{"gmail.example"}}),
		e.do("DELETE", "/api/v1/pools/"+e.pool.ID+"/companies/acme", at, nil),
		e.do("POST", "/api/v1/pools/"+e.pool.ID+"/companies", at, map[string]any{"name": "Mine"}),
	} {
		if r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
			t.Fatalf("company admin reached a pool-admin operation: %d %s", r.status, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/users", at, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("company admin on users: %d", r.status)
	}
}

// The public type-ahead: prefix, case- and accent-insensitive, display
// names only, active companies only; off unless enabled.
func TestCompanyNameLookup(t *testing.T) {
	t.Parallel()
	e := setup(t, storetestOpenSQLite(t), approvalPolicy(nil))
	acme(e, nil)
	e.createCompany(map[string]any{"name": "Acorn", "display_name": "Acorn Ltd", "status": "disabled"})
	e.createCompany(map[string]any{"name": "Beta"})
	var out struct{ Names []string }
	e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/company-names?prefix=AC", "", nil), 200).decode(t, &out)
	if !slices.Equal(out.Names, []string{"Ácme Corp"}) {
		t.Fatalf("names = %v", out.Names)
	}
	e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/company-names?prefix=%C3%A1cme%20c", "", nil), 200).decode(t, &out)
	if len(out.Names) != 1 {
		t.Fatalf("accented prefix: %v", out.Names)
	}
	if r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/company-names", "", nil); r.status != 400 {
		t.Fatalf("no prefix: %d", r.status)
	}
	// Applicants may type the display name.
	e.signUpAndVerify("i@x.example", "ácme corp")
	e.mail("boss@acme.example")

	p := e.pool
	p.Settings.SignUp.CompanyLookup = false
	if _, err := e.svc.UpdatePool(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/company-names?prefix=ac", "", nil); r.status != 404 {
		t.Fatalf("switched off: %d", r.status)
	}
}

// Article 001: an email-domain allow-list mapped to groups and companies;
// unlisted domains are refused; the group is created on first use.
func TestArticle001DomainAllowList(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, func(p *identity.Pool) {
			p.Settings.SignUp = identity.SignUpPolicy{DomainAllowList: true, Domains: []identity.DomainRule{
				{Domain: "amazon.example", Group: "amazon-users"},
			}}
		})
		e.createCompany(map[string]any{"name": "Initech", "email_domains": []string{"initech.example"}, "group": "initech"})
		r := e.signUp("someone@gmail.example", "")
		if r.status != 400 || r.code() != "invalid_parameter" || !strings.Contains(string(r.body), "gmail.example") {
			t.Fatalf("unlisted domain: %d %s", r.status, r.body)
		}
		if st, _ := e.user("someone@gmail.example"); st != http.StatusNotFound {
			t.Fatal("refused sign-up left a user")
		}
		if r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/groups/amazon-users", e.adminKey, nil); r.status != 404 {
			t.Fatal("group exists before first use")
		}
		e.signUpAndVerify("jeff@amazon.example", "")
		e.signUpAndVerify("peter@initech.example", "")
		if _, u := e.user("jeff@amazon.example"); u.Status != "CONFIRMED" || !slices.Equal(u.Groups, []string{"amazon-users"}) {
			t.Fatalf("jeff %+v", u)
		}
		if _, u := e.user("peter@initech.example"); !slices.Equal(u.Groups, []string{"initech"}) {
			t.Fatalf("peter %+v", u)
		}
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/groups/amazon-users", e.adminKey, nil), 200)
	})
}

// Article 002: unique email, including 20 parallel sign-ups of one email
// in a username pool: exactly one user.
func TestArticle002UniqueEmail(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, nil)
		p, err := e.svc.CreatePool(t.Context(), authPoolUsernames())
		if err != nil {
			t.Fatal(err)
		}
		cl, err := e.svc.CreateClient(t.Context(), authClient(p.ID))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		for i := range statuses {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": cl.Client.ID, "username": fmt.Sprintf("user%d", i),
					"password": pw, "attributes": map[string]string{"email": "same@x.example"}})
				statuses[i] = r.status
				if r.status != 201 && r.code() != "alias_exists" {
					t.Errorf("sign-up %d: %d %s", i, r.status, r.body)
				}
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == 201 {
				ok++
			}
		}
		var list struct{ Items []any }
		e.must(e.do("GET", "/api/v1/pools/"+p.ID+"/users", e.adminKey, nil), 200).decode(t, &list)
		if ok != 1 || len(list.Items) != 1 {
			t.Fatalf("%d sign-ups succeeded, %d users; want exactly one", ok, len(list.Items))
		}
		// Email pools: the email is the username, also unique.
		e.must(e.signUp("dup@x.example", ""), 201)
		if c := e.signUp("DUP@x.example", "").code(); c != "username_exists" {
			t.Fatalf("duplicate email in an email pool: %s", c)
		}
	})
}

// Article 003: every confirmed user joins the default group, whichever
// way they become active.
func TestArticle003DefaultGroup(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, func(p *identity.Pool) { p.Settings.SignUp.DefaultGroups = []string{"users"} })
		e.signUpAndVerify("k@x.example", "")
		if _, u := e.user("k@x.example"); !slices.Equal(u.Groups, []string{"users"}) {
			t.Fatalf("self sign-up: %+v", u)
		}
		e.must(e.signUp("l@x.example", ""), 201)
		e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/users/l@x.example/confirm", e.adminKey, nil), 204)
		if _, u := e.user("l@x.example"); !slices.Equal(u.Groups, []string{"users"}) || u.Status != "CONFIRMED" {
			t.Fatalf("admin confirm: %+v", u)
		}
		e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/users", e.adminKey, map[string]any{"username": "m@x.example", "message_action": "SUPPRESS"}), 201)
		if _, u := e.user("m@x.example"); !slices.Equal(u.Groups, []string{"users"}) {
			t.Fatalf("admin create: %+v", u)
		}
		var tok struct {
			IDToken string `json:"id_token"`
		}
		e.must(e.signIn("k@x.example"), 200).decode(t, &tok)
		if g, _ := claims(t, tok.IDToken)["cognito:groups"].([]any); !slices.Contains(g, any("users")) {
			t.Fatalf("token groups %v", g)
		}
	})
}
