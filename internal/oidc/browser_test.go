package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestBrowserRelyingParty: headless Chromium signs in to a relying party
// (an httptest server using go-oidc + x/oauth2, as any Go web app would):
// the RP sends the browser to /oauth2/authorize, the hosted sign-in page
// takes the email and password, the browser lands back on the RP, which
// redeems the code with PKCE, verifies the ID token against jwks_uri and
// shows its claims: custom:company_name and the company group. The end of
// article 000's walk (internal/web's TestBrowserArticle000 covers the
// sign-up and approval before it). Skips without Chromium unless CI=true
// or GATEHOUSE_TEST_ALL=1. Screenshots: $GATEHOUSE_SCREENSHOTS (default a
// folder under the temp dir), oidc-*.png.
func TestBrowserRelyingParty(t *testing.T) {
	path := chromium(t)
	e := setup(t)
	rp := newRP(t, e)
	e.addCallback(e.conf, rp.srv.URL+"/callback")
	b := newChromeTab(t, path)

	// The person clicks "Sign in" on the relying party.
	b.open(rp.srv.URL + "/")
	b.waitPath("/")
	b.do(chromedp.Click(chromedp.CSS("a#signin")))
	b.waitPath("/login")
	b.shot("oidc-01-signin-from-rp")
	b.do(chromedp.SendKeys(chromedp.ID("username"), userEmail), chromedp.SendKeys(chromedp.ID("password"), userPW))
	b.submit()
	b.waitPath("/callback")
	b.shot("oidc-02-relying-party-signed-in")
	b.see("Signed in as "+userEmail, `"custom:company_name": "Acme Corporation"`, `"acme"`, `"token_use": "id"`)

	// Signed in at the provider: a second sign-in at the RP goes straight
	// through (no password page).
	b.open(rp.srv.URL + "/start")
	b.waitPath("/callback")
}

// TestBrowserMaxAgeAndFormPost: in Chromium, a relying party asking for
// max_age=0 while the person is signed in gets exactly one password page
// and then its callback with a later auth_time (no redirect loop); one
// asking for response_mode=form_post gets its callback as a POST, sent by
// the provider's auto-submitting page under its CSP.
func TestBrowserMaxAgeAndFormPost(t *testing.T) {
	path := chromium(t)
	e := setup(t)
	rp := newRP(t, e)
	e.addCallback(e.conf, rp.srv.URL+"/callback")
	b := newChromeTab(t, path)
	b.open(rp.srv.URL + "/start")
	b.waitPath("/login")
	b.do(chromedp.SendKeys(chromedp.ID("username"), userEmail), chromedp.SendKeys(chromedp.ID("password"), userPW))
	b.submit()
	b.waitPath("/callback")
	first := authTime(t, b)

	e.clock.Advance(time.Minute)
	b.open(rp.srv.URL + "/start?max_age=0")
	b.waitPath("/login")
	b.shot("oidc-03-max-age-reauthenticate")
	b.fill("username", userEmail)
	b.fill("password", userPW)
	b.submit()
	b.waitPath("/callback")
	if again := authTime(t, b); again < first+60 {
		t.Fatalf("auth_time %v after max_age=0, first %v", again, first)
	}

	b.open(rp.srv.URL + "/start?response_mode=form_post")
	b.waitFor(`document.body.innerText.includes('"callback_method": "POST"')`, "the form_post callback")
	b.see("Signed in as " + userEmail)
}

// authTime reads auth_time from the relying party's claims page.
func authTime(t *testing.T, b *ctab) float64 {
	t.Helper()
	var claims map[string]any
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#claims").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &claims); err != nil {
		t.Fatalf("claims page: %v", err)
	}
	at, _ := claims["auth_time"].(float64)
	return at
}

// fill sets the value of the input with that id (whatever it held).
func (b *ctab) fill(id, value string) {
	b.t.Helper()
	v, _ := json.Marshal(value)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function(){ document.getElementById("`+id+`").value = `+string(v)+`; return "" })()`)); err != nil {
		b.t.Fatal(err)
	}
}

// ctab is one headless Chromium tab with its own profile.
type ctab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newChromeTab(t *testing.T, path string) *ctab {
	t.Helper()
	shots := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "gatehouse-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
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
	return &ctab{t: t, ctx: ctx, shots: shots}
}

func (b *ctab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *ctab) open(u string) { b.t.Helper(); b.do(chromedp.Navigate(u)) }

func (b *ctab) text() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(no text: " + err.Error() + ")"
	}
	return v
}

// submit marks the page, clicks its main form's submit button and waits
// until another page is loaded.
func (b *ctab) submit() {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function(){ window.__ghOld = true; return "" })()`)); err != nil {
		b.t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	b.waitFor(`!window.__ghOld && document.readyState === "complete"`, "a new page")
}

func (b *ctab) waitPath(suffix string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`document.readyState === "complete" && location.pathname.endsWith(%q) && !!document.querySelector("h1")`, suffix), suffix)
}

func (b *ctab) waitFor(pred, what string) {
	b.t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) { // a bound on a hang, not a speed limit
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](pred)); err == nil && ok {
			return
		}
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("waiting for %s (at %s):\n%s", what, loc, b.text())
}

func (b *ctab) see(want ...string) {
	b.t.Helper()
	got := b.text()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("the page does not show %q:\n%s", w, got)
		}
	}
}

func (b *ctab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func chromium(t *testing.T) string { t.Helper(); return testenv.Chromium(t) }

// rp is a relying party web app built the ordinary way with go-oidc and
// x/oauth2 (one pending sign-in at a time: enough for one browser).
type rp struct {
	srv *httptest.Server
	mu  sync.Mutex
	// state -> (verifier, nonce)
	pending map[string][2]string
}

func newRP(t *testing.T, e *env) *rp {
	r := &rp{pending: map[string][2]string{}}
	var (
		once     sync.Once
		provider *gooidc.Provider
		perr     error
	)
	conf := func() (*oauth2.Config, error) {
		once.Do(func() { provider, perr = gooidc.NewProvider(context.Background(), e.issuer) })
		if perr != nil {
			return nil, perr
		}
		return &oauth2.Config{ClientID: e.conf, ClientSecret: e.confSecret, Endpoint: provider.Endpoint(),
			RedirectURL: r.srv.URL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}, nil
	}
	page := func(w http.ResponseWriter, title, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><body><main><h1>%s</h1>%s</main></body></html>`,
			html.EscapeString(title), html.EscapeString(title), body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		page(w, "Acme dashboard", `<p><a id="signin" href="/start">Sign in</a></p>`)
	})
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, req *http.Request) {
		c, err := conf()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		state, nonce, verifier := oauth2.GenerateVerifier()[:20], oauth2.GenerateVerifier()[:20], oauth2.GenerateVerifier()
		r.mu.Lock()
		r.pending[state] = [2]string{verifier, nonce}
		r.mu.Unlock()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)}
		for _, k := range []string{"max_age", "response_mode"} { // passed through, for the tests
			if v := req.URL.Query().Get(k); v != "" {
				opts = append(opts, oauth2.SetAuthURLParam(k, v))
			}
		}
		http.Redirect(w, req, c.AuthCodeURL(state, opts...), http.StatusFound)
	})
	// GET: response_mode query (the default); POST: form_post.
	mux.HandleFunc("/callback", func(w http.ResponseWriter, req *http.Request) {
		if err := req.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		c, err := conf()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		q := req.Form
		r.mu.Lock()
		p, ok := r.pending[q.Get("state")]
		delete(r.pending, q.Get("state"))
		r.mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", 400)
			return
		}
		tok, err := c.Exchange(req.Context(), q.Get("code"), oauth2.VerifierOption(p[0]))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), 400)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now}).Verify(req.Context(), raw)
		if err != nil || idt.Nonce != p[1] {
			http.Error(w, fmt.Sprintf("id token: %v (nonce ok: %v)", err, idt != nil && idt.Nonce == p[1]), 400)
			return
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			http.Error(w, "access token: "+err.Error(), 400)
			return
		}
		var claims map[string]any
		_ = idt.Claims(&claims)
		claims["callback_method"] = req.Method
		b, _ := json.MarshalIndent(claims, "", "  ")
		page(w, "Acme dashboard", fmt.Sprintf(`<p>Signed in as %s</p><pre id="claims">%s</pre>`,
			html.EscapeString(fmt.Sprint(claims["email"])), html.EscapeString(string(b))))
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}
