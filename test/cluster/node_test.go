package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildGatehouse builds the real binary from this tree once per test run.
func buildGatehouse(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "no go command to build the binary with: %v", err)
	}
	out := filepath.Join(t.TempDir(), "gatehouse")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/gatehouse-id/gatehouse/cmd/gatehouse")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// node is one `gatehouse serve` process, restartable on the same port.
type node struct {
	t      testing.TB
	name   string
	bin    string
	env    []string
	args   []string
	port   int
	logDir string

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	runs  int
	kills int
}

func (n *node) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("http://127.0.0.1:%d", n.port)
}

// start launches the process and waits until /readyz answers 200. The
// first start listens on port 0 and reads the bound address from the
// node's log ("gatehouse serving"), so no other process can take the port
// between choosing and binding it. A restart asks for the same port again
// (the node keeps its URL across kills); if something else took it in the
// meantime, the node moves to a new port and says so.
func (n *node) start() {
	n.t.Helper()
	if n.running() {
		return // its kill was skipped (the run ended first): nothing to restart
	}
	for attempt := 1; ; attempt++ {
		err := n.startOnce()
		if err == nil {
			return
		}
		if errors.Is(err, errPortTaken) && attempt < 4 {
			n.t.Logf("%s: port %d was taken by another process; moving to a new port", n.name, n.port)
			n.mu.Lock()
			n.port = 0
			n.mu.Unlock()
			continue
		}
		n.t.Fatalf("%s: %v\n%s", n.name, err, n.logTail())
	}
}

var (
	errPortTaken = errors.New("address already in use")
	servingRE    = regexp.MustCompile(`gatehouse serving.*?"?addr"?[=:]"?127\.0\.0\.1:(\d+)`)
)

func (n *node) startOnce() error {
	n.mu.Lock()
	n.runs++
	logPath := filepath.Join(n.logDir, fmt.Sprintf("%s-%d.log", n.name, n.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	cmd := exec.Command(n.bin, append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", n.port)}, n.args...)...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		logf.Close()
		return fmt.Errorf("start: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()

	// Wait for the log line that names the bound port.
	deadline := time.Now().Add(30 * time.Second)
	port := 0
	for port == 0 {
		b, _ := os.ReadFile(logPath)
		if m := servingRE.FindSubmatch(b); m != nil {
			port, _ = strconv.Atoi(string(m[1]))
			break
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			if strings.Contains(string(b), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("process exited before serving")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no \"gatehouse serving\" line in the log within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.mu.Lock()
	n.port = port
	n.mu.Unlock()
	if err := waitReady(n.URL(), done, 30*time.Second); err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	return nil
}

// kill sends SIGKILL (no graceful shutdown: in-flight requests and jobs
// die with the process) and waits for it to be gone.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.kills++
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop shuts the node down gracefully (SIGTERM), bounded.
func (n *node) stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// logTail returns the end of the node's latest log.
func (n *node) logTail() string {
	n.mu.Lock()
	runs := n.runs
	n.mu.Unlock()
	b, _ := os.ReadFile(filepath.Join(n.logDir, fmt.Sprintf("%s-%d.log", n.name, runs)))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return strings.TrimSpace(string(b))
}

func waitReady(base string, exited <-chan struct{}, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("process exited")
		default:
		}
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /readyz within %s (last: %v)", bound, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errorLines returns the ERROR lines of every run of the node.
func (n *node) errorLines() string {
	n.mu.Lock()
	runs := n.runs
	n.mu.Unlock()
	var out []string
	for r := 1; r <= runs; r++ {
		b, _ := os.ReadFile(filepath.Join(n.logDir, fmt.Sprintf("%s-%d.log", n.name, r)))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "level=ERROR") && len(out) < 40 {
				out = append(out, fmt.Sprintf("run %d: %s", r, l))
			}
		}
	}
	return strings.Join(out, "\n")
}

// running reports whether the node's process is alive.
func (n *node) running() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}
