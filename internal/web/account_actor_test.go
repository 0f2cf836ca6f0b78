package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestAccountActionsAuditedAsUser (issue 16): what a signed-in user does
// on the hosted pages is audited as that user, "user:<sub>" via "hosted"
// from the browser's address — never as "system". Pia signs in, signs
// another browser out, forgets a device, changes her email and password,
// signs out everywhere else, enrols an authenticator app and gets recovery
// codes; every hosted event about her names her as its actor. Bob's
// refused attempt on Pia's device is never recorded as hers.
func TestAccountActionsAuditedAsUser(t *testing.T) {
	t.Parallel()
	s, app := deviceStack(t)
	cid := s.Client(0).ID
	pia, bob := "user:"+s.Subs["pia@example.org"], "user:"+s.Subs["bob@example.org"]
	key, _ := s.RememberDevice(app, "pia@example.org", "", "Pia's phone")
	s.RememberDevice(app, "bob@example.org", "", "") // so that Bob's page has a "Forget" form
	laptop := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	phone := signedInBrowser(t, s, "pia@example.org", uaChrome)
	signedInBrowser(t, s, "pia@example.org", uaChrome) // for "sign out everywhere else"
	bobB := signedInBrowser(t, s, "bob@example.org", uaChrome)
	s.Drain()

	acct := func(b *testenv.Browser) string { return b.Get(s.Page("account?client_id=" + cid)).Body }
	post := func(b *testenv.Browser, page string, form url.Values, want int) {
		t.Helper()
		if r := b.Post(s.Page(page), form); r.Status != want {
			t.Fatalf("%s: %d, want %d\n%s", page, r.Status, want, r.Body)
		}
	}
	_, others := sessionsOn(acct(phone))
	if len(others) == 0 {
		t.Fatal("no other session on the phone's page")
	}
	cur, _ := sessionsOn(acct(phone))
	post(laptop, "account/sessions/delete", accountForm(t, acct(laptop), s.Pool.ID, "account/sessions/delete", cur.id), http.StatusSeeOther)

	bobForm := accountForm(t, acct(bobB), s.Pool.ID, "account/password", "")
	post(bobB, "account/devices/forget", url.Values{"csrf": {accountCSRF(t, bobB, s, "account/devices/forget")}, "client_id": bobForm["client_id"],
		"key": {key}}, http.StatusBadRequest)
	post(laptop, "account/devices/forget", deviceForm(t, acct(laptop), "/"+s.Pool.ID+"/account/devices/forget", key), http.StatusSeeOther)

	f := accountForm(t, acct(laptop), s.Pool.ID, "account/email", "")
	f.Set("email", "pia.new@example.org")
	post(laptop, "account/email", f, http.StatusSeeOther)
	f = accountForm(t, acct(laptop), s.Pool.ID, "account/email/verify", "")
	f.Set("code", s.Mail("pia.new@example.org").Code())
	post(laptop, "account/email/verify", f, http.StatusSeeOther)
	post(laptop, "account/sessions/others", accountForm(t, acct(laptop), s.Pool.ID, "account/sessions/others", ""), http.StatusSeeOther)
	f = accountForm(t, acct(laptop), s.Pool.ID, "account/password", "")
	f.Set("current_password", testenv.Password)
	f.Set("password", "a completely new passphrase 42")
	post(laptop, "account/password", f, http.StatusSeeOther)
	page := laptop.Post(s.Page("account/totp"), accountForm(t, acct(laptop), s.Pool.ID, "account/totp", ""))
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("enrolment page: %d %s", page.Status, page.Body)
	}
	f = page.Hidden()
	code, _ := totp.GenerateCode(m[1], s.Clock.Now())
	f.Set("code", code)
	if r := laptop.Post(page.Action(), f); r.Status != http.StatusSeeOther {
		t.Fatalf("confirm the app: %d %s", r.Status, r.Body)
	}
	post(laptop, "account/recovery-codes", accountForm(t, acct(laptop), s.Pool.ID, "account/recovery-codes", ""), http.StatusOK)

	evs, _, err := s.Svc.Audit(t.Context(), auth.AuditQuery{PoolID: s.Pool.ID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Via != identity.ViaHosted {
			continue
		}
		seen[ev.Action] = true
		// Every hosted event here is its subject's own doing: Bob's
		// refused forget changed nothing of Pia's and is not hers.
		want := ev.Subject
		if ev.Subject == pia && ev.Actor == bob {
			t.Errorf("%s on pia recorded as bob's", ev.Action)
		}
		if ev.Actor != want || ev.IP == "" {
			t.Errorf("%s on %s: actor %q from %q, want %q from the browser's address", ev.Action, ev.Subject, ev.Actor, ev.IP, want)
		}
	}
	for _, a := range []string{"user.sign_in", "user.session_revoked", "user.device_forgotten", "user.update_attributes",
		"user.verify_email", "user.sessions_revoked", "user.change_password", "user.mfa_enrolled"} {
		if !seen[a] {
			t.Errorf("no hosted %s event; seen %v", a, seen)
		}
	}
	if t.Failed() {
		for _, ev := range evs {
			t.Logf("%s %s %s %s %s", ev.Action, ev.Subject, ev.Actor, ev.Via, ev.IP)
		}
	}
}

// TestHostedSignInStepsAuditedAsUser: in a pool requiring MFA, a user with
// no factor enrols an authenticator app inside the hosted sign-in (the
// MFA_SETUP step, proven by the password step's session) and is signed
// in: both the enrolment and the sign-in are audited as the user, via
// "hosted". A wrong password before proves no one: "system".
func TestHostedSignInStepsAuditedAsUser(t *testing.T) {
	t.Parallel()
	s := accountStack(t, identity.MFAOn)
	cid, pia := s.Client(0).ID, "user:"+s.Subs["pia@example.org"]
	b := s.Browser()
	if r := s.HostedSignIn(b, cid, "pia@example.org", "not pia's password 1"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	page := s.HostedSignIn(b, cid, "pia@example.org", "")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("the MFA_SETUP step: %d %s", page.Status, page.Body)
	}
	f := page.Hidden()
	code, _ := totp.GenerateCode(m[1], s.Clock.Now())
	f.Set("code", code)
	if r := b.Post(page.Action(), f); r.Status != http.StatusSeeOther {
		t.Fatalf("the app's first code: %d %s", r.Status, r.Body)
	}
	evs, _, err := s.Svc.Audit(t.Context(), auth.AuditQuery{PoolID: s.Pool.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"user.sign_in_failed": "system", "user.mfa_enrolled": pia, "user.sign_in": pia}
	for _, ev := range evs {
		if w, ok := want[ev.Action]; ok && ev.Via == identity.ViaHosted {
			if ev.Actor != w {
				t.Errorf("%s: actor %q, want %q", ev.Action, ev.Actor, w)
			}
			delete(want, ev.Action)
		}
	}
	if len(want) != 0 {
		t.Errorf("events missing: %v", want)
		for _, ev := range evs {
			t.Logf("%s %s %s %s", ev.Action, ev.Subject, ev.Actor, ev.Via)
		}
	}
}
