// Package forwardauthtest starts a real Gatehouse for tests of the
// authorizer: the auth Service on a real SQLite database, the pool's JWKS
// and the forward-auth endpoint behind the real middleware, on
// 127.0.0.1:0. It
// creates one pool (with custom:company_name in its schema), one public app
// client, the groups Users, Managers and Admins, and users on demand.
// Tests only.
package forwardauthtest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// Password is every test user's password.
const Password = "correct horse battery staple 42"

var tinyHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Options configures Start.
type Options struct {
	// Rules are the pool's forward-auth rules.
	Rules []authz.Rule
	// CacheTTL is the forward-auth verified-token cache TTL (0: none).
	CacheTTL time.Duration
	// Now is the forward-auth handler's clock (default time.Now); the
	// Service keeps the wall clock, so tokens are real.
	Now func() time.Time
}

// Gatehouse is a running Gatehouse.
type Gatehouse struct {
	URL      string // http://127.0.0.1:port
	Svc      *auth.Service
	Store    store.Store
	Pool     *identity.Pool
	ClientID string
	Issuer   string
	Handler  *forwardauth.Handler
	// Tokens is the pool's token manager, to sign arbitrary claims with
	// the pool's real key in attack tests.
	Tokens *token.Manager
	// CheckURL is the pool's forward-auth endpoint.
	CheckURL string
}

// Start starts Gatehouse and stops it when t ends.
func Start(t testing.TB, opts Options) *Gatehouse {
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
		t.Fatal(err)
	}
	var root http.Handler = http.NotFoundHandler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	base := "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.DiscardHandler)
	tokens := token.NewManager(db, masterKey, time.Now)
	svc, err := auth.New(auth.Config{
		Store:   db,
		Hasher:  password.NewHasher(tinyHash, 0),
		Tokens:  tokens,
		Mail:    mail.NewOutbox(tpl, "Gatehouse <no-reply@example.test>", nil),
		BaseURL: base,
		Region:  "us-east-1",
		Now:     time.Now,
		Rand:    rand.Reader,
		Log:     log,
	})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	p, err := svc.CreatePool(ctx, auth.CreatePoolInput{
		Name:         "documents",
		UsernameMode: identity.UsernameEmail,
		UniqueEmail:  true,
		Schema:       []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}},
	})
	if err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	cl, err := svc.CreateClient(ctx, auth.CreateClientInput{
		PoolID: p.ID, Name: "documents-app",
		AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken},
	})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	for _, g := range []string{"Users", "Managers", "Admins"} {
		if _, err := svc.CreateGroup(ctx, &identity.Group{PoolID: p.ID, Name: g}); err != nil {
			t.Fatalf("CreateGroup %s: %v", g, err)
		}
	}
	policy, err := authz.NewPolicy(opts.Rules)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	fa := forwardauth.New(svc, forwardauth.Options{
		Pools:    map[string]forwardauth.Pool{p.ID: {Policy: policy, Clients: []string{cl.Client.ID}}},
		CacheTTL: opts.CacheTTL,
		Now:      opts.Now,
		Log:      log,
	})
	mux := http.NewServeMux()
	// The pool's JWKS, as the native API publishes it (served here
	// directly so these tests do not depend on the whole API).
	mux.HandleFunc("GET /{pool}/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := svc.JWKS(r.Context(), r.PathValue("pool"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.Handle(forwardauth.Pattern, fa)
	root = httpserver.Wrap(httpserver.Config{Log: log}, mux)
	srv.Start()
	t.Cleanup(srv.Close)
	return &Gatehouse{
		URL: base, Svc: svc, Store: db, Pool: p, ClientID: cl.Client.ID, Issuer: svc.Issuer(p),
		Handler: fa, Tokens: tokens, CheckURL: base + "/authz/check/" + p.ID,
	}
}

// User is a signed-in test user.
type User struct {
	Email   string
	Access  string // access token
	ID      string // ID token
	Refresh string
}

// User creates a confirmed user in company (custom:company_name; "" for
// none) and groups, and signs them in.
func (g *Gatehouse) User(t testing.TB, email, company string, groups ...string) *User {
	t.Helper()
	ctx := context.Background()
	attrs := map[string]string{"email": email, "email_verified": "true"}
	if company != "" {
		attrs["custom:company_name"] = company
	}
	if _, err := g.Svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{
		PoolID: g.Pool.ID, Username: email, Attributes: attrs, MessageAction: auth.MessageActionSuppress,
	}); err != nil {
		t.Fatalf("AdminCreateUser %s: %v", email, err)
	}
	if err := g.Svc.AdminSetUserPassword(ctx, g.Pool.ID, email, Password, true); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	for _, gr := range groups {
		if err := g.Svc.AdminAddUserToGroup(ctx, g.Pool.ID, email, gr); err != nil {
			t.Fatalf("AdminAddUserToGroup %s %s: %v", email, gr, err)
		}
	}
	return g.SignIn(t, email)
}

// SignIn signs email in again and returns fresh tokens.
func (g *Gatehouse) SignIn(t testing.TB, email string) *User {
	t.Helper()
	res, err := g.Svc.InitiateAuth(context.Background(), auth.InitiateAuthInput{
		Client: auth.Client{ID: g.ClientID}, Flow: auth.AuthUserPassword, Username: email, Password: Password,
	})
	if err != nil || res.Tokens == nil {
		t.Fatalf("InitiateAuth %s: %v %+v", email, err, res)
	}
	return &User{Email: email, Access: res.Tokens.AccessToken, ID: res.Tokens.IDToken, Refresh: res.Tokens.RefreshToken}
}

// GlobalSignOut signs email out everywhere (as an admin would).
func (g *Gatehouse) GlobalSignOut(t testing.TB, email string) {
	t.Helper()
	if err := g.Svc.AdminUserGlobalSignOut(context.Background(), g.Pool.ID, email); err != nil {
		t.Fatalf("AdminUserGlobalSignOut: %v", err)
	}
}

// RevokeToken revokes the refresh token of one sign-in (as the Cognito
// RevokeToken operation or /oauth2/revoke would), which ends that
// sign-in's access tokens.
func (g *Gatehouse) RevokeToken(t testing.TB, refresh string) {
	t.Helper()
	if err := g.Svc.RevokeToken(context.Background(), auth.Client{ID: g.ClientID}, refresh); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
}

// Disable disables email.
func (g *Gatehouse) Disable(t testing.TB, email string) {
	t.Helper()
	if err := g.Svc.AdminDisableUser(context.Background(), g.Pool.ID, email); err != nil {
		t.Fatalf("AdminDisableUser: %v", err)
	}
}

// Check asks the forward-auth endpoint about method uri with bearer
// token tok (none when ""), the nginx way (X-Original-*).
func (g *Gatehouse) Check(t testing.TB, method, uri, tok string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", g.CheckURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Original-Method", method)
	req.Header.Set("X-Original-URI", uri)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}
