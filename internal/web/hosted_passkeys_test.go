package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

var dataAttrRE = regexp.MustCompile(`data-(csrf|options|options-csrf|client-id)="([^"]*)"`)

// passkeyForm reads the data- attributes of the page's passkey form with
// id (what passkeys.js reads).
func passkeyForm(t *testing.T, page testenv.Response, id string) map[string]string {
	t.Helper()
	i := strings.Index(page.Body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no form %s on %s: %s", id, page.URL, page.Body)
	}
	tag := page.Body[i:]
	tag = tag[:strings.IndexByte(tag, '>')]
	out := map[string]string{}
	for _, m := range dataAttrRE.FindAllStringSubmatch(tag, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// ceremony runs the script's steps: options, authenticator, form post.
func ceremony(t *testing.T, b *testenv.Browser, page testenv.Response, id string, answer func([]byte) []byte, extra ...string) testenv.Response {
	t.Helper()
	f := passkeyForm(t, page, id)
	opts := b.Post(testenv.Resolve(page.URL, f["options"]), url.Values{"csrf": {f["options-csrf"]}, "client_id": {f["client-id"]}})
	if opts.Status != http.StatusOK {
		t.Fatalf("options: %d %s", opts.Status, opts.Body)
	}
	form := url.Values{"csrf": {f["csrf"]}, "client_id": {f["client-id"]}, "credential": {string(answer([]byte(opts.Body)))}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.Post(testenv.Resolve(page.URL, actionOf(t, page, id)), form)
}

func actionOf(t *testing.T, page testenv.Response, id string) string {
	t.Helper()
	m := regexp.MustCompile(`action="([^"]+)" id="` + id + `"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no action for %s", id)
	}
	return html.UnescapeString(m[1])
}

// TestHostedPasskeys, without a browser (the script's requests by hand):
// a signed-in user enrols a passkey on the account page and signs in with
// it from the sign-in page; another user's session cannot remove it; a
// removal needs a sign-in at most 10 minutes old; the passkey endpoints
// check the CSRF token; the sign-in refuses a response to another
// challenge.
func TestHostedPasskeys(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{Host: "localhost", Surfaces: testenv.Web,
		Pool:    &auth.CreatePoolInput{Name: "Keys", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}, {Username: "bob@example.org"}}})
	cid := s.Client(0).ID
	a := softauthn.New(t, s.URL)

	pia := s.Browser()
	if r := s.HostedSignIn(pia, cid, "pia@example.org", ""); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	acct := pia.Get(s.Page("account?client_id=" + cid))
	r := ceremony(t, pia, acct, "passkey-add", a.Create, "name", "Pia's key")
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=passkey_added") {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	acct = pia.Get(s.Page("account?client_id=" + cid))
	if !strings.Contains(acct.Body, "Pia&#39;s key") || !strings.Contains(acct.Body, a.CredentialID()) {
		t.Fatalf("account page: %s", acct.Body)
	}

	// No CSRF token: refused, nothing created.
	if r := pia.Post(s.Page("account/passkeys/options"), url.Values{"client_id": {cid}}); r.Status != http.StatusForbidden {
		t.Fatalf("options without csrf: %d", r.Status)
	}
	if r := pia.Post(s.Page("passkey"), url.Values{"client_id": {cid}, "credential": {"{}"}}); r.Status != http.StatusForbidden {
		t.Fatalf("sign-in without csrf: %d", r.Status)
	}

	// A fresh browser signs in with the passkey alone.
	anon := s.Browser()
	login := anon.Get(s.Page("login?client_id=" + cid))
	r = ceremony(t, anon, login, "passkey-signin", a.Get)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "/account") {
		t.Fatalf("passkey sign-in: %d %s", r.Status, r.Body)
	}
	if acct := anon.Get(s.Page("account?client_id=" + cid)); !strings.Contains(acct.Body, "pia@example.org") {
		t.Fatalf("not signed in: %s", acct.Body)
	}
	// The same answer again: the challenge was used.
	login = anon.Get(s.Page("login?client_id=" + cid + "&prompt=login"))
	f := passkeyForm(t, login, "passkey-signin")
	opts := anon.Post(s.Page("passkey/options"), url.Values{"csrf": {f["options-csrf"]}, "client_id": {cid}})
	resp := a.Get([]byte(opts.Body))
	r = anon.Post(s.Page("passkey"), url.Values{"csrf": {f["csrf"]}, "client_id": {cid}, "credential": {string(resp)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.Status)
	}
	r = anon.Post(s.Page("passkey"), url.Values{"csrf": {f["csrf"]}, "client_id": {cid}, "credential": {string(resp)}})
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "That passkey was not accepted") {
		t.Fatalf("replayed sign-in: %d %s", r.Status, r.Body)
	}

	// Bob's session cannot remove Pia's passkey: with the remove form of
	// his own passkey, naming hers, the answer is "not found".
	bob := s.Browser()
	s.HostedSignIn(bob, cid, "bob@example.org", "")
	bacct := bob.Get(s.Page("account?client_id=" + cid))
	ceremony(t, bob, bacct, "passkey-add", softauthn.New(t, s.URL).Create)
	bacct = bob.Get(s.Page("account?client_id=" + cid))
	del := regexp.MustCompile(`name="csrf" value="([^"]+)">\s*<input type="hidden" name="client_id" value="[^"]*">\s*<input type="hidden" name="id"`)
	bm := del.FindStringSubmatch(bacct.Body)
	if bm == nil {
		t.Fatalf("no remove form on bob's page: %s", bacct.Body)
	}
	r = bob.Post(s.Page("account/passkeys/delete"), url.Values{"csrf": {html.UnescapeString(bm[1])}, "client_id": {cid}, "id": {a.CredentialID()}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Passkey not found.") {
		t.Fatalf("bob removing pia's passkey: %d %s", r.Status, r.Body)
	}

	// Pia, 11 minutes after signing in, must sign in again to remove it.
	s.Clock.Advance(11 * time.Minute)
	acct = pia.Get(s.Page("account?client_id=" + cid))
	m := del.FindStringSubmatch(acct.Body)
	if m == nil {
		t.Fatalf("no remove form: %s", acct.Body)
	}
	form := url.Values{"csrf": {html.UnescapeString(m[1])}, "client_id": {cid}, "id": {a.CredentialID()}}
	r = pia.Post(s.Page("account/passkeys/delete"), form)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "sign in again before removing a passkey") {
		t.Fatalf("stale removal: %d %s", r.Status, r.Body)
	}
	if l, _ := s.Svc.ListPasskeys(t.Context(), s.Pool.ID, s.Subs["pia@example.org"]); len(l) != 1 {
		t.Fatalf("%d passkeys after a refused removal", len(l))
	}
	login = pia.Get(s.Page("login?client_id=" + cid + "&prompt=login"))
	pia.Submit(login, "username", "pia@example.org", "password", testenv.Password)
	r = pia.Post(s.Page("account/passkeys/delete"), form)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=passkey_removed") {
		t.Fatalf("removal: %d %s", r.Status, r.Body)
	}
	if l, _ := s.Svc.ListPasskeys(t.Context(), s.Pool.ID, s.Subs["pia@example.org"]); len(l) != 0 {
		t.Fatalf("%d passkeys after removal", len(l))
	}
}

// TestHostedPasskeyMFA: in a pool with MFA ON, a password sign-in of a user
// who has a passkey goes on to the second-factor page (the passkey step),
// while the passkey
// sign-in (user verification required, so multi-factor by itself) lands on
// the account page at once; the session then counts as having its second
// factor (the sign-in page skips the form).
func TestHostedPasskeyMFA(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{Host: "localhost", Surfaces: testenv.Web,
		Pool: &auth.CreatePoolInput{Name: "Keys MFA", UsernameMode: identity.UsernameEmail,
			MFA: identity.MFASettings{Configuration: identity.MFAOn}},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}}})
	cid := s.Client(0).ID
	a := softauthn.New(t, s.URL)
	sub := s.Subs["pia@example.org"]
	opts, err := s.Svc.StartPasskeyRegistration(t.Context(), s.Pool.ID, sub, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.CompletePasskeyRegistration(t.Context(), s.Pool.ID, sub, a.Create(opts), "key"); err != nil {
		t.Fatal(err)
	}

	pw := s.Browser()
	if r := s.HostedSignIn(pw, cid, "pia@example.org", ""); r.Status != http.StatusOK || !strings.Contains(r.Body, `id="passkey-mfa"`) {
		t.Fatalf("password sign-in without the second-factor page: %d %s %s", r.Status, r.Location(), r.Body)
	}

	pk := s.Browser()
	login := pk.Get(s.Page("login?client_id=" + cid))
	r := ceremony(t, pk, login, "passkey-signin", a.Get)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "/account") {
		t.Fatalf("passkey sign-in: %d %s %s", r.Status, r.Location(), r.Body)
	}
	if acct := pk.Get(s.Page("account?client_id=" + cid)); !strings.Contains(acct.Body, "pia@example.org") {
		t.Fatalf("not signed in: %s", acct.Body)
	}
	if again := pk.Get(s.Page("login?client_id=" + cid)); strings.Contains(again.Body, `id="passkey-signin"`) {
		t.Fatalf("the passkey session was asked to sign in again: %d %s", again.Status, again.URL)
	}
}

var requestOptionsRE = regexp.MustCompile(`data-request-options="([^"]*)"`)

// TestHostedPasskeySecondFactor, without a browser: in a pool with MFA ON, the
// password step of a user with a passkey shows the passkey step (WEB_AUTHN,
// its options in the page); an answer with a forged CSRF token changes
// nothing (the same step then succeeds); an empty answer is refused with
// the error and signs nobody in; the right assertion signs in with amr mfa.
func TestHostedPasskeySecondFactor(t *testing.T) {
	t.Parallel()
	s := testenv.New(t, testenv.Options{Host: "localhost", Surfaces: testenv.Web,
		Pool:    &auth.CreatePoolInput{Name: "Keys MFA", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}}})
	cid := s.Client(0).ID
	a := softauthn.New(t, s.URL)
	pia := s.Browser()
	s.HostedSignIn(pia, cid, "pia@example.org", "")
	if r := ceremony(t, pia, pia.Get(s.Page("account?client_id="+cid)), "passkey-add", a.Create); r.Status != http.StatusSeeOther {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	p, err := s.Svc.GetPool(t.Context(), s.Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.MFA.Configuration = identity.MFAOn
	if _, err := s.Svc.UpdatePool(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	signIns := func() []string {
		evs, _, err := s.Svc.Audit(t.Context(), auth.AuditQuery{PoolID: s.Pool.ID, Action: "user.sign_in"})
		if err != nil {
			t.Fatal(err)
		}
		var amrs []string
		for _, ev := range evs {
			if ev.Detail["flow"] == "web_authn_mfa" {
				amrs = append(amrs, ev.Detail["amr"])
			}
		}
		return amrs
	}
	signedIn := func(b *testenv.Browser) bool {
		return strings.Contains(b.Get(s.Page("account?client_id="+cid)).Body, "You are signed in")
	}
	mfaStep := func(b *testenv.Browser) (testenv.Response, []byte) {
		t.Helper()
		page := s.HostedSignIn(b, cid, "pia@example.org", "")
		m := requestOptionsRE.FindStringSubmatch(page.Body)
		if page.Status != http.StatusOK || m == nil || !strings.Contains(page.Body, `name="challenge" value="WEB_AUTHN"`) {
			t.Fatalf("passkey step: %d %s", page.Status, page.Body)
		}
		return page, []byte(html.UnescapeString(m[1]))
	}

	// A forged CSRF token: refused before anything runs.
	b := s.Browser()
	page, opts := mfaStep(b)
	answer := string(a.Get(opts))
	form := page.Hidden()
	form.Set("credential", answer)
	form.Set("csrf", "forged")
	if r := b.Post(page.Action(), form); r.Status != http.StatusForbidden {
		t.Fatalf("forged csrf: %d %s", r.Status, r.Body)
	}
	if signedIn(b) || len(signIns()) != 0 {
		t.Fatal("a forged CSRF token signed in")
	}
	// The same answer with the page's token: signed in, amr says mfa.
	form.Set("csrf", page.CSRF())
	if r := b.Post(page.Action(), form); r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "/account") {
		t.Fatalf("passkey step: %d %s", r.Status, r.Body)
	}
	if amrs := signIns(); !signedIn(b) || len(amrs) != 1 || !strings.Contains(" "+amrs[0]+" ", " mfa ") {
		t.Fatalf("signed in %v, amr %q", signedIn(b), amrs)
	}

	// No assertion: the error, no session.
	b = s.Browser()
	page, _ = mfaStep(b)
	r := b.Post(page.Action(), page.Hidden())
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "That passkey was not accepted") {
		t.Fatalf("empty answer: %d %s", r.Status, r.Body)
	}
	if signedIn(b) || len(signIns()) != 1 {
		t.Fatal("an empty answer signed in")
	}

	// With email codes allowed too: the choice lists the passkey, and the
	// email code step offers "Use your passkey instead".
	p.Settings.MFA.Email = true
	if _, err := s.Svc.UpdatePool(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	b = s.Browser()
	choice := s.HostedSignIn(b, cid, "pia@example.org", "")
	if choice.Status != http.StatusOK || !strings.Contains(choice.Body, `name="answer" value="WEB_AUTHN"`) ||
		!strings.Contains(choice.Body, `name="answer" value="EMAIL_OTP"`) {
		t.Fatalf("choice: %d %s", choice.Status, choice.Body)
	}
	code := b.Submit(choice, "answer", "EMAIL_OTP")
	if code.Status != http.StatusOK || !strings.Contains(code.Body, `name="challenge" value="EMAIL_OTP"`) || !strings.Contains(code.Body, `id="use-passkey"`) {
		t.Fatalf("email step: %d %s", code.Status, code.Body)
	}
	step := b.Submit(code, "answer", "WEB_AUTHN")
	m := requestOptionsRE.FindStringSubmatch(step.Body)
	if step.Status != http.StatusOK || m == nil {
		t.Fatalf("passkey instead: %d %s", step.Status, step.Body)
	}
	form = step.Hidden()
	form.Set("credential", string(a.Get([]byte(html.UnescapeString(m[1])))))
	if r := b.Post(step.Action(), form); r.Status != http.StatusSeeOther || !signedIn(b) || len(signIns()) != 2 {
		t.Fatalf("passkey after the choice: %d %s", r.Status, r.Body)
	}
}
