package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/oidc"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// The provider on a real HTTP server (API, hosted pages and OIDC mounted as
// in serve) over a real SQLite database.

const (
	userEmail = "jane@acme.example"
	userPW    = "correct horse battery staple 42"
	// rpCallback is the confidential client's registered callback. The
	// public client's callback is rpCallback too, plus the env's RP server.
	rpCallback = "https://rp.example/callback"
	rpLogout   = "https://rp.example/signed-out"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t      *testing.T
	svc    *auth.Service
	srv    *httptest.Server
	base   string
	issuer string
	clock  *clock
	pool   *identity.Pool
	// conf is a confidential client (secret, code + client_credentials);
	// pub a public one (PKCE required).
	conf, confSecret string
	pub              string
	sub              string
	st               store.Store
	// mux serves everything; a test may mount more on it (Cognito,
	// forward-auth).
	mux *http.ServeMux
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	e := &env{t: t, st: st, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}}
	log := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "http://" + ln.Addr().String()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	outbox := mail.NewOutbox(tpl, "no-reply@example.test", nil)
	key := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(key)
	e.svc, err = auth.New(auth.Config{
		Store: st, Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		Tokens: token.NewManager(st, key, e.clock.Now), Mail: outbox, BaseURL: e.base, Now: e.clock.Now, Rand: rand.Reader, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.mux = mux
	h := api.New(e.svc, api.Options{Log: log})
	for _, p := range api.MountPatterns {
		mux.Handle(p, h)
	}
	pages, err := web.New(e.svc, web.Options{Log: log, CSRFKey: bytes.Repeat([]byte{7}, 32), BaseURL: e.base, Now: e.clock.Now, RateBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, pages)
	}
	op := oidc.New(e.svc, pages, oidc.Options{Log: log, Now: e.clock.Now})
	for _, p := range oidc.MountPatterns {
		mux.Handle(p, op)
	}
	e.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: httpserver.Wrap(httpserver.Config{Log: log}, mux)}}
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	e.pool, err = e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Awesome Application", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12},
		Schema:         []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.issuer = e.svc.Issuer(e.pool)
	cc, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "rp", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{rpCallback}, LogoutURLs: []string{rpLogout},
		OAuthFlows:  []string{"code", "client_credentials"},
		OAuthScopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin", "orders/read", "orders/write"}})
	if err != nil {
		t.Fatal(err)
	}
	e.conf, e.confSecret = cc.Client.ID, cc.Secret
	pc, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "spa",
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{rpCallback, "http://127.0.0.1:9/cb"},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	e.pub = pc.Client.ID
	if _, err := e.svc.CreateGroup(ctx, &identity.Group{PoolID: e.pool.ID, Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: userEmail, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email": userEmail, "email_verified": "true", "custom:company_name": "Acme Corporation"}})
	if err != nil {
		t.Fatal(err)
	}
	e.sub = v.User.Sub
	if err := e.svc.AdminSetUserPassword(ctx, e.pool.ID, userEmail, userPW, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminAddUserToGroup(ctx, e.pool.ID, userEmail, "acme"); err != nil {
		t.Fatal(err)
	}
	return e
}

// addCallback registers another callback URL on client id.
func (e *env) addCallback(id, cb string) {
	e.t.Helper()
	ctx := context.Background()
	cl, err := e.svc.GetClient(ctx, e.pool.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	cl.CallbackURLs = append(cl.CallbackURLs, cb)
	if _, err := e.svc.UpdateClient(ctx, cl); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a cookie-jar HTTP client that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(body)}
}

func (b *browser) get(u string) resp {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) resp {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	actionRE = regexp.MustCompile(`<form[^>]* action="([^"]+)"`)
)

// abs resolves a Location against the server.
func (e *env) abs(loc string) string {
	if strings.HasPrefix(loc, "/") {
		return e.base + loc
	}
	return loc
}

// authorize runs a browser through an authorization request: it follows
// redirects inside the server, signs in on the hosted sign-in page when
// sent there, and returns the first redirect that leaves the server.
func (e *env) authorize(b *browser, authURL string) *url.URL {
	e.t.Helper()
	next := authURL
	for i := 0; i < 10; i++ {
		r := b.get(next)
		switch {
		case r.status == http.StatusFound || r.status == http.StatusSeeOther:
			loc := e.abs(r.header.Get("Location"))
			if !strings.HasPrefix(loc, e.base+"/") {
				u, err := url.Parse(loc)
				if err != nil {
					e.t.Fatal(err)
				}
				return u
			}
			next = loc
		case r.status == http.StatusOK && strings.Contains(r.body, `name="password"`):
			form := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(r.body, -1) {
				form.Set(m[1], html.UnescapeString(m[2]))
			}
			form.Set("username", userEmail)
			form.Set("password", userPW)
			a := actionRE.FindStringSubmatch(r.body)
			if a == nil {
				e.t.Fatalf("no form action in %s", r.body)
			}
			pr := b.post(e.abs(html.UnescapeString(a[1])), form)
			if pr.status != http.StatusFound && pr.status != http.StatusSeeOther {
				e.t.Fatalf("sign-in: %d %s", pr.status, pr.body)
			}
			next = e.abs(pr.header.Get("Location"))
		default:
			e.t.Fatalf("GET %s: %d %s", next, r.status, r.body)
		}
	}
	e.t.Fatal("too many redirects")
	return nil
}

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (string, string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	s := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(s[:])
}

// authURL builds an authorization request of the pool.
func (e *env) authURL(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return e.issuer + "/oauth2/authorize?" + q.Encode()
}

// tokenReq posts a form to the token endpoint with optional Basic auth.
func (e *env) tokenReq(form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil && len(b) > 0 {
		e.t.Fatalf("token endpoint: %d %s", res.StatusCode, b)
	}
	return res.StatusCode, out, res.Header
}

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
