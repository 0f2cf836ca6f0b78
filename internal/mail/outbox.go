package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// JobKind is the job kind that delivers one outbox email; register
// DeliveryHandler for it.
const JobKind = "email.send"

// deliveryPayload is the JSON payload of an email.send job.
type deliveryPayload struct {
	EmailID int64 `json:"email_id"`
}

// Outbox writes emails and their delivery jobs in the caller's transaction.
// It implements auth.Mailer.
type Outbox struct {
	t      *Templates
	from   string
	notify func()
	// Now stamps CreatedAt of new emails (time.Now by default).
	Now func() time.Time
}

// NewOutbox returns an Outbox rendering with t. from is the configured
// sender address (shown by the dev mailbox; the SMTP From header comes
// from SMTPConfig.From). notify, if not nil, wakes the job runner
// (jobs.Runner.Notify); Outbox.Notify calls it.
func NewOutbox(t *Templates, from string, notify func()) *Outbox {
	return &Outbox{t: t, from: from, notify: notify, Now: time.Now}
}

// From returns the configured sender address.
func (o *Outbox) From() string { return o.from }

// Notify wakes the delivery job runner. Call it only after the
// transaction that called Enqueue committed (before, the runner cannot see
// the job; and after a rollback there is nothing to send). Without it, the
// runner picks the email up at its next poll.
func (o *Outbox) Notify() {
	if o.notify != nil {
		o.notify()
	}
}

// Enqueue renders template for pool with data, validates the address to,
// and writes the email (status queued) and its one email.send job (the
// pool's job) through q, the caller's transaction: both commit or roll
// back with the caller's state change. The email is delivered by
// DeliveryHandler after commit.
//
// Errors: *identity.Error with CodeInvalidParameter (Field "email") for an
// address that is not a single valid email address; a wrapped
// ErrUnknownTemplate or template error; the store's errors.
func (o *Outbox) Enqueue(ctx context.Context, q store.Querier, pool *identity.Pool, to, template string, data map[string]any) (*identity.Email, error) {
	addr, err := ValidateAddress(to)
	if err != nil {
		return nil, err
	}
	subject, text, html, err := o.t.Render(pool, template, data)
	if err != nil {
		return nil, fmt.Errorf("mail: render %s: %w", template, err)
	}
	e := &identity.Email{
		To:        addr,
		Subject:   subject,
		Text:      text,
		HTML:      html,
		Template:  template,
		Status:    identity.EmailQueued,
		CreatedAt: o.Now().UTC().Truncate(time.Millisecond),
	}
	if pool != nil {
		e.PoolID = pool.ID
	}
	if err := q.InsertEmail(ctx, e); err != nil {
		return nil, fmt.Errorf("mail: insert email: %w", err)
	}
	j, err := jobs.EnqueueForPool(ctx, q, e.PoolID, JobKind, deliveryPayload{EmailID: e.ID}, time.Time{})
	if err != nil {
		return nil, err
	}
	if err := q.SetEmailJob(ctx, e.ID, j.ID); err != nil {
		return nil, fmt.Errorf("mail: link email %d to its job: %w", e.ID, err)
	}
	e.JobID = j.ID
	return e, nil
}

// ValidateAddress checks that s is one plain email address (no display
// name, no list, no CR/LF) and returns it trimmed.
//
// Errors: *identity.Error with CodeInvalidParameter and Field "email".
func ValidateAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := &identity.Error{Code: identity.CodeInvalidParameter, Field: "email", Message: "Invalid email address."}
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>,;\"") {
		return "", bad
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") && !strings.EqualFold(s[at+1:], "localhost") {
		return "", bad
	}
	return s, nil
}

// WatchEvery is how often a send in flight re-reads its email: when the
// email left "sending" for this attempt (an admin discarded it), the send
// is abandoned: its SMTP connection is closed before the relay accepts.
var WatchEvery = time.Second

// DeliveryHandler returns the handler of JobKind jobs. An attempt sends
// the email only after moving it to sending for itself
// (store.StartEmailDelivery: from queued or retrying, while it holds its
// job's lease), and abandons the send when the email leaves that state
// (discarded) while the relay still holds it. The outcome (sent, retrying,
// dead) is written by the job's follower in the transaction that records
// the job's outcome, so the email row and its job never disagree (doc.go
// has the state machine). An email that is gone (its pool was deleted),
// already sent or discarded, or that belongs to another job, is not an
// error: nothing is sent.
func DeliveryHandler(st store.Store, s Sender, log *slog.Logger) jobs.Handler {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, job *identity.Job) error {
		var p deliveryPayload
		if err := jobs.DecodePayload(job, &p); err != nil {
			return err
		}
		e, err := st.GetEmail(ctx, p.EmailID)
		if errors.Is(err, store.ErrNotFound) {
			log.WarnContext(ctx, "mail: email of delivery job is gone", "email_id", p.EmailID, "job", job.ID)
			return nil
		}
		if err != nil {
			return fmt.Errorf("mail: load email %d: %w", p.EmailID, err)
		}
		if e.JobID != 0 && e.JobID != job.ID {
			log.WarnContext(ctx, "mail: email belongs to another delivery job; nothing sent", "email_id", e.ID, "job", job.ID, "email_job", e.JobID)
			return nil
		}
		switch e.Status {
		case identity.EmailSent, identity.EmailDiscarded:
			return nil // idempotent: delivered, or given up by an admin
		case identity.EmailDead:
			// Only a job from before emails were linked to their jobs
			// can find its email dead: keep both dead.
			return jobs.Permanent(fmt.Errorf("mail: email %d is dead; an admin's Retry re-arms its job", e.ID))
		}
		ok, err := st.StartEmailDelivery(ctx, e.ID, job.ID, job.Attempts, job.LockedBy)
		if err != nil {
			return fmt.Errorf("mail: start delivery of email %d: %w", e.ID, err)
		}
		if !ok {
			// Discarded meanwhile (the job then was too), or this attempt
			// lost its lease: its outcome will not be recorded.
			return fmt.Errorf("mail: email %d not started by attempt %d: it changed, or the lease was lost", e.ID, job.Attempts)
		}
		e.Attempts++
		sctx, cancel := context.WithCancel(ctx)
		abandoned := watch(sctx, st, e.ID, job.Attempts, cancel)
		sendErr := s.Send(sctx, e)
		cancel()
		if sendErr == nil {
			emailsSent.Inc()
			// The relay accepted it: if an admin discarded it during the
			// send, the record must still say it went out.
			settleSentAfterDiscard(context.WithoutCancel(ctx), st, e, job, log)
			return nil
		}
		if abandoned.Load() {
			return fmt.Errorf("mail: send of email %d abandoned (discarded or taken over during the send): %w", e.ID, sendErr)
		}
		reason := "temporary"
		switch {
		case jobs.IsPermanent(sendErr):
			reason = "permanent"
		case jobs.IsLastAttempt(job):
			reason = "exhausted"
		}
		emailsFailed.WithLabelValues(reason).Inc()
		log.WarnContext(ctx, "mail: delivery failed", "email_id", e.ID, "pool", e.PoolID, "template", e.Template,
			"attempt", job.Attempts, "reason", reason, "err", sendErr)
		return sendErr
	}
}

// watch re-reads the email every WatchEvery while ctx lives and cancels
// the send (cancel) once the email is no longer sending for attempt. The
// returned flag tells whether it did.
func watch(ctx context.Context, st store.Store, id int64, attempt int, cancel context.CancelFunc) *atomic.Bool {
	var abandoned atomic.Bool
	go func() {
		t := time.NewTicker(WatchEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			e, err := st.GetEmail(ctx, id)
			if errors.Is(err, store.ErrNotFound) || err == nil && (e.Status != identity.EmailSending || e.JobAttempt != attempt) {
				abandoned.Store(true)
				cancel()
				return
			}
		}
	}()
	return &abandoned
}

// settleSentAfterDiscard records "sent" over a discard that came while
// the relay was accepting the message, fenced by the attempt.
func settleSentAfterDiscard(ctx context.Context, st store.Store, e *identity.Email, job *identity.Job, log *slog.Logger) {
	now, err := st.GetEmail(ctx, e.ID)
	if err != nil || now.Status != identity.EmailDiscarded || now.JobAttempt != job.Attempts {
		return
	}
	ok, err := st.TransitionEmail(ctx, store.EmailTransition{ID: e.ID, JobID: job.ID, From: []string{identity.EmailDiscarded},
		Attempt: job.Attempts, To: identity.EmailSent, LastError: "discarded while the relay accepted it: sent"})
	if err != nil || ok {
		log.WarnContext(ctx, "mail: email discarded during its send, but the relay had accepted it", "email_id", e.ID, "recorded", ok, "err", err)
	}
}

func init() { jobs.Follow(JobKind, followDelivery) }

// followDelivery keeps the email in step with its job (jobs.Follower), in
// the transaction that changes the job. Each write is a compare-and-set:
// an outcome lands only over the attempt that moved the email to sending.
func followDelivery(ctx context.Context, q store.Querier, j *identity.Job, ev jobs.Event, detail string) error {
	var p deliveryPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return nil // nothing to follow
	}
	t := store.EmailTransition{ID: p.EmailID, JobID: j.ID, LastError: truncateErr(detail)}
	switch ev {
	case jobs.Succeeded:
		t.From, t.Attempt, t.To, t.LastError = []string{identity.EmailSending}, j.Attempts, identity.EmailSent, ""
	case jobs.Failed:
		t.From, t.Attempt, t.To = []string{identity.EmailSending}, j.Attempts, identity.EmailRetrying
	case jobs.Died:
		t.From, t.To = []string{identity.EmailQueued, identity.EmailRetrying, identity.EmailSending}, identity.EmailDead
	case jobs.Discarded:
		t.From, t.To = []string{identity.EmailQueued, identity.EmailRetrying, identity.EmailSending, identity.EmailDead}, identity.EmailDiscarded
	case jobs.Rearmed:
		t.From, t.To, t.LastError = []string{identity.EmailDead}, identity.EmailQueued, ""
	default:
		return nil
	}
	_, err := q.TransitionEmail(ctx, t)
	return err
}

func truncateErr(s string) string {
	const max = 1000
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
