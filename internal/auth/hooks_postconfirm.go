package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Post confirmation
//
// Cognito calls PostConfirmation synchronously and fails the confirmation
// when the Lambda fails, although the user is by then confirmed: the
// caller sees an error for a step that happened. Gatehouse instead
// enqueues a durable job (HookJobKind) in the transaction that confirms
// the user: the event is sent after the commit, at least once, retried
// with backoff (jobs.Backoff) while the hook fails, and dead-lettered
// after jobs.DefaultMaxAttempts or at once when the hook rejects it (a 4xx
// with a message). Every delivery of one event carries the same
// webhook-id (and X-Gatehouse-Delivery), so a receiver can drop duplicates.
//
// It fires on every activation, also where Cognito does not: a user
// created by an administrator who completes NEW_PASSWORD_REQUIRED, a user
// auto-confirmed by pre_sign_up, and an approved registration
// (PostConfirmation_ConfirmSignUp); and after ConfirmForgotPassword
// (PostConfirmation_ConfirmForgotPassword), as Cognito does.

// HookJobKind is the job kind that delivers a post_confirmation event;
// register PostConfirmationHandler for it.
const HookJobKind = "hook.post_confirmation"

type postConfirmationPayload struct {
	PoolID     string          `json:"pool_id"`
	DeliveryID string          `json:"delivery_id"`
	Source     string          `json:"source"`
	Event      json.RawMessage `json:"event"`
}

// hookPostConfirmation enqueues the pool's post_confirmation event for u
// (as it is now, confirmed) through q, the confirming transaction. No hook:
// nothing is written.
func (s *Service) hookPostConfirmation(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, clientID, source string) error {
	if hookFor(p, identity.TriggerPostConfirmation) == nil {
		return nil
	}
	id, err := s.newSub()
	if err != nil {
		return err
	}
	ev := hooks.PostConfirmationEvent{}
	ev.CognitoEventUserPoolsHeader = hooks.Header(p, clientID, source, cognitoUsername(p, u), "1")
	ev.Request.UserAttributes = hookUserAttributes(u)
	ev.Request.ClientMetadata = map[string]string{}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode post confirmation event: %w", err)
	}
	payload, err := json.Marshal(postConfirmationPayload{PoolID: p.ID, DeliveryID: id, Source: source, Event: raw})
	if err != nil {
		return fmt.Errorf("encode post confirmation job: %w", err)
	}
	j := &identity.Job{PoolID: p.ID, Kind: HookJobKind, Payload: payload, State: identity.JobPending,
		RunAt:       time.Unix(0, 0).UTC(), // due at once, under any clock (as jobs.Enqueue)
		MaxAttempts: PostConfirmationMaxAttempts}
	if err := q.EnqueueJob(ctx, j); err != nil {
		return fmt.Errorf("enqueue post confirmation: %w", err)
	}
	return nil
}

// PostConfirmationMaxAttempts is the attempt budget of a post_confirmation
// delivery: with jobs.Backoff (10 s doubling, capped at 1 h) about seven
// hours of retries, so a receiver's outage of an afternoon loses nothing.
const PostConfirmationMaxAttempts = 16

// PostConfirmationHandler returns the jobs.Handler of HookJobKind: it
// sends the stored event to the pool's current post_confirmation hook.
// A pool or hook removed (or disabled) meanwhile ends the job quietly; a
// rejection is permanent; any other failure is retried.
func (s *Service) PostConfirmationHandler() jobs.Handler {
	return func(ctx context.Context, job *identity.Job) error {
		var pl postConfirmationPayload
		if err := jobs.DecodePayload(job, &pl); err != nil {
			return err
		}
		p, err := s.cfg.Store.GetPool(ctx, pl.PoolID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load pool: %w", err)
		}
		h := hookFor(p, identity.TriggerPostConfirmation)
		if h == nil {
			s.cfg.Log.InfoContext(ctx, "post_confirmation hook removed before delivery; event dropped", "pool", p.ID, "delivery", pl.DeliveryID)
			return nil
		}
		_, err = s.hookClient().Do(ctx, hooks.Call{Hook: h, Trigger: identity.TriggerPostConfirmation, Source: pl.Source,
			DeliveryID: pl.DeliveryID, Event: pl.Event})
		var he *hooks.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &he) && he.Kind == hooks.KindInvalidResponse:
			return nil // a 2xx answer: delivered; the body does not matter
		case errors.As(err, &he) && he.Kind == hooks.KindRejected:
			return jobs.Permanent(fmt.Errorf("pool %s delivery %s: %w", p.ID, pl.DeliveryID, err))
		default:
			return fmt.Errorf("pool %s delivery %s: %w", p.ID, pl.DeliveryID, err)
		}
	}
}

// postConfirmationOnActivate is activateUser's hook: an activation that
// left the user CONFIRMED (not an invited user, who is confirmed when the
// NEW_PASSWORD_REQUIRED challenge is answered) enqueues post_confirmation.
func (s *Service) postConfirmationOnActivate(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	if u.Status != identity.StatusConfirmed {
		return nil
	}
	return s.hookPostConfirmation(ctx, q, p, u, "", hooks.SourcePostConfirmationConfirmSignUp)
}
