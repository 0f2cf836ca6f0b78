package loadtest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// testHash is a cheap argon2id cost so the test spends its time in the
// code paths, not in hashing; the server and the raw-rate measurement use
// the same parameters, as in a real run.
var testHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// startServer runs the real native API over a real SQLite database on a
// loopback listener (an internal/testenv stack) and returns its URL, a
// global admin API key and the store (to check what the run left behind).
func startServer(t *testing.T) (baseURL, adminKey string, st store.Store) {
	t.Helper()
	s := testenv.New(t, testenv.Options{DB: testenv.SQLite, Now: time.Now, Hash: &testHash, AdminKey: true, Surfaces: testenv.API})
	return s.URL, s.AdminKey, s.Store
}

// TestRunAgainstRealServer runs the whole load command for about a second
// per phase against the real API, service and SQLite store. It must see
// every phase succeed without a single error (in particular, the refresh
// chain must survive real rotation with reuse detection) and the pool it
// created must be gone afterwards.
//
// It fails (rather than skips) while the server packages are incomplete.
func TestRunAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 4 s of load; skipped with -short")
	}
	baseURL, key, st := startServer(t)

	var out bytes.Buffer
	opts := Options{
		BaseURL: baseURL, AdminKey: key,
		Duration: time.Second, Concurrency: 4, Users: 20,
		HashMemoryKiB: testHash.Memory, HashTime: testHash.Time, HashThreads: testHash.Threads,
	}
	rep, err := measure(context.Background(), opts, &out)
	if rep != nil {
		_ = rep.write(&out)
	}
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("load run failed: %v", err)
	}
	if len(rep.phases) != 3 {
		t.Fatalf("ran %d phases, want 3", len(rep.phases))
	}
	for _, p := range rep.phases {
		if p.OK == 0 {
			t.Errorf("phase %s: no successful request", p.Name)
		}
		if n := p.ErrorCount(); n != 0 {
			t.Errorf("phase %s: %d errors: %v (e.g. %v)", p.Name, n, p.Errors, p.Examples)
		}
	}
	if rep.rawRate <= 0 {
		t.Errorf("raw argon2id rate not measured")
	}
	if _, err := st.GetPool(context.Background(), rep.poolID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pool %s still there after the run (GetPool err = %v)", rep.poolID, err)
	}
}

// TestRunCognitoPhases runs the Cognito phases (refresh chained through
// InitiateAuth, GetUser, and the SigV4-signed AdminGetUser and ListUsers)
// against the real Cognito surface: no errors, and the raw signing rates
// are measured in the same run.
func TestRunCognitoPhases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 4 s of load; skipped with -short")
	}
	const keyID, secret = "AKIALOADTESTLOADTEST", "loadtestsecretloadtestsecretloadtest1234"
	s := testenv.New(t, testenv.Options{DB: testenv.SQLite, Now: time.Now, Hash: &testHash, AdminKey: true,
		Surfaces: testenv.API | testenv.Cognito,
		Cognito:  cognito.Options{AccessKeys: []cognito.AccessKey{{ID: keyID, Secret: secret}}}})
	var out bytes.Buffer
	opts := Options{
		BaseURL: s.URL, AdminKey: s.AdminKey, AccessKeyID: keyID, SecretAccessKey: secret,
		Duration: 500 * time.Millisecond, Concurrency: 2, Users: 4,
		HashMemoryKiB: testHash.Memory, HashTime: testHash.Time, HashThreads: testHash.Threads,
		Phases: []string{PhaseCognitoRefresh, PhaseCognitoRefreshStatic, PhaseGetUser, PhaseAdminGetUser, PhaseListUsers},
	}
	rep, err := measure(context.Background(), opts, &out)
	if rep != nil {
		_ = rep.write(&out)
	}
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("load run failed: %v", err)
	}
	if len(rep.phases) != 5 {
		t.Fatalf("ran %d phases, want 5", len(rep.phases))
	}
	for _, p := range rep.phases {
		if p.OK == 0 || p.ErrorCount() != 0 {
			t.Errorf("phase %s: %d ok, errors %v (e.g. %v)", p.Name, p.OK, p.Errors, p.Examples)
		}
	}
	if len(rep.sigRates) != 2 || rep.sigRates[0].Sign <= 0 || rep.sigRates[1].Verify <= 0 {
		t.Errorf("raw signing rates: %+v", rep.sigRates)
	}
	if !strings.Contains(out.String(), "getuser/s ÷ verify/s") {
		t.Errorf("report lacks the GetUser ratio:\n%s", out.String())
	}

	// Admin phases without a key are refused before any request.
	opts.AccessKeyID = ""
	if _, err := opts.withDefaults(); err == nil {
		t.Error("admin phases accepted without an access key")
	}
}
