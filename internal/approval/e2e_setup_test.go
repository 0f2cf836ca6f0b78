package approval_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
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

// The articles' scenarios end to end: the native API and the approval
// pages on a real HTTP server, a real database (SQLite; PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set), the real job runner delivering through
// SMTP to a real SMTP server, whose messages give the codes and links.

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
	st       store.Store
	svc      *auth.Service
	srv      *httptest.Server
	smtp     *mailtest.Server
	runner   *jobs.Runner
	clock    *clock
	adminKey string
	pool     *identity.Pool
	clientID string
}

var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// onBackends runs fn per backend as parallel subtests.
func onBackends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t))
		})
	}
}

// setup wires everything over st; policy edits the pool before use.
func setup(t *testing.T, st store.Store, policy func(p *identity.Pool)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: st, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}}
	e.smtp = mailtest.StartServer(t)
	log := slog.New(slog.DiscardHandler)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
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
		Tokens: token.NewManager(st, key, e.clock.Now), Mail: outbox, BaseURL: base, Now: e.clock.Now, Rand: rand.Reader, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig("no-reply@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.UseClock(t, st, e.clock.Now) // the database's clock: job due times follow it
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
	w, err := web.New(e.svc, web.Options{Log: log, CSRFKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, w)
	}
	e.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: httpserver.Wrap(httpserver.Config{Log: log}, mux)}}
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	_, e.adminKey, err = e.svc.CreateAPIKey(ctx, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.pool, err = e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "Awesome App", UsernameMode: identity.UsernameEmail,
		Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if policy != nil {
		policy(e.pool)
		if e.pool, err = e.svc.UpdatePool(ctx, e.pool); err != nil {
			t.Fatalf("UpdatePool: %v", err)
		}
	}
	cl, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "web",
		AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	e.clientID = cl.Client.ID
	return e
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

// noMail asserts that nothing more went to addr.
func (e *env) noMail(addr string) {
	e.t.Helper()
	e.drain()
	if m, ok := e.smtp.Next(addr, 50*time.Millisecond); ok {
		e.t.Fatalf("unexpected email to %s: %s", addr, m.Subject)
	}
}

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

var approveRE = regexp.MustCompile(`To approve: (\S+)`)
var denyRE = regexp.MustCompile(`To deny: +(\S+)`)

// links returns the approve and deny links of an approval email.
func links(t *testing.T, m mailtest.Message) (approve, deny string) {
	t.Helper()
	a, d := approveRE.FindStringSubmatch(m.Text), denyRE.FindStringSubmatch(m.Text)
	if a == nil || d == nil {
		t.Fatalf("no links in %q", m.Text)
	}
	return a[1], d[1]
}

// page is an HTML response of the approval pages.
type page struct {
	status int
	body   string
	cookie *http.Cookie
	header http.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p page) csrf() string {
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

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
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func storetestOpenSQLite(t *testing.T) store.Store { return storetest.OpenSQLite(t) }

func authPoolUsernames() auth.CreatePoolInput {
	return auth.CreatePoolInput{Name: "usernames", UsernameMode: identity.UsernameWithEmailAlias, UniqueEmail: true}
}

func authClient(poolID string) auth.CreateClientInput {
	return auth.CreateClientInput{PoolID: poolID, Name: "c", AuthFlows: []string{identity.FlowUserPassword}}
}
