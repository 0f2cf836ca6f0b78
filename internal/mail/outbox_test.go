package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// The outbox is what the auth service writes emails with: this is
// auth.Mailer's method set, copied so that these tests do not depend on the
// auth package compiling.
var _ interface {
	Enqueue(ctx context.Context, q store.Querier, pool *identity.Pool, to, template string, data map[string]any) (*identity.Email, error)
} = (*mail.Outbox)(nil)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type env struct {
	st       store.Store
	st2      store.Store // a second node: another connection pool on the same database
	smtp     *mailtest.Server
	outbox   *mail.Outbox
	runner   *jobs.Runner
	clock    *clock
	pool     *identity.Pool
	notified int
}

// backends lists the stores to run the outbox tests on: SQLite always,
// PostgreSQL when GATEHOUSE_TEST_POSTGRES is set. Each opens two handles
// ("nodes") on one fresh database.
func backends() map[string]func(t *testing.T) (store.Store, store.Store) {
	b := map[string]func(t *testing.T) (store.Store, store.Store){"sqlite": func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "gatehouse.db")
		var out [2]store.Store
		for i := range out {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			out[i] = st
		}
		return out[0], out[1]
	}}
	if os.Getenv(storetest.PostgresEnv) != "" {
		b["postgres"] = func(t *testing.T) (store.Store, store.Store) {
			dsn := storetest.PostgresSchemaDSN(t)
			var out [2]store.Store
			for i := range out {
				st, err := postgres.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				out[i] = st
			}
			return out[0], out[1]
		}
	}
	return b
}

// run runs test once per backend, in parallel.
func run(t *testing.T, opts []mailtest.Option, test func(t *testing.T, e *env)) {
	t.Parallel()
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, st2 := open(t)
			e := setup(t, st, opts...)
			e.st2 = st2
			storetest.UseClock(t, st2, e.clock.Now)
			test(t, e)
		})
	}
}

func setup(t *testing.T, st store.Store, opts ...mailtest.Option) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{st: st, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	storetest.UseClock(t, st, e.clock.Now) // the database's clock: leases and retries follow it
	e.pool = &identity.Pool{
		ID: "eu-west-1_AbC123xyZ", Name: "Acme Docs", UsernameMode: identity.UsernameEmail,
		PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	if err := st.CreatePool(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	e.smtp = mailtest.StartServer(t, opts...)
	sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig(testFrom))
	if err != nil {
		t.Fatal(err)
	}
	e.runner = jobs.NewRunner(st, jobs.Options{Worker: "test", Now: e.clock.Now, Log: quiet})
	e.runner.Register(mail.JobKind, mail.DeliveryHandler(st, sender, quiet))
	e.outbox = mail.NewOutbox(tpl, testFrom, func() { e.notified++ })
	e.outbox.Now = e.clock.Now
	return e
}

func (e *env) enqueue(t *testing.T, to, template string, data map[string]any) *identity.Email {
	t.Helper()
	var em *identity.Email
	err := e.st.InTx(context.Background(), func(q store.Querier) error {
		var err error
		em, err = e.outbox.Enqueue(context.Background(), q, e.pool, to, template, data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.outbox.Notify()
	return em
}

func (e *env) runOnce(t *testing.T, want int) {
	t.Helper()
	n, err := e.runner.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("RunOnce processed %d jobs, want %d", n, want)
	}
}

func (e *env) email(t *testing.T, id int64) *identity.Email {
	t.Helper()
	em, err := e.st.GetEmail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return em
}

// jobState counts the jobs in state.
func (e *env) jobState(t *testing.T, state string) int {
	t.Helper()
	n, err := e.st.CountJobs(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var codeData = map[string]any{"Code": "493817", "Username": "jo@example.com", "ExpiresIn": "24 hours"}

func TestOutboxDeliversSignUpCode(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		if em.ID == 0 || em.Status != identity.EmailQueued || em.PoolID != e.pool.ID || em.Template != "signup_code" {
			t.Fatalf("enqueued %+v", em)
		}
		if e.notified != 1 {
			t.Fatalf("notify called %d times", e.notified)
		}
		if len(e.smtp.Messages()) != 0 {
			t.Fatal("sent before the job ran")
		}
		e.runOnce(t, 1)
		m := e.smtp.WaitFor(t, "jo@example.com", 10*time.Second)
		if m.Code() != "493817" || m.Subject != "Acme Docs: your verification code" || !strings.Contains(m.HTML, "493817") {
			t.Fatalf("message: subject %q code %q", m.Subject, m.Code())
		}
		got := e.email(t, em.ID)
		if got.Status != identity.EmailSent || got.Attempts != 1 || got.SentAt.IsZero() || got.LastError != "" {
			t.Fatalf("email %+v", got)
		}
		if e.jobState(t, identity.JobDone) != 1 {
			t.Fatal("job not done")
		}
	})
}

func TestOutboxRetriesOn4xxThenDelivers(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		e.smtp.Fail(mailtest.StageRcpt, 451, "greylisted, try later", 2)
		em := e.enqueue(t, "jo@example.com", "forgot_password", codeData)

		for attempt := 1; attempt <= 2; attempt++ {
			e.runOnce(t, 1)
			got := e.email(t, em.ID)
			if got.Status != identity.EmailRetrying || got.Attempts != attempt || !strings.Contains(got.LastError, "451") {
				t.Fatalf("after attempt %d: %+v", attempt, got)
			}
			if e.jobState(t, identity.JobPending) != 1 {
				t.Fatalf("job not pending after attempt %d", attempt)
			}
			e.runOnce(t, 0) // backoff: not due yet
			e.clock.Set(e.clock.Now().Add(jobs.BackoffMax + jobs.BackoffMax/4))
		}
		e.runOnce(t, 1)
		got := e.email(t, em.ID)
		if got.Status != identity.EmailSent || got.Attempts != 3 {
			t.Fatalf("final %+v", got)
		}
		if n := len(e.smtp.MessagesTo("jo@example.com")); n != 1 {
			t.Fatalf("%d messages delivered", n)
		}
		if e.smtp.Attempts() != 3 {
			t.Fatalf("%d SMTP transactions, want 3", e.smtp.Attempts())
		}
	})
}

func TestOutboxDeadLettersOn5xx(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		e.smtp.Fail(mailtest.StageRcpt, 550, "no such mailbox", 1)
		em := e.enqueue(t, "gone@example.com", "verify_email", codeData)
		e.runOnce(t, 1)
		got := e.email(t, em.ID)
		if got.Status != identity.EmailDead || got.Attempts != 1 || !strings.Contains(got.LastError, "550") {
			t.Fatalf("%+v", got)
		}
		if e.jobState(t, identity.JobDead) != 1 {
			t.Fatal("job not dead")
		}
		e.clock.Set(e.clock.Now().Add(48 * time.Hour))
		e.runOnce(t, 0)
		if e.smtp.Attempts() != 1 {
			t.Fatalf("%d SMTP transactions, want 1", e.smtp.Attempts())
		}
	})
}

func TestOutboxGivesUpAfterMaxAttempts(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		e.smtp.Fail(mailtest.StageMail, 421, "service not available", -1)
		em := e.enqueue(t, "jo@example.com", "password_changed", map[string]any{"Username": "jo"})
		for i := 1; i <= jobs.DefaultMaxAttempts; i++ {
			e.runOnce(t, 1)
			e.clock.Set(e.clock.Now().Add(2 * jobs.BackoffMax))
		}
		e.runOnce(t, 0)
		got := e.email(t, em.ID)
		if got.Status != identity.EmailDead || got.Attempts != jobs.DefaultMaxAttempts {
			t.Fatalf("%+v", got)
		}
		if e.jobState(t, identity.JobDead) != 1 {
			t.Fatal("job not dead")
		}
	})
}

func TestOutboxRolledBackEmailIsNeverSent(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		boom := errors.New("user insert failed")
		var id int64
		err := e.st.InTx(ctx, func(q store.Querier) error {
			em, err := e.outbox.Enqueue(ctx, q, e.pool, "jo@example.com", "signup_code", codeData)
			if err != nil {
				return err
			}
			id = em.ID
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		e.runOnce(t, 0)
		if _, err := e.st.GetEmail(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetEmail after rollback: %v", err)
		}
		if len(e.smtp.Messages()) != 0 {
			t.Fatal("a rolled-back email was sent")
		}
	})
}

func TestDeliveryIsIdempotent(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		e.runOnce(t, 1)
		if len(e.smtp.Messages()) != 1 {
			t.Fatal("not delivered")
		}
		// A second run of the same job (as after a lease expiry) sends nothing.
		j := &identity.Job{ID: 999, Kind: mail.JobKind, Payload: []byte(`{"email_id":` + strconv.FormatInt(em.ID, 10) + `}`), Attempts: 2, MaxAttempts: 8}
		sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig(testFrom))
		if err != nil {
			t.Fatal(err)
		}
		h := mail.DeliveryHandler(e.st, sender, quiet)
		if err := h(ctx, j); err != nil {
			t.Fatal(err)
		}
		if len(e.smtp.Messages()) != 1 {
			t.Fatalf("%d messages after a re-run", len(e.smtp.Messages()))
		}
		// A job for an email that no longer exists (pool deleted) succeeds.
		j.Payload = []byte(`{"email_id":123456}`)
		if err := h(ctx, j); err != nil {
			t.Fatal(err)
		}
		// A payload that does not decode is permanent.
		j.Payload = []byte(`not json`)
		if err := h(ctx, j); !jobs.IsPermanent(err) {
			t.Fatalf("bad payload: %v", err)
		}
	})
}

func TestOutboxRejectsBadInput(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		err := e.st.InTx(ctx, func(q store.Querier) error {
			_, err := e.outbox.Enqueue(ctx, q, e.pool, "jo@example.com\r\nBcc: all@example.com", "signup_code", codeData)
			return err
		})
		if identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Fatalf("bad address: %v", err)
		}
		err = e.st.InTx(ctx, func(q store.Querier) error {
			_, err := e.outbox.Enqueue(ctx, q, e.pool, "jo@example.com", "no_such_template", nil)
			return err
		})
		if !errors.Is(err, mail.ErrUnknownTemplate) {
			t.Fatalf("unknown template: %v", err)
		}
		if n, _ := e.st.CountJobs(ctx, ""); n != 0 {
			t.Fatalf("%d jobs after failed enqueues", n)
		}
	})
}

func TestRunnerDeliversOverStartTLS(t *testing.T) {
	run(t, []mailtest.Option{mailtest.WithTLS(), mailtest.WithAuth("relay", "pw")}, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := jobs.NewRunner(e.st, jobs.Options{Worker: "live", Log: quiet, Poll: 10 * time.Millisecond})
		sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig(testFrom))
		if err != nil {
			t.Fatal(err)
		}
		r.Register(mail.JobKind, mail.DeliveryHandler(e.st, sender, quiet))
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		e.enqueue(t, "ann@example.com", "invite", map[string]any{
			"Username": "ann@example.com", "TemporaryPassword": "Temp-Pass-9876", "SignInURL": "https://id.example.com/sign-in", "ExpiresIn": "7 days",
		})
		r.Notify()
		m := e.smtp.WaitFor(t, "ann@example.com", 30*time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !m.TLS || m.Link("sign-in") != "https://id.example.com/sign-in" || !strings.Contains(m.Text, "Temp-Pass-9876") {
			t.Fatalf("tls %v, links %v, text %q", m.TLS, m.Links(), m.Text)
		}
	})
}
