package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

// startDev starts Main in dev mode on 127.0.0.1:0 over dataDir and returns
// it with its banner output. It is closed when the test ends.
func startDev(t *testing.T, dataDir string) (*Main, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dev = true
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	cfg.Jobs.Poll = Duration(50 * time.Millisecond)
	must(t, cfg.Validate())
	_, err := ensureDevMasterKey(&cfg, generateMasterKey)
	must(t, err)
	var banner bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := NewMain(cfg, log, &banner)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, m.Run(ctx))
	t.Cleanup(func() { _ = m.Close() })
	return m, banner.String()
}

type httpResult struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, method, url, auth string, body any) httpResult {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	must(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return httpResult{resp.StatusCode, string(b), resp.Header}
}

func TestServeDevEndToEnd(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m, banner := startDev(t, dataDir)
	base := m.URL()

	// The banner shows where everything is, and the secrets once.
	assertContains(t, banner, base+"/api/v1/", base+"/api/v1/docs", base+"/dev/mailbox", "/.well-known/jwks.json",
		"/.well-known/openid-configuration", base+"/metrics", "admin@example.com  password: ", "Admin API key       ", "curl ")
	keyFile := filepath.Join(dataDir, devKeyFile)
	fi, err := os.Stat(keyFile)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", keyFile, fi.Mode().Perm())
	}
	kb, err := os.ReadFile(keyFile)
	must(t, err)
	adminKey := strings.TrimSpace(string(kb))
	if !strings.Contains(banner, adminKey) {
		t.Error("banner does not show the admin key created at first start")
	}

	// Ops endpoints.
	if r := do(t, "GET", base+"/healthz", "", nil); r.status != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Fatalf("/healthz = %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base+"/readyz", "", nil); r.status != 200 {
		t.Fatalf("/readyz = %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base+"/metrics", "", nil); r.status != 200 || !strings.Contains(r.body, "# HELP") {
		t.Fatalf("/metrics = %d", r.status)
	}

	// The API reference the banner links is served by the binary.
	if r := do(t, "GET", base+"/api/v1/docs", "", nil); r.status != 200 || !strings.Contains(r.body, "swagger-ui-bundle.js") {
		t.Fatalf("/api/v1/docs = %d %s", r.status, r.body)
	}

	// Empty mailbox page says it is dev only.
	r := do(t, "GET", base+"/dev/mailbox", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("/dev/mailbox = %d %s", r.status, r.header.Get("Content-Type"))
	}
	assertContains(t, r.body, "Dev mailbox", "Development mode only")

	// The banner links the demo pool's hosted sign-up page and console,
	// and both answer (issue 12).
	pool, client := m.seed.Pool, m.seed.Client
	signupURL, consoleURL := base+"/"+pool.ID+"/signup", base+"/"+pool.ID+"/console"
	assertContains(t, banner, "Sign-up page        "+signupURL, "Admin console       "+consoleURL)
	if r := do(t, "GET", signupURL, "", nil); r.status != 200 || !strings.Contains(r.body, "<form") {
		t.Fatalf("sign-up page from the banner = %d", r.status)
	}
	if r := do(t, "GET", consoleURL, "", nil); r.status != 200 || !strings.Contains(r.body, "password") {
		t.Fatalf("console from the banner = %d", r.status) // the sign-in page, coming back to the console
	}

	// The seeded admin API key works on the admin API.
	if r := do(t, "GET", base+"/api/v1/pools", adminKey, nil); r.status != 200 || !strings.Contains(r.body, pool.ID) {
		t.Fatalf("GET /api/v1/pools with the dev key = %d %s", r.status, r.body)
	}
	if r := do(t, "GET", fmt.Sprintf("%s/%s/.well-known/jwks.json", base, pool.ID), "", nil); r.status != 200 || !strings.Contains(r.body, `"keys"`) {
		t.Fatalf("jwks = %d %s", r.status, r.body)
	}

	if r := do(t, "GET", fmt.Sprintf("%s/%s/.well-known/openid-configuration", base, pool.ID), "", nil); r.status != 200 || !strings.Contains(r.body, `"issuer"`) {
		t.Fatalf("openid-configuration = %d %s", r.status, r.body)
	}

	// The demo admin is confirmed, in Admins, and signs in with the
	// password the banner showed.
	admin, err := m.core.svc.AdminGetUser(context.Background(), pool.ID, devAdminEmail)
	must(t, err)
	if admin.User.Status != "CONFIRMED" || !admin.User.EmailVerified || !strings.Contains(strings.Join(admin.Groups, ","), "Admins") {
		t.Fatalf("demo admin = %+v groups %v", admin.User, admin.Groups)
	}
	pwMatch := regexp.MustCompile(`admin@example.com  password: (\S+)`).FindStringSubmatch(banner)
	if pwMatch == nil {
		t.Fatalf("no admin password in banner:\n%s", banner)
	}
	r = do(t, "POST", base+"/api/v1/auth/sign-in", "", map[string]any{"client_id": client.ID, "username": devAdminEmail, "password": pwMatch[1]})
	if r.status != 200 || !strings.Contains(r.body, "access_token") {
		t.Fatalf("admin sign-in with the banner's password = %d %s", r.status, r.body)
	}

	// Sign up: the code shows up in the dev mailbox.
	const email, pw = "newcomer@example.com", "violet harbor lantern 92"
	r = do(t, "POST", base+"/api/v1/auth/sign-up", "", map[string]any{"client_id": client.ID, "username": email, "password": pw})
	if r.status != http.StatusCreated {
		t.Fatalf("sign-up = %d %s", r.status, r.body)
	}
	var mailbox struct {
		Emails []struct {
			To     string   `json:"to"`
			Status string   `json:"status"`
			Codes  []string `json:"codes"`
		} `json:"emails"`
	}
	r = do(t, "GET", base+"/dev/mailbox.json?to="+email, "", nil)
	must(t, json.Unmarshal([]byte(r.body), &mailbox))
	if len(mailbox.Emails) != 1 || len(mailbox.Emails[0].Codes) != 1 {
		t.Fatalf("mailbox for %s = %s", email, r.body)
	}
	code := mailbox.Emails[0].Codes[0]
	if !regexp.MustCompile(`^[0-9]{6,8}$`).MatchString(code) {
		t.Fatalf("extracted code %q", code)
	}
	html := do(t, "GET", base+"/dev/mailbox", "", nil).body
	assertContains(t, html, email, `<span class="code">`+code+`</span>`)

	// The code confirms the account, and the user signs in.
	r = do(t, "POST", base+"/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": client.ID, "username": email, "code": code})
	if r.status/100 != 2 {
		t.Fatalf("confirm = %d %s", r.status, r.body)
	}
	r = do(t, "POST", base+"/api/v1/auth/sign-in", "", map[string]any{"client_id": client.ID, "username": email, "password": pw})
	if r.status != 200 || !strings.Contains(r.body, "access_token") {
		t.Fatalf("sign-in = %d %s", r.status, r.body)
	}

	// The dev sender "delivers" it: the job runner marks it sent.
	deadline := time.Now().Add(2 * time.Minute) // a bound on a hang, not a speed limit
	for {
		r = do(t, "GET", base+"/dev/mailbox.json?to="+email, "", nil)
		must(t, json.Unmarshal([]byte(r.body), &mailbox))
		if mailbox.Emails[0].Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("email never marked sent: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeDevRestartIsIdempotent(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m1, _ := startDev(t, dataDir)
	poolID, clientID := m1.seed.Pool.ID, m1.seed.Client.ID
	key1, err := os.ReadFile(filepath.Join(dataDir, devKeyFile))
	must(t, err)
	must(t, m1.Close())

	m2, banner := startDev(t, dataDir)
	if m2.seed.Pool.ID != poolID || m2.seed.Client.ID != clientID {
		t.Fatalf("restart made a new pool or client: %s/%s vs %s/%s", m2.seed.Pool.ID, m2.seed.Client.ID, poolID, clientID)
	}
	if m2.seed.Changes != 0 || m2.seed.AdminCreated || m2.seed.KeyToken != "" {
		t.Fatalf("restart re-seeded: %+v", m2.seed)
	}
	key2, err := os.ReadFile(filepath.Join(dataDir, devKeyFile))
	must(t, err)
	if !bytes.Equal(key1, key2) {
		t.Fatal("dev-admin-key rewritten on restart")
	}
	assertContains(t, banner, "saved in "+filepath.Join(dataDir, devKeyFile))
	if strings.Contains(banner, strings.TrimSpace(string(key1))) || strings.Contains(banner, "password: ") {
		t.Fatalf("restart banner shows a secret again:\n%s", banner)
	}
	pools, err := allPools(context.Background(), m2.core.svc)
	must(t, err)
	if len(pools) != 1 {
		t.Fatalf("%d pools after restart, want 1", len(pools))
	}
	// The old key still authenticates after the restart.
	if r := do(t, "GET", m2.URL()+"/api/v1/pools", strings.TrimSpace(string(key1)), nil); r.status != 200 {
		t.Fatalf("dev key after restart = %d %s", r.status, r.body)
	}
}

func TestServeShutdownStopsServing(t *testing.T) {
	t.Parallel()
	m, _ := startDev(t, filepath.Join(t.TempDir(), "data"))
	base := m.URL()
	if r := do(t, "GET", base+"/healthz", "", nil); r.status != 200 {
		t.Fatalf("/healthz = %d", r.status)
	}
	must(t, m.Close())
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after Close")
	}
	must(t, m.Close()) // idempotent
}

// startNode starts a non-dev Main with cfg on 127.0.0.1:0.
func startNode(t *testing.T, cfg Config) *Main {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	must(t, cfg.Validate())
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, m.Run(ctx))
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestTwoNodesSharePostgres runs two servers on one PostgreSQL schema with
// a real SMTP server: a sign-up on one node is delivered once through SMTP
// (whichever node's runner takes the job), confirmed and signed in on the
// other, and seen by the CLI.
func TestTwoNodesSharePostgres(t *testing.T) {
	t.Parallel()
	c := setupPostgres(t)
	c.ok("apply", "-f", c.write("pool.yaml", `
pools:
  - name: shared
    username_mode: email
    clients: [{name: app, auth_flows: [USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH]}]
`))
	var cl clientJSON
	must(t, json.Unmarshal([]byte(c.ok("clients", "get", "--pool", "shared", "app", "-o", "json")), &cl))

	smtpSrv := mailtest.StartServer(t)
	sc := smtpSrv.SMTPConfig("no-reply@example.com")
	cfg := DefaultConfig()
	cfg.DatabaseURL = c.env["GATEHOUSE_DATABASE_URL"]
	cfg.MasterKey = testMasterKey
	cfg.BaseURL = "https://id.example.com"
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	cfg.Jobs.Poll = Duration(50 * time.Millisecond)
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS, cfg.SMTP.From = sc.Host, sc.Port, sc.TLS, sc.From
	a, b := startNode(t, cfg), startNode(t, cfg)

	const email, pw = "shared@example.com", "violet harbor lantern 92"
	creds := map[string]any{"client_id": cl.ID, "username": email, "password": pw}
	if r := do(t, "POST", a.URL()+"/api/v1/auth/sign-up", "", creds); r.status != http.StatusCreated {
		t.Fatalf("sign-up on A = %d %s", r.status, r.body)
	}
	msg := smtpSrv.WaitFor(t, email, 20*time.Second)
	code := msg.Code()
	if code == "" {
		t.Fatalf("no code in %q", msg.Text)
	}
	if r := do(t, "POST", b.URL()+"/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": cl.ID, "username": email, "code": code}); r.status/100 != 2 {
		t.Fatalf("confirm on B = %d %s", r.status, r.body)
	}
	r := do(t, "POST", b.URL()+"/api/v1/auth/sign-in", "", creds)
	if r.status != 200 || !strings.Contains(r.body, "access_token") {
		t.Fatalf("sign-in on B = %d %s", r.status, r.body)
	}
	// Tokens from B verify against A's JWKS: same keys in the database.
	jwksA := do(t, "GET", fmt.Sprintf("%s/%s/.well-known/jwks.json", a.URL(), cl.PoolID), "", nil).body
	jwksB := do(t, "GET", fmt.Sprintf("%s/%s/.well-known/jwks.json", b.URL(), cl.PoolID), "", nil).body
	if jwksA != jwksB || !strings.Contains(jwksA, `"kid"`) {
		t.Fatalf("nodes publish different JWKS:\n%s\n%s", jwksA, jwksB)
	}
	assertContains(t, c.ok("users", "get", "--pool", "shared", email), "CONFIRMED")

	// Exactly one delivery: the job was leased to one node only. Wait for
	// the outbox to say sent, then count what the SMTP server received.
	deadline := time.Now().Add(2 * time.Minute) // a bound on a hang, not a speed limit
	for {
		emails, _, err := a.core.svc.ListEmails(context.Background(), cl.PoolID, "sent", 10, "")
		must(t, err)
		if len(emails) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("email not marked sent: %+v", emails)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(smtpSrv.MessagesTo(email)); n != 1 {
		t.Fatalf("%d messages delivered to %s, want 1", n, email)
	}
}

// TestBenchAgainstDevServer checks the bench command's wiring with a very
// short run (the load test itself is tested in internal/loadtest).
func TestBenchAgainstDevServer(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m, _ := startDev(t, dataDir)
	c := setup(t)
	out := c.ok("bench", "--url", m.URL(), "--admin-key-file", filepath.Join(dataDir, devKeyFile),
		"--duration", "200ms", "--users", "3", "--concurrency", "2", "--phases", "signin")
	assertContains(t, out, "signin")
	if _, _, err := c.run("", "bench", "--url", "http://192.0.2.1:8080", "--admin-key", "x", "--duration", "100ms"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("non-loopback target: err = %v", err)
	}
}

// TestServeProductionMode: without --dev there is no dev mailbox, no demo
// data, and admin.allow_from guards the admin API.
func TestServeProductionMode(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	cfg.Admin.AllowFrom = []string{"10.0.0.0/8"}
	m := startNode(t, cfg)
	base := m.URL()
	if r := do(t, "GET", base+"/readyz", "", nil); r.status != 200 {
		t.Fatalf("/readyz = %d", r.status)
	}
	for _, p := range []string{"/dev/mailbox", "/dev/mailbox.json"} {
		if r := do(t, "GET", base+p, "", nil); r.status != http.StatusNotFound {
			t.Errorf("%s without --dev = %d, want 404", p, r.status)
		}
	}
	if m.seed != nil {
		t.Error("demo data seeded without --dev")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); !os.IsNotExist(err) {
		t.Errorf("master.key written without --dev: %v", err)
	}
	// 127.0.0.1 is outside 10.0.0.0/8: the admin API refuses before the
	// key is looked at; the end-user API is not affected.
	r := do(t, "GET", base+"/api/v1/pools", "ghk_whatever.secret", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "forbidden") {
		t.Errorf("admin API from a disallowed address = %d %s", r.status, r.body)
	}
	r = do(t, "POST", base+"/api/v1/auth/sign-in", "", map[string]any{"client_id": "nope", "username": "a@b.c", "password": "x"})
	if r.status == http.StatusForbidden {
		t.Errorf("end-user API blocked: %d %s", r.status, r.body)
	}
}

// TestCLIAgainstRunningDevServer: the CLI with --dev opens the same data
// dir (and master key) while the server runs.
func TestCLIAgainstRunningDevServer(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m, _ := startDev(t, dataDir)
	c := setup(t)
	delete(c.env, "GATEHOUSE_MASTER_KEY")
	c.env["GATEHOUSE_DATA_DIR"] = dataDir
	assertContains(t, c.ok("--dev", "users", "list", "--pool", "demo"), devAdminEmail)
	assertContains(t, c.ok("--dev", "groups", "members", "--pool", "demo", "Admins"), devAdminEmail)
	c.ok("--dev", "users", "create", "--pool", "demo", "cli@example.com")
	// The invitation queued by the CLI is delivered by the server's runner
	// and shows up in its dev mailbox.
	deadline := time.Now().Add(2 * time.Minute) // a bound on a hang, not a speed limit
	for {
		r := do(t, "GET", m.URL()+"/dev/mailbox.json?to=cli@example.com", "", nil)
		if strings.Contains(r.body, `"temporary_passwords": [`+"\n") && strings.Contains(r.body, `"status": "sent"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("invitation not in the dev mailbox: %s", r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeDevBannerListsEveryPool: after a restart, the dev banner links
// the sign-up page and console of every pool, not only the demo pool's.
func TestServeDevBannerListsEveryPool(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m, _ := startDev(t, dataDir)
	p, err := m.core.svc.CreatePool(context.Background(), auth.CreatePoolInput{Name: "acme-app"})
	must(t, err)
	must(t, m.Close())
	m2, banner := startDev(t, dataDir)
	base := m2.URL()
	assertContains(t, banner, "Other pools", "acme-app", base+"/"+p.ID+"/signup", base+"/"+p.ID+"/console",
		base+"/"+m2.seed.Pool.ID+"/signup")
}
