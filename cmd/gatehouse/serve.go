package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/devmailbox"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/oidc"
	"github.com/gatehouse-id/gatehouse/internal/retention"
	"github.com/gatehouse-id/gatehouse/internal/scim"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// Main is the server process: Run opens the store, builds the service,
// starts the job runner and the HTTP server, and returns once they are
// running; Close shuts them down in reverse order. Nothing in it is
// node-local except the listener, so several processes can share one
// PostgreSQL database.
type Main struct {
	Config Config
	Log    *slog.Logger
	// Out receives the dev-mode banner (URLs, demo credentials).
	Out io.Writer

	core     *core
	runner   *jobs.Runner
	server   *httpserver.Server
	ln       net.Listener
	runErr   chan error
	cancel   context.CancelFunc
	notifier atomic.Pointer[jobs.Runner]
	seed     *devSeed
}

// NewMain returns a Main for cfg (already validated by loadConfig).
func NewMain(cfg Config, log *slog.Logger, out io.Writer) *Main {
	if log == nil {
		log = slog.Default()
	}
	if out == nil {
		out = io.Discard
	}
	return &Main{Config: cfg, Log: log, Out: out}
}

// Run starts everything and returns when the server is listening. ctx
// bounds startup only; stop the server with Close.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	// Listen first: a busy port fails before anything else happens, and
	// with port 0 the real address is known for the default base URL.
	m.ln, err = listen(m.Config.Addr)
	if err != nil {
		return err
	}
	if m.Config.BaseURL == "" {
		m.Config.Addr = m.ln.Addr().String()
		m.Config.BaseURL = m.Config.PublicBaseURL()
		if !m.Config.Dev {
			m.Log.Warn("base_url is not set (GATEHOUSE_BASE_URL): emailed links and token issuers use the listen address; set the public URL", "base_url", m.Config.BaseURL)
		}
	}
	cfg := m.Config
	m.core, err = openCore(ctx, cfg, m.Log, func() {
		if r := m.notifier.Load(); r != nil {
			r.Notify()
		}
	})
	if err != nil {
		return err
	}
	// A node with the wrong master key would pass /readyz and then fail
	// every sign-in: refuse to start instead (`gatehouse epoch bump` is the
	// documented way out of a lost master key; it does not run this check).
	if err := m.core.tokens.CheckMasterKey(ctx); err != nil {
		return fmt.Errorf("%w; start with the master key this database was created with", err)
	}

	// Mail delivery.
	var sender mail.Sender
	switch {
	case cfg.Dev:
		sender = mail.NewDevSender(m.Log)
	case cfg.SMTP.Host != "":
		sender, err = mail.NewSMTPSender(mail.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			From: cfg.SMTP.From, TLS: cfg.SMTP.TLS, Timeout: cfg.SMTP.Timeout.D(), HELO: cfg.SMTP.HELO,
		})
		if err != nil {
			return err
		}
	default:
		// No handler for email.send: this node claims no delivery job, so
		// emails wait, queued and with no attempt spent, for a node with
		// a mail server (or this one, restarted with one).
		m.Log.Warn("no SMTP server configured (smtp.host / GATEHOUSE_SMTP_HOST): emails stay queued in the outbox until a node with one runs")
	}

	worker, _ := os.Hostname()
	worker = fmt.Sprintf("%s-%d-%s", worker, os.Getpid(), randomHex(3))
	m.runner = jobs.NewRunner(m.core.store, jobs.Options{
		Worker:        worker,
		Lease:         cfg.Jobs.Lease.D(),
		Poll:          cfg.Jobs.Poll.D(),
		Batch:         cfg.Jobs.Batch,
		Concurrency:   cfg.Jobs.Concurrency,
		ShutdownGrace: cfg.HTTP.ShutdownTimeout.D(),
		Now:           time.Now,
		Log:           m.Log,
	})
	if sender != nil {
		m.runner.Register(mail.JobKind, mail.DeliveryHandler(m.core.store, sender, m.Log))
	}
	// post_confirmation webhook deliveries
	m.runner.Register(auth.HookJobKind, m.core.svc.PostConfirmationHandler())
	// Cognito user import jobs (CreateUserImportJob)
	m.runner.Register(auth.ImportJobKind, m.core.svc.ImportJobHandler())
	m.runner.Register(auth.BackchannelLogoutJobKind, m.core.svc.BackchannelLogoutHandler())
	// SAML company providers' metadata given by URL, kept fresh
	m.runner.Register(auth.SAMLMetadataRefreshJobKind, m.core.svc.SAMLMetadataRefreshHandler())
	for _, kind := range approval.JobKinds { // registration expiry and reminders
		m.runner.Register(kind, m.core.svc.RegistrationJobHandler())
	}
	m.notifier.Store(m.runner)
	// Gauges of the jobs and the outbox, read from the tables at each scrape.
	jobs.RegisterMetrics(m.core.store)
	mail.RegisterMetrics(m.core.store)
	retention.RegisterMetrics(m.core.store) // table sizes and oldest rows

	if cfg.Dev {
		m.seed, err = seedDev(ctx, m.core, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("dev seed: %w", err)
		}
	}

	// HTTP.
	hcfg := httpserver.Config{
		Addr:            cfg.Addr,
		ReadTimeout:     cfg.HTTP.ReadTimeout.D(),
		WriteTimeout:    cfg.HTTP.WriteTimeout.D(),
		IdleTimeout:     cfg.HTTP.IdleTimeout.D(),
		ShutdownTimeout: cfg.HTTP.ShutdownTimeout.D(),
		MaxBodyBytes:    cfg.HTTP.MaxBodyBytes,
		TrustedProxies:  ParsePrefixes(cfg.HTTP.TrustedProxies),
		BodyLimits:      []httpserver.BodyLimit{cognito.UploadBodyLimit}, // import CSVs
		Log:             m.Log,
	}
	mux := http.NewServeMux()
	apiHandler := api.New(m.core.svc, api.Options{Log: m.Log, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Now: time.Now})
	if len(cfg.Admin.AllowFrom) > 0 {
		apiHandler = adminAllowFrom(ParsePrefixes(cfg.Admin.AllowFrom), apiHandler)
	}
	for _, p := range api.MountPatterns {
		mux.Handle(p, apiHandler)
	}
	// SCIM 2.0 provisioning by companies' identity providers (docs/company-sso.md).
	mux.Handle(scim.MountPattern, scim.New(m.core.svc, scim.Options{Log: m.Log}))
	if err := mountForwardAuth(mux, m.core.svc, cfg.ForwardAuth, m.Log); err != nil {
		return err
	}
	mountCognito(mux, m.core.svc, cfg, m.Log)
	// Server-rendered pages (approval links; hosted pages later).
	pages, err := web.New(m.core.svc, web.Options{Log: m.Log, CSRFKey: webCSRFKey(cfg.MasterKey), MaxFormBytes: cfg.HTTP.MaxBodyBytes, BaseURL: cfg.BaseURL})
	if err != nil {
		return fmt.Errorf("web pages: %w", err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, pages)
	}
	// OpenID Connect / OAuth 2.0 endpoints (docs/oidc.md).
	provider := oidc.New(m.core.svc, pages, oidc.Options{Log: m.Log, MaxFormBytes: cfg.HTTP.MaxBodyBytes})
	for _, p := range oidc.MountPatterns {
		mux.Handle(p, provider)
	}
	if cfg.Dev {
		dm := devmailbox.Handler(m.core.svc)
		mux.Handle("GET /dev/mailbox", dm)
		mux.Handle("GET /dev/mailbox.json", dm)
	}
	m.server = httpserver.New(hcfg, mux)
	httpserver.OpsRoutes(mux, m.server.Ready(m.core.store.Ping))

	m.server.Start(m.ln)

	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.runErr = make(chan error, 1)
	go func() { m.runErr <- m.runner.Run(rctx) }()
	go runRetention(rctx, m.core.store, cfg.Retention.Interval.D(), m.Log)
	m.startListener(rctx) // other nodes' changes (PostgreSQL only)

	m.Log.Info("gatehouse serving", "addr", m.ln.Addr().String(), "backend", m.core.store.Backend(), "dev", cfg.Dev, "base_url", cfg.PublicBaseURL())
	if cfg.Dev {
		m.printBanner(ctx)
	}
	return nil
}

// Addr is the address the server listens on (after Run).
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// URL is http://<listen address>, for tests and the banner.
func (m *Main) URL() string {
	host, port, _ := net.SplitHostPort(m.Addr())
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Close shuts down gracefully: the server stops accepting and lets
// in-flight requests finish (up to http.shutdown_timeout), then the job
// runner drains its running jobs, then the store closes.
func (m *Main) Close() error {
	var errs []error
	timeout := m.Config.HTTP.ShutdownTimeout.D()
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	if m.server == nil && m.ln != nil {
		_ = m.ln.Close() // Run failed before serving
	}
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		cancel()
		m.server = nil
	}
	if m.cancel != nil {
		m.cancel()
		select {
		case err := <-m.runErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("jobs: %w", err))
			}
		case <-time.After(timeout):
			errs = append(errs, errors.New("jobs: runner did not drain in time"))
		}
		m.cancel = nil
	}
	if m.core != nil {
		if err := m.core.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
		m.core = nil
	}
	return errors.Join(errs...)
}

func (a *app) serveCommand() *cobra.Command {
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Long: `Run the Gatehouse server: the native JSON API under /api/v1/, JWKS and OpenID
discovery under /<pool id>/.well-known/, and /healthz, /readyz and /metrics.

With --dev: embedded SQLite in the data dir, a master key generated once into
<data-dir>/master.key, emails shown at /dev/mailbox instead of being sent, and
a demo pool, app client, groups, admin user and admin API key created on first
start (the secrets are printed once).

SIGINT or SIGTERM shut down gracefully: no new connections, in-flight requests
finish, running jobs drain, the database closes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			log := newLogger(a.stderr, cfg.Log)
			slog.SetDefault(log)
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			m := NewMain(cfg, log, a.stdout)
			if err := m.Run(cmd.Context()); err != nil {
				return err
			}
			<-cmd.Context().Done()
			if a.stopSignals != nil {
				a.stopSignals() // a second SIGINT/SIGTERM kills at once
			}
			start := time.Now()
			log.Info("shutting down: draining requests and jobs")
			err = m.Close()
			log.Info("stopped", "took", time.Since(start).Round(time.Millisecond), "err", err)
			return err
		},
	}
	cmd.Flags().StringVar(&a.addr, "addr", DefaultAddr, "listen address (env GATEHOUSE_ADDR)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file (diagnostics; see docs/benchmarks.md)")
	return cmd
}

// startCPUProfile writes a CPU profile to path until the returned stop
// is called (serve --cpuprofile: where a running server spends its time,
// read with go tool pprof).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// adminAllowFrom answers 403 to admin API calls (/api/v1/pools...,
// /api/v1/jobs...) from a client IP outside allowed. The client IP is the
// one httpserver.Wrap computed (X-Forwarded-For only from trusted
// proxies).
func adminAllowFrom(allowed []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAdminPath(r.URL.Path) {
			ip, err := netip.ParseAddr(httpserver.RemoteIP(r))
			ok := false
			if err == nil {
				ip = ip.Unmap()
				for _, p := range allowed {
					if p.Contains(ip) {
						ok = true
						break
					}
				}
			}
			if !ok {
				httpserver.WriteProblem(w, r, httpserver.Problem{Status: http.StatusForbidden, Code: string(identity.CodeForbidden),
					Detail: "The admin API is not available from this address."})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isAdminPath reports whether path is one of the admin API's: the pools
// and everything under them, and the global jobs. The company-name
// type-ahead is public (sign-up forms call it).
func isAdminPath(path string) bool {
	for _, prefix := range []string{"/api/v1/pools", "/api/v1/jobs"} {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return !strings.HasSuffix(path, "/company-names")
		}
	}
	return false
}

// listen returns the listening socket: the one a service manager passed
// (socket activation, as systemd does it: LISTEN_FDS=1 and the socket on
// file descriptor 3; LISTEN_PID, when set, must be this process), or a new
// one on addr. A socket passed in outlives restarts of the process, so
// connections wait in its backlog instead of being refused while a new
// binary starts, and no other process can take the port meanwhile.
func listen(addr string) (net.Listener, error) {
	n := os.Getenv("LISTEN_FDS")
	if n == "" {
		return net.Listen("tcp", addr)
	}
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return net.Listen("tcp", addr) // meant for another process
	}
	if n != "1" {
		return nil, fmt.Errorf("LISTEN_FDS=%s: gatehouse serves exactly one socket", n)
	}
	for _, v := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		os.Unsetenv(v) // not for child processes
	}
	f := os.NewFile(3, "LISTEN_FDS socket")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("LISTEN_FDS: file descriptor 3 is not a listening socket: %w", err)
	}
	return ln, nil
}
