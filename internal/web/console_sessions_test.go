package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestConsoleSessions: a company admin sees and signs out the sessions of
// a plain member of her company; not those of a pool admin in it (no
// table, a forged POST refused), nor of another company's member; a pool
// admin sees everyone's. security.md R2-R4. (A forged POST here also
// lacks the CSRF token of its path; the role rule itself is checked by
// the service, internal/auth TestConsoleSessionsRoles.)
func TestConsoleSessions(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	for _, u := range []string{"dan@acme.example", "zed@example.org"} {
		confirmedUser(t, e.env, u)
	}
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex"}); err != nil {
		t.Fatal(err)
	}
	e.setCompany("dan@acme.example", "acme")
	e.setCompany("root@example.org", "acme")
	e.setCompany("zed@example.org", "globex")
	signIn := func(email string) *browser {
		b := e.browser()
		lu := e.page("login?client_id=" + e.clientID)
		must(t, b.submit(lu, url.Values{"username": {email}, "password": {pw}}), http.StatusSeeOther)
		must(t, b.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
		return b
	}
	dan, zed := signIn("dan@acme.example"), signIn("zed@example.org")
	rootHosted := signIn("root@example.org")
	idRE := regexp.MustCompile(`<tr data-session-id="([^"]+)"`)
	base := "/" + e.pool.ID + "/console/"

	carol := e.consoleLogin("carol@acme.example")
	p := "users/" + url.PathEscape("dan@acme.example")
	page := must(t, carol.get(e.console(p)), http.StatusOK)
	contains(t, page, `id="sessions"`)
	m := idRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no session of dan's: %s", page.body)
	}
	tok := formCSRF(t, page, base+p+"/sessions/delete")

	// Root (a pool admin, an acme member): no table, and the forged POST
	// is refused; zed is not hers to see at all.
	rp := "users/" + url.PathEscape("root@example.org")
	rpage := must(t, carol.get(e.console(rp)), http.StatusOK)
	lacks(t, rpage, `id="sessions"`)
	root := e.consoleLogin("root@example.org")
	rootPage := must(t, root.get(e.console(rp)), http.StatusOK)
	rm := idRE.FindStringSubmatch(rootPage.body)
	if rm == nil {
		t.Fatalf("the pool admin sees no session of root's: %s", rootPage.body)
	}
	if r := carol.post(e.console(rp+"/sessions/delete"), url.Values{"csrf": {formCSRF(t, rpage, base+rp)}, "id": {rm[1]}}); r.status != http.StatusForbidden {
		t.Fatalf("carol signs root out: %d", r.status)
	}
	zp := "users/" + url.PathEscape("zed@example.org")
	if r := carol.get(e.console(zp)); r.status != http.StatusForbidden {
		t.Fatalf("carol sees zed: %d", r.status)
	}
	zpage := must(t, root.get(e.console(zp)), http.StatusOK)
	zm := idRE.FindStringSubmatch(zpage.body)
	if zm == nil {
		t.Fatalf("the pool admin sees no session of zed's: %s", zpage.body)
	}
	if r := carol.post(e.console(zp+"/sessions/delete"), url.Values{"csrf": {tok}, "id": {zm[1]}}); r.status != http.StatusForbidden {
		t.Fatalf("carol signs zed out: %d", r.status)
	}
	// Dan's session id under zed's name: not zed's session.
	if r := root.post(e.console(zp+"/sessions/delete"), url.Values{"csrf": {formCSRF(t, zpage, base+zp+"/sessions/delete")}, "id": {m[1]}}); r.status != http.StatusNotFound {
		t.Fatalf("dan's session under zed's name: %d", r.status)
	}
	must(t, rootHosted.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
	must(t, zed.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
	must(t, dan.get(e.page("account?client_id="+e.clientID)), http.StatusOK)

	// Carol signs dan out.
	r := must(t, carol.post(e.console(p+"/sessions/delete"), url.Values{"csrf": {tok}, "id": {m[1]}}), http.StatusSeeOther)
	if loc := r.header.Get("Location"); !regexp.MustCompile(`notice=session_revoked$`).MatchString(loc) {
		t.Fatalf("after the sign-out: %s", loc)
	}
	must(t, dan.get(e.page("account?client_id="+e.clientID)), http.StatusFound)
	must(t, zed.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
}
