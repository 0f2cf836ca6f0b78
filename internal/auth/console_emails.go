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

// DiscardedPrefix starts the LastError of an email an admin discarded.
const DiscardedPrefix = "discarded by "

// RetryEmail sends a dead or retrying outbox email of poolID again: it
// is queued with a new delivery job (in one transaction, audited as
// email.retry). Only pool admins (RequirePoolAdmin) may.
//
// Errors: forbidden; resource_not_found (no such email in the pool);
// conflict (already sent or queued).
func (s *Service) RetryEmail(ctx context.Context, poolID string, id int64) error {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return err
	}
	return wrapStoreErr("retry email", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		e, err := s.poolEmail(ctx, q, poolID, id)
		if err != nil {
			return err
		}
		if e.Status != identity.EmailDead && e.Status != identity.EmailRetrying {
			return identity.Errorf(identity.CodeConflict, "Only a dead or retrying email can be sent again; this one is %s.", e.Status)
		}
		e.Status = identity.EmailQueued
		if err := q.UpdateEmail(ctx, e); err != nil {
			return err
		}
		if _, err := jobs.Enqueue(ctx, q, mail.JobKind, map[string]int64{"email_id": e.ID}, time.Time{}); err != nil {
			return err
		}
		return s.audit(ctx, q, poolID, "email.retry", "email:"+strconv.FormatInt(e.ID, 10), map[string]string{"to": e.To, "template": e.Template})
	}))
}

// DiscardEmail gives up on a queued or retrying outbox email: it is
// marked dead with LastError "discarded by <actor>"; a delivery job still
// pending for it then does nothing. Audited as email.discard.
//
// Errors: forbidden; resource_not_found; conflict (already sent or dead).
func (s *Service) DiscardEmail(ctx context.Context, poolID string, id int64) error {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return err
	}
	return wrapStoreErr("discard email", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		e, err := s.poolEmail(ctx, q, poolID, id)
		if err != nil {
			return err
		}
		if e.Status != identity.EmailQueued && e.Status != identity.EmailRetrying {
			return identity.Errorf(identity.CodeConflict, "Only a queued or retrying email can be discarded; this one is %s.", e.Status)
		}
		e.Status = identity.EmailDead
		e.LastError = DiscardedPrefix + identity.ActorFrom(ctx).Who()
		if err := q.UpdateEmail(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, q, poolID, "email.discard", "email:"+strconv.FormatInt(e.ID, 10), map[string]string{"to": e.To, "template": e.Template})
	}))
}

func (s *Service) poolEmail(ctx context.Context, q store.Querier, poolID string, id int64) (*identity.Email, error) {
	e, err := q.GetEmail(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && e.PoolID != poolID {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "Email not found.")
	}
	return e, err
}
