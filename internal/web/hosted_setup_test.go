package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// The hosted pages on a real HTTP server over a real SQLite database, with
// the real job runner delivering mail through SMTP to a real SMTP server.

const pw = "correct horse battery staple 42"

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
}

type setupOpts struct {
	rateBurst int
}

// setup wires a pool like article 000's: email usernames, approval by the
// company's approver, the company-name type-ahead on; one company,
// "Acme Corporation", approved by boss@acme.example.
func setup(t *testing.T, o setupOpts) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	e := &env{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}}
	e.smtp = mailtest.StartServer(t)
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
	outbox.Now = e.clock.Now
	key := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(key)
	e.svc, err = auth.New(auth.Config{
		Store: st, Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		Tokens: token.NewManager(st, key, e.clock.Now), Mail: outbox, BaseURL: e.base, Now: e.clock.Now, Rand: rand.Reader, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig("no-reply@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.UseClock(t, st, e.clock.Now) // the database's clock: job due times follow it
	e.st = st
	e.runner = jobs.NewRunner(st, jobs.Options{Worker: "test", Now: e.clock.Now, Log: log})
	e.runner.Register(mail.JobKind, mail.DeliveryHandler(st, sender, log))
	for _, k := range approval.JobKinds {
		e.runner.Register(k, e.svc.RegistrationJobHandler())
	}
	mux := http.NewServeMux()
	h := api.New(e.svc, api.Options{Log: log})
	for _, p := range api.MountPatterns {
		mux.Handle(p, h)
	}
	e.web, err = web.New(e.svc, web.Options{Log: log, CSRFKey: bytes.Repeat([]byte{7}, 32), BaseURL: e.base, Now: e.clock.Now,
		RateBurst: o.rateBurst})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, e.web)
	}
	e.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: httpserver.Wrap(httpserver.Config{Log: log}, mux)}}
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	e.pool, err = e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Awesome Application", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: &identity.PasswordPolicy{MinimumLength: 12, RequireNumbers: true, RequireLowercase: true},
		Schema:         []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.pool.Settings.SignUp = identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}, CompanyAttribute: "custom:company_name", CompanyLookup: true}
	e.pool.Settings.Theme = identity.Theme{Primary: "#6b2fb3", CSS: "h1{letter-spacing:.01em}"}
	if e.pool, err = e.svc.UpdatePool(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	cl, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "web", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	e.clientID = cl.Client.ID
	e.company, err = e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "acme", DisplayName: "Acme Corporation",
		Approvers: []identity.Approver{{Email: "boss@acme.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Acme Widgets", "Globex"} {
		if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: strings.ToLower(strings.Fields(n)[0] + "-x"), DisplayName: n,
			Approvers: []identity.Approver{{Email: "admin@" + strings.ToLower(strings.Fields(n)[0]) + ".example"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// page builds an absolute URL of a hosted page of the pool.
func (e *env) page(p string) string { return e.base + "/" + e.pool.ID + "/" + p }

// drain runs due jobs until none is left.
func (e *env) drain() {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := e.runner.RunOnce(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("jobs keep coming")
}

// mail delivers due emails and returns the next message to addr.
func (e *env) mail(addr string) mailtest.Message {
	e.t.Helper()
	e.drain()
	return e.smtp.WaitFor(e.t, addr, 10*time.Second)
}

var approveRE = regexp.MustCompile(`To approve: (\S+)`)

func approveLink(t *testing.T, m mailtest.Message) string {
	t.Helper()
	a := approveRE.FindStringSubmatch(m.Text)
	if a == nil {
		t.Fatalf("no approve link in %q", m.Text)
	}
	return a[1]
}

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects, for the tests that need no JavaScript.
type browser struct {
	t   *testing.T
	c   *http.Client
	hdr http.Header // extra headers on every request
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, hdr: http.Header{}, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (r resp) csrf() string {
	if m := csrfRE.FindStringSubmatch(r.body); m != nil {
		return m[1]
	}
	return ""
}

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	if h := b.hdr.Get("Host"); h != "" {
		req.Host = h
	}
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

// submit GETs page, then posts form to it with the page's CSRF token.
func (b *browser) submit(pageURL string, form url.Values) resp {
	b.t.Helper()
	g := b.get(pageURL)
	if g.status != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", pageURL, g.status, g.body)
	}
	form.Set("csrf", g.csrf())
	u, _ := url.Parse(pageURL)
	if form.Get("client_id") == "" {
		form.Set("client_id", u.Query().Get("client_id"))
	}
	u.RawQuery = ""
	return b.post(u.String(), form)
}

func must(t *testing.T, r resp, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}
