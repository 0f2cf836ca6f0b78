package federation_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestBrowserButtonFlow: headless Chromium clicks "Continue with corp" on
// the downstream's hosted sign-in page, signs in on the upstream
// Gatehouse's page, and lands signed in on the downstream's account page;
// a second visit with the upstream session still open goes straight
// through. It skips without Chromium unless CI=true or
// GATEHOUSE_TEST_ALL=1. Screenshots go to $GATEHOUSE_SCREENSHOTS.
func TestBrowserButtonFlow(t *testing.T) {
	path := chromium(t)
	e := setup(t, setupOpts{})
	b := newTab(t, path)

	b.open(e.downIssuer + "/login?client_id=" + e.app)
	b.waitFor(`!!document.querySelector('a.idp[data-provider="corp"]')`, "the corp button")
	b.shot("federation-01-signin-with-button")
	b.do(chromedp.Click(chromedp.CSS(`a.idp[data-provider="corp"]`)))
	b.waitFor(fmt.Sprintf(`location.origin === %q && !!document.getElementById("password")`, e.up.base), "the upstream sign-in page")
	b.shot("federation-02-upstream-signin")
	b.do(chromedp.SendKeys(chromedp.ID("username"), janeEmail), chromedp.SendKeys(chromedp.ID("password"), janePW))
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname.endsWith("/account") && document.readyState === "complete"`, e.down.base),
		"the downstream account page")
	b.shot("federation-03-signed-in")
	u := e.user("corp_" + e.janeSub)
	if txt := b.text(); !strings.Contains(txt, janeEmail) || !strings.Contains(txt, u.Sub) {
		t.Fatalf("account page: %s", txt)
	}

	// Sign out downstream; the upstream session makes the next click a
	// round trip without a form.
	b.open(e.downIssuer + "/signout?client_id=" + e.app)
	b.waitFor(`!!document.querySelector("main form button[type=submit]")`, "the sign-out page")
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(`location.pathname.endsWith("/login") && !!document.querySelector('a.idp[data-provider="corp"]')`, "the sign-in page")
	b.do(chromedp.Click(chromedp.CSS(`a.idp[data-provider="corp"]`)))
	b.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname.endsWith("/account") && document.readyState === "complete"`, e.down.base),
		"the account page again")
	if n := e.count(); n != 1 {
		t.Fatalf("%d users", n)
	}
}

func chromium(t *testing.T) string { t.Helper(); return testenv.Chromium(t) }

type tab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newTab(t *testing.T, path string) *tab {
	t.Helper()
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "gatehouse-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"), chromedp.WindowSize(1000, 800), chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 5*time.Minute) // a bound against a hung browser, not a threshold: a loaded 2-core machine has taken 110 s
	t.Cleanup(cancel3)
	return &tab{t: t, ctx: ctx, shots: shots}
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (page: %s)", err, b.text())
	}
}

func (b *tab) open(u string) { b.t.Helper(); b.do(chromedp.Navigate(u)) }

func (b *tab) text() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? location.href + "\n" + document.body.innerText : location.href`))
	if err != nil {
		return "(no text: " + err.Error() + ")"
	}
	return v
}

// waitFor polls a JavaScript condition on a fully loaded page (no
// wall-clock threshold beyond the test's overall context). The page must
// have finished loading: an element seen while the document still parses
// can be replaced before the next step finds it ("Could not find node with
// given id" on a loaded machine).
func (b *tab) waitFor(cond, what string) {
	b.t.Helper()
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("(function(){try{return document.readyState === \"complete\" && !!("+cond+")}catch(e){return false}})()"))
		if err == nil && ok {
			return
		}
		if b.ctx.Err() != nil {
			b.t.Fatalf("waiting for %s: %v (page: %s)", what, b.ctx.Err(), b.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *tab) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644)
}
