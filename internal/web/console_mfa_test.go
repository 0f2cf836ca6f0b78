package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// TestConsoleMFA: a pool admin sets the pool's MFA policy; carol (a
// company admin) turns on "require MFA" for her company and sees which
// members have a factor, and cannot switch another company's; a pool admin
// resets a user's factors from the user page.
func TestConsoleMFA(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	root := e.consoleLogin("root@example.org")
	page := must(t, root.get(e.console("mfa")), http.StatusOK)
	contains(t, page, `id="mfa-form"`, "Authenticator apps")
	path := "/" + e.pool.ID + "/console/mfa"
	must(t, root.post(e.console("mfa"), url.Values{"csrf": {formCSRF(t, page, path)}, "configuration": {"OPTIONAL"},
		"software_token": {"on"}, "email": {"on"}}), http.StatusSeeOther)
	m, err := e.svc.GetPoolMFA(context.Background(), e.pool.ID)
	if err != nil || m.Mode() != "OPTIONAL" || !m.Email || m.SoftwareTokenDisabled {
		t.Fatalf("pool MFA after the form: %+v %v", m, err)
	}

	carol := e.consoleLogin("carol@acme.example")
	co := e.company.Name
	cpage := must(t, carol.get(e.console("companies/"+url.PathEscape(co))), http.StatusOK)
	contains(t, cpage, `id="require-mfa-form"`, "Require MFA")
	cpath := "/" + e.pool.ID + "/console/companies/" + url.PathEscape(co) + "/mfa"
	must(t, carol.post(e.console("companies/"+url.PathEscape(co)+"/mfa"), url.Values{"csrf": {formCSRF(t, cpage, cpath)}, "require_mfa": {"on"}}), http.StatusSeeOther)
	got, err := e.svc.GetCompany(context.Background(), e.pool.ID, co)
	if err != nil || !got.RequireMFA {
		t.Fatalf("require_mfa after carol's switch: %+v %v", got, err)
	}
	// Another company's switch: forbidden (the form's token is bound to
	// her own company's path, and the service refuses her anyway).
	ctx, _, err := e.svc.ConsoleSignIn(context.Background(), e.pool.ID, e.carolSub, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetCompanyRequireMFA(ctx, e.pool.ID, "Globex", true); err == nil {
		t.Fatal("carol switched another company's requirement")
	}
	if _, err := e.svc.SetPoolMFA(ctx, e.pool.ID, auth.PoolMFAConfig{Configuration: "OFF"}); err == nil {
		t.Fatal("a company admin changed the pool's MFA policy")
	}

	upage := must(t, root.get(e.console("users/"+url.PathEscape("mallory@example.org"))), http.StatusOK)
	contains(t, upage, `id="factors"`, `id="reset-mfa"`)
	upath := "/" + e.pool.ID + "/console/users/" + url.PathEscape("mallory@example.org")
	must(t, root.post(e.console("users/"+url.PathEscape("mallory@example.org")), url.Values{"csrf": {formCSRF(t, upage, upath)}, "action": {"reset_mfa"}}), http.StatusSeeOther)
}
