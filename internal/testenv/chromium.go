package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of Debian's chromium for the browser tests
// (GATEHOUSE_CHROMIUM overrides it). Without one the test is skipped,
// except under CI=true or GATEHOUSE_TEST_ALL=1, where it fails.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GATEHOUSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1" {
		t.Fatal("chromium is required (CI=true or GATEHOUSE_TEST_ALL=1): apt-get install chromium")
	}
	t.Skip("chromium not installed; set GATEHOUSE_TEST_ALL=1 to require it")
	return ""
}
