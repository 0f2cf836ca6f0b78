package federation_test

import (
	"bytes"
	"context"
	"crypto/rand"
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

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
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

// Two real Gatehouse stacks (auth + hosted pages + OIDC provider over
// SQLite) on loopback: "up" is the upstream OpenID Connect provider, "down"
// the Gatehouse whose pool federates to it. The browser is a cookie-jar
// HTTP client walking the redirects between them.

const (
	janeEmail = "jane@acme.example"
	janePW    = "correct horse battery staple 42"
	appCB     = "https://rp.example/cb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// node is one Gatehouse.
type node struct {
	svc   *auth.Service
	base  string
	st    store.Store
	clock *clock
}

var csrfKey = bytes.Repeat([]byte{9}, 32)

// newNode starts a Gatehouse at http://<host>:<port> (host "localhost" or
// "127.0.0.1", so that the two nodes' cookies do not mix in one jar).
func newNode(t *testing.T, host string, c *clock) *node {
	t.Helper()
	st := storetest.OpenSQLite(t)
	log := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n := &node{st: st, clock: c, base: "http://" + host + ":" + port}
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(key)
	n.svc, err = auth.New(auth.Config{
		Hooks:  hooks.New(hooks.Options{AllowedNetworks: hooks.LoopbackNetworks}), // the tests' hook receivers run on 127.0.0.1
		Store:  st,
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		Tokens: token.NewManager(st, key, c.Now), Mail: mail.NewOutbox(tpl, "no-reply@example.test", nil),
		BaseURL: n.base, Now: c.Now, Rand: rand.Reader, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h := api.New(n.svc, api.Options{Log: log})
	for _, p := range api.MountPatterns {
		mux.Handle(p, h)
	}
	pages, err := web.New(n.svc, web.Options{Log: log, CSRFKey: csrfKey, BaseURL: n.base, Now: c.Now, RateBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, pages)
	}
	op := oidc.New(n.svc, pages, oidc.Options{Log: log, Now: c.Now})
	for _, p := range oidc.MountPatterns {
		mux.Handle(p, op)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: httpserver.Wrap(httpserver.Config{Log: log}, mux)}}
	srv.Start()
	t.Cleanup(srv.Close)
	return n
}

// env: the upstream with Jane, the downstream pool federating to it.
type env struct {
	t          *testing.T
	up, down   *node
	upPool     *identity.Pool
	janeSub    string // Jane's sub at the upstream
	pool       *identity.Pool
	app        string // downstream public client of the hosted pages
	rp, rpSec  string // downstream confidential client (OIDC relying party)
	upClient   string
	upSecret   string
	downIssuer string
}

type setupOpts struct {
	policy  identity.SignUpPolicy
	mapping map[string]string
}

func setup(t *testing.T, o setupOpts) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	e := &env{t: t, up: newNode(t, "localhost", c), down: newNode(t, "127.0.0.1", c)}
	schema := []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}

	// Downstream pool first: its callback is registered upstream.
	var err error
	e.pool, err = e.down.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Down", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12}, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	e.downIssuer = e.down.svc.Issuer(e.pool)
	if o.policy.Approval != nil || o.policy.DomainAllowList || len(o.policy.Domains) > 0 {
		p := *e.pool
		p.Settings.SignUp = o.policy
		if e.pool, err = e.down.svc.UpdatePool(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	app, err := e.down.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "app",
		AuthFlows: []string{identity.FlowRefreshToken, identity.FlowUserPassword}, CallbackURLs: []string{appCB},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	e.app = app.Client.ID
	rp, err := e.down.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "rp", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{appCB},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	e.rp, e.rpSec = rp.Client.ID, rp.Secret

	// Upstream: a pool with Jane (verified email, name, company).
	e.upPool, err = e.up.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Up", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12}, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	uc, err := e.up.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.upPool.ID, Name: "down", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{e.down.svc.FederationCallbackURL(e.pool)},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	e.upClient, e.upSecret = uc.Client.ID, uc.Secret
	v, err := e.up.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.upPool.ID, Username: janeEmail, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email": janeEmail, "email_verified": "true", "name": "Jane Roe", "custom:company_name": "Acme Corporation"}})
	if err != nil {
		t.Fatal(err)
	}
	e.janeSub = v.User.Sub
	if err := e.up.svc.AdminSetUserPassword(ctx, e.upPool.ID, janeEmail, janePW, true); err != nil {
		t.Fatal(err)
	}

	mapping := o.mapping
	if mapping == nil {
		mapping = map[string]string{"email": "email", "name": "name", "custom:company_name": "custom:company_name"}
	}
	if e.pool, err = e.down.svc.SetIdentityProvider(ctx, e.pool.ID, identity.IdentityProvider{Name: "corp", Type: identity.ProviderOIDC,
		Issuer: e.up.svc.Issuer(e.upPool), ClientID: e.upClient, AttributeMapping: mapping}, e.upSecret); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is a cookie-jar client that does not follow redirects.
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
	url    string
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
	return resp{req.URL.String(), res.StatusCode, res.Header, string(body)}
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
	buttonRE = regexp.MustCompile(`<a class="button idp" href="([^"]+)" data-provider="([^"]+)"`)
)

// resolve makes loc absolute against the URL it came from.
func resolve(from, loc string) string {
	b, err := url.Parse(from)
	if err != nil {
		return loc
	}
	l, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return b.ResolveReference(l).String()
}

// submit posts the page's form with its hidden fields plus kv.
func (b *browser) submit(page resp, kv ...string) resp {
	b.t.Helper()
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page.body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	a := actionRE.FindStringSubmatch(page.body)
	if a == nil {
		b.t.Fatalf("no form on %s: %s", page.url, page.body)
	}
	return b.post(resolve(page.url, html.UnescapeString(a[1])), form)
}

// walk follows redirects from start; on the upstream's sign-in page it
// signs in as Jane; hook may rewrite a URL before it is fetched (tamper
// tests). It stops at a page (200 or an error) on the downstream, or at
// a redirect leaving both nodes, and returns it.
func (e *env) walk(b *browser, start string, hook func(string) string) resp {
	e.t.Helper()
	next := start
	for i := 0; i < 20; i++ {
		if hook != nil {
			next = hook(next)
		}
		r := b.get(next)
		for {
			if r.status == http.StatusFound || r.status == http.StatusSeeOther {
				loc := resolve(r.url, r.header.Get("Location"))
				if !strings.HasPrefix(loc, e.up.base+"/") && !strings.HasPrefix(loc, e.down.base+"/") {
					return resp{url: loc, status: r.status, header: r.header}
				}
				next = loc
				break
			}
			if r.status == http.StatusOK && strings.HasPrefix(r.url, e.up.base+"/") && strings.Contains(r.body, `name="password"`) {
				r = b.submit(r, "username", janeEmail, "password", janePW)
				if r.status != http.StatusSeeOther && r.status != http.StatusFound {
					e.t.Fatalf("upstream sign-in: %d %s", r.status, r.body)
				}
				continue
			}
			return r
		}
	}
	e.t.Fatal("too many redirects")
	return resp{}
}

// loginPage is the downstream hosted sign-in page.
func (e *env) loginPage(b *browser) resp {
	r := b.get(e.downIssuer + "/login?client_id=" + e.app)
	if r.status != http.StatusOK {
		e.t.Fatalf("login page: %d %s", r.status, r.body)
	}
	return r
}

// button returns the absolute href of the provider's button on page.
func (e *env) button(page resp, provider string) string {
	e.t.Helper()
	for _, m := range buttonRE.FindAllStringSubmatch(page.body, -1) {
		if m[2] == provider {
			return resolve(page.url, html.UnescapeString(m[1]))
		}
	}
	e.t.Fatalf("no %s button on %s", provider, page.url)
	return ""
}

// signIn clicks the provider's button on the downstream sign-in page and
// walks the flow.
func (e *env) signIn(b *browser, provider string, hook func(string) string) resp {
	return e.walk(b, e.button(e.loginPage(b), provider), hook)
}

// user returns the downstream user by username.
func (e *env) user(username string) *identity.User {
	e.t.Helper()
	v, err := e.down.svc.AdminGetUser(context.Background(), e.pool.ID, username)
	if err != nil {
		e.t.Fatalf("user %s: %v", username, err)
	}
	return v.User
}

func (e *env) count() int {
	n, err := e.down.st.CountUsers(context.Background(), e.pool.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
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

// pkcePair returns a fresh verifier and its S256 challenge.
func pkcePair() (string, string) {
	v := oauth2.GenerateVerifier()
	return v, oauth2.S256ChallengeFromVerifier(v)
}
