package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
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
// and writes the email (status queued) and its email.send job through q,
// the caller's transaction: both commit or roll back with the caller's
// state change. The email is delivered by DeliveryHandler after commit.
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
	if _, err := jobs.Enqueue(ctx, q, JobKind, deliveryPayload{EmailID: e.ID}, time.Time{}); err != nil {
		return nil, err
	}
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

// DeliveryHandler returns the handler of JobKind jobs: it loads the email,
// does nothing if it was already sent (a job may run twice), sends it with
// s and records the outcome on the email: sent; retrying (attempts,
// last error) on a temporary failure; dead on a permanent failure or when
// the job has no attempts left. A missing email (its pool was deleted) is
// not an error.
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
		if e.Status == identity.EmailSent || e.Status == identity.EmailDead {
			return nil // already delivered (or given up): idempotent
		}
		sendErr := s.Send(ctx, e)
		e.Attempts++
		if sendErr == nil {
			e.Status = identity.EmailSent
			e.SentAt = time.Now().UTC().Truncate(time.Millisecond)
			e.LastError = ""
			emailsSent.Inc()
			if err := st.UpdateEmail(context.WithoutCancel(ctx), e); err != nil {
				// The email went out; failing here would send it again.
				log.ErrorContext(ctx, "mail: email sent but status not recorded", "email_id", e.ID, "err", err)
			}
			return nil
		}
		e.LastError = truncateErr(sendErr.Error())
		reason := "temporary"
		switch {
		case jobs.IsPermanent(sendErr):
			reason = "permanent"
			e.Status = identity.EmailDead
		case jobs.IsLastAttempt(job):
			reason = "exhausted"
			e.Status = identity.EmailDead
		default:
			e.Status = identity.EmailRetrying
		}
		emailsFailed.WithLabelValues(reason).Inc()
		log.WarnContext(ctx, "mail: delivery failed", "email_id", e.ID, "pool", e.PoolID, "template", e.Template,
			"attempt", job.Attempts, "reason", reason, "err", sendErr)
		if err := st.UpdateEmail(context.WithoutCancel(ctx), e); err != nil {
			return errors.Join(sendErr, fmt.Errorf("mail: record failure of email %d: %w", e.ID, err))
		}
		return sendErr
	}
}

func truncateErr(s string) string {
	const max = 1000
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
