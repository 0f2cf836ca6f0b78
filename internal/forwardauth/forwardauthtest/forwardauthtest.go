// Package forwardauthtest starts a real Gatehouse for tests of the
// authorizer: an internal/testenv stack (the auth Service on a real
// database: SQLite, or PostgreSQL in testenv.Main's second pass) with the
// pool's JWKS and the forward-auth endpoint behind the real middleware,
// on 127.0.0.1:0. It creates one pool (with custom:company_name in its schema), one public app
// client, the groups Users, Managers and Admins, and users on demand.
// Tests only.
package forwardauthtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// Password is every test user's password.
const Password = testenv.Password

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
	Store    testenv.Store
	Pool     *identity.Pool
	ClientID string
	Issuer   string
	Handler  *forwardauth.Handler
	// Tokens is the pool's token manager, to sign arbitrary claims with
	// the pool's real key in attack tests.
	Tokens *token.Manager
	// CheckURL is the pool's forward-auth endpoint.
	CheckURL string

	stack *testenv.Stack
}

// Start starts Gatehouse and stops it when t ends.
func Start(t testing.TB, opts Options) *Gatehouse {
	t.Helper()
	policy, err := authz.NewPolicy(opts.Rules)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := testenv.New(t, testenv.Options{Now: time.Now, Surfaces: testenv.JWKS | testenv.ForwardAuth,
		Pool: &auth.CreatePoolInput{Name: "documents", UsernameMode: identity.UsernameEmail, UniqueEmail: true,
			Schema: []identity.AttributeDef{{Name: "custom:company_name", Type: identity.AttrString, Mutable: true}}},
		Clients: []auth.CreateClientInput{{Name: "documents-app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Groups:  []string{"Users", "Managers", "Admins"},
		ForwardAuth: func(s *testenv.Stack) forwardauth.Options {
			return forwardauth.Options{CacheTTL: opts.CacheTTL, Now: now,
				Pools: map[string]forwardauth.Pool{s.Pool.ID: {Policy: policy, Clients: []string{s.Client(0).ID}}}}
		}})
	return &Gatehouse{
		URL: s.URL, Svc: s.Svc, Store: s.Store, Pool: s.Pool, ClientID: s.Client(0).ID, Issuer: s.Issuer,
		Handler: s.ForwardAuth, Tokens: s.Tokens, CheckURL: s.URL + "/authz/check/" + s.Pool.ID, stack: s,
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
	attrs := map[string]string{}
	if company != "" {
		attrs["custom:company_name"] = company
	}
	g.stack.With(t).CreateUser(testenv.User{Username: email, Attributes: attrs, Groups: groups})
	return g.SignIn(t, email)
}

// SignIn signs email in again and returns fresh tokens.
func (g *Gatehouse) SignIn(t testing.TB, email string) *User {
	t.Helper()
	tok := g.stack.With(t).SignIn(g.ClientID, email, Password)
	return &User{Email: email, Access: tok.AccessToken, ID: tok.IDToken, Refresh: tok.RefreshToken}
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
