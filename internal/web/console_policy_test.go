package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// policyForm is a valid sign-up policy form: an allow-list with two
// rules, default groups, approval with every setting.
func policyForm(csrf string) url.Values {
	return url.Values{
		"csrf": {csrf}, "op": {"save"}, "rows": {"3"},
		"domain_allow_list": {"on"},
		"domain.0":          {"@Acme.Example"}, "group.0": {"acme-staff"}, "company.0": {"acme"},
		"domain.1": {"globex.example"}, "group.1": {"globex-staff"},
		"domain.2": {""}, "group.2": {""}, "company.2": {""},
		"default_groups":    {"everyone\nnewcomers"},
		"company_attribute": {"custom:company_name"}, "company_lookup": {"on"},
		"approval": {"on"}, "expiry": {"3d"}, "reminder": {"12h"}, "auto_approve": {"on"},
		"on_deny": {"disable"}, "on_no_approver": {"admins"}, "pool_admins": {"ops@example.org\nOn-Call@Example.org"},
	}
}

func (e *consoleEnv) storedPool() *identity.Pool {
	e.t.Helper()
	p, err := e.svc.GetPool(context.Background(), e.pool.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *consoleEnv) policyEvents() int {
	e.t.Helper()
	evs, _, err := e.svc.Audit(context.Background(), auth.AuditQuery{PoolID: e.pool.ID, Action: "pool.update_sign_up_policy"})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

// TestConsolePolicySave: a pool admin changes the sign-up policy through
// the form; the stored policy is exactly what the form said, audited under
// their console actor, and the page confirms it. Saving the same form
// again changes nothing; "Add domain rows" saves nothing; a rule ticked
// Remove is removed.
func TestConsolePolicySave(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	root := e.consoleLogin("root@example.org")
	act := "/" + e.pool.ID + "/console/policy"

	page := must(t, root.get(e.console("policy")), http.StatusOK)
	contains(t, page, "In effect now", "Every sign-up needs approval", `id="approval" name="approval" value="on" checked`,
		`value="custom:company_name"`, `id="domain-0"`, `id="domain-1"`, `name="rows" value="2"`, `<option value="acme">`)
	lacks(t, page, `id="unique_email"`) // usernames are emails: always unique
	tok := formCSRF(t, page, act)

	// The form as shown, posted back untouched: nothing changes.
	r := must(t, root.post(e.base+act, url.Values{"csrf": {tok}, "op": {"save"}, "rows": {"2"}, "approval": {"on"},
		"on_deny": {"delete"}, "on_no_approver": {"reject"}, "company_attribute": {"custom:company_name"}, "company_lookup": {"on"}}), http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != act+"?notice=policy_unchanged" || e.policyEvents() != 0 {
		t.Fatalf("untouched form: %s, %d events", loc, e.policyEvents())
	}

	// "Add domain rows" shows the posted values again with more rows and
	// saves nothing.
	f := policyForm(tok)
	f.Set("op", "more")
	more := must(t, root.post(e.base+act, f), http.StatusOK)
	contains(t, more, "Nothing is saved until", `name="rows" value="6"`, `id="domain-5"`, `value="globex-staff"`)
	if p := e.storedPool(); p.Settings.SignUp.DomainAllowList || e.policyEvents() != 0 {
		t.Fatalf("adding rows saved: %+v", p.Settings.SignUp)
	}

	r = must(t, root.post(e.base+act, policyForm(tok)), http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != act+"?notice=policy_saved" {
		t.Fatalf("after save: %s", loc)
	}
	p := e.storedPool()
	want := identity.SignUpPolicy{
		DomainAllowList: true,
		Domains: []identity.DomainRule{{Domain: "acme.example", Group: "acme-staff", Company: "acme"},
			{Domain: "globex.example", Group: "globex-staff"}},
		DefaultGroups: []string{"everyone", "newcomers"},
		Approval: &identity.ApprovalPolicy{Expiry: 3 * 24 * time.Hour, Reminder: 12 * time.Hour, AutoApproveCompanyDomain: true,
			OnDeny: identity.OnDenyDisable, OnNoApprover: identity.NoApproverAdmins, PoolAdmins: []string{"ops@example.org", "on-call@example.org"}},
		CompanyAttribute: "custom:company_name", CompanyLookup: true,
	}
	if !reflect.DeepEqual(p.Settings.SignUp, want) || p.AdminCreateUserOnly {
		t.Fatalf("stored policy:\n got %+v %+v\nwant %+v %+v", p.Settings.SignUp, p.Settings.SignUp.Approval, want, want.Approval)
	}
	if p.Name != e.pool.Name || p.Settings.Theme != e.pool.Settings.Theme || p.PasswordPolicy.MinimumLength != 12 {
		t.Fatalf("other pool settings changed: %+v", p)
	}
	evs, _, err := e.svc.Audit(context.Background(), auth.AuditQuery{PoolID: e.pool.ID, Action: "pool.update_sign_up_policy"})
	if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+mustSub(t, e, "root@example.org") ||
		evs[0].Detail["changed"] != "domain_allow_list,domains,default_groups,approval" {
		t.Fatalf("audit: %v %v", evs, err)
	}

	saved := must(t, root.get(e.base+r.header.Get("Location")), http.StatusOK)
	contains(t, saved, `role="status">The sign-up policy was saved.`, "Only email addresses at the listed domains",
		"expires after 3d", "reminded after 12h", "approved at once", "New users join: everyone, newcomers",
		`value="acme.example"`, `value="globex-staff"`, `value="3d"`, `value="12h"`, `value="disable" checked`, `value="admins" checked`)

	// The same form again: nothing changes, and the page says so.
	r = must(t, root.post(e.base+act, policyForm(formCSRF(t, saved, act))), http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != act+"?notice=policy_unchanged" || e.policyEvents() != 1 {
		t.Fatalf("unchanged save: %s, %d events", loc, e.policyEvents())
	}

	// Remove a rule, turn approval off, go invite-only.
	f = policyForm(tok)
	f.Set("remove.1", "on")
	f.Del("approval")
	f.Set("invite_only", "on")
	f.Set("unique_email", "on") // not on this pool's form: ignored
	must(t, root.post(e.base+act, f), http.StatusSeeOther)
	p = e.storedPool()
	if sp := p.Settings.SignUp; len(sp.Domains) != 1 || sp.Domains[0].Domain != "acme.example" || sp.Approval != nil || !p.AdminCreateUserOnly || p.UniqueEmail {
		t.Fatalf("after removing a rule: %+v %+v", sp, p)
	}
	page = must(t, root.get(e.console("policy")), http.StatusOK)
	contains(t, page, "Invite only: people cannot sign up themselves")
}

// TestConsolePolicyInvalid: each invalid input answers 400 with the form
// shown again, the problem in the error summary linking to its input, and
// the stored pool unchanged (no audit event). Several problems are listed
// together, in page order.
func TestConsolePolicyInvalid(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	root := e.consoleLogin("root@example.org")
	act := "/" + e.pool.ID + "/console/policy"
	tok := formCSRF(t, must(t, root.get(e.console("policy")), http.StatusOK), act)
	before := e.storedPool()

	for _, tc := range []struct {
		name string
		set  map[string]string
		del  []string
		want []string // summary links (#id) and messages, in order
	}{
		{"bad domain", map[string]string{"domain.1": "not a domain"}, nil, []string{`href="#domain-1"`, "Invalid email domain"}},
		{"duplicate domain", map[string]string{"domain.1": "ACME.example", "group.1": "x"}, nil, []string{`href="#domain-1"`, "listed twice"}},
		{"rule without a domain", map[string]string{"domain.2": "", "group.2": "orphans"}, nil, []string{`href="#domain-2"`, "Rule 3 has no email domain"}},
		{"rule without a target", map[string]string{"group.1": ""}, nil, []string{`href="#domain-1"`, "must map to a group or a company"}},
		{"group with a space", map[string]string{"group.0": "acme staff"}, nil, []string{`href="#group-0"`, "may not contain spaces"}},
		{"default group", map[string]string{"default_groups": "everyone\nall users"}, nil, []string{`href="#default_groups"`, "all users: A group name may not contain spaces"}},
		{"company attribute", map[string]string{"company_attribute": "company"}, nil, []string{`href="#company_attribute"`, "custom:* or standard attribute"}},
		{"expiry not a duration", map[string]string{"expiry": "soon"}, nil, []string{`href="#expiry"`, "for example 7d or 36h"}},
		{"expiry too long", map[string]string{"expiry": "400d"}, nil, []string{`href="#expiry"`, "between 0 (default, 7 days) and 365 days"}},
		{"negative expiry", map[string]string{"expiry": "-1d"}, nil, []string{`href="#expiry"`, "between 0 (default, 7 days) and 365 days"}},
		{"negative reminder", map[string]string{"reminder": "-2h"}, nil, []string{`href="#reminder"`, "for example 7d or 36h"}},
		{"forged on_deny", map[string]string{"on_deny": "shred"}, nil, []string{`href="#on_deny-delete"`, "on_deny must be delete or disable"}},
		{"forged on_no_approver", map[string]string{"on_no_approver": "nobody"}, nil, []string{`href="#on_no_approver-reject"`, "on_no_approver must be reject or admins"}},
		{"admins without addresses", map[string]string{"pool_admins": " \n "}, nil, []string{`href="#pool_admins"`, "needs at least one pool admin address"}},
		{"bad admin address", map[string]string{"pool_admins": "ops@example.org\nnope"}, nil, []string{`href="#pool_admins"`, "nope: Invalid email address"}},
		{"markup is shown as text", map[string]string{"domain.0": `<script>alert(1)</script>`}, nil, []string{`href="#domain-0"`, "&lt;script&gt;"}},
		{"several at once", map[string]string{"expiry": "soon", "domain.0": "bad domain", "default_groups": "a b", "group.1": "x y"}, nil,
			[]string{`href="#domain-0"`, `href="#group-1"`, `href="#default_groups"`, `href="#expiry"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := policyForm(tok)
			for k, v := range tc.set {
				f.Set(k, v)
			}
			for _, k := range tc.del {
				f.Del(k)
			}
			r := must(t, root.post(e.base+act, f), http.StatusBadRequest)
			contains(t, r, `id="error-summary"`, "<title>There is a problem: ", `aria-invalid="true"`)
			lacks(t, r, "<script>alert")
			summary := r.body[strings.Index(r.body, `id="error-summary"`):]
			summary = summary[:strings.Index(summary, "</div>")]
			at := 0
			for _, w := range tc.want {
				i := strings.Index(summary[at:], w)
				if i < 0 {
					t.Fatalf("the summary lacks %q after position %d:\n%s", w, at, summary)
				}
				at += i
			}
			// The posted values are shown again.
			contains(t, r, `value="`+attrEsc(f.Get("domain.0"))+`"`, `name="rows" value="3"`)
			if after := e.storedPool(); !reflect.DeepEqual(after, before) {
				t.Fatalf("an invalid form changed the pool:\n%+v\n%+v", after.Settings.SignUp, before.Settings.SignUp)
			}
			if n := e.policyEvents(); n != 0 {
				t.Fatalf("%d audit events", n)
			}
		})
	}
	// A hostile row count is refused, not cut short.
	f := policyForm(tok)
	f.Set("rows", "99999999999")
	r := must(t, root.post(e.base+act, f), http.StatusBadRequest)
	contains(t, r, "At most 1000 domain rules")
	if after := e.storedPool(); !reflect.DeepEqual(after, before) {
		t.Fatal("a hostile row count changed the pool")
	}
	// A group name with a comma is one default group (lines only separate).
	f = policyForm(tok)
	f.Set("default_groups", "a,b\nc")
	must(t, root.post(e.base+act, f), http.StatusSeeOther)
	if g := e.storedPool().Settings.SignUp.DefaultGroups; !reflect.DeepEqual(g, []string{"a,b", "c"}) {
		t.Fatalf("default groups: %q", g)
	}
}

// attrEsc escapes s as html/template writes an attribute value.
func attrEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestConsolePolicyRefusals: a company admin gets 403 for the page and for
// a direct POST, even one carrying a valid CSRF token for the policy path
// (made here with the test server's key): the console and then the service
// refuse her. A POST without the token, with another form's token, or
// marked cross-site gets 403. None of them changes anything.
func TestConsolePolicyRefusals(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	act := "/" + e.pool.ID + "/console/policy"
	before := e.storedPool()
	unchanged := func(what string) {
		t.Helper()
		if after := e.storedPool(); !reflect.DeepEqual(after, before) || e.policyEvents() != 0 {
			t.Fatalf("%s changed the policy: %+v", what, after.Settings.SignUp)
		}
	}

	carol := e.consoleLogin("carol@acme.example")
	if r := carol.get(e.console("policy")); r.status != http.StatusForbidden {
		t.Fatalf("company admin GET policy: %d", r.status)
	}
	must(t, carol.get(e.console("")), http.StatusOK) // sets her CSRF cookie
	u, _ := url.Parse(e.base)
	var cookie string
	for _, c := range carol.c.Jar.Cookies(u) {
		if c.Name == "gatehouse_csrf" {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no CSRF cookie")
	}
	m := hmac.New(sha256.New, bytes.Repeat([]byte{7}, 32))
	m.Write([]byte(cookie + "|" + act))
	forged := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	r := carol.post(e.base+act, policyForm(forged))
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Only the pool&#39;s admins may do this.") {
		t.Fatalf("company admin POST with a valid token: %d\n%s", r.status, r.body)
	}
	unchanged("a company admin's POST")
	ctx, _, err := e.svc.ConsoleSignIn(context.Background(), e.pool.ID, e.carolSub, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.UpdateSignUpPolicy(ctx, e.pool.ID, auth.SignUpSettings{AdminCreateUserOnly: true}); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("the service let a company admin: %v", err)
	}
	unchanged("the service call")

	root := e.consoleLogin("root@example.org")
	users := must(t, root.get(e.console("users")), http.StatusOK)
	for name, f := range map[string]url.Values{
		"no token":             policyForm(""),
		"another form's token": policyForm(formCSRF(t, users, "/"+e.pool.ID+"/console/users")),
		"a made-up token":      policyForm(forged),
	} {
		if r := root.post(e.base+act, f); r.status != http.StatusForbidden {
			t.Fatalf("%s: %d", name, r.status)
		}
		unchanged(name)
	}
	tok := formCSRF(t, must(t, root.get(e.console("policy")), http.StatusOK), act)
	root.hdr.Set("Sec-Fetch-Site", "cross-site")
	if r := root.post(e.base+act, policyForm(tok)); r.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", r.status)
	}
	unchanged("a cross-site POST")
	root.hdr.Del("Sec-Fetch-Site")
	must(t, root.post(e.base+act, policyForm(tok)), http.StatusSeeOther) // the same POST, same-site
}
