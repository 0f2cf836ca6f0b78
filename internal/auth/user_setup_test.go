package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// Passwords that pass the default policy (15+ characters, not common).
const (
	goodPW  = "correct-horse-battery-staple-42"
	goodPW2 = "another-long-pass-phrase-77"
	wrongPW = "wrong-but-long-enough-pass-1"
)

// countingHasher is the real hasher, counting Verify and VerifyDummy calls.
type countingHasher struct {
	*password.Hasher
	verifies atomic.Int64
	dummies  atomic.Int64
	// onVerify, if set, runs after each Verify (e.g. to move the clock as
	// if the check took long).
	onVerify func()
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) {
	h.dummies.Add(1)
	h.Hasher.VerifyDummy(ctx, pw)
}

func (h *countingHasher) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	h.verifies.Add(1)
	ok, err := h.Hasher.Verify(ctx, encoded, pw)
	if h.onVerify != nil {
		h.onVerify()
	}
	return ok, err
}

// userEnv is a Service over a real SQLite database, real password hashing
// (cheap parameters), a real token manager and a real outbox, with a clock
// the test sets, plus one pool and one public app client.
type userEnv struct {
	t      testing.TB
	ctx    context.Context
	s      *Service
	st     store.Store
	hasher *countingHasher
	pool   *identity.Pool
	client *identity.AppClient

	mu    sync.Mutex
	clock time.Time
}

func (e *userEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *userEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

// userSetup builds the environment. poolIn and clientIn may change the
// pool and client before they are created (nil: defaults, an email pool
// and a client allowing password, refresh and admin flows).
func userSetup(t testing.TB, poolIn func(*CreatePoolInput), clientIn func(*CreateClientInput)) *userEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return userSetupStore(t, st, poolIn, clientIn)
}

// backends are the stores the concurrency tests run on: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES is set (skipped otherwise, a
// failure under CI=true), each test in a fresh schema.
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// onBackends runs fn once per backend, as subtests.
func onBackends(t *testing.T, fn func(t *testing.T, setup func(poolIn func(*CreatePoolInput), clientIn func(*CreateClientInput)) *userEnv)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
			fn(t, func(poolIn func(*CreatePoolInput), clientIn func(*CreateClientInput)) *userEnv {
				return userSetupStore(t, st, poolIn, clientIn)
			})
		})
	}
}

// userSetupStore is userSetup on an open store.
func userSetupStore(t testing.TB, st store.Store, poolIn func(*CreatePoolInput), clientIn func(*CreateClientInput)) *userEnv {
	t.Helper()
	ctx := context.Background()
	var err error
	e := &userEnv{t: t, ctx: ctx, st: st, clock: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	e.hasher = &countingHasher{Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)}
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatalf("templates: %v", err)
	}
	outbox := mail.NewOutbox(tpl, "noreply@example.com", nil)
	outbox.Now = e.now
	e.s, err = New(Config{
		Hooks:   hooks.New(hooks.Options{AllowedNetworks: hooks.LoopbackNetworks}), // the tests' hook receivers run on 127.0.0.1
		Store:   st,
		Hasher:  e.hasher,
		Tokens:  token.NewManager(st, bytes.Repeat([]byte{9}, 32), e.now),
		Mail:    outbox,
		BaseURL: "https://id.example.com",
		Now:     e.now,
		Rand:    rand.Reader,
	})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	pin := CreatePoolInput{Name: "Test pool"}
	if poolIn != nil {
		poolIn(&pin)
	}
	if e.pool, err = e.s.CreatePool(ctx, pin); err != nil {
		t.Fatalf("CreatePool: %v", err)
	}
	cin := CreateClientInput{PoolID: e.pool.ID, Name: "web", AuthFlows: []string{
		identity.FlowUserPassword, identity.FlowRefreshToken, identity.FlowAdminUserPassword,
	}}
	if clientIn != nil {
		clientIn(&cin)
	}
	cc, err := e.s.CreateClient(ctx, cin)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	e.client = cc.Client
	return e
}

func (e *userEnv) c() Client { return Client{ID: e.client.ID} }

// getUser reads a user by username from the store.
func (e *userEnv) getUser(username string) *identity.User {
	e.t.Helper()
	u, err := e.st.GetUserByUsername(e.ctx, e.pool.ID, username)
	if err != nil {
		e.t.Fatalf("GetUserByUsername(%s): %v", username, err)
	}
	return u
}

// setUser changes a user directly in the store.
func (e *userEnv) setUser(username string, change func(*identity.User)) {
	e.t.Helper()
	u := e.getUser(username)
	change(u)
	if err := e.st.UpdateUser(e.ctx, u, uniqueEmail(e.pool)); err != nil {
		e.t.Fatalf("UpdateUser: %v", err)
	}
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// emailsTo lists the outbox emails to addr with template tpl, newest first.
func (e *userEnv) emailsTo(addr, tpl string) []*identity.Email {
	e.t.Helper()
	es, _, err := e.st.ListEmails(e.ctx, e.pool.ID, "", store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatalf("ListEmails: %v", err)
	}
	var out []*identity.Email
	for _, m := range es {
		if m.To == addr && m.Template == tpl {
			out = append(out, m)
		}
	}
	return out
}

// lastCode returns the code of the newest email to addr with template tpl.
func (e *userEnv) lastCode(addr, tpl string) string {
	e.t.Helper()
	es := e.emailsTo(addr, tpl)
	if len(es) == 0 {
		e.t.Fatalf("no %s email to %s", tpl, addr)
	}
	code := codeRE.FindString(es[0].Text)
	if code == "" {
		e.t.Fatalf("no code in email: %q", es[0].Text)
	}
	return code
}

// signUp signs up username (an email in email pools) with attrs.
func (e *userEnv) signUp(username string, attrs map[string]string) *SignUpOutput {
	e.t.Helper()
	out, err := e.s.SignUp(e.ctx, SignUpInput{Client: e.c(), Username: username, Password: goodPW, Attributes: attrs})
	if err != nil {
		e.t.Fatalf("SignUp(%s): %v", username, err)
	}
	return out
}

// confirmedUser signs up and confirms an email-pool user.
func (e *userEnv) confirmedUser(email string) *identity.User {
	e.t.Helper()
	e.signUp(email, nil)
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: email, Code: e.lastCode(email, TemplateSignUpCode)}); err != nil {
		e.t.Fatalf("ConfirmSignUp(%s): %v", email, err)
	}
	return e.getUser(email)
}

func (e *userEnv) signIn(username, pw string) (*AuthResult, error) {
	return e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthUserPassword, Username: username, Password: pw})
}

func (e *userEnv) mustSignIn(username, pw string) *Tokens {
	e.t.Helper()
	r, err := e.signIn(username, pw)
	if err != nil {
		e.t.Fatalf("sign in %s: %v", username, err)
	}
	if r.Tokens == nil {
		e.t.Fatalf("sign in %s: challenge %+v, want tokens", username, r.Challenge)
	}
	return r.Tokens
}

func (e *userEnv) refresh(rt string) (*AuthResult, error) {
	return e.s.InitiateAuth(e.ctx, InitiateAuthInput{Client: e.c(), Flow: AuthRefreshToken, RefreshToken: rt})
}

func (e *userEnv) auditActions() []string {
	e.t.Helper()
	evs, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{PoolID: e.pool.ID}, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatalf("ListAudit: %v", err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Action
	}
	return out
}

func hasAction(actions []string, a string) bool {
	for _, x := range actions {
		if x == a {
			return true
		}
	}
	return false
}

// wantErr fails unless err is an *identity.Error with code and, if msg is
// not empty, that message.
func wantErr(t *testing.T, err error, code identity.Code, msg string) {
	t.Helper()
	var ie *identity.Error
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ie.Code != code || (msg != "" && ie.Message != msg) {
		t.Fatalf("error = %s %q, want %s %q", ie.Code, ie.Message, code, msg)
	}
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("payload: %v", err)
	}
	return c
}
