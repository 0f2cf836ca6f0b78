package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// clickAndWait clicks the button css selects and waits for a page whose
// path ends with pathSuffix.
func (tb *tab) clickAndWait(css, pathSuffix string) {
	tb.t.Helper()
	tb.eval(fmt.Sprintf(`(function(){ window.__ghOld = true; document.querySelector(%q).click(); return "" })()`, css))
	tb.waitFor(fmt.Sprintf(`!window.__ghOld && document.readyState === "complete" && location.pathname.endsWith(%q) && !!document.querySelector("h1")`, pathSuffix))
}

// TestBrowserAccount: in Chromium, a person signed in on their laptop
// changes the password on the account page (the phone's session ends),
// signs out a new session of the phone from the list, and enrols an
// authenticator app by reading the key off the page. Screenshots
// account-*.png.
func TestBrowserAccount(t *testing.T) {
	t.Parallel()
	c := newChrome(t)
	s := testenv.New(t, testenv.Options{Web: web.Options{RateBurst: 1000},
		Pool:    &auth.CreatePoolInput{Name: "Account Demo", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "ann@example.com"}}})
	cid := s.Client(0).ID
	phoneSignIn := func(password string) *testenv.Browser {
		b := s.Browser()
		b.Header = http.Header{"User-Agent": {uaChrome}}
		if r := s.HostedSignIn(b, cid, "ann@example.com", password); r.Status != http.StatusSeeOther {
			t.Fatalf("phone sign-in: %d %s", r.Status, r.Body)
		}
		return b
	}
	phone := phoneSignIn("")

	ann := c.person(true)
	ann.open(s.Page("login?client_id=" + cid))
	ann.typeInto("username", "ann@example.com")
	ann.typeInto("password", testenv.Password)
	ann.submit("/account")
	ann.see("Where you are signed in", "Chrome on Windows", "This browser")
	ann.shot("account-01-page")

	const newPW = "another long passphrase 7"
	ann.setValue("current_password", testenv.Password)
	ann.setValue("password", newPW)
	ann.clickAndWait("#change-password form button[type=submit]", "/account")
	ann.see("Your password has been changed", "No other active sign-ins.")
	if r := phone.Get(s.Page("account?client_id=" + cid)); r.Status != http.StatusFound {
		t.Fatalf("the phone is still signed in after the password change: %d", r.Status)
	}

	phone = phoneSignIn(newPW)
	ann.open(s.Page("account?client_id=" + cid))
	ann.see("Chrome on Windows")
	ann.eval(`(function(){ document.getElementById("sessions").scrollIntoView(); return "" })()`)
	ann.shot("account-02-sessions")
	ann.clickAndWait("#session-list tr:not([data-current]) button", "/account")
	ann.see("That sign-in has been signed out.", "No other active sign-ins.")
	if r := phone.Get(s.Page("account?client_id=" + cid)); r.Status != http.StatusFound {
		t.Fatalf("the phone is still signed in after its sign-out: %d", r.Status)
	}

	ann.clickAndWait("#totp-start", "/account/totp")
	secret := ann.eval(`document.getElementById("totp-secret").textContent`)
	if n := ann.eval(`String(document.querySelectorAll("figure.qr svg path").length)`); n != "1" {
		t.Fatalf("QR code paths: %s", n)
	}
	ann.shot("account-03-authenticator-app")
	code, err := totp.GenerateCode(secret, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ann.setValue("code", code)
	ann.setValue("device_name", "Ann's phone")
	ann.submit("/account")
	ann.see("Your authenticator app is on.", "Authenticator app", "Ann's phone", "Recovery codes left: 0.")
	ann.clickAndWait("#recovery-new", "/account/recovery-codes")
	if n := ann.eval(`String(document.querySelectorAll("#recovery-codes li").length)`); n != fmt.Sprint(auth.RecoveryCodeCount) {
		t.Fatalf("recovery codes shown: %s", n)
	}
	ann.shot("account-04-recovery-codes")
}
