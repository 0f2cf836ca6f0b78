package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/oidc"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/scim"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// Password is the password of the users Options.Users creates (long
// enough for the default NIST policy).
const Password = "correct horse battery staple 42"

// MailFrom is the sender of the stack's emails.
const MailFrom = "no-reply@example.test"

// TinyHash keeps argon2id cheap: tests spend their time in the flows.
var TinyHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Surface selects the HTTP surfaces a stack mounts, as serve does.
type Surface uint

const (
	// API is the native JSON API (/api/v1/..., JWKS and discovery).
	API Surface = 1 << iota
	// Web is the hosted pages, approval pages and console.
	Web
	// OIDC is the OAuth 2.0 / OpenID Connect provider (implies Web).
	OIDC
	// Cognito is the Cognito JSON 1.1 API on POST /.
	Cognito
	// ForwardAuth is /authz/check/{pool} (Options.ForwardAuth).
	ForwardAuth
	// JWKS is only GET /{pool}/.well-known/jwks.json, without the API.
	JWKS
	// Ops is /healthz, /readyz and /metrics.
	Ops
)

// DefaultSurfaces are mounted when Options.Surfaces is zero.
const DefaultSurfaces = API | Web | OIDC

// User is a confirmed user that New creates (AdminCreateUser without an
// email, then a permanent password).
type User struct {
	Username   string
	Password   string            // default Password
	Attributes map[string]string // "email" defaults to Username when it holds an @
	Groups     []string
}

// Client is a created app client.
type Client struct {
	ID     string
	Secret string // "" for a public client
}

// Options configures New. The zero value is a stack with the default
// surfaces, the current database, no pool and no SMTP server.
type Options struct {
	// DB picks the database (default Current()); Store, when set, is
	// used instead of opening one.
	DB    DB
	Store store.Store
	// PoolCache puts the store behind internal/store/poolcache, as
	// cmd/gatehouse wires it (benchmarks of the hot paths).
	PoolCache bool
	// Host is the host of the stack's URL: "127.0.0.1" (default) or
	// "localhost" (two stacks on different hosts keep their cookies
	// apart in one jar).
	Host string
	// BaseURL is the service's configured base URL (default: the
	// stack's URL).
	BaseURL string
	// Clock is the stack's clock (default a new one at the current time,
	// truncated to the millisecond). Now, when set, is the service's and
	// the surfaces' clock instead (time.Now for real token lifetimes).
	Clock *Clock
	Now   func() time.Time
	// Hash is the argon2id cost (default TinyHash); HashConcurrency
	// bounds concurrent hashes (default 4).
	Hash            *password.Params
	HashConcurrency int
	// SMTP starts a real SMTP server and registers mail delivery to it
	// with the job runner (Drain, Mail, NoMail).
	SMTP bool
	// AdminKey creates a global admin API key (Stack.AdminKey).
	AdminKey bool

	// Surfaces to mount (default DefaultSurfaces).
	Surfaces Surface
	// Web tunes the hosted pages; Log, CSRFKey, BaseURL and Now are
	// filled in when zero.
	Web web.Options
	// Cognito tunes the Cognito surface; Log and Now are filled in when
	// zero.
	Cognito cognito.Options
	// ForwardAuth returns the authorizer's options once the fixtures
	// exist (Log and Now filled in when zero).
	ForwardAuth func(s *Stack) forwardauth.Options
	// Wrap wraps the mux inside the middleware (to observe requests).
	Wrap func(http.Handler) http.Handler
	// HooksClient calls the pool's hooks. Default: a client whose network
	// policy allows loopback, because the tests' hook receivers run on
	// 127.0.0.1 (the operator's override, hooks.allowed_networks);
	// production refuses loopback by default (docs/security.md G).
	HooksClient *hooks.Client

	// Pool creates a pool; the fixtures below need it.
	Pool *auth.CreatePoolInput
	// Policy, Hooks and Theme are set on the pool, then Configure may
	// change anything else, before one UpdatePool.
	Policy    *identity.SignUpPolicy
	Hooks     *identity.HookSettings
	Theme     *identity.Theme
	Configure func(p *identity.Pool)
	// Clients, Groups, Companies and Users are created in this order
	// (PoolID is filled in).
	Clients   []auth.CreateClientInput
	Groups    []string
	Companies []identity.Company
	Users     []User
}

// Store is the stack's store interface, for helpers outside _test.go
// files (forwardauthtest) that hand it to tests reaching under the
// service; surfaces never import internal/store (docs/architecture.md).
type Store = store.Store

// Stack is one Gatehouse in the test's process: the real store, service,
// job runner and SMTP server, and the surfaces behind the real
// middleware on a loopback listener.
type Stack struct {
	T       testing.TB
	DB      DB
	Store   store.Store
	Svc     *auth.Service
	Tokens  *token.Manager
	Clock   *Clock
	Log     *slog.Logger
	Server  *httptest.Server
	Mux     *http.ServeMux // the surfaces' routes; a test may mount more
	URL     string         // the listener: http://host:port
	BaseURL string         // the service's base URL
	Runner  *jobs.Runner
	SMTP    *mailtest.Server // nil without Options.SMTP

	Web         *web.Web
	OIDC        *oidc.Handler
	Cognito     *cognito.Handler
	ForwardAuth *forwardauth.Handler

	AdminKey  string
	Pool      *identity.Pool
	Issuer    string
	Clients   []Client
	Companies []*identity.Company
	Subs      map[string]string // username -> sub of Options.Users
}

// New starts a stack and stops it when t ends. Any failure fails t.
func New(t testing.TB, o Options) *Stack {
	t.Helper()
	ctx := context.Background()
	s := &Stack{T: t, Clock: o.Clock, Log: slog.New(slog.DiscardHandler), Subs: map[string]string{}}
	if s.Clock == nil {
		s.Clock = NewClock(time.Now().UTC().Truncate(time.Millisecond))
	}
	now := o.Now
	if now == nil {
		now = s.Clock.Now
	}
	s.Store, s.DB = o.Store, o.DB
	if s.Store == nil {
		if s.DB == "" {
			s.DB = Current()
		}
		s.Store = OpenStore(t, s.DB)
	}
	if o.PoolCache {
		s.Store = poolcache.New(s.Store, poolcache.DefaultTTL, nil)
	}
	// The database's clock (leases and due times of jobs) follows the
	// stack's clock, so moving the clock moves the job queue too.
	storetest.UseClock(t, s.Store, now)
	if s.DB != "" {
		db := s.DB
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("testenv: this stack ran on %s", db)
			}
		})
	}

	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.URL = "http://" + host + ":" + port
	s.BaseURL = o.BaseURL
	if s.BaseURL == "" {
		s.BaseURL = s.URL
	}

	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	outbox := mail.NewOutbox(tpl, MailFrom, nil)
	outbox.Now = now
	key := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	hp, hc := TinyHash, o.HashConcurrency
	if o.Hash != nil {
		hp = *o.Hash
	}
	if hc == 0 {
		hc = 4
	}
	s.Tokens = token.NewManager(s.Store, key, now)
	hooksClient := o.HooksClient
	if hooksClient == nil {
		hooksClient = hooks.New(hooks.Options{AllowedNetworks: hooks.LoopbackNetworks})
	}
	s.Svc, err = auth.New(auth.Config{Store: s.Store, Hasher: password.NewHasher(hp, hc), Tokens: s.Tokens, Mail: outbox,
		Hooks: hooksClient, BaseURL: s.BaseURL, Now: now, Rand: rand.Reader, Log: s.Log, SAMLMetadataHTTP: true})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}

	s.Runner = jobs.NewRunner(s.Store, jobs.Options{Worker: "testenv", Now: now, Log: s.Log})
	for _, k := range approval.JobKinds {
		s.Runner.Register(k, s.Svc.RegistrationJobHandler())
	}
	s.Runner.Register(auth.ImportJobKind, s.Svc.ImportJobHandler())
	s.Runner.Register(auth.BackchannelLogoutJobKind, s.Svc.BackchannelLogoutHandler())
	s.Runner.Register(auth.SAMLMetadataRefreshJobKind, s.Svc.SAMLMetadataRefreshHandler())
	if o.SMTP {
		s.SMTP = mailtest.StartServer(t)
		sender, err := mail.NewSMTPSender(s.SMTP.SMTPConfig(MailFrom))
		if err != nil {
			t.Fatal(err)
		}
		s.Runner.Register(mail.JobKind, mail.DeliveryHandler(s.Store, sender, s.Log))
	}

	if o.AdminKey {
		if _, s.AdminKey, err = s.Svc.CreateAPIKey(ctx, "", "testenv"); err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
	}
	s.fixtures(ctx, o)

	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.handler(o, now)}}
	srv.Start()
	t.Cleanup(srv.Close)
	s.Server = srv
	return s
}

// fixtures creates the pool and what lives in it.
func (s *Stack) fixtures(ctx context.Context, o Options) {
	t := s.T
	t.Helper()
	if o.Pool == nil {
		return
	}
	var err error
	if s.Pool, err = s.Svc.CreatePool(ctx, *o.Pool); err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	if o.Policy != nil || o.Hooks != nil || o.Theme != nil || o.Configure != nil {
		p := *s.Pool
		if o.Policy != nil {
			p.Settings.SignUp = *o.Policy
		}
		if o.Hooks != nil {
			p.Settings.Hooks = *o.Hooks
		}
		if o.Theme != nil {
			p.Settings.Theme = *o.Theme
		}
		if o.Configure != nil {
			o.Configure(&p)
		}
		if s.Pool, err = s.Svc.UpdatePool(ctx, &p); err != nil {
			t.Fatalf("UpdatePool: %v", err)
		}
	}
	s.Issuer = s.Svc.Issuer(s.Pool)
	for _, in := range o.Clients {
		in.PoolID = s.Pool.ID
		out, err := s.Svc.CreateClient(ctx, in)
		if err != nil {
			t.Fatalf("CreateClient %s: %v", in.Name, err)
		}
		s.Clients = append(s.Clients, Client{ID: out.Client.ID, Secret: out.Secret})
	}
	for _, g := range o.Groups {
		if _, err := s.Svc.CreateGroup(ctx, &identity.Group{PoolID: s.Pool.ID, Name: g}); err != nil {
			t.Fatalf("CreateGroup %s: %v", g, err)
		}
	}
	for _, c := range o.Companies {
		c.PoolID = s.Pool.ID
		co, err := s.Svc.CreateCompany(ctx, &c)
		if err != nil {
			t.Fatalf("CreateCompany %s: %v", c.Name, err)
		}
		s.Companies = append(s.Companies, co)
	}
	for _, u := range o.Users {
		s.CreateUser(u)
	}
}

// handler mounts the surfaces as serve does, behind the real middleware.
func (s *Stack) handler(o Options, now func() time.Time) http.Handler {
	surf := o.Surfaces
	if surf == 0 {
		surf = DefaultSurfaces
	}
	mux := http.NewServeMux()
	s.Mux = mux
	if surf&API != 0 {
		h := api.New(s.Svc, api.Options{Log: s.Log})
		for _, p := range api.MountPatterns {
			mux.Handle(p, h)
		}
		mux.Handle(scim.MountPattern, scim.New(s.Svc, scim.Options{Log: s.Log}))
	} else if surf&JWKS != 0 {
		mux.HandleFunc("GET /{pool}/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
			b, err := s.Svc.JWKS(r.Context(), r.PathValue("pool"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		})
	}
	if surf&(Web|OIDC) != 0 {
		wo := o.Web
		if wo.Log == nil {
			wo.Log = s.Log
		}
		if wo.CSRFKey == nil {
			wo.CSRFKey = bytes.Repeat([]byte{7}, 32)
		}
		if wo.BaseURL == "" {
			wo.BaseURL = s.BaseURL
		}
		if wo.Now == nil {
			wo.Now = now
		}
		var err error
		if s.Web, err = web.New(s.Svc, wo); err != nil {
			s.T.Fatalf("web.New: %v", err)
		}
		for _, p := range web.MountPatterns {
			mux.Handle(p, s.Web)
		}
	}
	if surf&OIDC != 0 {
		s.OIDC = oidc.New(s.Svc, s.Web, oidc.Options{Log: s.Log, Now: now})
		for _, p := range oidc.MountPatterns {
			mux.Handle(p, s.OIDC)
		}
	}
	if surf&Cognito != 0 {
		co := o.Cognito
		if co.Log == nil {
			co.Log = s.Log
		}
		if co.Now == nil {
			co.Now = now
		}
		s.Cognito = cognito.New(s.Svc, co)
		mux.Handle(cognito.MountPattern, s.Cognito)
		mux.HandleFunc(cognito.UploadPattern, s.Cognito.Upload)
	}
	if surf&ForwardAuth != 0 {
		if o.ForwardAuth == nil {
			s.T.Fatal("testenv: the ForwardAuth surface needs Options.ForwardAuth")
		}
		fo := o.ForwardAuth(s)
		if fo.Log == nil {
			fo.Log = s.Log
		}
		if fo.Now == nil {
			fo.Now = now
		}
		s.ForwardAuth = forwardauth.New(s.Svc, fo)
		mux.Handle(forwardauth.Pattern, s.ForwardAuth)
	}
	if surf&Ops != 0 {
		httpserver.OpsRoutes(mux, s.Store.Ping)
	}
	var inner http.Handler = mux
	if o.Wrap != nil {
		inner = o.Wrap(mux)
	}
	return httpserver.Wrap(httpserver.Config{Log: s.Log, BodyLimits: []httpserver.BodyLimit{cognito.UploadBodyLimit}}, inner)
}

// Client returns the i-th of Options.Clients.
func (s *Stack) Client(i int) Client { return s.Clients[i] }

// Page returns the absolute URL of path p under the stack's pool
// (hosted pages: "login?client_id=...", "console", ...).
func (s *Stack) Page(p string) string { return s.URL + "/" + s.Pool.ID + "/" + p }

// With returns the stack reporting to t, for helpers called from a
// subtest or another test of the same stack.
func (s *Stack) With(t testing.TB) *Stack {
	c := *s
	c.T = t
	return &c
}
