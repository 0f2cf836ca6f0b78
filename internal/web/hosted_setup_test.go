package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// The hosted pages on a real HTTP server over a real database, with the
// real job runner delivering mail through SMTP to a real SMTP server
// (internal/testenv): SQLite, then PostgreSQL when GATEHOUSE_TEST_POSTGRES
// is set (testenv.Main).

const pw = testenv.Password

type clock = testenv.Clock

type env struct {
	t        *testing.T
	svc      *auth.Service
	web      *web.Web
	srv      *httptest.Server
	base     string
	smtp     *mailtest.Server
	runner   *jobs.Runner
	st       store.Store
	clock    *clock
	pool     *identity.Pool
	clientID string
	company  *identity.Company
	stack    *testenv.Stack
}

type setupOpts struct {
	rateBurst int
	host      string // testenv.Options.Host
	devices   bool   // the pool remembers devices (Cognito's DeviceConfiguration)
}

// setup wires a pool like article 000's: email usernames, approval by the
// company's approver, the company-name type-ahead on; one company,
// "Acme Corporation", approved by boss@acme.example.
func setup(t *testing.T, o setupOpts) *env {
	t.Helper()
	s := testenv.New(t, testenv.Options{Host: o.host, SMTP: true, Surfaces: testenv.API | testenv.Web, Web: web.Options{RateBurst: o.rateBurst},
		Pool: &auth.CreatePoolInput{Name: "Awesome Application", UsernameMode: identity.UsernameEmail,
			PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12, RequireNumbers: true, RequireLowercase: true},
			Schema:         []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}},
			Devices:        identity.DeviceSettings{Tracked: o.devices}},
		Policy:  &identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}, CompanyAttribute: "custom:company_name", CompanyLookup: true},
		Theme:   &identity.Theme{Primary: "#6b2fb3", CSS: "h1{letter-spacing:.01em}"},
		Clients: []auth.CreateClientInput{{Name: "web", GenerateSecret: true, AuthFlows: []string{identity.FlowRefreshToken}}},
		Companies: []identity.Company{
			{Name: "acme", DisplayName: "Acme Corporation", Approvers: []identity.Approver{{Email: "boss@acme.example"}}},
			{Name: "acme-x", DisplayName: "Acme Widgets", Approvers: []identity.Approver{{Email: "admin@acme.example"}}},
			{Name: "globex-x", DisplayName: "Globex", Approvers: []identity.Approver{{Email: "admin@globex.example"}}},
		}})
	return &env{t: t, st: s.Store, svc: s.Svc, web: s.Web, srv: s.Server, base: s.URL, smtp: s.SMTP, runner: s.Runner, clock: s.Clock,
		pool: s.Pool, clientID: s.Client(0).ID, company: s.Companies[0], stack: s}
}

// page builds an absolute URL of a hosted page of the pool.
func (e *env) page(p string) string { return e.base + "/" + e.pool.ID + "/" + p }

// drain runs due jobs until none is left.
func (e *env) drain() { e.t.Helper(); e.stack.Drain() }

// mail delivers due emails and returns the next message to addr.
func (e *env) mail(addr string) mailtest.Message { e.t.Helper(); return e.stack.Mail(addr) }

func approveLink(t *testing.T, m mailtest.Message) string {
	t.Helper()
	a, _ := testenv.ApprovalLinks(t, m)
	return a
}

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects, for the tests that need no JavaScript.
type browser struct {
	t   *testing.T
	c   *http.Client
	hdr http.Header // extra headers on every request
	b   *testenv.Browser
}

func (e *env) browser() *browser {
	b := e.stack.Browser()
	return &browser{t: e.t, c: b.C, hdr: b.Header, b: b}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func local(r testenv.Response) resp { return resp{r.Status, r.Header, r.Body} }

func (r resp) csrf() string { return testenv.Response{Body: r.body}.CSRF() }

func (b *browser) do(req *http.Request) resp           { b.t.Helper(); return local(b.b.Do(req)) }
func (b *browser) get(u string) resp                   { b.t.Helper(); return local(b.b.Get(u)) }
func (b *browser) post(u string, form url.Values) resp { b.t.Helper(); return local(b.b.Post(u, form)) }

// submit GETs page, then posts form to it with the page's CSRF token.
func (b *browser) submit(pageURL string, form url.Values) resp {
	b.t.Helper()
	return local(b.b.Fill(pageURL, form))
}

func must(t *testing.T, r resp, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}
