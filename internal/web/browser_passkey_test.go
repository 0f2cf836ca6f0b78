package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestBrowserPasskey: in Chromium with the DevTools virtual authenticator
// (CTAP2, internal transport, resident keys, user verification), a user
// signs in with the password, enrols a passkey on the account page, signs
// out, and signs in with the passkey alone; the ID token of that sign-in
// says amr hwk mfa (checked through the audit: flow PASSKEY). The stack runs
// on localhost: WebAuthn refuses an IP address as relying party id.
func TestBrowserPasskey(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{Host: "localhost", Surfaces: testenv.Web,
		Pool:    &auth.CreatePoolInput{Name: "Passkey Demo", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}}})
	c := newChrome(t)
	pia := c.person(true)
	virtualAuthenticator(t, pia)
	page := func(p string) string { return s.URL + "/" + s.Pool.ID + "/" + p }

	pia.open(page("login"))
	pia.waitPath("/login")
	pia.waitFor(`!document.getElementById("passkey-signin").hidden`)
	pia.typeInto("username", "pia@example.org")
	pia.typeInto("password", testenv.Password)
	pia.submit("/account")
	pia.see("Passkeys", "You have no passkeys yet")
	pia.waitFor(`!document.getElementById("passkey-add").hidden`)
	pia.shot("passkey-01-account-no-passkeys")

	addPasskey(t, pia, "Work laptop")
	pia.shot("passkey-02-account-with-passkey")

	pia.open(page("signout"))
	pia.waitPath("/signout")
	pia.submit("/login")
	pia.waitFor(`!document.getElementById("passkey-signin").hidden`)
	pia.shot("passkey-03-sign-in-page")
	pia.eval(`(function(){ window.__ghOld = true; return "" })()`)
	pia.do(chromedp.Click(chromedp.CSS("#passkey-signin button[type=submit]")))
	pia.waitFor(`!window.__ghOld && document.readyState === "complete" && location.pathname.endsWith("/account")`)
	pia.see("You are signed in", "pia@example.org", "Work laptop")
	pia.shot("passkey-04-signed-in-with-passkey")

	list, err := s.Svc.ListPasskeys(t.Context(), s.Pool.ID, s.Subs["pia@example.org"])
	if err != nil || len(list) != 1 || list[0].LastUsedAt.IsZero() || list[0].RPID != "localhost" || list[0].Name != "Work laptop" {
		t.Fatalf("passkeys: %v %+v", err, list)
	}
	evs, _, err := s.Svc.Audit(t.Context(), auth.AuditQuery{PoolID: s.Pool.ID, Action: "user.sign_in"})
	if err != nil {
		t.Fatal(err)
	}
	passkey := 0
	for _, ev := range evs {
		if ev.Detail["flow"] == "PASSKEY" && ev.Detail["amr"] == "hwk mfa" {
			passkey++
		}
	}
	if passkey != 1 {
		t.Fatalf("%d passkey sign-ins audited", passkey)
	}
}

// virtualAuthenticator gives tb's browser a DevTools virtual
// authenticator (CTAP2, internal transport, resident keys, user
// verification, presence simulated).
func virtualAuthenticator(t *testing.T, tb *tab) {
	t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}}); err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
}

// addPasskey enrols a passkey named name on the account page tb shows.
func addPasskey(t *testing.T, tb *tab, name string) {
	t.Helper()
	tb.waitFor(`!document.getElementById("passkey-add").hidden`)
	tb.typeInto("passkey-name", name)
	tb.eval(`(function(){ window.__ghOld = true; return "" })()`)
	tb.do(chromedp.Click(chromedp.CSS("#passkey-add button[type=submit]")))
	tb.waitFor(`!window.__ghOld || document.getElementById("passkey-add").hasAttribute("data-passkey-error")`)
	if e := tb.eval(`window.__ghOld ? document.getElementById("passkey-add").getAttribute("data-passkey-error") : ""`); e != "" {
		t.Fatalf("enrolment failed in the browser: %s", e)
	}
	tb.waitFor(`!window.__ghOld && document.readyState === "complete" && location.search.indexOf("passkey_added") >= 0`)
	tb.see("Your passkey has been added.", name)
}

// TestBrowserPasskeyMFA: a user with a password and a passkey, in a pool
// that turned MFA ON after the enrolment, signs in with the password,
// gets the passkey as the second factor (the hosted pages mark their sign-in auth.PasskeyMFA), answers
// it with the virtual authenticator and lands on the account page; the
// sign-in is audited with amr "pwd hwk mfa" (the ID token's amr).
func TestBrowserPasskeyMFA(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{Host: "localhost", Surfaces: testenv.Web,
		Pool:    &auth.CreatePoolInput{Name: "Passkey MFA", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "mia@example.org"}}})
	c := newChrome(t)
	mia := c.person(true)
	virtualAuthenticator(t, mia)
	page := func(p string) string { return s.URL + "/" + s.Pool.ID + "/" + p }
	signIn := func() {
		mia.open(page("login"))
		mia.waitPath("/login")
		mia.typeInto("username", "mia@example.org")
		mia.typeInto("password", testenv.Password)
	}
	signIn()
	mia.submit("/account")
	addPasskey(t, mia, "Phone")

	p, err := s.Svc.GetPool(t.Context(), s.Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.MFA.Configuration = identity.MFAOn
	if _, err := s.Svc.UpdatePool(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	mia.open(page("signout"))
	mia.waitPath("/signout")
	mia.submit("/login")
	signIn()
	mia.submit("/login")
	mia.see("Confirm it is you with your passkey")
	mia.waitFor(`!document.getElementById("passkey-mfa").hidden`)
	mia.shot("passkey-mfa-01-second-factor")
	mia.eval(`(function(){ window.__ghOld = true; return "" })()`)
	mia.do(chromedp.Click(chromedp.CSS("#passkey-mfa button[type=submit]")))
	mia.waitFor(`!window.__ghOld || document.getElementById("passkey-mfa").hasAttribute("data-passkey-error")`)
	if e := mia.eval(`window.__ghOld ? document.getElementById("passkey-mfa").getAttribute("data-passkey-error") : ""`); e != "" {
		t.Fatalf("assertion failed in the browser: %s", e)
	}
	mia.waitFor(`!window.__ghOld && document.readyState === "complete" && location.pathname.endsWith("/account")`)
	mia.see("You are signed in", "mia@example.org", "Phone")

	evs, _, err := s.Svc.Audit(t.Context(), auth.AuditQuery{PoolID: s.Pool.ID, Action: "user.sign_in"})
	if err != nil {
		t.Fatal(err)
	}
	var mfa []string
	for _, ev := range evs {
		if ev.Detail["flow"] == "web_authn_mfa" {
			mfa = append(mfa, ev.Detail["amr"])
		}
	}
	if len(mfa) != 1 || !slices.Contains(strings.Fields(mfa[0]), "mfa") || !slices.Contains(strings.Fields(mfa[0]), "pwd") {
		t.Fatalf("passkey second-factor sign-ins audited: %q", mfa)
	}
}
