package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPoolDomain is article 000 in a browser on the pool's own
// domain (Chromium resolves auth.acme.example to the test server): sign up
// with the type-ahead (hosted.js fetches /signup/companies), the code,
// waiting for approval, sign in, sign out, all at Cognito's bare paths of
// that domain.
func TestBrowserPoolDomain(t *testing.T) {
	c := newChrome(t, chromedp.Flag("host-resolver-rules", "MAP "+poolHost+" 127.0.0.1"))
	e := setup(t, setupOpts{rateBurst: 100})
	onPoolDomain(t, e)
	u, err := url.Parse(e.base)
	if err != nil {
		t.Fatal(err)
	}
	site := "http://" + poolHost + ":" + u.Port()
	q := "?client_id=" + url.QueryEscape(e.clientID)
	dora := c.person(true)
	onDomain := func() {
		t.Helper()
		if loc := dora.eval(`location.origin + location.pathname`); !strings.HasPrefix(loc, site+"/") || strings.Contains(loc, e.pool.ID) {
			t.Fatalf("left the pool's bare paths: %s", loc)
		}
	}

	dora.open(site + "/signup" + q)
	dora.waitPath("/signup")
	dora.see("Create your account", "Company")
	dora.typeInto("username", "dora@example.org")
	dora.typeInto("password", pw)
	dora.typeInto("attr-company_name", "acm")
	opts, err := chromedp.Run(dora.ctx, chromedp.Poll[string](
		`Array.from(document.querySelectorAll("#company-names option")).map(o => o.value).join("|")`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || opts != "Acme Corporation|Acme Widgets" {
		t.Fatalf("type-ahead on the pool domain: %q %v", opts, err)
	}
	dora.setValue("attr-company_name", "Acme Corporation")
	dora.submit("/confirmUser")
	onDomain()
	dora.see("Check your email")
	dora.typeInto("code", e.mail("dora@example.org").Code())
	dora.submit("/pending")
	onDomain()
	dora.see("Waiting for approval")

	boss := c.person(false)
	boss.open(approveLink(t, e.mail("boss@acme.example")))
	boss.waitPath("")
	boss.do(chromedp.Click(chromedp.CSS("button.approve")))
	boss.waitFor(`document.readyState === "complete" && !!document.querySelector("h1") && document.querySelector("h1").innerText.startsWith("Decision recorded for ")`)

	dora.open(site + "/login" + q)
	dora.waitPath("/login")
	dora.typeInto("username", "dora@example.org")
	dora.typeInto("password", pw)
	dora.submit("/account")
	onDomain()
	dora.see("You are signed in", "dora@example.org")
	if got := dora.eval(`getComputedStyle(document.querySelector("button")).backgroundColor`); got != "rgb(107, 47, 179)" {
		t.Errorf("the pool's theme.css is not applied on the pool domain: %s", got)
	}
	dora.submit("/login")
	onDomain()
	dora.see("You are signed out")
}
