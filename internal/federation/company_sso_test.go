package federation_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Company single sign-on (docs/company-sso.md): the downstream pool has
// the companies Acme Corporation (acme.example) and Beta (beta.example);
// Acme's company admin gives Acme its own OpenID Connect provider, the
// upstream Gatehouse, where Jane (jane@acme.example) signs in.

type ssoEnv struct {
	*env
	acmeAdmin context.Context // Ann, Acme's company admin
	betaAdmin context.Context // Ben, Beta's company admin
	idp       *auth.CompanyIdPView
}

func setupSSO(t *testing.T, requireSSO bool) *ssoEnv {
	t.Helper()
	ctx := context.Background()
	e := &ssoEnv{env: setup(t, setupOpts{})}
	p := *e.pool
	p.Settings.SignUp.DefaultGroups = []string{"members"}
	var err error
	if e.pool, err = e.down.svc.UpdatePool(ctx, &p); err != nil {
		t.Fatal(err)
	}
	admin := func(email string) context.Context {
		v, err := e.down.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: email, MessageAction: "SUPPRESS",
			Attributes: map[string]string{"email": email, "email_verified": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		return identity.WithActor(ctx, identity.Actor{ID: "user:" + v.User.Sub})
	}
	e.acmeAdmin, e.betaAdmin = admin("ann@acme.example"), admin("ben@beta.example")
	for _, c := range []struct {
		name, domain string
		admin        context.Context
	}{{"Acme Corporation", "acme.example", e.acmeAdmin}, {"Beta", "beta.example", e.betaAdmin}} {
		sub := strings.TrimPrefix(identity.ActorFrom(c.admin).ID, "user:")
		if _, err := e.down.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: c.name, EmailDomains: []string{c.domain},
			Approvers: []identity.Approver{{Sub: sub}}}); err != nil {
			t.Fatal(err)
		}
	}
	e.idp, err = e.down.svc.SetCompanyIdP(e.acmeAdmin, e.pool.ID, "acme corporation", auth.CompanyIdPInput{
		Issuer: e.up.svc.Issuer(e.upPool), ClientID: e.upClient, ClientSecret: e.upSecret,
		AttributeMapping: map[string]string{"email": "email", "name": "name"}, RequireSSO: requireSSO})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *ssoEnv) upUser(email string) string {
	e.t.Helper()
	v, err := e.up.svc.AdminCreateUser(context.Background(), auth.AdminCreateUserInput{PoolID: e.upPool.ID, Username: email,
		MessageAction: "SUPPRESS", Attributes: map[string]string{"email": email, "email_verified": "true"}})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.up.svc.AdminSetUserPassword(context.Background(), e.upPool.ID, email, janePW, true); err != nil {
		e.t.Fatal(err)
	}
	return v.User.Sub
}

// TestCompanySSOHomeRealmAndJIT: the sign-in page asks for the email
// first; Jane's address goes straight to Acme's provider, and her first
// sign-in makes her a member of Acme without an approval (company
// attribute, company group, default group); an address of no SSO company
// gets the password step.
func TestCompanySSOHomeRealmAndJIT(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	if !strings.HasPrefix(e.idp.Name, identity.CompanyIdPPrefix) || e.idp.RedirectURI != e.down.svc.FederationCallbackURL(e.pool) ||
		!e.idp.HasClientSecret || e.idp.Company != "Acme Corporation" {
		t.Fatalf("view %+v", e.idp)
	}
	b := newBrowser(t)
	page := e.loginPage(b)
	if strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, `name="username"`) {
		t.Fatalf("not email-first: %s", page.body)
	}
	// The email-first step offers the passkey too: no email to type.
	if !strings.Contains(page.body, `id="passkey-signin"`) || !strings.Contains(page.body, `data-passkey="get"`) {
		t.Fatalf("no passkey on the email-first step: %s", page.body)
	}
	// Another company's address: the password step.
	r := b.submit(page, "username", "ben@beta.example")
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("password step: %d %s", r.status, r.body)
	}
	r = b.submit(page, "username", "Jane@ACME.example")
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther && r.status != http.StatusFound || !strings.Contains(loc, "/federation/"+url.PathEscape(e.idp.Name)) {
		t.Fatalf("home realm: %d %s", r.status, loc)
	}
	r = e.walk(b, resolve(r.url, loc), nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("ended at %s: %d %s", r.url, r.status, r.body)
	}
	u := e.user(e.idp.Name + "_" + e.janeSub)
	if u.Status != identity.StatusExternalProvider || !u.EmailVerified || u.Attributes["custom:company_name"] != "Acme Corporation" {
		t.Fatalf("user %+v", u)
	}
	v, err := e.down.svc.AdminGetUser(context.Background(), e.pool.ID, u.Username)
	if err != nil || !slices.Contains(v.Groups, "Acme-Corporation") || !slices.Contains(v.Groups, "members") {
		t.Fatalf("groups %v %v", v.Groups, err)
	}
	regs, _, err := e.down.svc.ListRegistrations(context.Background(), e.pool.ID, auth.RegistrationFilter{}, 10, "")
	if err != nil || len(regs) != 0 {
		t.Fatalf("an approval was asked: %+v %v", regs, err)
	}
}

// TestCompanySSOLoginHintToTokens: a go-oidc relying party sends
// login_hint (and, in a second run, Cognito's idp_identifier); the browser
// goes straight to Acme's provider and the app's ID token carries the
// company attribute and group.
func TestCompanySSOLoginHintToTokens(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, e.downIssuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: e.rp, ClientSecret: e.rpSec, Endpoint: provider.Endpoint(), RedirectURL: appCB,
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}
	for _, param := range []string{"login_hint=" + janeEmail, "idp_identifier=acme.example"} {
		kv := strings.SplitN(param, "=", 2)
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n"),
			oauth2.SetAuthURLParam(kv[0], kv[1]))
		b := newBrowser(t)
		if loc := b.get(authURL).header.Get("Location"); !strings.Contains(loc, "/federation/"+url.PathEscape(e.idp.Name)) {
			t.Fatalf("%s did not go to Acme's provider: %s", param, loc)
		}
		r := e.walk(b, authURL, nil)
		back, err := url.Parse(r.url)
		if err != nil || !strings.HasPrefix(r.url, appCB) || back.Query().Get("code") == "" {
			t.Fatalf("%s ended at %s (%d %s)", param, r.url, r.status, r.body)
		}
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: e.rp, Now: e.down.clock.Now}).Verify(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Company string   `json:"custom:company_name"`
			Groups  []string `json:"cognito:groups"`
			Email   string   `json:"email"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Company != "Acme Corporation" || !slices.Contains(claims.Groups, "Acme-Corporation") || claims.Email != janeEmail {
			t.Fatalf("%s: claims %+v", param, claims)
		}
	}
}

// TestCompanySSOAdminBoundaries: a company admin sets only their own
// company's provider; the provider's settings are checked; no company can
// take a domain another owns.
func TestCompanySSOAdminBoundaries(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	in := auth.CompanyIdPInput{Issuer: e.up.svc.Issuer(e.upPool), ClientID: "x"}
	if _, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Acme Corporation", in); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("Beta's admin set Acme's provider: %v", err)
	}
	if err := e.down.svc.DeleteCompanyIdP(e.betaAdmin, e.pool.ID, "Acme Corporation"); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("Beta's admin deleted Acme's provider: %v", err)
	}
	if _, err := e.down.svc.GetCompanyIdP(e.betaAdmin, e.pool.ID, "Acme Corporation"); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("Beta's admin read Acme's provider: %v", err)
	}
	for name, bad := range map[string]auth.CompanyIdPInput{
		"saml":            {Kind: "saml", Issuer: in.Issuer, ClientID: "x"},
		"http issuer":     {Issuer: "http://idp.example", ClientID: "x"},
		"no client":       {Issuer: in.Issuer},
		"company mapping": {Issuer: in.Issuer, ClientID: "x", AttributeMapping: map[string]string{"custom:company_name": "org"}},
		"unknown custom":  {Issuer: in.Issuer, ClientID: "x", AttributeMapping: map[string]string{"custom:role": "role"}},
	} {
		if _, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", bad); identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.down.svc.GetCompanyIdP(context.Background(), e.pool.ID, "Beta"); identity.ErrorCode(err) != identity.CodeResourceNotFound {
		t.Fatalf("a refused provider was stored: %v", err)
	}
	// A domain belongs to one company: Beta cannot claim acme.example.
	beta, err := e.down.svc.GetCompany(context.Background(), e.pool.ID, "Beta")
	if err != nil {
		t.Fatal(err)
	}
	beta.EmailDomains = append(beta.EmailDomains, "acme.example")
	if _, err := e.down.svc.UpdateCompany(context.Background(), beta); identity.ErrorCode(err) != identity.CodeConflict {
		t.Fatalf("Beta claimed acme.example: %v", err)
	}
	if _, err := e.down.svc.UpdateCompany(e.betaAdmin, beta); err == nil {
		t.Fatal("Beta's admin claimed acme.example")
	}
	if _, err := e.down.svc.CreateCompany(context.Background(), &identity.Company{PoolID: e.pool.ID, Name: "Gamma",
		EmailDomains: []string{"ACME.example"}}); identity.ErrorCode(err) != identity.CodeConflict {
		t.Fatalf("a new company took acme.example: %v", err)
	}
}

// TestCompanySSOForeignDomainGrantsNothing: Acme's provider asserting an
// address of Beta's domain signs nobody in; Beta's provider (the same
// upstream, another client) cannot sign Jane (an Acme address) into Beta.
func TestCompanySSOForeignDomainGrantsNothing(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	e.upUser("eve@beta.example")
	before := e.count()
	start := e.downIssuer + "/federation/" + url.PathEscape(e.idp.Name) + "?client_id=" + e.app
	b := newBrowser(t)
	r := e.walkAs(b, start, "eve@beta.example")
	if r.status == http.StatusOK && strings.Contains(r.url, "/account") || e.count() != before {
		t.Fatalf("Acme's provider signed in a Beta address: %s %d", r.url, r.status)
	}
	if _, err := e.down.svc.SetCompanyIdP(e.betaAdmin, e.pool.ID, "Beta", auth.CompanyIdPInput{
		Issuer: e.up.svc.Issuer(e.upPool), ClientID: e.upClient, ClientSecret: e.upSecret}); err != nil {
		t.Fatal(err)
	}
	bv, err := e.down.svc.GetCompanyIdP(context.Background(), e.pool.ID, "Beta")
	if err != nil {
		t.Fatal(err)
	}
	r = e.walk(newBrowser(t), e.downIssuer+"/federation/"+url.PathEscape(bv.Name)+"?client_id="+e.app, nil)
	if r.status == http.StatusOK && strings.Contains(r.url, "/account") || e.count() != before {
		t.Fatalf("Beta's provider signed Jane (acme.example) into Beta: %s %d", r.url, r.status)
	}
}

// walkAs is walk signing in at the upstream as email.
func (e *ssoEnv) walkAs(b *browser, start, email string) resp {
	e.t.Helper()
	next := start
	for i := 0; i < 20; i++ {
		r := b.get(next)
		if r.status == http.StatusOK && strings.HasPrefix(r.url, e.up.base+"/") && strings.Contains(r.body, `name="password"`) {
			r = b.submit(r, "username", email, "password", janePW)
		}
		if r.status != http.StatusFound && r.status != http.StatusSeeOther {
			return r
		}
		next = resolve(r.url, r.header.Get("Location"))
		if !strings.HasPrefix(next, e.up.base+"/") && !strings.HasPrefix(next, e.down.base+"/") {
			return resp{url: next, status: r.status}
		}
	}
	e.t.Fatal("too many redirects")
	return resp{}
}

// TestCompanySSORequired: with RequireSSO, an existing password user of
// Acme's domain cannot sign in with the password; signing in through
// Acme's provider with the same address links nothing by the email alone:
// the account's password must be entered once, then the link is made and
// the user is a member of Acme.
func TestCompanySSORequired(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, true)
	ctx := context.Background()
	const sam = "sam@acme.example"
	if _, err := e.down.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: sam, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email": sam, "email_verified": "true"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.down.svc.AdminSetUserPassword(ctx, e.pool.ID, sam, janePW, true); err != nil {
		t.Fatal(err)
	}
	_, err := e.down.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: e.app}, Flow: auth.AuthUserPassword,
		Username: sam, Password: janePW})
	if identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("password sign-in under require SSO: %v", err)
	}
	// A wrong password still answers as before (no hint that SSO applies).
	_, err = e.down.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: e.app}, Flow: auth.AuthUserPassword,
		Username: sam, Password: "wrong-password-123"})
	if identity.ErrorMessage(err) != "Incorrect username or password." {
		t.Fatalf("wrong password: %v", err)
	}
	e.upUser(sam)
	b := newBrowser(t)
	page := e.loginPage(b)
	r := b.submit(page, "username", sam, "password", janePW) // the password is never tried for an SSO address
	r = e.walkAs(b, resolve(r.url, r.header.Get("Location")), sam)
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="ticket"`) {
		t.Fatalf("expected the link step: %s %d %s", r.url, r.status, r.body)
	}
	if v, _ := e.down.svc.AdminGetUser(ctx, e.pool.ID, sam); v.User.Attributes["custom:company_name"] != "" {
		t.Fatalf("member before proving the password: %+v", v.User)
	}
	if bad := b.submit(r, "password", "wrong-password-123"); bad.status == http.StatusSeeOther {
		t.Fatalf("linked with a wrong password")
	}
	done := b.submit(r, "password", janePW)
	if done.status != http.StatusSeeOther && done.status != http.StatusFound {
		t.Fatalf("link: %d %s", done.status, done.body)
	}
	v, err := e.down.svc.AdminGetUser(ctx, e.pool.ID, sam)
	if err != nil || v.User.Attributes["custom:company_name"] != "Acme Corporation" || !slices.Contains(v.Groups, "Acme-Corporation") {
		t.Fatalf("after linking: %+v %v %v", v.User, v.Groups, err)
	}
	if n := e.count(); n != 3 { // Ann, Ben, Sam: no second account
		t.Fatalf("%d users", n)
	}
}

// TestCompanySSOBrowser: headless Chromium from the email-first page
// through Acme's provider (the upstream Gatehouse's own sign-in page) to
// the account page showing the company.
func TestCompanySSOBrowser(t *testing.T) {
	path := chromium(t)
	e := setupSSO(t, false)
	b := newTab(t, path)
	b.open(e.downIssuer + "/login?client_id=" + e.app)
	b.waitFor(`!!document.getElementById("username") && !document.getElementById("password")`, "the email-first page")
	b.shot("company-sso-01-email-first")
	b.do(chromedp.SendKeys(chromedp.ID("username"), janeEmail))
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(fmt.Sprintf(`location.origin === %q && !!document.getElementById("password")`, e.up.base), "Acme's provider")
	b.shot("company-sso-02-company-idp")
	b.do(chromedp.SendKeys(chromedp.ID("username"), janeEmail), chromedp.SendKeys(chromedp.ID("password"), janePW))
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname.endsWith("/account") && document.readyState === "complete"`, e.down.base),
		"the account page")
	b.shot("company-sso-03-signed-in")
	if txt := b.text(); !strings.Contains(txt, "Acme Corporation") || !strings.Contains(txt, "Acme-Corporation") {
		t.Fatalf("account page: %s", txt)
	}
}

// TestCompanySSOSignsInTheSCIMUser: Acme's provisioning (SCIM) created
// Jane before her first sign-in; that sign-in through Acme's provider
// opens the provisioned account instead of making a second one.
func TestCompanySSOSignsInTheSCIMUser(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	ctx := context.Background()
	co, err := e.down.svc.GetCompany(ctx, e.pool.ID, "Acme Corporation")
	if err != nil {
		t.Fatal(err)
	}
	su, err := e.down.svc.SCIMCreateUser(ctx, co, auth.SCIMUser{UserName: janeEmail, Email: janeEmail, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	before := e.count()
	start := e.downIssuer + "/federation/" + url.PathEscape(e.idp.Name) + "?client_id=" + e.app
	r := e.walk(newBrowser(t), start, nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") || !strings.Contains(r.body, su.ID) {
		t.Fatalf("ended at %s: %d %s", r.url, r.status, r.body)
	}
	if n := e.count(); n != before {
		t.Fatalf("%d users, %d before", n, before)
	}
}

// TestCompanySSOGroupMappingOIDC: the upstream Gatehouse puts Jane in
// "eng" (its ID token's cognito:groups); Acme maps it to "engineers".
func TestCompanySSOGroupMappingOIDC(t *testing.T) {
	t.Parallel()
	e := setupSSO(t, false)
	ctx := context.Background()
	if _, err := e.up.svc.CreateGroup(ctx, &identity.Group{PoolID: e.upPool.ID, Name: "eng"}); err != nil {
		t.Fatal(err)
	}
	if err := e.up.svc.AdminAddUserToGroup(ctx, e.upPool.ID, janeEmail, "eng"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.down.svc.CreateGroup(ctx, &identity.Group{PoolID: e.pool.ID, Name: "engineers"}); err != nil {
		t.Fatal(err)
	}
	set := func(ctx context.Context, m map[string]string) error {
		_, err := e.down.svc.SetCompanyIdP(ctx, e.pool.ID, "Acme Corporation", auth.CompanyIdPInput{
			Issuer: e.up.svc.Issuer(e.upPool), ClientID: e.upClient, GroupMapping: m,
			AttributeMapping: map[string]string{"email": "email"}})
		return err
	}
	// A group can carry authority: the company admin cannot make the
	// company's IdP hand out a pool group on their own ...
	if err := set(e.acmeAdmin, map[string]string{"eng": "engineers"}); identity.ErrorCode(err) != identity.CodeForbidden {
		t.Fatalf("company admin maps to a new pool group: %v", err)
	}
	// ... a pool admin lets it, and the company admin may then choose which
	// IdP groups lead there.
	if err := set(ctx, map[string]string{"staff": "engineers"}); err != nil {
		t.Fatal(err)
	}
	if err := set(e.acmeAdmin, map[string]string{"eng": "engineers"}); err != nil {
		t.Fatal(err)
	}
	r := e.walk(newBrowser(t), e.downIssuer+"/federation/"+url.PathEscape(e.idp.Name)+"?client_id="+e.app, nil)
	if !strings.Contains(r.url, "/account") {
		t.Fatalf("ended at %s: %d %s", r.url, r.status, r.body)
	}
	v, err := e.down.svc.AdminGetUser(ctx, e.pool.ID, e.idp.Name+"_"+e.janeSub)
	if err != nil || !slices.Contains(v.Groups, "engineers") {
		t.Fatalf("groups %v %v", v, err)
	}
}
