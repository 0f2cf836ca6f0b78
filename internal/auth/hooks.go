package auth

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Hooks
//
// A pool's webhooks (identity.HookSettings) are the articles' Lambda
// triggers. The synchronous ones (pre_sign_up, custom_message,
// pre_token_generation) run before the transaction of the flow that
// causes them, so a failing or slow hook changes nothing and never holds a
// database transaction open while Gatehouse waits on the network; their
// failures reach the caller as Cognito does (hooks.Error.Identity).
// post_confirmation is a durable job enqueued in the transaction that
// confirms the user (hooks_postconfirm.go). See docs/hooks.md.

var defaultHookClient = sync.OnceValue(func() *hooks.Client { return hooks.New(hooks.Options{}) })

// hookClient returns the configured hooks client, or a shared default.
func (s *Service) hookClient() *hooks.Client {
	if s.cfg.Hooks != nil {
		return s.cfg.Hooks
	}
	return defaultHookClient()
}

// hookFor returns p's enabled hook for t, or nil.
func hookFor(p *identity.Pool, t identity.HookTrigger) *identity.Hook {
	if h := p.Settings.Hooks.Get(t); h.Enabled() {
		return h
	}
	return nil
}

// callHook sends one synchronous hook call and maps its failure to the
// caller's *identity.Error (logged with the cause; never the secret).
func (s *Service) callHook(ctx context.Context, p *identity.Pool, h *identity.Hook, t identity.HookTrigger, source string, event, resp any) error {
	deliveryID, err := s.newSub()
	if err != nil {
		return err
	}
	res, err := s.hookClient().Do(ctx, hooks.Call{Hook: h, Trigger: t, Source: source, DeliveryID: deliveryID, Event: event, Response: resp})
	if err == nil {
		return nil
	}
	var he *hooks.Error
	if !errors.As(err, &he) {
		return err
	}
	status := 0
	if res != nil {
		status = res.Status
	}
	s.cfg.Log.WarnContext(ctx, "hook call failed", "pool", p.ID, "trigger", string(t), "source", source,
		"delivery", deliveryID, "status", status, "reason", he.Reason, "err", he.Err)
	return he.Identity()
}

// hookUserAttributes is the userAttributes map of an event: every
// attribute plus sub, email, email_verified (once set, as Cognito lists
// it: a fresh sign-up's event has none) and cognito:user_status, all
// strings (as Cognito sends them).
func hookUserAttributes(u *identity.User) map[string]string {
	m := make(map[string]string, len(u.Attributes)+4)
	for k, v := range u.Attributes {
		m[k] = v
	}
	m["sub"] = u.Sub
	if u.Email != "" {
		m["email"] = u.Email
		if u.EmailVerified || u.EmailVerifiedFalse {
			m["email_verified"] = strconv.FormatBool(u.EmailVerified)
		}
	}
	m["cognito:user_status"] = string(u.Status)
	return m
}
