package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the real binary: with GATEHOUSE_TEST_RUN_MAIN=1
// the test executable behaves as `gatehouse` (main()) instead of running
// tests.
func TestMain(m *testing.M) {
	if os.Getenv("GATEHOUSE_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"gatehouse"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBinarySIGTERM starts the real process, waits until it serves, sends
// SIGTERM and expects a clean exit after the shutdown sequence.
func TestBinarySIGTERM(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "serve", "--dev", "--data-dir", dataDir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_RUN_MAIN=1", "GATEHOUSE_ARGON2_MEMORY_KIB=64", "GATEHOUSE_ARGON2_TIME=1")
	stderr, err := cmd.StderrPipe()
	must(t, err)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	addrRE := regexp.MustCompile(`msg="gatehouse serving" addr=(\S+)`)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	var logs []string
	timeout := time.After(30 * time.Second)
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("process ended before serving:\n%s", strings.Join(logs, "\n"))
			}
			logs = append(logs, l)
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case <-timeout:
			t.Fatalf("not serving after 30s:\n%s", strings.Join(logs, "\n"))
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}

	must(t, cmd.Process.Signal(syscall.SIGTERM))
	for l := range lines {
		logs = append(logs, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(logs, "\n"))
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{"shutting down", "msg=stopped", "err=<nil>"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if !strings.Contains(stdout.String(), "DEVELOPMENT mode") {
		t.Errorf("no banner on stdout: %q", stdout.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after exit")
	}
}
