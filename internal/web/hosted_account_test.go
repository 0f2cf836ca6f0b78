package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// The account page's changes (hosted_account.go), without a browser:
// every form posted as the page has it, with attacks next to each.

const (
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaChrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// accountForm returns the hidden fields of the page's form posting to
// the account page's path page (first one; with id, the one for that id).
func accountForm(t *testing.T, body, poolID, page, id string) url.Values {
	t.Helper()
	re := regexp.MustCompile(`(?s)<form method="post" action="/` + regexp.QuoteMeta(poolID+"/"+page) + `"[^>]*>(.*?)</form>`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		form := url.Values{}
		for _, h := range testenv.HiddenRE.FindAllStringSubmatch(m[1], -1) {
			form.Set(h[1], html.UnescapeString(h[2]))
		}
		if id == "" || form.Get("id") == id {
			return form
		}
	}
	t.Fatalf("no form for %s (id %q) on the page:\n%s", page, id, body)
	return nil
}

var sessionRowRE = regexp.MustCompile(`<tr data-session-id="([^"]+)"( data-current="true")?><td>([^<]*)</td><td>([^<]*)</td>`)

type pageSession struct{ id, device, ip string }

// sessionsOn reads the sign-ins listed on an account page: the current
// one and the others.
func sessionsOn(body string) (cur pageSession, others []pageSession) {
	for _, m := range sessionRowRE.FindAllStringSubmatch(body, -1) {
		ps := pageSession{id: m[1], device: html.UnescapeString(m[3]), ip: m[4]}
		if m[2] != "" {
			cur = ps
		} else {
			others = append(others, ps)
		}
	}
	return cur, others
}

func accountStack(t *testing.T, mfa string) *testenv.Stack {
	return testenv.New(t, testenv.Options{Host: "localhost", SMTP: true, Surfaces: testenv.Web | testenv.API,
		Pool: &auth.CreatePoolInput{Name: "Account", UsernameMode: identity.UsernameEmail,
			MFA: identity.MFASettings{Configuration: mfa}},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users:   []testenv.User{{Username: "pia@example.org"}, {Username: "bob@example.org"}}})
}

func signedInBrowser(t *testing.T, s *testenv.Stack, user, ua string) *testenv.Browser {
	t.Helper()
	b := s.Browser()
	b.Header = http.Header{"User-Agent": {ua}}
	if r := s.HostedSignIn(b, s.Client(0).ID, user, ""); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in %s: %d %s", user, r.Status, r.Body)
	}
	return b
}

// TestAccountSessions: the page lists the user's sign-ins with their
// device and IP; "Sign out" on one ends that browser's session and the
// tokens of that sign-in at once; "Sign out everywhere else" ends the
// rest but this one. Another user's session id is not found; every form
// needs its CSRF token.
func TestAccountSessions(t *testing.T) {
	t.Parallel()
	s := accountStack(t, identity.MFAOff)
	cid := s.Client(0).ID
	laptop := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	phone := signedInBrowser(t, s, "pia@example.org", uaChrome)
	api := s.SignIn(cid, "pia@example.org", "")
	bob := signedInBrowser(t, s, "bob@example.org", uaChrome)
	signedInBrowser(t, s, "bob@example.org", uaFirefox) // so that Bob's page has a "Sign out" form

	acct := laptop.Get(s.Page("account?client_id=" + cid))
	cur, others := sessionsOn(acct.Body)
	if cur.device != "Firefox on Linux" || cur.ip != "127.0.0.1" || len(others) != 2 {
		t.Fatalf("sessions on the page: current %+v, others %+v\n%s", cur, others, acct.Body)
	}
	var phoneID string
	for _, o := range others {
		if o.device == "Chrome on Windows" {
			phoneID = o.id
		}
	}
	if phoneID == "" {
		t.Fatalf("the phone's sign-in is not listed: %+v", others)
	}

	// No CSRF token, or the token of another form: refused, nothing ends.
	form := accountForm(t, acct.Body, s.Pool.ID, "account/sessions/delete", phoneID)
	if r := laptop.Post(s.Page("account/sessions/delete"), url.Values{"client_id": {cid}, "id": {phoneID}}); r.Status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", r.Status)
	}
	wrong := accountForm(t, acct.Body, s.Pool.ID, "account/password", "")
	if r := laptop.Post(s.Page("account/sessions/delete"), url.Values{"csrf": wrong["csrf"], "client_id": {cid}, "id": {phoneID}}); r.Status != http.StatusForbidden {
		t.Fatalf("with another form's csrf: %d", r.Status)
	}
	// Bob, with his own page's form, names Pia's session: not found.
	r := bob.Post(s.Page("account/sessions/delete"), url.Values{"csrf": {accountCSRF(t, bob, s, "account/sessions/delete")}, "client_id": {cid}, "id": {phoneID}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "No such session.") {
		t.Fatalf("bob signing out pia's session: %d %s", r.Status, r.Body)
	}
	if p := phone.Get(s.Page("account?client_id=" + cid)); p.Status != http.StatusOK {
		t.Fatalf("the phone lost its session after refused attempts: %d", p.Status)
	}

	// Pia signs the phone out from the laptop.
	r = laptop.Post(s.Page("account/sessions/delete"), form)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=session_revoked") {
		t.Fatalf("sign out the phone: %d %s", r.Status, r.Body)
	}
	if p := phone.Get(s.Page("account?client_id=" + cid)); p.Status != http.StatusFound || !strings.Contains(p.Header.Get("Location"), "/login") {
		t.Fatalf("the phone is still signed in: %d %s", p.Status, p.Header.Get("Location"))
	}
	if _, err := s.Svc.GetUser(t.Context(), api.AccessToken); err != nil {
		t.Fatalf("the API sign-in ended with the phone's: %v", err)
	}

	// Everywhere else: the API sign-in's access and refresh tokens end;
	// the laptop stays; Bob's session is not Pia's to end.
	acct = laptop.Get(s.Page("account?client_id=" + cid))
	r = laptop.Post(s.Page("account/sessions/others"), accountForm(t, acct.Body, s.Pool.ID, "account/sessions/others", ""))
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=sessions_revoked") {
		t.Fatalf("sign out everywhere else: %d %s", r.Status, r.Body)
	}
	if _, err := s.Svc.GetUser(t.Context(), api.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("access token after sign-out everywhere else: %v", err)
	}
	if _, err := s.Svc.InitiateAuth(t.Context(), auth.InitiateAuthInput{Client: auth.Client{ID: cid}, Flow: auth.AuthRefreshToken,
		RefreshToken: api.RefreshToken}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("refresh after sign-out everywhere else: %v", err)
	}
	acct = laptop.Get(s.Page("account?client_id=" + cid))
	if cur, others := sessionsOn(acct.Body); cur.id == "" || len(others) != 0 || !strings.Contains(acct.Body, "No other active sign-ins.") {
		t.Fatalf("after sign-out everywhere else: %+v %+v", cur, others)
	}
	if p := bob.Get(s.Page("account?client_id=" + cid)); p.Status != http.StatusOK {
		t.Fatalf("bob was signed out by pia: %d", p.Status)
	}
}

// accountCSRF is the CSRF token of the account page's form page, as b's
// account page carries it.
func accountCSRF(t *testing.T, b *testenv.Browser, s *testenv.Stack, page string) string {
	t.Helper()
	acct := b.Get(s.Page("account?client_id=" + s.Client(0).ID))
	re := regexp.MustCompile(`action="/` + regexp.QuoteMeta(s.Pool.ID+"/"+page) + `">\s*<input type="hidden" name="csrf" value="([^"]+)"`)
	m := re.FindStringSubmatch(acct.Body)
	if m == nil {
		t.Fatalf("no %s form: %s", page, acct.Body)
	}
	return html.UnescapeString(m[1])
}

// TestAccountPassword: the current password is required (a stolen
// session alone cannot change it), the new one meets the policy; then
// every other sign-in ends, this one stays, and the user is emailed.
func TestAccountPassword(t *testing.T) {
	t.Parallel()
	s := accountStack(t, identity.MFAOff)
	cid := s.Client(0).ID
	laptop := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	phone := signedInBrowser(t, s, "pia@example.org", uaChrome)
	api := s.SignIn(cid, "pia@example.org", "")
	s.Drain()

	post := func(current, next string) testenv.Response {
		acct := laptop.Get(s.Page("account?client_id=" + cid))
		f := accountForm(t, acct.Body, s.Pool.ID, "account/password", "")
		f.Set("current_password", current)
		f.Set("password", next)
		return laptop.Post(s.Page("account/password"), f)
	}
	const newPW = "a completely new passphrase 42"
	if r := post("not my password 1", newPW); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Incorrect username or password.") {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
	}
	if r := post(testenv.Password, "short"); r.Status != http.StatusBadRequest {
		t.Fatalf("password under the policy: %d %s", r.Status, r.Body)
	}
	if r := laptop.Post(s.Page("account/password"), url.Values{"client_id": {cid}, "current_password": {testenv.Password}, "password": {newPW}}); r.Status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", r.Status)
	}
	if _, err := s.Svc.GetUser(t.Context(), api.AccessToken); err != nil {
		t.Fatalf("refused changes ended a session: %v", err)
	}
	s.NoMail("pia@example.org")

	r := post(testenv.Password, newPW)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=password_changed") {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if m := s.Mail("pia@example.org"); !strings.Contains(m.Subject, "your password was changed") {
		t.Fatalf("email: %q", m.Subject)
	}
	if p := laptop.Get(s.Page("account?client_id=" + cid)); p.Status != http.StatusOK {
		t.Fatalf("this browser was signed out: %d", p.Status)
	}
	if p := phone.Get(s.Page("account?client_id=" + cid)); p.Status != http.StatusFound {
		t.Fatalf("the other browser is still signed in: %d", p.Status)
	}
	if _, err := s.Svc.GetUser(t.Context(), api.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the API sign-in survived the change: %v", err)
	}
	s.SignIn(cid, "pia@example.org", newPW)
}

// TestAccountEmail: a new address stays pending (the address in force is
// told, the new one gets the code) until the code is entered; another
// user's address is refused; an old sign-in must sign in again.
func TestAccountEmail(t *testing.T) {
	t.Parallel()
	s := accountStack(t, identity.MFAOff)
	cid := s.Client(0).ID
	pia := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	s.Drain()
	change := func(addr string) testenv.Response {
		acct := pia.Get(s.Page("account?client_id=" + cid))
		f := accountForm(t, acct.Body, s.Pool.ID, "account/email", "")
		f.Set("email", addr)
		return pia.Post(s.Page("account/email"), f)
	}
	if r := change("bob@example.org"); r.Status != http.StatusBadRequest {
		t.Fatalf("another user's address: %d %s", r.Status, r.Body)
	}
	r := change("pia.new@example.org")
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=email_pending") {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if m := s.Mail("pia@example.org"); !strings.Contains(m.Subject, "a new email address was asked for") {
		t.Fatalf("the old address was not told: %q %s", m.Subject, m.Text)
	}
	code := s.Mail("pia.new@example.org").Code()
	v, err := s.Svc.AdminGetUser(t.Context(), s.Pool.ID, "pia@example.org")
	if err != nil || v.User.Email != "pia@example.org" || v.User.PendingEmail != "pia.new@example.org" {
		t.Fatalf("before the code: %+v %v", v, err)
	}
	acct := pia.Get(s.Page("account?client_id=" + cid))
	if !strings.Contains(acct.Body, `id="account-pending-email">pia.new@example.org`) {
		t.Fatalf("pending address not shown: %s", acct.Body)
	}
	f := accountForm(t, acct.Body, s.Pool.ID, "account/email/verify", "")
	f.Set("code", "000000")
	if r := pia.Post(s.Page("account/email/verify"), f); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong code: %d", r.Status)
	}
	f.Set("code", code)
	if r := pia.Post(s.Page("account/email/verify"), f); r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=email_verified") {
		t.Fatalf("code: %d %s", r.Status, r.Body)
	}
	v, _ = s.Svc.AdminGetUser(t.Context(), s.Pool.ID, "pia@example.org")
	if v.User.Email != "pia.new@example.org" || !v.User.EmailVerified || v.User.PendingEmail != "" {
		t.Fatalf("after the code: %+v", v.User)
	}

	// Eleven minutes later the same session must sign in again.
	s.Clock.Advance(11 * time.Minute)
	if r := change("pia.third@example.org"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "sign in again") {
		t.Fatalf("stale session: %d %s", r.Status, r.Body)
	}
	v, _ = s.Svc.AdminGetUser(t.Context(), s.Pool.ID, "pia@example.org")
	if v.User.PendingEmail != "" {
		t.Fatalf("a stale session changed the email: %+v", v.User)
	}
}

// TestAccountTOTP: enrol an authenticator app from the page (QR code and
// key), get recovery codes once, and in a pool requiring MFA the last
// factor cannot be removed; an old sign-in must sign in again.
func TestAccountTOTP(t *testing.T) {
	t.Parallel()
	s := accountStack(t, identity.MFAOptional)
	cid := s.Client(0).ID
	pia := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	acct := pia.Get(s.Page("account?client_id=" + cid))
	if r := pia.Post(s.Page("account/totp"), url.Values{"client_id": {cid}}); r.Status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", r.Status)
	}
	page := pia.Post(s.Page("account/totp"), accountForm(t, acct.Body, s.Pool.ID, "account/totp", ""))
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil || !strings.Contains(page.Body, "<svg") {
		t.Fatalf("enrolment page: %d %s", page.Status, page.Body)
	}
	f := page.Hidden()
	f.Set("code", "000000")
	if r := pia.Post(page.Action(), f); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, m[1]) {
		t.Fatalf("wrong code: %d %s", r.Status, r.Body)
	}
	code, _ := totp.GenerateCode(m[1], s.Clock.Now())
	f.Set("code", code)
	f.Set("name", "Pia's phone")
	if r := pia.Post(page.Action(), f); r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=totp_added") {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	mfa, err := s.Svc.AdminGetUserMFA(t.Context(), s.Pool.ID, "pia@example.org")
	if err != nil || mfa.Preferred != auth.ChallengeSoftwareTokenMFA {
		t.Fatalf("after enrolment: %+v %v", mfa, err)
	}
	acct = pia.Get(s.Page("account?client_id=" + cid))
	codes := pia.Post(s.Page("account/recovery-codes"), accountForm(t, acct.Body, s.Pool.ID, "account/recovery-codes", ""))
	if n := strings.Count(codes.Body, "<li><code>"); codes.Status != http.StatusOK || n != auth.RecoveryCodeCount || codes.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("recovery codes: %d %d %s", codes.Status, n, codes.Body)
	}

	// The pool now requires MFA: the app is the last factor and stays.
	if _, err := s.Svc.SetPoolMFA(t.Context(), s.Pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
		t.Fatal(err)
	}
	fid := mfa.Factors[0].ID
	acct = pia.Get(s.Page("account?client_id=" + cid))
	del := accountForm(t, acct.Body, s.Pool.ID, "account/factors/delete", fid)
	if r := pia.Post(s.Page("account/factors/delete"), del); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "MFA is required") {
		t.Fatalf("removing the last factor: %d %s", r.Status, r.Body)
	}
	// Optional again, but eleven minutes later: sign in again first.
	if _, err := s.Svc.SetPoolMFA(t.Context(), s.Pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOptional}); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(11 * time.Minute)
	if r := pia.Post(s.Page("account/factors/delete"), del); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "sign in again") {
		t.Fatalf("stale removal: %d %s", r.Status, r.Body)
	}
	if v, _ := s.Svc.AdminGetUserMFA(t.Context(), s.Pool.ID, "pia@example.org"); len(v.Settings) != 1 {
		t.Fatalf("a refused removal removed: %+v", v)
	}
}
