package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// testHash is a cheap argon2id cost so the test spends its time in the
// code paths, not in hashing; the server and the raw-rate measurement use
// the same parameters, as in a real run.
var testHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// startServer runs the real native API over a real SQLite database on a
// loopback listener and returns its URL, a global admin API key and the
// store (to check what the run left behind).
func startServer(t *testing.T) (baseURL, adminKey string, st store.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	masterKey := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(masterKey); err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatalf("mail.NewTemplates: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := auth.New(auth.Config{
		Store:   db,
		Hasher:  password.NewHasher(testHash, 0),
		Tokens:  token.NewManager(db, masterKey, time.Now),
		Mail:    mail.NewOutbox(tpl, "Gatehouse <no-reply@localhost>", nil),
		BaseURL: "http://127.0.0.1",
		Region:  "us-east-1",
		Now:     time.Now,
		Rand:    rand.Reader,
		Log:     log,
	})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	_, key, err := svc.CreateAPIKey(ctx, "", "loadtest")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	h := api.New(svc, api.Options{Log: log})
	mux := http.NewServeMux()
	for _, p := range api.MountPatterns {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL, key, db
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
