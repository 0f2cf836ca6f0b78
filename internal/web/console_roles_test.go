package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func (e *consoleEnv) groupsOf(username string) []string {
	e.t.Helper()
	gs, err := e.svc.AdminListGroupsForUser(context.Background(), e.pool.ID, username)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}

// setCompany is a pool admin's write of the company attribute.
func (e *consoleEnv) setCompany(username, company string) {
	e.t.Helper()
	if err := e.svc.AdminUpdateUserAttributes(context.Background(), e.pool.ID, username, map[string]string{"custom:company_name": company}); err != nil {
		e.t.Fatal(err)
	}
}

// TestConsoleCompanyAdminCannotReachUp: in the console, carol (acme's
// admin) cannot disable, enable, reset, sign out or delete root (a pool
// admin who is an acme member), abe (her peer approver) or gio (globex's
// admin, an acme member); she can act on dan, a plain member. The
// company form is the pool admin's only. security.md R2, R3
func TestConsoleCompanyAdminCannotReachUp(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	for _, u := range []string{"abe@acme.example", "gio@acme.example", "dan@acme.example"} {
		confirmedUser(t, e.env, u)
	}
	for _, u := range []string{"root@example.org", "carol@acme.example", "abe@acme.example", "gio@acme.example", "dan@acme.example"} {
		e.setCompany(u, "acme")
	}
	co, err := e.svc.GetCompany(ctx, e.pool.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	co.Approvers = append(co.Approvers, identity.Approver{Sub: "abe@acme.example"})
	if _, err := e.svc.UpdateCompany(ctx, co); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex", Approvers: []identity.Approver{{Sub: "gio@acme.example"}}}); err != nil {
		t.Fatal(err)
	}

	carol := e.consoleLogin("carol@acme.example")
	for _, target := range []string{"root@example.org", "abe@acme.example", "gio@acme.example"} {
		p := "users/" + url.PathEscape(target)
		page := must(t, carol.get(e.console(p)), http.StatusOK) // a member: she may look
		lacks(t, page, `id="company-form"`)
		tok := formCSRF(t, page, "/"+e.pool.ID+"/console/"+p)
		for _, a := range []string{"disable", "enable", "reset_password", "sign_out"} {
			if r := carol.post(e.console(p), url.Values{"csrf": {tok}, "action": {a}}); r.status != http.StatusForbidden {
				t.Fatalf("carol %s %s: %d %s", a, target, r.status, r.body)
			}
		}
		del := must(t, carol.get(e.console(p+"/delete")), http.StatusOK)
		if r := carol.post(e.console(p+"/delete"), url.Values{"csrf": {formCSRF(t, del, "/"+e.pool.ID+"/console/"+p+"/delete")}, "confirm": {"yes"}}); r.status != http.StatusForbidden {
			t.Fatalf("carol deletes %s: %d", target, r.status)
		}
		// The company form is not hers, even forged.
		if r := carol.post(e.console(p+"/company"), url.Values{"csrf": {tok}, "company": {"globex"}}); r.status != http.StatusForbidden {
			t.Fatalf("carol moves %s: %d", target, r.status)
		}
		v, err := e.svc.AdminGetUser(ctx, e.pool.ID, target)
		if err != nil || !v.User.Enabled || v.User.Attributes["custom:company_name"] != "acme" {
			t.Fatalf("%s changed: %+v %v", target, v, err)
		}
	}
	// dan, a plain member: she may.
	p := "users/" + url.PathEscape("dan@acme.example")
	page := must(t, carol.get(e.console(p)), http.StatusOK)
	must(t, carol.post(e.console(p), url.Values{"csrf": {formCSRF(t, page, "/"+e.pool.ID+"/console/"+p)}, "action": {"disable"}}), http.StatusSeeOther)
	if v, _ := e.svc.AdminGetUser(ctx, e.pool.ID, "dan@acme.example"); v.User.Enabled {
		t.Fatal("dan still enabled")
	}
}

// TestConsoleMovesCompany: a pool admin's company form moves a user and
// the company groups; an invitation naming a company puts the user in its
// group. security.md A3, A4
func TestConsoleMovesCompany(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex"}); err != nil {
		t.Fatal(err)
	}
	root := e.consoleLogin("root@example.org")
	base := "/" + e.pool.ID + "/console"
	up := must(t, root.get(e.console("users")), http.StatusOK)
	must(t, root.post(e.console("users"), url.Values{"csrf": {formCSRF(t, up, base+"/users")}, "email": {"ivy@example.org"}, "company": {"ACME"}}), http.StatusSeeOther)
	if g := e.groupsOf("ivy@example.org"); strings.Join(g, ",") != "acme" {
		t.Fatalf("invited ivy's groups %v", g)
	}
	p := "users/" + url.PathEscape("ivy@example.org")
	page := must(t, root.get(e.console(p)), http.StatusOK)
	contains(t, page, `id="company-form"`, `value="acme"`)
	act := base + "/" + p + "/company"
	r := must(t, root.post(e.console(p+"/company"), url.Values{"csrf": {formCSRF(t, page, act)}, "company": {"globex"}}), http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "notice=company") {
		t.Fatalf("after the move: %s", loc)
	}
	v, _ := e.svc.AdminGetUser(ctx, e.pool.ID, "ivy@example.org")
	if v.User.Attributes["custom:company_name"] != "globex" || strings.Join(e.groupsOf("ivy@example.org"), ",") != "globex" {
		t.Fatalf("after the move: %v %v", v.User.Attributes, e.groupsOf("ivy@example.org"))
	}
	page = must(t, root.get(e.console(p)), http.StatusOK)
	must(t, root.post(e.console(p+"/company"), url.Values{"csrf": {formCSRF(t, page, act)}, "company": {""}}), http.StatusSeeOther)
	if v, _ := e.svc.AdminGetUser(ctx, e.pool.ID, "ivy@example.org"); v.User.Attributes["custom:company_name"] != "" || len(v.Groups) != 0 {
		t.Fatalf("out of every company: %+v", v)
	}
}

// TestHostedPagesCannotMoveCompany: the account page edits nothing (a
// forged POST is refused), and signing up again naming another company
// changes nothing for an approved member. security.md A1
func TestHostedPagesCannotMoveCompany(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	confirmedUser(t, e.env, "gil@example.org")
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex", DisplayName: "Globex"}); err != nil {
		t.Fatal(err)
	}
	e.setCompany("gil@example.org", "globex")
	b := e.browser()
	lu := e.page("login?client_id=" + e.clientID + "&return_to=" + url.QueryEscape("/"+e.pool.ID+"/account"))
	must(t, b.submit(lu, url.Values{"username": {"gil@example.org"}, "password": {pw}, "return_to": {"/" + e.pool.ID + "/account"}}), http.StatusSeeOther)
	acc := must(t, b.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
	contains(t, acc, "gil@example.org", "globex")
	lacks(t, acc, `name="custom:company_name"`, `name="company"`)
	form := url.Values{"csrf": {acc.csrf()}, "custom:company_name": {"acme"}, "company": {"acme"}, "attributes": {`{"custom:company_name":"acme"}`}}
	if r := b.post(e.page("account?client_id="+e.clientID), form); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the account page: %d %s", r.status, r.header.Get("Location"))
	}
	r := b.submit(e.page("signup?client_id="+e.clientID), signUpForm("gil@example.org", "Acme Corporation"))
	if r.status == http.StatusSeeOther && strings.Contains(r.header.Get("Location"), "confirm") {
		t.Fatalf("a second sign-up went on: %s", r.header.Get("Location"))
	}
	v, err := e.svc.AdminGetUser(ctx, e.pool.ID, "gil@example.org")
	if err != nil || v.User.Attributes["custom:company_name"] != "globex" || strings.Join(v.Groups, ",") != "globex" {
		t.Fatalf("gil after the attempts: %+v %v", v, err)
	}
}
