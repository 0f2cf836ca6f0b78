package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// Remembered devices on the console's user page and on the account page
// (console_users.go, hosted_account.go; auth devices.go), without a
// browser; TestBrowserDevices drives both in Chromium.

// deviceForm returns the hidden fields of the form that forgets device
// key on a page whose forms post to action.
func deviceForm(t *testing.T, body, action, key string) url.Values {
	t.Helper()
	re := regexp.MustCompile(`(?s)<form method="post" action="` + regexp.QuoteMeta(action) + `"[^>]*>(.*?)</form>`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		form := url.Values{}
		for _, h := range testenv.HiddenRE.FindAllStringSubmatch(m[1], -1) {
			form.Set(h[1], html.UnescapeString(h[2]))
		}
		if form.Get("key") == key {
			return form
		}
	}
	t.Fatalf("no form for device %s posting to %s:\n%s", key, action, body)
	return nil
}

// deviceClient adds an app client that signs in with passwords, as an
// app remembering devices does.
func deviceClient(t *testing.T, svc *auth.Service, poolID string) string {
	t.Helper()
	cl, err := svc.CreateClient(context.Background(), auth.CreateClientInput{PoolID: poolID, Name: "phone app",
		AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	return cl.Client.ID
}

// TestConsoleDevices: the user page lists remembered devices (name, key,
// status, added, last used, last IP) with "Forget". A company admin sees
// and forgets those of a plain member of her company; not those of a pool
// admin in it (no table, a forged POST refused), nor of another company's
// member; a forged or missing CSRF token changes nothing; another user's
// key under the member's name is not found. Forgetting ends the device's
// sign-ins and is audited. (The role rule itself is checked by the
// service, internal/auth TestConsoleDevicesRoles.)
func TestConsoleDevices(t *testing.T) {
	t.Parallel()
	e := consoleSetupWith(t, setupOpts{devices: true})
	ctx := context.Background()
	for _, u := range []string{"dan@acme.example", "zed@example.org"} {
		confirmedUser(t, e.env, u)
	}
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex"}); err != nil {
		t.Fatal(err)
	}
	e.setCompany("dan@acme.example", "acme")
	e.setCompany("root@example.org", "acme")
	e.setCompany("zed@example.org", "globex")
	app := deviceClient(t, e.svc, e.pool.ID)
	danKey, danToks := e.stack.RememberDevice(app, "dan@acme.example", "", "Dan's phone")
	zedKey, zedToks := e.stack.RememberDevice(app, "zed@example.org", "", "Zed's tablet")
	rootKey, rootToks := e.stack.RememberDevice(app, "root@example.org", "", "Root's laptop")
	base := "/" + e.pool.ID + "/console/"
	still := func(who string, toks *auth.Tokens) {
		t.Helper()
		if _, err := e.svc.GetUser(ctx, toks.AccessToken); err != nil {
			t.Fatalf("%s's device sign-in ended by a refused call: %v", who, err)
		}
	}

	carol := e.consoleLogin("carol@acme.example")
	p := "users/" + url.PathEscape("dan@acme.example")
	page := must(t, carol.get(e.console(p)), http.StatusOK)
	contains(t, page, `id="devices"`, `data-device-key="`+danKey+`"`, "Dan&#39;s phone", "<code>"+danKey+"</code>", "remembered", testenv.DeviceIP, ">Forget<")
	form := deviceForm(t, page.body, base+p+"/devices/forget", danKey)

	// Forged and missing CSRF tokens: refused, nothing forgotten.
	for _, tok := range []string{"", "forged", formCSRF(t, page, base+p)} {
		if r := carol.post(e.console(p+"/devices/forget"), url.Values{"csrf": {tok}, "key": {danKey}}); r.status != http.StatusForbidden {
			t.Fatalf("forget with csrf %q: %d", tok, r.status)
		}
	}
	still("dan", danToks)

	// Root (a pool admin, an acme member): no table, and the forged POST
	// is refused; zed is not hers to see at all.
	rp := "users/" + url.PathEscape("root@example.org")
	rpage := must(t, carol.get(e.console(rp)), http.StatusOK)
	lacks(t, rpage, `id="devices"`, rootKey)
	if r := carol.post(e.console(rp+"/devices/forget"), url.Values{"csrf": {formCSRF(t, rpage, base+rp)}, "key": {rootKey}}); r.status != http.StatusForbidden {
		t.Fatalf("carol forgets root's device: %d", r.status)
	}
	zp := "users/" + url.PathEscape("zed@example.org")
	if r := carol.get(e.console(zp)); r.status != http.StatusForbidden || strings.Contains(r.body, zedKey) {
		t.Fatalf("carol sees zed: %d", r.status)
	}
	if r := carol.post(e.console(zp+"/devices/forget"), url.Values{"csrf": form["csrf"], "key": {zedKey}}); r.status != http.StatusForbidden {
		t.Fatalf("carol forgets zed's device: %d", r.status)
	}
	still("root", rootToks)
	still("zed", zedToks)

	// The pool admin sees zed's device; dan's key under zed's name is
	// not zed's device.
	root := e.consoleLogin("root@example.org")
	zpage := must(t, root.get(e.console(zp)), http.StatusOK)
	contains(t, zpage, `data-device-key="`+zedKey+`"`, "Zed&#39;s tablet")
	zform := deviceForm(t, zpage.body, base+zp+"/devices/forget", zedKey)
	zform.Set("key", danKey)
	if r := root.post(e.console(zp+"/devices/forget"), zform); r.status != http.StatusNotFound {
		t.Fatalf("dan's device under zed's name: %d %s", r.status, r.body)
	}
	still("dan", danToks)

	// Carol forgets dan's device: its sign-in ends, the page says so.
	r := must(t, carol.post(e.console(p+"/devices/forget"), form), http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "notice=device_forgotten") {
		t.Fatalf("after forgetting: %s", loc)
	}
	if _, err := e.svc.GetUser(ctx, danToks.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("dan's access token after the forget: %v", err)
	}
	page = must(t, carol.get(e.console(p+"?notice=device_forgotten")), http.StatusOK)
	contains(t, page, "The device has been forgotten and its sessions signed out.", `id="no-devices"`)
	lacks(t, page, danKey)
	// The pool admin finds it in the user's audit events.
	contains(t, must(t, root.get(e.console(p)), http.StatusOK), "admin.user_device_forgotten")
	still("zed", zedToks)
	still("root", rootToks)
}

// deviceStack is accountStack's pool remembering devices, with an app
// client for the devices.
func deviceStack(t *testing.T) (*testenv.Stack, string) {
	s := testenv.New(t, testenv.Options{Host: "localhost", SMTP: true, Surfaces: testenv.Web | testenv.API,
		Pool: &auth.CreatePoolInput{Name: "Account", UsernameMode: identity.UsernameEmail,
			Devices: identity.DeviceSettings{Tracked: true, ChallengeRequiredOnNewDevice: true}},
		Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}},
			{Name: "phone app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users: []testenv.User{{Username: "pia@example.org"}, {Username: "bob@example.org"}}})
	return s, s.Client(1).ID
}

// TestAccountDevices: the account page lists the user's remembered
// devices next to where she is signed in; "Forget" ends the device's
// sign-in at once (it leaves "Where you are signed in" too). Bob, with
// his own page's form, cannot forget Pia's device; the form needs its
// CSRF token. A pool that remembers no devices shows no section.
func TestAccountDevices(t *testing.T) {
	t.Parallel()
	s, app := deviceStack(t)
	cid := s.Client(0).ID
	piaKey, piaToks := s.RememberDevice(app, "pia@example.org", "", "Pia's phone")
	bobKey, bobToks := s.RememberDevice(app, "bob@example.org", "", "")
	pia := signedInBrowser(t, s, "pia@example.org", uaFirefox)
	bob := signedInBrowser(t, s, "bob@example.org", uaChrome)
	action := "/" + s.Pool.ID + "/account/devices/forget"

	acct := pia.Get(s.Page("account?client_id=" + cid))
	for _, want := range []string{"Your remembered devices", `data-device-key="` + piaKey + `"`, "Pia&#39;s phone", "Remembered", testenv.DeviceIP} {
		if !strings.Contains(acct.Body, want) {
			t.Fatalf("the account page lacks %q:\n%s", want, acct.Body)
		}
	}
	if strings.Contains(acct.Body, bobKey) {
		t.Fatalf("pia's page shows bob's device")
	}
	if _, others := sessionsOn(acct.Body); len(others) != 1 {
		t.Fatalf("the device's sign-in is not among pia's sessions: %+v", others)
	}
	form := deviceForm(t, acct.Body, action, piaKey)
	bobPage := bob.Get(s.Page("account?client_id=" + cid))
	if !strings.Contains(bobPage.Body, "Unnamed device") {
		t.Fatalf("bob's unnamed device:\n%s", bobPage.Body)
	}
	bobForm := deviceForm(t, bobPage.Body, action, bobKey)

	// No CSRF token, another form's token: refused. Bob names Pia's key
	// with his own form: not found. Nothing ends.
	if r := pia.Post(s.Page("account/devices/forget"), url.Values{"client_id": {cid}, "key": {piaKey}}); r.Status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", r.Status)
	}
	wrong := accountForm(t, acct.Body, s.Pool.ID, "account/password", "")
	if r := pia.Post(s.Page("account/devices/forget"), url.Values{"csrf": wrong["csrf"], "client_id": {cid}, "key": {piaKey}}); r.Status != http.StatusForbidden {
		t.Fatalf("with another form's csrf: %d", r.Status)
	}
	bobForm.Set("key", piaKey)
	if r := bob.Post(s.Page("account/devices/forget"), bobForm); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Device does not exist.") {
		t.Fatalf("bob forgets pia's device: %d %s", r.Status, r.Body)
	}
	if _, err := s.Svc.GetUser(t.Context(), piaToks.AccessToken); err != nil {
		t.Fatalf("pia's device signed out by refused calls: %v", err)
	}

	// Pia forgets her phone: its tokens end, her browser stays, Bob's
	// device stays.
	r := pia.Post(s.Page("account/devices/forget"), form)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Location(), "notice=device_forgotten") {
		t.Fatalf("forget: %d %s", r.Status, r.Body)
	}
	if _, err := s.Svc.GetUser(t.Context(), piaToks.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the phone's access token after the forget: %v", err)
	}
	if _, err := s.Svc.InitiateAuth(t.Context(), auth.InitiateAuthInput{Client: auth.Client{ID: app}, Flow: auth.AuthRefreshToken,
		RefreshToken: piaToks.RefreshToken}); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the phone's refresh token after the forget: %v", err)
	}
	acct = pia.Get(s.Page("account?client_id=" + cid + "&notice=device_forgotten"))
	if acct.Status != http.StatusOK || !strings.Contains(acct.Body, "That device has been forgotten and signed out.") ||
		!strings.Contains(acct.Body, `id="no-devices"`) || strings.Contains(acct.Body, piaKey) {
		t.Fatalf("after the forget: %d\n%s", acct.Status, acct.Body)
	}
	if _, others := sessionsOn(acct.Body); len(others) != 0 {
		t.Fatalf("the forgotten device's sign-in is still listed: %+v", others)
	}
	if _, err := s.Svc.GetUser(t.Context(), bobToks.AccessToken); err != nil {
		t.Fatalf("bob's device: %v", err)
	}

	// A pool that does not remember devices: no section.
	plain := accountStack(t, identity.MFAOff)
	b := signedInBrowser(t, plain, "pia@example.org", uaFirefox)
	if p := b.Get(plain.Page("account?client_id=" + plain.Client(0).ID)); p.Status != http.StatusOK || strings.Contains(p.Body, `id="devices"`) {
		t.Fatalf("a pool without devices: %d\n%s", p.Status, p.Body)
	}
}

// TestBrowserDevices: in Chromium, the pool admin opens a member's page
// in the console, sees the remembered device (name, key, status, last
// IP) and forgets it, which ends its sign-in; the member, on her own
// account page, forgets her other device the same way. Screenshots
// console-devices.png and account-devices.png.
func TestBrowserDevices(t *testing.T) {
	person := consoleBrowsers(t)
	e := consoleSetupWith(t, setupOpts{devices: true})
	ctx := context.Background()
	confirmedUser(t, e.env, "dan@acme.example")
	e.setCompany("dan@acme.example", "acme")
	app := deviceClient(t, e.svc, e.pool.ID)
	phone, phoneToks := e.stack.RememberDevice(app, "dan@acme.example", "", "Dan's phone")
	tablet, tabletToks := e.stack.RememberDevice(app, "dan@acme.example", "", "Dan's tablet")
	clickAndWait := func(tb *ctab, css, pred string) {
		t.Helper()
		tb.eval(fmt.Sprintf(`(function(){ window.__ghOld = true; document.querySelector(%q).click(); return "" })()`, css))
		tb.waitFor(`!window.__ghOld && document.readyState === "complete" && !!document.querySelector("h1") && (` + pred + `)`)
	}
	signIn := func(tb *ctab, start, email, pred string) {
		t.Helper()
		tb.open(start)
		tb.waitPath("/login")
		tb.typeInto("username", email)
		tb.typeInto("password", pw)
		clickAndWait(tb, "main form button[type=submit]", pred)
	}

	root := person()
	signIn(root, e.console(""), "root@example.org", `location.pathname.endsWith("/console")`)
	root.open(e.console("users/" + url.PathEscape("dan@acme.example")))
	root.waitPath("dan@acme.example")
	root.see("Remembered devices", "Dan's phone", "Dan's tablet", phone, "remembered", testenv.DeviceIP)
	root.eval(`(function(){ document.getElementById("devices").scrollIntoView(); return "" })()`)
	root.shot("console-devices")
	clickAndWait(root, `#devices tr[data-device-key="`+phone+`"] button`, `location.search.includes("notice=device_forgotten")`)
	root.see("The device has been forgotten and its sessions signed out.", "Dan's tablet")
	if strings.Contains(root.text(), "Dan's phone") {
		t.Fatalf("the forgotten device is still listed:\n%s", root.text())
	}
	if _, err := e.svc.GetUser(ctx, phoneToks.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the phone's sign-in after the console's forget: %v", err)
	}
	if _, err := e.svc.GetUser(ctx, tabletToks.AccessToken); err != nil {
		t.Fatalf("the tablet's sign-in: %v", err)
	}

	dan := person()
	signIn(dan, e.page("login?client_id="+e.clientID), "dan@acme.example", `location.pathname.endsWith("/account")`)
	dan.see("Your remembered devices", "Dan's tablet", "Remembered")
	dan.eval(`(function(){ document.getElementById("devices").scrollIntoView(); return "" })()`)
	dan.shot("account-devices")
	clickAndWait(dan, `#device-list tr[data-device-key="`+tablet+`"] button`, `location.search.includes("notice=device_forgotten")`)
	dan.see("That device has been forgotten and signed out.", "No app remembers a device of yours.")
	if _, err := e.svc.GetUser(ctx, tabletToks.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the tablet's sign-in after the account page's forget: %v", err)
	}
}

// TestAccountDevicesOnPoolDomain: on the pool's own domain the account
// page's device form posts to the bare /account/devices/forget with that
// path's token, which forgets the device; the /{pool}/ form's token is
// refused there.
func TestAccountDevicesOnPoolDomain(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{devices: true})
	onPoolDomain(t, e)
	confirmedUser(t, e, "dora@example.org")
	key, toks := e.stack.RememberDevice(deviceClient(t, e.svc, e.pool.ID), "dora@example.org", "", "Dora's phone")
	b := e.browser()
	b.hdr.Set("Host", poolHost)
	must(t, b.submit(e.base+"/login?client_id="+e.clientID, url.Values{"username": {"dora@example.org"}, "password": {pw}}), http.StatusSeeOther)
	acct := must(t, b.get(e.base+"/account?client_id="+e.clientID), http.StatusOK)
	bareOnly(t, e, "the bare account page", acct)
	form := deviceForm(t, acct.body, "/account/devices/forget", key)
	prefix := must(t, b.get(e.page("account?client_id="+e.clientID)), http.StatusOK)
	wrong := deviceForm(t, prefix.body, "/"+e.pool.ID+"/account/devices/forget", key)
	if r := b.post(e.base+"/account/devices/forget", wrong); r.status != http.StatusForbidden {
		t.Fatalf("the /{pool}/ form's token on the bare path: %d", r.status)
	}
	if _, err := e.svc.GetUser(context.Background(), toks.AccessToken); err != nil {
		t.Fatalf("the device's sign-in after a refused forget: %v", err)
	}
	r := must(t, b.post(e.base+"/account/devices/forget", form), http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/account?") || !strings.Contains(loc, "notice=device_forgotten") {
		t.Fatalf("after the bare forget: %s", loc)
	}
	if _, err := e.svc.GetUser(context.Background(), toks.AccessToken); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("the device's sign-in after the forget: %v", err)
	}
}
