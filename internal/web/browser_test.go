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

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// Browser tests: headless Chromium (Debian's /usr/bin/chromium) walks
// article 000 as a person would. They skip without Chromium unless
// CI=true or GATEHOUSE_TEST_ALL=1 (then they fail).
//
// Screenshots of every page go to $GATEHOUSE_SCREENSHOTS (default: a
// folder under the system temp dir, printed with -v). The committed set in
// docs/screenshots is made with
//
//	GATEHOUSE_SCREENSHOTS=$PWD/docs/screenshots go test -run Browser ./internal/web

func chromiumPath(t *testing.T) string { t.Helper(); return testenv.Chromium(t) }

// chrome is one browser (its own profile) for a test.
type chrome struct {
	t       *testing.T
	alloc   context.Context
	browser context.Context // the first tab's: new browser contexts come from it
	shots   string
}

func newChrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) *chrome {
	t.Helper()
	path := chromiumPath(t)
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "gatehouse-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,AutofillServerCommunication,MediaRouter"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1000, 800),
		chromedp.UserDataDir(t.TempDir())}, extra...)...,
	)
	t.Cleanup(cancel)
	return &chrome{t: t, alloc: alloc, shots: shots}
}

// tab is one person's browser context (own cookies) with one tab.
type tab struct {
	t   *testing.T
	c   *chrome
	ctx context.Context
}

// person opens a new browser context: its cookies are its own.
func (c *chrome) person(first bool) *tab {
	c.t.Helper()
	var ctx context.Context
	var cancel context.CancelFunc
	if first {
		ctx, cancel = chromedp.NewContext(c.alloc)
		c.browser = ctx
	} else {
		ctx, cancel = chromedp.NewContext(c.browser, chromedp.WithNewBrowserContext())
	}
	c.t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 5*time.Minute) // a bound against a hung browser, not a threshold: a loaded 2-core machine has taken 110 s
	c.t.Cleanup(cancel2)
	tb := &tab{t: c.t, c: c, ctx: ctx}
	tb.do(chromedp.EmulateViewport(1000, 800))
	return tb
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

func (tb *tab) open(u string) { tb.t.Helper(); tb.do(chromedp.Navigate(u)) }

// typeInto focuses the field by its label's id and types, key by key.
func (tb *tab) typeInto(id, s string) {
	tb.t.Helper()
	tb.do(chromedp.SendKeys(chromedp.ID(id), s))
}

// clear empties a field.
func (tb *tab) clear(id string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf(`(function(){var f=document.getElementById(%q); f.value=""; f.dispatchEvent(new Event("input")); return ""})()`, id))
}

// setValue sets a field as choosing a suggestion from its list does.
func (tb *tab) setValue(id, v string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf(`(function(){var f=document.getElementById(%q); f.value=%q; f.dispatchEvent(new Event("input")); f.dispatchEvent(new Event("change")); return ""})()`, id, v))
}

// submit clicks the page's main button and waits for a page whose path
// ends with pathSuffix.
func (tb *tab) submit(pathSuffix string) {
	tb.t.Helper()
	tb.eval(`(function(){ window.__ghOld = true; return "" })()`)
	tb.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	tb.waitFor(fmt.Sprintf(`!window.__ghOld && document.readyState === "complete" && location.pathname.endsWith(%q) && !!document.querySelector("h1")`, pathSuffix))
}

func (tb *tab) waitPath(pathSuffix string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`document.readyState === "complete" && location.pathname.endsWith(%q) && !!document.querySelector("h1")`, pathSuffix))
}

// waitFor polls a JavaScript predicate (navigations in between are fine).
func (tb *tab) waitFor(pred string) {
	tb.t.Helper()
	var err error
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) { // a bound on a hang, not a speed limit
		var ok bool
		if ok, err = chromedp.Run(tb.ctx, chromedp.Evaluate[bool](pred)); err == nil && ok {
			return
		}
	}
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	tb.t.Fatalf("waiting for %s (at %s): %v\n%s", pred, loc, err, tb.text())
}

func (tb *tab) eval(js string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// text is the visible text of the page's main element.
func (tb *tab) text() string {
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`))
	if err != nil {
		return "(no text: " + err.Error() + ")"
	}
	return v
}

func (tb *tab) see(want ...string) {
	tb.t.Helper()
	txt := tb.text()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			tb.t.Fatalf("the page does not say %q:\n%s", w, txt)
		}
	}
}

// shot writes a screenshot of the viewport as name.png.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.c.shots, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// TestBrowserArticle000 is article 000 in a browser: sign up choosing the
// company from the type-ahead, the emailed code, waiting for approval; the
// approver opens the emailed link and approves; the person signs in. Then
// a wrong password, an unconfirmed user, the forgot-password round trip, a
// temporary password, and an expired approval link.
func TestBrowserArticle000(t *testing.T) {
	c := newChrome(t)
	e := setup(t, setupOpts{rateBurst: 100})
	ann := c.person(true)
	q := "?client_id=" + url.QueryEscape(e.clientID)

	// Sign-up: the policy ticks off as the password is typed; the company
	// comes from the type-ahead.
	ann.open(e.page("signup" + q))
	ann.waitPath("/signup")
	ann.see("Create your account", "Email address", "Password", "Company", "at least 12 characters")
	ann.shot("01-signup")
	ann.typeInto("username", "ann@example.org")
	ann.typeInto("password", "short1")
	if got := ann.eval(`Array.from(document.querySelectorAll(".policy li.met")).map(li => li.dataset.rule).join(",")`); got != "lower,digit" {
		t.Fatalf("policy ticks after a short password: %q", got)
	}
	ann.clear("password")
	ann.typeInto("password", pw)
	if got := ann.eval(`String(document.querySelectorAll(".policy li:not(.met)").length)`); got != "0" {
		t.Fatalf("policy rules left unticked with a good password: %s", got)
	}
	ann.typeInto("attr-company_name", "acm")
	opts, err := chromedp.Run(ann.ctx, chromedp.Poll[string](
		`Array.from(document.querySelectorAll("#company-names option")).map(o => o.value).join("|")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("no type-ahead suggestions: %v", err)
	}
	if opts != "Acme Corporation|Acme Widgets" {
		t.Fatalf("suggestions for acm: %q", opts)
	}
	ann.shot("02-signup-typeahead")
	// Choose the first suggestion, as picking it from the list does.
	ann.setValue("attr-company_name", strings.Split(opts, "|")[0])
	ann.shot("03-signup-filled")
	ann.submit("/confirm")
	ann.see("Check your email", "Verification code")
	ann.shot("04-confirm")

	// The code from the real SMTP server.
	code := e.mail("ann@example.org").Code()
	if code == "" {
		t.Fatal("no code in the sign-up email")
	}
	ann.typeInto("code", "999999")
	ann.submit("/confirm")
	ann.see("There is a problem")
	if got := ann.eval(`document.activeElement ? document.activeElement.id : ""`); got != "error-summary" {
		t.Errorf("focus after an error is on %q, not the error summary", got)
	}
	if got := ann.eval(`document.getElementById("code").getAttribute("aria-invalid") || ""`); got != "true" {
		t.Errorf("the code field is not marked invalid: %q", got)
	}
	ann.shot("05-confirm-wrong-code")
	ann.clear("code")
	ann.typeInto("code", code)
	ann.submit("/pending")
	ann.see("Waiting for approval", "Someone at your company must now approve")
	ann.shot("06-waiting-for-approval")

	// The approver opens the emailed link in their own browser.
	link := approveLink(t, e.mail("boss@acme.example"))
	boss := c.person(false)
	boss.open(link)
	boss.waitPath("")
	boss.see("Registration request", "ann@example.org", "Acme Corporation")
	boss.shot("07-approver-confirm")
	boss.do(chromedp.Click(chromedp.CSS("button.approve")))
	boss.waitFor(`document.readyState === "complete" && !!document.querySelector("h1") && document.querySelector("h1").innerText.startsWith("Decision recorded for ")`)
	boss.see("Approved. ann@example.org can sign in now")
	boss.shot("08-approver-result")

	// Ann signs in and lands on a signed-in page.
	ann.open(e.page("login" + q))
	ann.waitPath("/login")
	ann.shot("09-sign-in")
	ann.typeInto("username", "ann@example.org")
	ann.typeInto("password", pw)
	ann.submit("/account")
	ann.see("You are signed in", "ann@example.org", "acme")
	ann.shot("10-signed-in")

	// Sign-out page, then sign out.
	ann.open(e.page("signout" + q))
	ann.waitPath("/signout")
	ann.shot("11-sign-out")
	ann.submit("/login")
	ann.see("You are signed out.")

	// A wrong password.
	ann.typeInto("username", "ann@example.org")
	ann.typeInto("password", "not the password 1")
	ann.submit("/login")
	ann.see("There is a problem", "Incorrect username or password.")
	ann.shot("12-sign-in-wrong-password")

	// An unconfirmed user: the right password leads to the code page.
	bob := c.person(false)
	bob.open(e.page("signup" + q))
	bob.waitPath("/signup")
	bob.typeInto("username", "bob@example.org")
	bob.typeInto("password", pw)
	bob.typeInto("attr-company_name", "Acme Corporation")
	bob.submit("/confirm")
	bob.open(e.page("login" + q))
	bob.waitPath("/login")
	bob.typeInto("username", "bob@example.org")
	bob.typeInto("password", pw)
	bob.submit("/confirm")
	bob.see("Your email address is not confirmed yet")
	bob.shot("13-unconfirmed-user")

	// A sign-up that breaks the rules: every problem in the summary.
	bob.open(e.page("signup" + q))
	bob.waitPath("/signup")
	bob.typeInto("username", "bob@example.org")
	bob.submit("/signup")
	bob.see("There is a problem", "Enter your password.", "Enter your company.")
	if got := bob.eval(`Array.from(document.querySelectorAll("#error-summary a")).map(a => a.getAttribute("href")).join(" ")`); got != "#password #attr-company_name" {
		t.Errorf("error summary links, in field order: %q", got)
	}
	bob.shot("14-signup-errors")

	// Forgot password, round trip.
	ann.open(e.page("forgot" + q))
	ann.waitPath("/forgot")
	ann.shot("15-forgot-password")
	ann.typeInto("username", "ann@example.org")
	ann.submit("/reset")
	ann.see("If an account exists for this address, we emailed it a code.")
	ann.shot("16-reset-password")
	for { // the approval notice came first
		m := e.mail("ann@example.org")
		if strings.Contains(strings.ToLower(m.Subject), "password") {
			code = m.Code()
			break
		}
	}
	const newPW = "a brand new passphrase 7"
	ann.typeInto("code", code)
	ann.typeInto("password", newPW)
	ann.submit("/login")
	ann.see("Your password has been changed.")
	ann.shot("17-password-changed")
	if v := ann.eval(`document.getElementById("username").value`); v != "ann@example.org" {
		t.Errorf("the sign-in page after a reset does not keep the email: %q", v)
	}
	ann.typeInto("password", newPW)
	ann.submit("/account")
	ann.see("You are signed in")

	// A temporary password from an administrator: choose a new one.
	ctx := context.Background()
	if _, err := e.svc.AdminCreateUser(ctx, adminCreate(e, "carl@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminSetUserPassword(ctx, e.pool.ID, "carl@example.org", "Temporary pass 123", false); err != nil {
		t.Fatal(err)
	}
	carl := c.person(false)
	carl.open(e.page("login" + q))
	carl.waitPath("/login")
	carl.typeInto("username", "carl@example.org")
	carl.typeInto("password", "Temporary pass 123")
	carl.submit("/login")
	carl.see("Choose a new password")
	carl.shot("18-new-password-required")
	carl.typeInto("password", "my very own passphrase 9")
	carl.submit("/account")
	carl.see("You are signed in", "carl@example.org")

	// An approval link that expired.
	dora := c.person(false)
	dora.open(e.page("signup" + q))
	dora.waitPath("/signup")
	dora.typeInto("username", "dora@example.org")
	dora.typeInto("password", pw)
	dora.typeInto("attr-company_name", "Acme Corporation")
	dora.submit("/confirm")
	dora.typeInto("code", e.mail("dora@example.org").Code())
	dora.submit("/pending")
	link = approveLink(t, e.mail("boss@acme.example"))
	e.clock.Advance(identity.DefaultApprovalExpiry + time.Hour)
	e.drain()
	boss.open(link)
	boss.waitPath("")
	if txt := boss.text(); !strings.Contains(strings.ToLower(txt), "expired") {
		t.Fatalf("an expired link says: %s", txt)
	}
	boss.shot("19-expired-link")

	// A session does not outlive its lifetime (the clock moved a week).
	ann.open(e.page("account" + q))
	ann.waitPath("/login")
}

func adminCreate(e *env, email string) auth.AdminCreateUserInput {
	return auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: email,
		Attributes: map[string]string{"email": email, "email_verified": "true"}, MessageAction: "SUPPRESS"}
}
