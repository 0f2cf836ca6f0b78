package auth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// DiscardedPrefix starts the LastError of an email (and of its job) an
// admin discarded: "discarded by <actor>".
const DiscardedPrefix = jobs.DiscardedPrefix

// RetryEmail sends an outbox email of poolID again through its one
// delivery job, never a second one: a dead email's job is re-armed (the
// email is queued, with a fresh attempt budget); a retrying email's job,
// waiting for its backoff, becomes due now. One transaction, audited as
// email.retry. Only pool admins (RequirePoolAdmin) may.
//
// Errors: forbidden; resource_not_found (no such email in the pool);
// conflict (queued, being sent, sent or discarded: nothing to retry).
func (s *Service) RetryEmail(ctx context.Context, poolID string, id int64) error {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return err
	}
	err := wrapStoreErr("retry email", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		e, err := s.poolEmail(ctx, q, poolID, id)
		if err != nil {
			return err
		}
		if e.Status != identity.EmailDead && e.Status != identity.EmailRetrying {
			return identity.Errorf(identity.CodeConflict, "Only a dead or retrying email can be retried; this one is %s.", e.Status)
		}
		switch {
		case e.JobID != 0:
			if _, err := jobs.Retry(ctx, q, e.JobID); err != nil {
				return emailJobErr(err)
			}
		case e.Status == identity.EmailDead:
			// Written before emails were linked to their jobs: its old
			// job is dead or gone; give it one.
			j, err := jobs.EnqueueForPool(ctx, q, poolID, mail.JobKind, map[string]int64{"email_id": e.ID}, time.Time{})
			if err != nil {
				return err
			}
			if err := q.SetEmailJob(ctx, e.ID, j.ID); err != nil {
				return err
			}
			if ok, err := q.TransitionEmail(ctx, store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailDead}, To: identity.EmailQueued}); err != nil || !ok {
				return errors.Join(err, identity.Errorf(identity.CodeConflict, "The email changed; try again."))
			}
		default:
			return identity.Errorf(identity.CodeConflict, "This email's delivery job retries it.")
		}
		return s.audit(ctx, q, poolID, "email.retry", "email:"+strconv.FormatInt(e.ID, 10), map[string]string{"to": e.To, "template": e.Template})
	}))
	if err == nil {
		s.notifyMail()
	}
	return err
}

// RetryDeadEmails queues every dead email of poolID again, each through
// its one delivery job (re-armed with a fresh attempt budget), in one
// transaction audited as email.retry_dead with the count: the way back
// after an SMTP outage. It returns how many emails it queued.
//
// Errors: forbidden; resource_not_found (no such pool).
func (s *Service) RetryDeadEmails(ctx context.Context, poolID string) (int, error) {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return 0, err
	}
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return 0, err
	}
	var n int
	err := wrapStoreErr("retry dead emails", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		var err error
		if n, err = q.RearmDeadEmails(ctx, poolID, mail.JobKind, jobs.DefaultMaxAttempts); err != nil {
			return err
		}
		return s.audit(ctx, q, poolID, "email.retry_dead", "pool:"+poolID, map[string]string{"count": strconv.Itoa(n)})
	}))
	if err != nil {
		return 0, err
	}
	s.notifyMail()
	return n, nil
}

// DiscardEmail gives up on an outbox email that is not sent: queued,
// retrying, dead, or being sent (the send in flight is abandoned before
// the relay accepts it). The email and its delivery job become discarded,
// LastError "discarded by <actor>", in one transaction audited as
// email.discard.
//
// Errors: forbidden; resource_not_found; conflict (already sent or
// discarded).
func (s *Service) DiscardEmail(ctx context.Context, poolID string, id int64) error {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return err
	}
	return wrapStoreErr("discard email", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		e, err := s.poolEmail(ctx, q, poolID, id)
		if err != nil {
			return err
		}
		conflict := identity.Errorf(identity.CodeConflict, "Only an email that is not sent can be discarded; this one is %s.", e.Status)
		if e.Status == identity.EmailSent || e.Status == identity.EmailDiscarded {
			return conflict
		}
		by := identity.ActorFrom(ctx).Who()
		if e.JobID != 0 {
			if _, err := jobs.Discard(ctx, q, e.JobID, by); err != nil {
				return emailJobErr(err)
			}
		} else {
			ok, err := q.TransitionEmail(ctx, store.EmailTransition{ID: e.ID, From: []string{identity.EmailQueued, identity.EmailRetrying,
				identity.EmailSending, identity.EmailDead}, To: identity.EmailDiscarded, LastError: DiscardedPrefix + by})
			if err != nil {
				return err
			}
			if !ok {
				return conflict
			}
		}
		return s.audit(ctx, q, poolID, "email.discard", "email:"+strconv.FormatInt(e.ID, 10), map[string]string{"to": e.To, "template": e.Template})
	}))
}

// emailJobErr turns the job's conflict into the email's words; a job
// that is gone is the email's not found.
func emailJobErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return identity.Errorf(identity.CodeResourceNotFound, "The email's delivery job is gone.")
	}
	if identity.ErrorCode(err) == identity.CodeConflict {
		return identity.Errorf(identity.CodeConflict, "The email's delivery is in progress or over; reload and try again.")
	}
	return err
}

func (s *Service) poolEmail(ctx context.Context, q store.Querier, poolID string, id int64) (*identity.Email, error) {
	e, err := q.GetEmail(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && e.PoolID != poolID {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "Email not found.")
	}
	return e, err
}

// notifyMail wakes this process's job runner after a commit that made
// emails due (the outbox's Notify), if the mailer has one.
func (s *Service) notifyMail() {
	if n, ok := s.cfg.Mail.(interface{ Notify() }); ok {
		n.Notify()
	}
}
