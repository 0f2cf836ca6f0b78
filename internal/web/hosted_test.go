package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// signUpForm is article 000's sign-up as a form post.
func signUpForm(email, company string) url.Values {
	return url.Values{"email": {email}, "password": {pw}, "custom:company_name": {company}}
}

// TestHostedFlowWithoutJavaScript walks article 000 over plain HTTP
// forms: sign up, code, waiting for approval, approval, sign in, account,
// sign out.
func TestHostedFlowWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	b := e.browser()
	r := b.submit(e.page("signup?client_id="+e.clientID), signUpForm("ann@example.org", "Acme Corporation"))
	must(t, r, http.StatusSeeOther)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/"+e.pool.ID+"/confirm?") || !strings.Contains(loc, "username=ann%40example.org") {
		t.Fatalf("after sign-up: %s", loc)
	}
	code := e.mail("ann@example.org").Code()
	r = b.submit(e.base+loc, url.Values{"username": {"ann@example.org"}, "code": {"000000"}})
	must(t, r, http.StatusBadRequest)
	if !strings.Contains(r.body, `aria-invalid="true"`) || !strings.Contains(r.body, `href="#code"`) {
		t.Fatalf("a wrong code is not shown on the field: %s", r.body)
	}
	r = b.submit(e.base+loc, url.Values{"username": {"ann@example.org"}, "code": {code}})
	must(t, r, http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/"+e.pool.ID+"/pending?") {
		t.Fatalf("after the code: %s", loc)
	}
	if p := b.get(e.base + loc); !strings.Contains(p.body, "Waiting for approval") {
		t.Fatalf("pending page: %s", p.body)
	}
	// Signing in before the approval leads back to the pending page.
	r = b.submit(e.page("login?client_id="+e.clientID), url.Values{"username": {"ann@example.org"}, "password": {pw}})
	must(t, r, http.StatusSeeOther)
	if !strings.Contains(r.header.Get("Location"), "/pending?") {
		t.Fatalf("unapproved sign-in went to %s", r.header.Get("Location"))
	}
	// The approver's page, then the decision.
	link := approveLink(t, e.mail("boss@acme.example"))
	ab := e.browser()
	a := ab.submit(link, url.Values{})
	must(t, a, http.StatusOK)
	// Signed in: a session cookie, the account page.
	r = b.submit(e.page("login?client_id="+e.clientID), url.Values{"username": {"ann@example.org"}, "password": {pw}})
	must(t, r, http.StatusSeeOther)
	if loc = r.header.Get("Location"); !strings.HasPrefix(loc, "/"+e.pool.ID+"/account?") {
		t.Fatalf("after sign-in: %s", loc)
	}
	acct := must(t, b.get(e.base+loc), http.StatusOK)
	for _, want := range []string{"ann@example.org", "<dt>Company</dt><dd>acme</dd>", "<dt>Groups</dt><dd id=\"account-groups\">acme</dd>"} {
		if !strings.Contains(acct.body, want) {
			t.Fatalf("account page lacks %q: %s", want, acct.body)
		}
	}
	// Signing out ends the session; the account page then asks to sign in.
	r = b.submit(e.page("signout?client_id="+e.clientID), url.Values{})
	must(t, r, http.StatusSeeOther)
	r = b.get(e.base + loc)
	if r.status != http.StatusFound || !strings.Contains(r.header.Get("Location"), "/login?") {
		t.Fatalf("account after sign-out: %d %s", r.status, r.header.Get("Location"))
	}
}

// TestFormsRefusePostsWithoutCSRF: every form of the hosted pages refuses
// a POST without its token, with a token for another form, or with a
// token but without the cookie.
func TestFormsRefusePostsWithoutCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	forms := []string{"signup", "confirm", "confirm/resend", "login", "new-password", "forgot", "reset", "signout"}
	b := e.browser()
	login := b.get(e.page("login?client_id=" + e.clientID))
	for _, f := range forms {
		body := url.Values{"client_id": {e.clientID}, "email": {"x@example.org"}, "username": {"x@example.org"}, "password": {pw}}
		if r := b.post(e.page(f), body); r.status != http.StatusForbidden {
			t.Errorf("%s without a token: %d", f, r.status)
		}
		body.Set("csrf", login.csrf()) // bound to /login
		if r := b.post(e.page(f), body); f != "login" && r.status != http.StatusForbidden {
			t.Errorf("%s with the login form's token: %d", f, r.status)
		}
		fresh := e.browser() // no cookie
		if r := fresh.post(e.page(f), body); r.status != http.StatusForbidden {
			t.Errorf("%s with a token but no cookie: %d", f, r.status)
		}
	}
	// A cross-site post is refused even with a valid token and cookie.
	b.hdr.Set("Sec-Fetch-Site", "cross-site")
	if r := b.post(e.page("login"), url.Values{"csrf": {login.csrf()}, "client_id": {e.clientID}, "username": {"x@example.org"}, "password": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("cross-site login post: %d", r.status)
	}
	if e.smtp.Attempts() != 0 {
		t.Errorf("a refused form sent mail")
	}
}

// TestHostileHostHeadersNeverChangeEmailedLinks: Host, X-Forwarded-Host
// and Forwarded on the pages' requests; the emailed approval links and
// the reset email come from the configured base URL only.
func TestHostileHostHeadersNeverChangeEmailedLinks(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	b := e.browser()
	b.hdr.Set("X-Forwarded-Host", "evil.example")
	b.hdr.Set("X-Forwarded-Proto", "https")
	b.hdr.Set("Forwarded", `host=evil.example;proto=https`)
	b.hdr.Set("Host", "evil.example")
	r := b.submit(e.page("signup?client_id="+e.clientID), signUpForm("eve@example.org", "Acme Corporation"))
	must(t, r, http.StatusSeeOther)
	if strings.Contains(r.header.Get("Location"), "evil") {
		t.Fatalf("redirect follows the Host header: %s", r.header.Get("Location"))
	}
	m := e.mail("eve@example.org")
	r = b.submit(e.page("confirm?client_id="+e.clientID), url.Values{"username": {"eve@example.org"}, "code": {m.Code()}})
	must(t, r, http.StatusSeeOther)
	am := e.mail("boss@acme.example")
	link := approveLink(t, am)
	if !strings.HasPrefix(link, e.base+"/"+e.pool.ID+"/approval/") {
		t.Fatalf("approval link %s is not under the base URL %s", link, e.base)
	}
	for _, l := range append(am.Links(), m.Links()...) {
		if !strings.HasPrefix(l, e.base) {
			t.Errorf("emailed link %s is not under the base URL", l)
		}
	}
	// Forgot password: the email holds no address from the request.
	ctx := context.Background()
	if err := e.svc.AdminConfirmSignUp(ctx, e.pool.ID, "eve@example.org"); err != nil {
		t.Fatal(err)
	}
	e.drain()
	for { // skip the approval notices
		if _, ok := e.smtp.Next("eve@example.org", 50*time.Millisecond); !ok {
			break
		}
	}
	r = b.submit(e.page("forgot?client_id="+e.clientID), url.Values{"username": {"eve@example.org"}})
	must(t, r, http.StatusSeeOther)
	fm := e.mail("eve@example.org")
	if fm.Code() == "" || strings.Contains(fm.Text+fm.HTML, "evil") {
		t.Fatalf("reset email: %q", fm.Text)
	}
	for _, l := range fm.Links() {
		if !strings.HasPrefix(l, e.base) {
			t.Errorf("reset email link %s is not under the base URL", l)
		}
	}
}

// TestReturnToIsNeverAnOpenRedirect: after sign-in the browser goes to a
// return_to under the pool's prefix, and to the account page for any
// other value.
func TestReturnToIsNeverAnOpenRedirect(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	confirmedUser(t, e, "rt@example.org")
	for _, tc := range []struct{ rt, want string }{
		{"/" + e.pool.ID + "/oauth2/authorize?client_id=x&state=s", "/" + e.pool.ID + "/oauth2/authorize?client_id=x&state=s"},
		{"https://evil.example/", "/" + e.pool.ID + "/account?"},
		{"//evil.example/" + e.pool.ID + "/", "/" + e.pool.ID + "/account?"},
		{"/" + e.pool.ID + "/../admin", "/" + e.pool.ID + "/account?"},
		{"/other-pool/account", "/" + e.pool.ID + "/account?"},
	} {
		b := e.browser()
		r := b.submit(e.page("login?client_id="+e.clientID+"&return_to="+url.QueryEscape(tc.rt)),
			url.Values{"username": {"rt@example.org"}, "password": {pw}, "return_to": {tc.rt}})
		must(t, r, http.StatusSeeOther)
		if got := r.header.Get("Location"); !strings.HasPrefix(got, tc.want) {
			t.Errorf("return_to %q: went to %q, want %q", tc.rt, got, tc.want)
		}
	}
}

// confirmedUser creates a CONFIRMED user with password pw.
func confirmedUser(t *testing.T, e *env, email string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: email,
		Attributes: map[string]string{"email": email, "email_verified": "true"}, MessageAction: "SUPPRESS"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminSetUserPassword(ctx, e.pool.ID, email, pw, true); err != nil {
		t.Fatal(err)
	}
}
