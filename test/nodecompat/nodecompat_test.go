// Package nodecompat runs the Node compatibility tests in test/node
// (Amplify v6, amazon-cognito-identity-js, @aws-sdk/client-cognito-identity-provider)
// against an in-process Gatehouse: the real auth service on SQLite behind
// the Cognito surface, on 127.0.0.1:0.
//
// It runs `npm ci` when test/node/node_modules is missing, then
// `node --test` with the endpoint and ids in the environment, and fails if
// any Node test fails. Without node or npm it skips, unless CI=true or
// GATEHOUSE_TEST_ALL=1 (then it fails).
package nodecompat

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

const (
	accessKeyID     = "AKIAGATEHOUSENODE001"
	secretAccessKey = "nodeCompatSecretAccessKey/0123456789abcd"
)

// required reports whether missing tools must fail the test.
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("GATEHOUSE_TEST_ALL") == "1"
}

func nodeDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "node")
}

func lookTools(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if required() {
				t.Fatalf("%s is required (CI=true or GATEHOUSE_TEST_ALL=1) but not found", tool)
			}
			t.Skipf("%s not found; skipping the Node compatibility tests", tool)
		}
	}
}

// server is the Gatehouse under test.
type server struct {
	url          string
	pool         *identity.Pool
	client       *identity.AppClient
	secretClient *auth.CreatedClient
	svc          *auth.Service
	st           store.Store
	codeURL      string
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func start(t testing.TB, hash password.Params) *server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, token.MasterKeySize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(master)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := auth.New(auth.Config{
		Store:  st,
		Hasher: password.NewHasher(hash, 0),
		Tokens: token.NewManager(st, master, time.Now), Mail: mail.NewOutbox(tpl, "Gatehouse <no-reply@example.test>", nil),
		BaseURL: "http://127.0.0.1", Region: "us-east-1", Now: time.Now, Rand: rand.Reader, Log: log, Secrets: box,
	})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := svc.CreatePool(ctx, auth.CreatePoolInput{
		Name: "node-compat", UsernameMode: identity.UsernameEmail,
		Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true, MaxLength: 256}},
	})
	if err != nil {
		t.Fatal(err)
	}
	flows := []string{identity.FlowUserSRP, identity.FlowUserPassword, identity.FlowRefreshToken}
	cc, err := svc.CreateClient(ctx, auth.CreateClientInput{PoolID: pool.ID, Name: "web", AuthFlows: flows})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := svc.CreateClient(ctx, auth.CreateClientInput{PoolID: pool.ID, Name: "backend", AuthFlows: flows, GenerateSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	h := cognito.New(svc, cognito.Options{AccessKeys: []cognito.AccessKey{{ID: accessKeyID, Secret: secretAccessKey}}, Log: log})
	mux := http.NewServeMux()
	mux.Handle(cognito.MountPattern, h) // Node makes no CORS preflights
	// The test's window on the outbox: the newest code emailed to an address.
	mux.HandleFunc("GET /_nodecompat/code", func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("email")
		es, _, err := st.ListEmails(r.Context(), pool.ID, "", store.Page{Limit: 1000})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var newest *identity.Email
		for _, e := range es {
			if e.To == to && (newest == nil || e.CreatedAt.After(newest.CreatedAt)) {
				newest = e
			}
		}
		if newest == nil || codeRE.FindString(newest.Text) == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, codeRE.FindString(newest.Text))
	})
	srv := httptest.NewServer(httpserver.Wrap(httpserver.Config{Log: log}, mux))
	t.Cleanup(srv.Close)
	return &server{url: srv.URL, pool: pool, client: cc.Client, secretClient: sc, svc: svc, st: st, codeURL: srv.URL + "/_nodecompat/code"}
}

// TestNodeCompat runs `node --test` in test/node against the server.
func TestNodeCompat(t *testing.T) {
	lookTools(t)
	dir := nodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	s := start(t, password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_ENDPOINT="+s.url,
		"GATEHOUSE_POOL_ID="+s.pool.ID,
		"GATEHOUSE_CLIENT_ID="+s.client.ID,
		"GATEHOUSE_SECRET_CLIENT_ID="+s.secretClient.Client.ID,
		"GATEHOUSE_SECRET_CLIENT_SECRET="+s.secretClient.Secret,
		"GATEHOUSE_ACCESS_KEY_ID="+accessKeyID,
		"GATEHOUSE_SECRET_ACCESS_KEY="+secretAccessKey,
		"GATEHOUSE_CODE_URL="+s.codeURL,
		"NODE_NO_WARNINGS=1",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("node --test:\n%s", out.String())
	if err != nil {
		t.Fatalf("node --test failed: %v", err)
	}
}
