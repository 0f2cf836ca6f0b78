package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// TestSIGKILLDuringLastAttemptSendsOnce (issue 21 item 3) builds the real
// binary, fails an invitation's first seven deliveries (an admin's
// `gatehouse jobs retry` makes each retry due at once), stalls the eighth
// and last attempt in the SMTP server and SIGKILLs `gatehouse serve`
// there. After the restart the lost attempt is given back: the email is
// sent exactly once, and the email row, its job and the gauges of
// /metrics agree. Before, the next claim marked the job dead without
// running it and the email stayed "retrying" forever, unseen.
func TestSIGKILLDuringLastAttemptSendsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-id/gatehouse/cmd/gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			crashDuringLastAttempt(t, bin, backend)
		})
	}
}

func crashDuringLastAttempt(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	smtpSrv := mailtest.StartServer(t)
	// The test holds the listening socket and hands it to every server
	// process (LISTEN_FDS), so the port survives the kill.
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
	database := fmt.Sprintf("data_dir: %s", filepath.Join(dir, "data"))
	var open func() store.Store
	if backend == "postgres" {
		dsn := storetest.PostgresSchemaDSN(t)
		database = fmt.Sprintf("database_url: %q", dsn)
		open = func() store.Store {
			st, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	} else {
		open = func() store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "gatehouse.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}
	cfg := filepath.Join(dir, "gatehouse.yaml")
	writeFile(t, cfg, fmt.Sprintf(`addr: 127.0.0.1:%d
base_url: %s
%s
master_key: %s
smtp: {host: 127.0.0.1, port: %d, from: no-reply@example.test, tls: none, timeout: 30s}
password: {argon2_memory_kib: 64, argon2_time: 1}
jobs: {poll: 50ms, lease: 10s}
log: {level: warn}
`, port, base, database, token.GenerateMasterKey(), smtpSrv.Port))
	writeFile(t, filepath.Join(dir, "apply.yaml"), "pools:\n  - name: crash\n    username_mode: email\n")
	g := &server{t: t, bin: bin, cfg: cfg, base: base, sock: sock, logPath: filepath.Join(dir, "server.log")}
	g.cli("apply", "-f", filepath.Join(dir, "apply.yaml"))
	g.cli("users", "create", "--pool", "crash", "ann@example.com")
	var list []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(g.cli("-o", "json", "jobs", "list", "--pool", "crash", "--kind", "email.send"), &list); err != nil || len(list) != 1 {
		t.Fatalf("jobs list: %v %+v", err, list)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	st := open()
	job := func() *identity.Job {
		t.Helper()
		j, err := st.GetJob(context.Background(), list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}

	// Seven failed attempts; after each, an admin has the retry run now.
	smtpSrv.Fail(mailtest.StageMail, 451, "try later", jobs.DefaultMaxAttempts-1)
	g.start()
	for n := 1; n < jobs.DefaultMaxAttempts; n++ {
		waitUntil(t, fmt.Sprintf("attempt %d failed", n), func() bool {
			j := job()
			return j.State == identity.JobPending && j.Attempts == n
		})
		if n < jobs.DefaultMaxAttempts-1 {
			g.cli("jobs", "retry", id)
		}
	}
	// The last attempt hangs in the relay; the node is killed there, well
	// before its handler's deadline (80% of the 10 s lease) would end it.
	smtpSrv.Stall(mailtest.StageMail, 1)
	g.cli("jobs", "retry", id)
	smtpSrv.WaitStalled(t, 1, 30*time.Second)
	if j := job(); j.State != identity.JobRunning || !jobs.IsLastAttempt(j) {
		t.Fatalf("stalled attempt: %+v", j)
	}
	g.kill()
	smtpSrv.Release() // the killed node's connection is gone: nothing arrives

	g.start()
	m := smtpSrv.WaitFor(t, "ann@example.com", 30*time.Second)
	waitUntil(t, "the job is done", func() bool { return job().State == identity.JobDone })
	metrics := g.get("/metrics")
	g.kill()

	if n := len(smtpSrv.MessagesTo("ann@example.com")); n != 1 || m.MessageID == "" {
		t.Fatalf("%d messages to ann, want exactly 1", n)
	}
	j := job()
	var p struct {
		EmailID int64 `json:"email_id"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		t.Fatal(err)
	}
	e, err := st.GetEmail(context.Background(), p.EmailID)
	if err != nil {
		t.Fatal(err)
	}
	want := jobs.DefaultMaxAttempts + 1 // eight tried, one lost and given back
	if e.Status != identity.EmailSent || e.Attempts != want || e.JobID != j.ID || e.JobAttempt != want {
		t.Errorf("email %+v", e)
	}
	if j.Attempts != want || j.MaxAttempts != want || j.Lost != 0 {
		t.Errorf("job %+v", j)
	}
	for _, line := range []string{"gatehouse_jobs_dead 0", "gatehouse_jobs_pending 0", "gatehouse_jobs_running 0",
		`gatehouse_emails{status="dead"} 0`, `gatehouse_emails{status="retrying"} 0`, `gatehouse_emails{status="sending"} 0`} {
		if !hasLine(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// server drives the binary.
type server struct {
	t       *testing.T
	bin     string
	cfg     string
	base    string
	sock    *os.File
	logPath string
	cmd     *exec.Cmd
}

func (g *server) cli(args ...string) []byte {
	g.t.Helper()
	c := exec.Command(g.bin, append([]string{"--config", g.cfg}, args...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		g.t.Fatalf("gatehouse %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.Bytes()
}

func (g *server) start() {
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
	waitUntil(g.t, "the server is ready", func() bool {
		r, err := http.Get(g.base + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
}

// kill SIGKILLs the server: no shutdown code runs.
func (g *server) kill() {
	g.t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		g.t.Fatal(err)
	}
	_ = g.cmd.Wait()
}

func (g *server) get(path string) string {
	g.t.Helper()
	r, err := http.Get(g.base + path)
	if err != nil {
		g.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func hasLine(text, line string) bool {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if sc.Text() == line {
			return true
		}
	}
	return false
}

// waitUntil polls cond until it holds; the bound only keeps a broken run
// from hanging.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
