package federation_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// Two real Gatehouse stacks (internal/testenv: auth + hosted pages + OIDC
// provider over a real database, SQLite and, with GATEHOUSE_TEST_POSTGRES,
// again PostgreSQL) on loopback: "up" is the upstream OpenID Connect
// provider, "down" the Gatehouse whose pool federates to it. The browser
// is a cookie-jar HTTP client walking the redirects between them.

const (
	janeEmail = "jane@acme.example"
	janePW    = testenv.Password
	appCB     = "https://rp.example/cb"
)

type clock = testenv.Clock

// node is one Gatehouse.
type node struct {
	stack *testenv.Stack
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
	s := testenv.New(t, testenv.Options{Host: host, Clock: c, Web: web.Options{CSRFKey: csrfKey, RateBurst: 1000}})
	return &node{stack: s, svc: s.Svc, base: s.URL, st: s.Store, clock: c}
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
	c := testenv.NewClock(time.Now().UTC().Truncate(time.Millisecond))
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
	b *testenv.Browser
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, b: testenv.NewBrowser(t)} }

type resp struct {
	url    string
	status int
	header http.Header
	body   string
}

func local(r testenv.Response) resp { return resp{r.URL, r.Status, r.Header, r.Body} }
func (r resp) env() testenv.Response {
	return testenv.Response{URL: r.url, Status: r.status, Header: r.header, Body: r.body}
}

func (b *browser) get(u string) resp { b.t.Helper(); return local(b.b.Get(u)) }

var (
	buttonRE = regexp.MustCompile(`<a class="button idp" href="([^"]+)" data-provider="([^"]+)"`)
)

// resolve makes loc absolute against the URL it came from.
func resolve(from, loc string) string { return testenv.Resolve(from, loc) }

// submit posts the page's form with its hidden fields plus kv.
func (b *browser) submit(page resp, kv ...string) resp {
	b.t.Helper()
	return local(b.b.Submit(page.env(), kv...))
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
func jwtClaims(t *testing.T, tok string) map[string]any { t.Helper(); return testenv.Claims(t, tok) }

// pkcePair returns a fresh verifier and its S256 challenge.
func pkcePair() (string, string) { return testenv.PKCE() }
