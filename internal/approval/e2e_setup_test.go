package approval_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// The articles' scenarios end to end: the native API and the approval
// pages on a real HTTP server, a real database, the real job runner
// delivering through SMTP to a real SMTP server, whose messages give the
// codes and links (internal/testenv). The package runs on SQLite, then
// again on PostgreSQL when GATEHOUSE_TEST_POSTGRES is set (testenv.Main).

const pw = testenv.Password

type clock = testenv.Clock

type env struct {
	t        *testing.T
	st       store.Store
	svc      *auth.Service
	srv      *httptest.Server
	smtp     *mailtest.Server
	runner   *jobs.Runner
	clock    *clock
	adminKey string
	pool     *identity.Pool
	clientID string
	stack    *testenv.Stack
}

// backends are the databases, for the measurement (bench_test.go).
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store { return testenv.OpenStore(t, testenv.SQLite) }},
	{"postgres", func(t testing.TB) store.Store { return testenv.OpenStore(t, testenv.Postgres) }},
}

// onBackends runs fn as a parallel subtest named after the database of
// this pass (testenv.Main runs the package on each).
func onBackends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	db := testenv.Current()
	t.Run(string(db), func(t *testing.T) {
		t.Parallel()
		fn(t, testenv.OpenStore(t, db))
	})
}

// setup wires everything over st; policy edits the pool before use.
func setup(t *testing.T, st store.Store, policy func(p *identity.Pool)) *env {
	t.Helper()
	s := testenv.New(t, testenv.Options{Store: st, SMTP: true, AdminKey: true, Surfaces: testenv.API | testenv.Web,
		Pool: &auth.CreatePoolInput{Name: "Awesome App", UsernameMode: identity.UsernameEmail,
			Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}},
		Configure: policy,
		Clients:   []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}}})
	return &env{t: t, st: s.Store, svc: s.Svc, srv: s.Server, smtp: s.SMTP, runner: s.Runner, clock: s.Clock,
		adminKey: s.AdminKey, pool: s.Pool, clientID: s.Client(0).ID, stack: s}
}

// approvalPolicy is article 000's pool.
func approvalPolicy(mod func(ap *identity.ApprovalPolicy)) func(p *identity.Pool) {
	return func(p *identity.Pool) {
		ap := &identity.ApprovalPolicy{}
		if mod != nil {
			mod(ap)
		}
		p.Settings.SignUp = identity.SignUpPolicy{Approval: ap, CompanyAttribute: "custom:company_name", CompanyLookup: true}
	}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) code() string {
	var p struct{ Code string }
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

// do calls the API with a JSON body (nil: none).
func (e *env) do(method, path, bearer string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("User-Agent", "approval-test/1.0")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) must(r resp, status int) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (e *env) signUp(email, company string) resp {
	e.t.Helper()
	attrs := map[string]string{}
	if company != "" {
		attrs["custom:company_name"] = company
	}
	return e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": e.clientID, "username": email, "password": pw, "attributes": attrs})
}

// drain runs due jobs until none is left.
func (e *env) drain() { e.t.Helper(); e.stack.Drain() }

// mail delivers due emails and returns the next message to addr.
func (e *env) mail(addr string) mailtest.Message { e.t.Helper(); return e.stack.Mail(addr) }

// noMail asserts that nothing more went to addr.
func (e *env) noMail(addr string) { e.t.Helper(); e.stack.NoMail(addr) }

// signUpAndVerify signs up and confirms the code from the email.
func (e *env) signUpAndVerify(email, company string) {
	e.t.Helper()
	e.must(e.signUp(email, company), http.StatusCreated)
	code := e.mail(email).Code()
	if code == "" {
		e.t.Fatal("no code in the sign-up email")
	}
	e.must(e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": e.clientID, "username": email, "code": code}), http.StatusNoContent)
}

func (e *env) signIn(email string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": e.clientID, "username": email, "password": pw})
}

// links returns the approve and deny links of an approval email.
func links(t *testing.T, m mailtest.Message) (approve, deny string) {
	t.Helper()
	return testenv.ApprovalLinks(t, m)
}

// page is an HTML response of the approval pages.
type page struct {
	status int
	body   string
	cookie *http.Cookie
	header http.Header
}

func (p page) csrf() string { return testenv.Response{Body: p.body}.CSRF() }

// open GETs (or HEADs) a link.
func (e *env) open(method, link string) page {
	e.t.Helper()
	req, _ := http.NewRequest(method, link, nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := page{status: res.StatusCode, body: string(b), header: res.Header}
	for _, c := range res.Cookies() {
		if c.Name == web.CSRFCookie || c.Name == web.DevCSRFCookie {
			p.cookie = c
		}
	}
	return p
}

// post submits the confirmation form; cookie and csrf may be empty.
func (e *env) post(link string, cookie *http.Cookie, csrf string) page {
	e.t.Helper()
	form := url.Values{}
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	req, _ := http.NewRequest("POST", link, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "approver-browser/2.0")
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: string(b), header: res.Header}
}

// decideByLink opens the link and submits its form.
func (e *env) decideByLink(link string) page {
	e.t.Helper()
	p := e.open("GET", link)
	if p.status != http.StatusOK || p.csrf() == "" || p.cookie == nil {
		e.t.Fatalf("confirmation page: %d %s", p.status, p.body)
	}
	return e.post(link, p.cookie, p.csrf())
}

// user returns the user via the admin API (status and groups).
func (e *env) user(email string) (status int, u struct {
	Status  string   `json:"status"`
	Enabled bool     `json:"enabled"`
	Groups  []string `json:"groups"`
}) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/pools/"+e.pool.ID+"/users/"+url.PathEscape(email), e.adminKey, nil)
	if r.status == http.StatusOK {
		r.decode(e.t, &u)
	}
	return r.status, u
}

func (e *env) registrations(state string) []map[string]any {
	e.t.Helper()
	var l struct{ Items []map[string]any }
	e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/registrations?state="+state, e.adminKey, nil), http.StatusOK).decode(e.t, &l)
	return l.Items
}

func (e *env) createCompany(body map[string]any) {
	e.t.Helper()
	e.must(e.do("POST", "/api/v1/pools/"+e.pool.ID+"/companies", e.adminKey, body), http.StatusCreated)
}

// claims decodes a JWT's payload (the signature is the service's business).
func claims(t *testing.T, jwt string) map[string]any { t.Helper(); return testenv.Claims(t, jwt) }

// storetestOpenSQLite opens a fresh store on the database of this pass:
// SQLite, then PostgreSQL under testenv.Main (the name is kept for the
// tests that call it).
func storetestOpenSQLite(t *testing.T) store.Store { return testenv.OpenStore(t, testenv.Current()) }

func authPoolUsernames() auth.CreatePoolInput {
	return auth.CreatePoolInput{Name: "usernames", UsernameMode: identity.UsernameWithEmailAlias, UniqueEmail: true}
}

func authClient(poolID string) auth.CreateClientInput {
	return auth.CreateClientInput{PoolID: poolID, Name: "c", AuthFlows: []string{identity.FlowUserPassword}}
}
