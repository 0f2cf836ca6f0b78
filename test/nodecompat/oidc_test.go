package nodecompat

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/api"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/oidc"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/token"
	"github.com/gatehouse-id/gatehouse/internal/web"
)

// TestNodeOIDC runs test/node/openid-client.test.mjs (the npm
// openid-client package as a relying party) against an in-process
// Gatehouse serving the API (discovery, JWKS), the hosted pages and the
// OIDC provider, whose base URL is its own listen address so that the
// issuer equals the URL discovery is served from.
func TestNodeOIDC(t *testing.T) {
	lookTools(t)
	dir := nodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openid-client")); err != nil {
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	master := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(master)
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := auth.New(auth.Config{Store: st, Hasher: password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0),
		Tokens: token.NewManager(st, master, time.Now), Mail: mail.NewOutbox(tpl, "no-reply@example.test", nil),
		BaseURL: base, Now: time.Now, Rand: rand.Reader, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ah := api.New(svc, api.Options{Log: log})
	for _, p := range api.MountPatterns {
		mux.Handle(p, ah)
	}
	pages, err := web.New(svc, web.Options{Log: log, BaseURL: base, RateBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range web.MountPatterns {
		mux.Handle(p, pages)
	}
	op := oidc.New(svc, pages, oidc.Options{Log: log})
	for _, p := range oidc.MountPatterns {
		mux.Handle(p, op)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: httpserver.Wrap(httpserver.Config{Log: log}, mux)}}
	srv.Start()
	t.Cleanup(srv.Close)

	pool, err := svc.CreatePool(ctx, auth.CreatePoolInput{Name: "node-oidc", UsernameMode: identity.UsernameEmail,
		Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	const redirect = "http://127.0.0.1:1/callback"
	cl, err := svc.CreateClient(ctx, auth.CreateClientInput{PoolID: pool.ID, Name: "spa", AuthFlows: []string{identity.FlowRefreshToken},
		CallbackURLs: []string{redirect}, OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	// A confidential client as server-side apps register one
	// (openid-client 5: introspection, revocation, logout).
	const logout = "http://127.0.0.1:1/signed-out"
	conf, err := svc.CreateClient(ctx, auth.CreateClientInput{PoolID: pool.ID, Name: "web", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{redirect}, LogoutURLs: []string{logout},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email", "profile"}})
	if err != nil {
		t.Fatal(err)
	}
	const email, pw = "jane@acme.example", "Correct-Horse-Battery-Staple-42"
	if _, err := svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: pool.ID, Username: email, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email": email, "email_verified": "true", "custom:company_name": "Acme Corporation"}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.AdminSetUserPassword(ctx, pool.ID, email, pw, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateGroup(ctx, &identity.Group{PoolID: pool.ID, Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.AdminAddUserToGroup(ctx, pool.ID, email, "acme"); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "openid-client.test.mjs", "openid-client5.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_OIDC_ISSUER="+svc.Issuer(pool),
		"GATEHOUSE_OIDC_CLIENT_ID="+cl.Client.ID,
		"GATEHOUSE_OIDC_REDIRECT_URI="+redirect,
		"GATEHOUSE_OIDC_USERNAME="+email,
		"GATEHOUSE_OIDC_PASSWORD="+pw,
		"GATEHOUSE_OIDC_CONF_ID="+conf.Client.ID,
		"GATEHOUSE_OIDC_CONF_SECRET="+conf.Secret,
		"GATEHOUSE_OIDC_LOGOUT_URI="+logout,
		"NODE_NO_WARNINGS=1",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("node --test openid-client.test.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("node --test failed: %v", err)
	}
}
