package approval_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/token"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// TestCrashSafety builds the real binary, runs `gatehouse serve` over a
// SQLite data dir with a real SMTP server behind a proxy that can stall,
// and SIGKILLs it at each step of article 000's flow: after the sign-up
// commit, during SMTP delivery, after the decision commit, and while an
// expiry deadline passes. After each restart: no request is lost, none is
// decided twice, every email arrives at least once, the expiry fires.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-id/gatehouse/cmd/gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	smtpSrv := mailtest.StartServer(t)
	proxy := startStallProxy(t, smtpSrv.Addr)

	// The test holds the listening socket for its whole run and hands it
	// to every gatehouse process it starts (socket activation,
	// LISTEN_FDS): the port stays the same across the kills, and no other
	// process can take it between a kill and the restart.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfgPath := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`addr: 127.0.0.1:%d
base_url: %s
data_dir: %s
master_key: %s
smtp: {host: 127.0.0.1, port: %d, from: no-reply@example.test, tls: none, timeout: 30s}
password: {argon2_memory_kib: 64, argon2_time: 1}
jobs: {poll: 100ms, lease: 2s}
log: {level: warn}
`, port, base, filepath.Join(dir, "data"), token.GenerateMasterKey(), proxy.port))
	writeFile(t, filepath.Join(dir, "apply.yaml"), `pools:
  - name: slow
    username_mode: email
    schema: [{name: company_name, type: String}]
    clients: [{name: web, auth_flows: [ALLOW_USER_PASSWORD_AUTH]}]
    sign_up: {company_attribute: "custom:company_name", approval: {expiry: 7d}}
    companies: [{name: Acme, approvers: [{email: boss@acme.example}]}]
  - name: quick
    username_mode: email
    schema: [{name: company_name, type: String}]
    clients: [{name: web, auth_flows: [ALLOW_USER_PASSWORD_AUTH]}]
    sign_up: {company_attribute: "custom:company_name", approval: {expiry: 2s}}
    companies: [{name: Acme, approvers: [{email: boss2@acme.example}]}]
`)
	g := &gh{t: t, bin: bin, cfg: cfgPath, base: base, sock: sock, logPath: filepath.Join(dir, "server.log")}
	g.cli("apply", "-f", filepath.Join(dir, "apply.yaml"))
	slow, quick := g.clientID("slow"), g.clientID("quick")

	// 1. Killed right after the sign-up commit: the code email still
	// arrives after the restart.
	g.start()
	r := g.api("POST", "/api/v1/auth/sign-up", map[string]any{"client_id": slow, "username": "john@x.example", "password": pw,
		"attributes": map[string]string{"custom:company_name": "Acme"}})
	g.kill()
	if r.status != http.StatusCreated {
		t.Fatalf("sign-up: %d %s", r.status, r.body)
	}
	g.start()
	code := smtpSrv.WaitFor(t, "john@x.example", 30*time.Second).Code()
	if got := g.registrations("slow"); len(got) != 1 || got[0]["state"] != "awaiting_verification" {
		t.Fatalf("after restart 1: %v", got)
	}

	// 2. Killed while the approver's email is stuck in SMTP delivery: it
	// is delivered after the restart (once the dead worker's lease ends).
	proxy.stall(true)
	g.must(g.api("POST", "/api/v1/auth/confirm-sign-up", map[string]any{"client_id": slow, "username": "john@x.example", "code": code}), http.StatusNoContent)
	proxy.waitStalled(t, 30*time.Second)
	g.kill()
	proxy.stall(false)
	g.start()
	m := smtpSrv.WaitFor(t, "boss@acme.example", 30*time.Second)
	approve, deny := links(t, m)

	// 3. Killed right after the decision commit: the applicant's email
	// is still sent, the decision stands, a second one is refused.
	p := g.page("GET", approve, nil, "")
	res := g.page("POST", approve, p.cookie, p.csrf())
	g.kill()
	if res.status != http.StatusOK {
		t.Fatalf("decision: %d %s", res.status, res.body)
	}
	g.start()
	if m := smtpSrv.WaitFor(t, "john@x.example", 30*time.Second); !strings.Contains(m.Subject, "approved") {
		t.Fatalf("applicant email %q", m.Subject)
	}
	p2 := g.page("GET", deny, nil, "")
	if !strings.Contains(p2.body, "already decided: approved") {
		t.Fatalf("deny link after approval: %s", p2.body)
	}
	got := g.registrations("slow")
	if len(got) != 1 || got[0]["state"] != "approved" {
		t.Fatalf("after restart 3: %v", got)
	}
	show := g.cliJSON("registrations", "show", "--pool", "slow", got[0]["id"].(string))
	approvals := 0
	for _, ev := range show["events"].([]any) {
		if ev.(map[string]any)["action"] == "registration.approve" {
			approvals++
		}
	}
	if approvals != 1 {
		t.Fatalf("%d approvals recorded", approvals)
	}
	if r := g.api("POST", "/api/v1/auth/sign-in", map[string]any{"client_id": slow, "username": "john@x.example", "password": pw}); r.status != 200 {
		t.Fatalf("sign-in after approval: %d %s", r.status, r.body)
	}

	// 4. An expiry deadline (2 s) passes while the server is down: it
	// fires after the restart.
	g.must(g.api("POST", "/api/v1/auth/sign-up", map[string]any{"client_id": quick, "username": "ann@x.example", "password": pw,
		"attributes": map[string]string{"custom:company_name": "Acme"}}), http.StatusCreated)
	code = smtpSrv.WaitFor(t, "ann@x.example", 30*time.Second).Code()
	g.must(g.api("POST", "/api/v1/auth/confirm-sign-up", map[string]any{"client_id": quick, "username": "ann@x.example", "code": code}), http.StatusNoContent)
	g.kill()
	time.Sleep(2500 * time.Millisecond) // the deadline passes while nothing runs
	g.start()
	// Wait for the expiry email among whatever else reaches the applicant
	// (on a loaded machine a notice may come first).
	for until := time.Now().Add(30 * time.Second); ; {
		m, ok := smtpSrv.Next("ann@x.example", time.Until(until))
		if !ok {
			t.Fatalf("no expiry email to ann@x.example; received: %v", smtpSrv.MessagesTo("ann@x.example"))
		}
		if strings.Contains(m.Text, "in time") {
			break
		}
		t.Logf("email to ann before the expiry email: %q", m.Subject)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := g.registrations("quick")
		if len(got) == 1 && got[0]["state"] == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not expired: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.kill()
	// Every email went out at least once; none twice for the same notice
	// except for SMTP-level redelivery (same Message-ID).
	ids := map[string]int{}
	for _, m := range smtpSrv.Messages() {
		ids[m.MessageID]++
	}
	for _, addr := range []string{"boss@acme.example", "boss2@acme.example"} {
		if len(smtpSrv.MessagesTo(addr)) == 0 {
			t.Errorf("no email to %s", addr)
		}
	}
	t.Logf("messages: %d, distinct Message-IDs: %d", len(smtpSrv.Messages()), len(ids))
}

// gh drives the binary.
type gh struct {
	t       *testing.T
	bin     string
	cfg     string
	base    string
	sock    *os.File // the listening socket every process inherits
	logPath string
	cmd     *exec.Cmd
}

func (g *gh) cli(args ...string) []byte {
	g.t.Helper()
	c := exec.Command(g.bin, append([]string{"--config", g.cfg}, args...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		g.t.Fatalf("gatehouse %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.Bytes()
}

func (g *gh) cliJSON(args ...string) map[string]any {
	g.t.Helper()
	var v map[string]any
	if err := json.Unmarshal(g.cli(append([]string{"-o", "json"}, args...)...), &v); err != nil {
		g.t.Fatal(err)
	}
	return v
}

func (g *gh) clientID(pool string) string {
	g.t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(g.cli("-o", "json", "clients", "list", "--pool", pool), &l); err != nil {
		g.t.Fatal(err)
	}
	if len(l) != 1 {
		g.t.Fatalf("clients of %s: %v", pool, l)
	}
	return l[0]["id"].(string)
}

func (g *gh) registrations(pool string) []map[string]any {
	g.t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(g.cli("-o", "json", "registrations", "list", "--pool", pool), &l); err != nil {
		g.t.Fatal(err)
	}
	return l
}

func (g *gh) start() {
	g.t.Helper()
	logf, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		g.t.Fatal(err)
	}
	g.cmd = exec.Command(g.bin, "--config", g.cfg, "serve")
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	g.cmd.ExtraFiles = []*os.File{g.sock} // file descriptor 3
	g.cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	cmd := g.cmd
	g.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(g.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(g.logPath)
	g.t.Fatalf("server did not become ready:\n%s", b)
}

// kill SIGKILLs the server: no shutdown code runs.
func (g *gh) kill() {
	g.t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		g.t.Fatal(err)
	}
	_ = g.cmd.Wait()
}

func (g *gh) api(method, path string, body any) resp {
	g.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, g.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, rb}
}

func (g *gh) must(r resp, status int) {
	g.t.Helper()
	if r.status != status {
		g.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func (g *gh) page(method, link string, cookie *http.Cookie, csrf string) page {
	g.t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(url.Values{"csrf": {csrf}}.Encode())
	}
	req, _ := http.NewRequest(method, link, body)
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
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

// stallProxy forwards TCP to the SMTP server; while stalled it accepts
// connections and holds them without a greeting, like a hung relay.
type stallProxy struct {
	port    int
	stalled atomic.Bool
	hits    atomic.Int64
	mu      sync.Mutex
	held    []net.Conn
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{port: l.Addr().(*net.TCPAddr).Port}
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.held {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if p.stalled.Load() {
				p.hits.Add(1)
				p.mu.Lock()
				p.held = append(p.held, c)
				p.mu.Unlock()
				continue
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c) }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	return p
}

func (p *stallProxy) stall(on bool) {
	if on {
		p.hits.Store(0)
	}
	p.stalled.Store(on)
}

func (p *stallProxy) waitStalled(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for p.hits.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery reached the stalled SMTP server")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
