// Package pycompat runs the boto3 tests in test/python (pytest, with
// Debian's python3-boto3 and python3-pytest) against an in-process
// Gatehouse: the real auth service behind the Cognito surface on
// 127.0.0.1:0 (internal/testenv, on SQLite and on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES is set). The Python tests create their own pool
// through CreateUserPool; the server has nothing else set up.
//
// Without python3, boto3 or pytest it skips, unless CI=true or
// GATEHOUSE_TEST_ALL=1 (then it fails).
package pycompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

const (
	accessKeyID     = "AKIAGATEHOUSEPYTHON1"
	secretAccessKey = "pythonCompatSecretAccessKey/0123456789ab"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1"
}

// python returns a python3 that imports boto3 and pytest: Debian's
// (/usr/bin/python3, where apt installs them) before the one on PATH.
func python() (string, error) {
	var err error
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		var py string
		if py, err = exec.LookPath(c); err != nil {
			continue
		}
		if err = exec.Command(py, "-c", "import boto3, pytest").Run(); err == nil {
			return py, nil
		}
	}
	return "", err
}

// TestBoto3 runs pytest on test/python and fails if any Python test fails.
func TestBoto3(t *testing.T) {
	py, err := python()
	if err != nil {
		if required() {
			t.Fatalf("python3 with boto3 and pytest is required (CI=true or GATEHOUSE_TEST_ALL=1): %v; apt-get install python3-boto3 python3-pytest", err)
		}
		t.Skipf("python3 with boto3 and pytest not found (%v); apt-get install python3-boto3 python3-pytest", err)
	}
	hp := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	s := testenv.New(t, testenv.Options{Now: time.Now, Hash: &hp, Surfaces: testenv.Cognito,
		Cognito: cognito.Options{AccessKeys: []cognito.AccessKey{{ID: accessKeyID, Secret: secretAccessKey}},
			DomainSuffix: "auth.example.test", DomainTarget: "id.example.test"}})
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "python")
	cmd := exec.Command(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", dir)
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_URL="+s.URL,
		"AWS_ACCESS_KEY_ID="+accessKeyID,
		"AWS_SECRET_ACCESS_KEY="+secretAccessKey,
		"AWS_DEFAULT_REGION=eu-west-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("pytest:\n%s", out)
	if err != nil {
		t.Fatalf("pytest failed: %v", err)
	}
}
