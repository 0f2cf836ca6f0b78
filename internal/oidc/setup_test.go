package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// The provider on a real HTTP server (API, hosted pages and OIDC mounted as
// in serve) over a real database: internal/testenv's stack, on SQLite and,
// with GATEHOUSE_TEST_POSTGRES, again on PostgreSQL.

const (
	userEmail = "jane@acme.example"
	userPW    = testenv.Password
	// rpCallback is the confidential client's registered callback. The
	// public client's callback is rpCallback too, plus the env's RP server.
	rpCallback = "https://rp.example/callback"
	rpLogout   = "https://rp.example/signed-out"
)

type clock = testenv.Clock

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
	// stack is the testenv stack (its job runner delivers back-channel
	// logouts).
	stack *testenv.Stack
}

func setup(t *testing.T) *env {
	t.Helper()
	s := testenv.New(t, testenv.Options{Web: web.Options{RateBurst: 1000},
		Pool: &auth.CreatePoolInput{Name: "Awesome Application", UsernameMode: identity.UsernameEmail,
			PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12},
			Schema:         []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}},
		Clients: []auth.CreateClientInput{
			{Name: "rp", GenerateSecret: true,
				AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{rpCallback}, LogoutURLs: []string{rpLogout},
				OAuthFlows:  []string{"code", "client_credentials"},
				OAuthScopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin", "orders/read", "orders/write"}},
			{Name: "spa",
				AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{rpCallback, "http://127.0.0.1:9/cb"},
				OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}},
		},
		Groups: []string{"acme"},
		Users: []testenv.User{{Username: userEmail, Groups: []string{"acme"},
			Attributes: map[string]string{"custom:company_name": "Acme Corporation"}}},
	})
	return &env{t: t, mux: s.Mux, svc: s.Svc, srv: s.Server, base: s.URL, issuer: s.Issuer, clock: s.Clock, pool: s.Pool,
		conf: s.Client(0).ID, confSecret: s.Client(0).Secret, pub: s.Client(1).ID, sub: s.Subs[userEmail], st: s.Store, stack: s}
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
	b *testenv.Browser
}

func newBrowser(t *testing.T) *browser { return &browser{t: t, b: testenv.NewBrowser(t)} }

type resp struct {
	status int
	header http.Header
	body   string
}

func local(r testenv.Response) resp { return resp{r.Status, r.Header, r.Body} }

func (b *browser) do(req *http.Request) resp { b.t.Helper(); return local(b.b.Do(req)) }
func (b *browser) get(u string) resp         { b.t.Helper(); return local(b.b.Get(u)) }

// hiddenRE and actionRE read a page's form (testenv.Response has Hidden
// and Action for the same).
var (
	hiddenRE = testenv.HiddenRE
	actionRE = testenv.ActionRE
)

// authorize runs a browser through an authorization request: it follows
// redirects inside the server, signs in on the hosted sign-in page when
// sent there, and returns the first redirect that leaves the server.
func (e *env) authorize(b *browser, authURL string) *url.URL {
	e.t.Helper()
	next := authURL
	for i := 0; i < 10; i++ {
		r := b.b.Get(next)
		switch {
		case r.Status == http.StatusFound || r.Status == http.StatusSeeOther:
			loc := r.Location()
			if !strings.HasPrefix(loc, e.base+"/") {
				u, err := url.Parse(loc)
				if err != nil {
					e.t.Fatal(err)
				}
				return u
			}
			next = loc
		case r.Status == http.StatusOK && strings.Contains(r.Body, `name="password"`):
			pr := b.b.Submit(r, "username", userEmail, "password", userPW)
			if pr.Status != http.StatusFound && pr.Status != http.StatusSeeOther {
				e.t.Fatalf("sign-in: %d %s", pr.Status, pr.Body)
			}
			next = pr.Location()
		default:
			e.t.Fatalf("GET %s: %d %s", next, r.Status, r.Body)
		}
	}
	e.t.Fatal("too many redirects")
	return nil
}

// pkce returns a fresh verifier and its S256 challenge.
func pkce() (string, string) { return testenv.PKCE() }

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
func jwtClaims(t *testing.T, tok string) map[string]any { t.Helper(); return testenv.Claims(t, tok) }
