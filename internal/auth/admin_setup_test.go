package auth

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// adminEnv is a Service over a real SQLite database, a real token manager
// and a real outbox, with a clock the test moves.
type adminEnv struct {
	t     *testing.T
	ctx   context.Context
	s     *Service
	st    store.Store
	hash  *password.Hasher
	mu    sync.Mutex
	clock time.Time
}

func (e *adminEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *adminEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

// adminBackends are the databases the admin tests run on: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES is set (each test in a fresh
// schema).
var adminBackends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// adminEachBackend runs fn as a parallel subtest per backend.
func adminEachBackend(t *testing.T, fn func(t *testing.T, e *adminEnv)) {
	t.Parallel()
	for _, b := range adminBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, adminSetupWith(t, b.open(t)))
		})
	}
}

func adminSetupWith(t *testing.T, st store.Store) *adminEnv {
	t.Helper()
	ctx := context.Background()
	e := &adminEnv{t: t, ctx: ctx, st: st, clock: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)}
	e.hash = password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatalf("templates: %v", err)
	}
	outbox := mail.NewOutbox(tpl, "noreply@example.com", nil)
	outbox.Now = e.now
	s, err := New(Config{
		Hooks:   hooks.New(hooks.Options{AllowedNetworks: hooks.LoopbackNetworks}), // the tests' hook receivers run on 127.0.0.1
		Store:   st,
		Hasher:  e.hash,
		Tokens:  token.NewManager(st, bytes.Repeat([]byte{7}, 32), e.now),
		Mail:    outbox,
		BaseURL: "https://id.example.com/",
		Now:     e.now,
	})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	e.s = s
	return e
}

// pool creates a pool with defaults and the given changes.
func (e *adminEnv) pool(mutate func(*CreatePoolInput)) *identity.Pool {
	e.t.Helper()
	in := CreatePoolInput{Name: "Test pool"}
	if mutate != nil {
		mutate(&in)
	}
	p, err := e.s.CreatePool(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreatePool: %v", err)
	}
	return p
}

// user creates a user with AdminCreateUser (invitation suppressed) and a
// known temporary password.
func (e *adminEnv) user(p *identity.Pool, username string, attrs map[string]string) *identity.User {
	e.t.Helper()
	v, err := e.s.AdminCreateUser(e.ctx, AdminCreateUserInput{
		PoolID: p.ID, Username: username, Attributes: attrs,
		TemporaryPassword: "Tmp-horse-battery-9", MessageAction: MessageActionSuppress,
	})
	if err != nil {
		e.t.Fatalf("AdminCreateUser(%s): %v", username, err)
	}
	return v.User
}

func (e *adminEnv) countUsers(poolID string) int {
	e.t.Helper()
	n, err := e.st.CountUsers(e.ctx, poolID)
	if err != nil {
		e.t.Fatalf("CountUsers: %v", err)
	}
	return n
}

func (e *adminEnv) emails(poolID string) []*identity.Email {
	e.t.Helper()
	es, _, err := e.st.ListEmails(e.ctx, poolID, "", store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatalf("ListEmails: %v", err)
	}
	return es
}

func (e *adminEnv) auditActions(poolID string) []string {
	e.t.Helper()
	evs, _, err := e.st.ListAudit(e.ctx, store.AuditFilter{PoolID: poolID}, store.Page{Limit: 1000})
	if err != nil {
		e.t.Fatalf("ListAudit: %v", err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Action
	}
	return out
}

// admWantCode fails unless err is an *identity.Error with code.
func admWantCode(t *testing.T, err error, code identity.Code) *identity.Error {
	t.Helper()
	var ie *identity.Error
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want *identity.Error with code %s", err, code)
	}
	if ie.Code != code {
		t.Fatalf("error code = %s (%v), want %s", ie.Code, ie, code)
	}
	return ie
}

func admIntp(v int) *int { return &v }

func admInt64p(v int64) *int64 { return &v }
