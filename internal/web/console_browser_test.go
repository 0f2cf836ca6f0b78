package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// ctab is one person's browser context (own cookies) with one tab, with
// the console test's own conveniences (click, see) on top of the shared
// Chromium set-up in browser_test.go.
type ctab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// consoleBrowsers starts Chromium (newChrome, browser_test.go) and returns
// a function opening a new person (browser context) in it.
func consoleBrowsers(t *testing.T) func() *ctab {
	t.Helper()
	c := newChrome(t)
	first := true
	return func() *ctab {
		p := c.person(first)
		first = false
		return &ctab{t: t, ctx: p.ctx, shots: c.shots}
	}
}

func (tb *ctab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

func (tb *ctab) open(u string) { tb.t.Helper(); tb.do(chromedp.Navigate(u)) }

func (tb *ctab) typeInto(id, s string) { tb.t.Helper(); tb.do(chromedp.SendKeys(chromedp.ID(id), s)) }

// click clicks the element with id and waits for the next page, which
// must satisfy pred.
func (tb *ctab) click(id, pred string) {
	tb.t.Helper()
	tb.eval(`(function(){ window.__ghOld = true; return "" })()`)
	tb.do(chromedp.Click(chromedp.ID(id)))
	tb.waitFor(`!window.__ghOld && document.readyState === "complete" && !!document.querySelector("h1") && (` + pred + `)`)
}

func (tb *ctab) waitPath(suffix string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`document.readyState === "complete" && location.pathname.endsWith(%q) && !!document.querySelector("h1")`, suffix))
}

func (tb *ctab) waitFor(pred string) {
	tb.t.Helper()
	var err error
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) { // a bound on a hang, not a speed limit
		var ok bool
		if ok, err = chromedp.Run(tb.ctx, chromedp.Evaluate[bool](pred)); err == nil && ok {
			return
		}
	}
	tb.t.Fatalf("waiting for %s: %v\n%s", pred, err, tb.text())
}

func (tb *ctab) eval(js string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// text is the visible text of the page's main element.
func (tb *ctab) text() string {
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`))
	if err != nil {
		return "(no text: " + err.Error() + ")"
	}
	return v
}

func (tb *ctab) see(want ...string) {
	tb.t.Helper()
	txt := tb.text()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			tb.t.Fatalf("the page does not say %q:\n%s", w, txt)
		}
	}
}

// shot writes a screenshot of the viewport as name.png.
func (tb *ctab) shot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.shots, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// TestBrowserConsole: in headless Chromium, a
// company admin and a pool admin each sign in to the console through the
// hosted sign-in page and see only what their role allows; the company
// admin approves a request from the list and cannot open another
// company's request by editing the URL; the pool admin disables a user
// and finds the audit entries (Chromium helpers of its own, below). Screenshots of every page are named
// console-*.png (docs/screenshots holds the reviewed set:
// GATEHOUSE_SCREENSHOTS=$PWD/docs/screenshots go test -run BrowserConsole ./internal/web).
func TestBrowserConsole(t *testing.T) {
	person := consoleBrowsers(t)
	e := consoleSetup(t)
	console := func(p string) string { return e.console(p) }

	signIn := func(tb *ctab, email string) {
		t.Helper()
		tb.open(console(""))
		tb.waitPath("/login")
		tb.typeInto("username", email)
		tb.typeInto("password", pw)
		tb.eval(`(function(){ window.__ghOld = true; return "" })()`)
		tb.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
		tb.waitFor(`!window.__ghOld && document.readyState === "complete" && location.pathname.endsWith("/console") && !!document.querySelector("h1")`)
	}

	// The company admin.
	carol := person()
	signIn(carol, "carol@acme.example")
	carol.see("Dashboard", "approvals pending", "Sign-ups per day")
	if strings.Contains(carol.text(), "Audit log") || strings.Contains(carol.text(), "Failed sign-ins") {
		t.Fatalf("a company admin sees pool-admin parts:\n%s", carol.text())
	}
	carol.shot("console-company-dashboard")
	carol.open(console("registrations"))
	carol.waitPath("/registrations")
	carol.see("ann@example.org")
	if strings.Contains(carol.text(), "gus@example.org") {
		t.Fatalf("carol sees globex's request:\n%s", carol.text())
	}
	carol.shot("console-company-registrations")
	carol.do(chromedp.Click(chromedp.ID("sel-" + e.annReq)))
	carol.click("approve-selected", `location.search.includes("notice=approved")`)
	carol.see("Approved.")
	carol.open(console("registrations/" + e.annReq))
	carol.waitPath(e.annReq)
	carol.see("approved", "registration.approve", "user:"+e.carolSub)
	carol.shot("console-company-registration")
	// Editing the URL to globex's request: 403.
	carol.open(console("registrations/" + e.gusReq))
	carol.waitPath(e.gusReq)
	carol.see("That did not work", "Only the pool's admins or the company's admins")
	carol.shot("console-company-forbidden")
	carol.open(console("companies/acme"))
	carol.waitPath("/companies/acme")
	carol.see("Approvers", "Members", "ann@example.org")
	carol.shot("console-company-company")

	// The pool admin, in a browser context of their own.
	root := person()
	signIn(root, "root@example.org")
	root.see("Dashboard", "Failed sign-ins per day")
	if who := root.eval(`document.querySelector(".console-who").innerText`); !strings.Contains(who, "root@example.org (pool admin)") {
		t.Fatalf("the bar says %q", who)
	}
	root.shot("console-dashboard")
	root.open(console("registrations?state=all"))
	root.waitPath("/registrations")
	root.see("ann@example.org", "gus@example.org")
	root.shot("console-registrations")
	root.open(console("users"))
	root.waitPath("/users")
	root.see("mallory@example.org", "carol@acme.example")
	root.shot("console-users")
	root.open(console("users/" + url.PathEscape("mallory@example.org")))
	root.waitPath("mallory@example.org")
	root.click("disable", `location.search.includes("notice=disable")`)
	root.see("The user was disabled", "Disabled", "admin.user_disable")
	root.shot("console-user")
	root.open(console("audit"))
	root.waitPath("/audit")
	root.see("admin.user_disable", "registration.approve", "user:carol@acme.example", "user:root@example.org")
	root.shot("console-audit")
	for _, p := range []struct{ path, want, shot string }{
		{"companies", "acme", "console-companies"},
		{"companies/acme", "Email domains", "console-company"},
		{"groups", "Admins", "console-groups"},
		{"groups/Admins", "root@example.org", "console-group"},
		{"clients", e.clientID, "console-clients"},
		{"clients/" + e.clientID, "Callback URLs", "console-client"},
		{"policy", "Sign-up policy", "console-policy"},
		{"hooks", "pre_sign_up", "console-hooks"},
		{"emails", "sent", "console-emails"},
	} {
		root.open(console(p.path))
		root.waitPath(p.path)
		root.see(p.want)
		root.shot(p.shot)
	}

	// The sign-up policy form: a bad rule is refused with the problem in
	// the summary (focused) and nothing stored; corrected, it is saved.
	before, err := e.svc.GetPool(context.Background(), e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	root.open(console("policy"))
	root.waitPath("/policy")
	root.do(chromedp.Click(chromedp.ID("domain_allow_list")))
	root.typeInto("domain-0", "acme.example")
	root.typeInto("group-0", "acme-staff")
	root.typeInto("company-0", "acme")
	root.typeInto("domain-1", "not a domain")
	root.typeInto("group-1", "others")
	root.eval(`(function(){ document.getElementById("expiry").value = ""; return "" })()`)
	root.typeInto("expiry", "3d")
	root.click("save-policy", `!!document.getElementById("error-summary")`)
	root.see("There is a problem", "Invalid email domain")
	if got := root.eval(`document.activeElement ? document.activeElement.id : ""`); got != "error-summary" {
		t.Errorf("focus after an error is on %q, not the error summary", got)
	}
	if got := root.eval(`document.getElementById("domain-1").getAttribute("aria-invalid") || ""`); got != "true" {
		t.Errorf("the bad domain is not marked invalid: %q", got)
	}
	root.shot("console-policy-errors")
	if p, _ := e.svc.GetPool(context.Background(), e.pool.ID); p.Settings.SignUp.DomainAllowList || !p.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a refused form changed the policy: %+v", p.Settings.SignUp)
	}
	// Correct it: remove the bad rule; the other values were kept.
	root.do(chromedp.Click(chromedp.ID("remove-1")))
	root.click("save-policy", `location.search.includes("notice=policy_saved")`)
	root.see("The sign-up policy was saved.", "Only email addresses at the listed domains", "expires after 3d")
	root.shot("console-policy-saved")
	p, err := e.svc.GetPool(context.Background(), e.pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sp := p.Settings.SignUp; !sp.DomainAllowList || len(sp.Domains) != 1 || sp.Domains[0] != (identity.DomainRule{Domain: "acme.example", Group: "acme-staff", Company: "acme"}) ||
		sp.Approval == nil || sp.Approval.Expiry != 3*24*time.Hour {
		t.Fatalf("stored policy: %+v %+v", sp, sp.Approval)
	}
}
