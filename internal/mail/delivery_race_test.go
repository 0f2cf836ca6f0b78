package mail_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// The races of issue 21, each against a real SMTP server that stalls on
// demand, on both databases. Each ends with the email sent exactly once
// (or not at all when discarded) and the email row, its job and the
// counts agreeing.

// service returns an auth.Service over the env's store and outbox, and a
// context acting as an admin (the console's Retry and Discard).
func (e *env) service(t *testing.T) (*auth.Service, context.Context) {
	t.Helper()
	key := make([]byte, token.MasterKeySize)
	_, _ = rand.Read(key)
	svc, err := auth.New(auth.Config{
		Store: e.st, Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1),
		Tokens: token.NewManager(e.st, key, e.clock.Now), Mail: e.outbox, Now: e.clock.Now, Rand: rand.Reader, Log: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, identity.WithActor(context.Background(), identity.Actor{ID: "cli"})
}

// node returns a runner named worker over st (one node) whose own clock is
// now: the database's clock, not this one, must decide leases.
func (e *env) node(t *testing.T, st store.Store, worker string, now func() time.Time) *jobs.Runner {
	t.Helper()
	sender, err := mail.NewSMTPSender(e.smtp.SMTPConfig(testFrom))
	if err != nil {
		t.Fatal(err)
	}
	r := jobs.NewRunner(st, jobs.Options{Worker: worker, Lease: time.Minute, Now: now, Log: quiet})
	r.Register(mail.JobKind, mail.DeliveryHandler(st, sender, quiet))
	return r
}

// runAsync runs one batch of r in the background; the channel gets how
// many jobs it processed.
func runAsync(t *testing.T, r *jobs.Runner) <-chan int {
	done := make(chan int, 1)
	go func() {
		n, err := r.RunOnce(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- n
	}()
	return done
}

func wait[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not finish", what)
	}
	var zero T
	return zero
}

// jobFor is the job state an email's job must be in once the email is in
// a final (or waiting) status.
var jobFor = map[string]string{
	identity.EmailSent:      identity.JobDone,
	identity.EmailDiscarded: identity.JobDiscarded,
	identity.EmailDead:      identity.JobDead,
}

// settled checks the end state: n messages to the address, all with one
// Message-ID; the email in status with attempts; its one job in the
// matching state; and the gauges read from the tables agreeing.
func (e *env) settled(t *testing.T, em *identity.Email, messages int, status string, attempts int) {
	t.Helper()
	msgs := e.smtp.MessagesTo(em.To)
	if len(msgs) != messages {
		t.Errorf("%d messages to %s, want %d", len(msgs), em.To, messages)
	}
	for _, m := range msgs {
		if m.MessageID != msgs[0].MessageID {
			t.Errorf("Message-IDs differ: %s, %s", m.MessageID, msgs[0].MessageID)
		}
	}
	got := e.email(t, em.ID)
	if got.Status != status || got.Attempts != attempts {
		t.Errorf("email: status %s attempts %d, want %s %d (last error %q)", got.Status, got.Attempts, status, attempts, got.LastError)
	}
	all, _, err := e.st.ListEmails(context.Background(), "", "", store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.jobState(t, ""); n != len(all) {
		t.Errorf("%d jobs for %d emails: one each, never two", n, len(all))
	}
	if got.JobID != 0 {
		j, err := e.st.GetJob(context.Background(), got.JobID)
		if err != nil || j.State != jobFor[status] {
			t.Errorf("the email is %s, its job %+v (%v), want %s", status, j, err, jobFor[status])
		}
	}
	// The gauges, from the tables, on either node.
	for _, st := range []store.Store{e.st, e.st2} {
		reg := prometheus.NewRegistry()
		reg.MustRegister(jobs.NewCollector(st), mail.NewCollector(st))
		want := map[string]float64{"gatehouse_jobs_pending": 0, "gatehouse_jobs_running": 0, "gatehouse_jobs_dead": 0,
			"gatehouse_emails": 0}
		if status == identity.EmailDead {
			want["gatehouse_jobs_dead"], want["gatehouse_emails"] = 1, 1
		}
		for name, w := range want {
			if v := gauge(t, reg, name); v != w {
				t.Errorf("%s = %v, want %v", name, v, w)
			}
		}
	}
}

// gauge sums the samples of the named gauge.
func gauge(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := -1.0
	for _, f := range families {
		if f.GetName() == name {
			sum = 0
			for _, m := range f.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// Issue 21 item 1: an admin's Retry while the email's send is in flight
// does not give it a second job; the recipient gets it once.
func TestRetryDuringStalledSendSendsOnce(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		svc, admin := e.service(t)
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		// The first attempt fails for a while: the email is retrying.
		e.smtp.Fail("MAIL", 451, "try later", 1)
		a := e.node(t, e.st, "node-a", e.clock.Now)
		if n := wait(t, "attempt 1", runAsync(t, a)); n != 1 {
			t.Fatalf("attempt 1 processed %d jobs", n)
		}
		if got := e.email(t, em.ID); got.Status != identity.EmailRetrying {
			t.Fatalf("after a 451: %s", got.Status)
		}
		e.clock.Set(e.clock.Now().Add(jobs.BackoffMax))

		// The second attempt hangs in the relay; meanwhile an admin asks
		// for a retry and another node looks for work.
		e.smtp.Stall("MAIL", 1)
		inflight := runAsync(t, a)
		e.smtp.WaitStalled(t, 1, 30*time.Second)
		err := svc.RetryEmail(admin, e.pool.ID, em.ID)
		if identity.ErrorCode(err) != identity.CodeConflict {
			t.Errorf("Retry of an email being sent: %v, want conflict", err)
		}
		b := e.node(t, e.st2, "node-b", e.clock.Now)
		if n := wait(t, "node b", runAsync(t, b)); n != 0 {
			t.Errorf("node b ran %d jobs while the only one was in flight", n)
		}
		e.smtp.Release()
		wait(t, "attempt 2", inflight)
		e.settled(t, em, 1, identity.EmailSent, 2)
	})
}

// Issue 21 item 2: an admin's discard during a stalled send wins: the send
// is abandoned, nothing is delivered, and no later attempt undoes it.
func TestDiscardDuringStalledSendSendsNothing(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		svc, admin := e.service(t)
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		e.smtp.Stall("MAIL", 1)
		a := e.node(t, e.st, "node-a", e.clock.Now)
		inflight := runAsync(t, a)
		e.smtp.WaitStalled(t, 1, 30*time.Second)
		if err := svc.DiscardEmail(admin, e.pool.ID, em.ID); err != nil {
			t.Fatal(err)
		}
		wait(t, "the abandoned attempt", inflight)
		e.smtp.Release()
		// Later runs, on either node and after any backoff, send nothing.
		e.clock.Set(e.clock.Now().Add(24 * time.Hour))
		for _, r := range []*jobs.Runner{a, e.node(t, e.st2, "node-b", e.clock.Now)} {
			if n := wait(t, "a later run", runAsync(t, r)); n != 0 {
				t.Errorf("a later run processed %d jobs", n)
			}
		}
		e.settled(t, em, 0, identity.EmailDiscarded, 1)
	})
}

// Issue 21 item 4: two nodes whose clocks disagree by more than a lease
// claim the same job: the one ahead must not take it over while the other
// still sends it, as leases follow the database's clock.
func TestSkewedNodesSendOnce(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		e.smtp.Stall("MAIL", 1)
		a := e.node(t, e.st, "node-a", e.clock.Now)
		ahead := func() time.Time { return e.clock.Now().Add(2 * time.Minute) } // two leases ahead
		b := e.node(t, e.st2, "node-b", ahead)
		inflight := runAsync(t, a)
		e.smtp.WaitStalled(t, 1, 30*time.Second)
		if n := wait(t, "node b", runAsync(t, b)); n != 0 {
			t.Errorf("the node ahead took over %d jobs still leased", n)
		}
		e.smtp.Release()
		wait(t, "node a", inflight)
		e.settled(t, em, 1, identity.EmailSent, 1)
	})
}

// After an outage the dead emails of a pool are queued again in bulk, each
// through its one job; they are then sent once each.
func TestRetryDeadEmailsAfterAnOutage(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		svc, admin := e.service(t)
		e.smtp.Fail("MAIL", 550, "relay misconfigured", 2)
		a := e.enqueue(t, "a@example.com", "signup_code", codeData)
		b := e.enqueue(t, "b@example.com", "signup_code", codeData)
		e.runOnce(t, 2)
		for _, em := range []*identity.Email{a, b} {
			if got := e.email(t, em.ID); got.Status != identity.EmailDead {
				t.Fatalf("after a 550: %+v", got)
			}
		}
		// A single Retry of a sent or queued email is refused; of a dead
		// one it re-arms the job.
		n, err := svc.RetryDeadEmails(admin, e.pool.ID)
		if err != nil || n != 2 {
			t.Fatalf("RetryDeadEmails = %d, %v", n, err)
		}
		if err := svc.RetryEmail(admin, e.pool.ID, a.ID); identity.ErrorCode(err) != identity.CodeConflict {
			t.Errorf("Retry of a queued email: %v", err)
		}
		e.runOnce(t, 2)
		e.settled(t, a, 1, identity.EmailSent, 2)
		if got := e.email(t, b.ID); got.Status != identity.EmailSent || got.Attempts != 2 {
			t.Errorf("b: %+v", got)
		}
		if n, err := svc.RetryDeadEmails(admin, e.pool.ID); err != nil || n != 0 {
			t.Errorf("second RetryDeadEmails = %d, %v", n, err)
		}
	})
}

// Issue 21 item 3: a job whose workers keep dying becomes dead after
// jobs.MaxLostLeases lost leases, and its email is dead with it: visible
// in the dead list and the gauges, not left "retrying" forever.
func TestEmailOfAJobThatKeepsKillingItsWorkerIsDead(t *testing.T) {
	run(t, nil, func(t *testing.T, e *env) {
		ctx := context.Background()
		em := e.enqueue(t, "jo@example.com", "signup_code", codeData)
		for i := range jobs.MaxLostLeases + 1 {
			c, err := e.st.ClaimJobs(ctx, "dies", []string{mail.JobKind}, time.Minute, 1)
			if err != nil || len(c) != 1 {
				t.Fatalf("claim %d: %v", i, err)
			}
			if ok, err := e.st.StartEmailDelivery(ctx, em.ID, c[0].ID, c[0].Attempts, c[0].LockedBy); err != nil || !ok {
				t.Fatalf("start %d: %v %v", i, ok, err)
			}
			e.clock.Set(e.clock.Now().Add(time.Minute))
		}
		e.runOnce(t, 1)
		e.settled(t, em, 0, identity.EmailDead, jobs.MaxLostLeases+1)
	})
}
