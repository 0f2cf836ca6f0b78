package auth

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// HookInput sets one of a pool's hooks (PutHook).
type HookInput struct {
	URL string
	// Secret: "" keeps the current secret, or generates one for a new hook
	// (returned once by PutHook); identity.MaskedSecret also keeps it.
	Secret string
	// RotateSecret generates a new secret even when one is set.
	RotateSecret bool
	TimeoutMS    int
	Disabled     bool
	Version      string // pre_token_generation only: "1" (default) or "2"
}

// HookTestResult is the outcome of TestHook.
type HookTestResult struct {
	Trigger   identity.HookTrigger
	Source    string
	OK        bool
	Status    int           // HTTP status, 0 when none arrived
	Latency   time.Duration // until the answer arrived (0 when none)
	ErrorCode identity.Code // "" when OK
	Error     string        // the message a caller would have seen
}

// validateHook checks h for trigger t (h.Secret must be set).
func validateHook(t identity.HookTrigger, h *identity.Hook) error {
	if err := hooks.ValidateURL(h.URL); err != nil {
		return err
	}
	if h.TimeoutMS < 0 || h.TimeoutMS > int(hooks.DefaultTimeout/time.Millisecond) {
		return identity.FieldError("timeout_ms", "timeout_ms must be between 1 and 5000 (0: 5000).")
	}
	switch h.Version {
	case "", "1":
	case "2":
		if t != identity.TriggerPreTokenGeneration {
			return identity.FieldError("version", "Only pre_token_generation has a version 2 event.")
		}
	default:
		return identity.FieldError("version", "version must be \"1\" or \"2\".")
	}
	if h.Secret == "" || h.Secret == identity.MaskedSecret {
		return identity.FieldError("secret", "The hook has no secret.")
	}
	if len(h.Secret) < 16 || len(h.Secret) > 256 {
		return identity.FieldError("secret", "A hook secret must be 16 to 256 bytes.")
	}
	return nil
}

// mergeHooks validates np's hooks for a pool update, keeping cur's secret
// where np carries the mask (a read-modify-write round trip) or none.
func mergeHooks(cur, np *identity.Pool) error {
	for _, t := range identity.HookTriggers {
		h := np.Settings.Hooks.Get(t)
		if h == nil {
			continue
		}
		c := *h
		if c.Secret == "" || c.Secret == identity.MaskedSecret {
			old := cur.Settings.Hooks.Get(t)
			if old == nil || old.Secret == "" {
				return identity.FieldError("secret", "The %s hook needs a secret; set it with PutHook to have one generated.", t)
			}
			c.Secret = old.Secret
		}
		if err := validateHook(t, &c); err != nil {
			return err
		}
		np.Settings.Hooks.Set(t, &c)
	}
	return nil
}

func parseTrigger(t identity.HookTrigger) error {
	if !t.Valid() {
		return identity.FieldError("trigger", "Unknown hook trigger %q; one of user_migration, pre_sign_up, custom_message, post_confirmation, pre_token_generation.", safeEcho(string(t)))
	}
	return nil
}

// NewHookSecret returns a new random hook secret, for a surface that sets
// a hook without one through UpdatePool or CreatePoolInput.Hooks (the
// Cognito API's LambdaConfig). It is not shown to anyone: rotate it with
// PutHook to read it.
func (s *Service) NewHookSecret() (string, error) { return hooks.NewSecret(s.cfg.Rand) }

// GetHooks returns the pool's hooks with secrets masked.
//
// Errors: resource_not_found.
func (s *Service) GetHooks(ctx context.Context, poolID string) (identity.HookSettings, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return identity.HookSettings{}, err
	}
	return p.Settings.Hooks.Masked(), nil
}

// PutHook creates or replaces the pool's hook for trigger. It returns the
// stored hook with its secret masked, and the secret in clear only when
// Gatehouse generated it (a new hook without a secret, or RotateSecret):
// that is the one time it is shown.
//
// Errors: resource_not_found, invalid_parameter (trigger, url, timeout_ms,
// version, secret).
func (s *Service) PutHook(ctx context.Context, poolID string, trigger identity.HookTrigger, in HookInput) (*identity.Hook, string, error) {
	if err := parseTrigger(trigger); err != nil {
		return nil, "", err
	}
	h := &identity.Hook{URL: in.URL, Secret: in.Secret, TimeoutMS: in.TimeoutMS, Disabled: in.Disabled, Version: in.Version}
	var generated string
	if h.Secret == identity.MaskedSecret {
		h.Secret = ""
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		if h.Secret == "" && !in.RotateSecret {
			if old := p.Settings.Hooks.Get(trigger); old != nil {
				h.Secret = old.Secret
			}
		}
		if h.Secret == "" || in.RotateSecret {
			if generated, err = hooks.NewSecret(s.cfg.Rand); err != nil {
				return err
			}
			h.Secret = generated
		}
		if err := validateHook(trigger, h); err != nil {
			return err
		}
		p.Settings.Hooks.Set(trigger, h)
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.hook_put", "pool:"+p.ID, map[string]string{
			"trigger": string(trigger), "url": h.URL, "secret_rotated": boolStr(generated != ""),
		})
	})
	if err != nil {
		return nil, "", wrapStoreErr("put hook", err)
	}
	masked := *h
	masked.Secret = identity.MaskedSecret
	return &masked, generated, nil
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// DeleteHook removes the pool's hook for trigger (no error if none).
// Pending post_confirmation deliveries are then dropped.
//
// Errors: resource_not_found, invalid_parameter (trigger).
func (s *Service) DeleteHook(ctx context.Context, poolID string, trigger identity.HookTrigger) error {
	if err := parseTrigger(trigger); err != nil {
		return err
	}
	return wrapStoreErr("delete hook", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		p.Settings.Hooks.Set(trigger, nil)
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.hook_delete", "pool:"+p.ID, map[string]string{"trigger": string(trigger)})
	}))
}

// TestHook sends a sample event (a made-up user, test@example.com) to the
// pool's hook for trigger, even when it is disabled, and reports the HTTP
// status, the latency and the error a caller would have seen. Nothing is
// written.
//
// Errors: resource_not_found (pool, or no hook for trigger),
// invalid_parameter (trigger).
func (s *Service) TestHook(ctx context.Context, poolID string, trigger identity.HookTrigger) (*HookTestResult, error) {
	if err := parseTrigger(trigger); err != nil {
		return nil, err
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	h := p.Settings.Hooks.Get(trigger)
	if h == nil || h.URL == "" {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "The pool has no %s hook.", trigger)
	}
	now := s.now()
	u := &identity.User{PoolID: p.ID, Sub: "00000000-0000-4000-8000-000000000000", Username: "test@example.com",
		Email: "test@example.com", EmailVerified: true, Status: identity.StatusUnconfirmed, Enabled: true,
		Attributes: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	name := cognitoUsername(p, u)
	var ev, resp any
	var source string
	switch trigger {
	case identity.TriggerPreSignUp:
		source = hooks.SourcePreSignUpSignUp
		e := hooks.PreSignUpEvent{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "1")}
		e.Request.UserAttributes = hookUserAttributes(u)
		ev, resp = e, &hooks.PreSignUpResponse{}
	case identity.TriggerCustomMessage:
		source = hooks.SourceCustomMessageSignUp
		e := hooks.CustomMessageEvent{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "1")}
		e.Request.UserAttributes = map[string]any{"sub": u.Sub, "email": u.Email, "email_verified": "true"}
		e.Request.CodeParameter, e.Request.UsernameParameter = codeParameter, usernameParameter
		ev, resp = e, &hooks.CustomMessageResponse{}
	case identity.TriggerUserMigration:
		// The forgot-password form: a test event carries no password.
		source = hooks.SourceUserMigrationForgotPassword
		e := hooks.UserMigrationEvent{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "1")}
		e.CognitoEventUserPoolsMigrateUserRequest.ValidationData = map[string]string{}
		e.CognitoEventUserPoolsMigrateUserRequest.ClientMetadata = map[string]string{}
		ev, resp = e, &hooks.UserMigrationResponse{}
	case identity.TriggerPostConfirmation:
		source = hooks.SourcePostConfirmationConfirmSignUp
		u.Status = identity.StatusConfirmed
		e := hooks.PostConfirmationEvent{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "1")}
		e.Request.UserAttributes = hookUserAttributes(u)
		ev = e
	case identity.TriggerPreTokenGeneration:
		source = hooks.SourceTokenAuthentication
		u.Status = identity.StatusConfirmed
		if h.Version == "2" {
			e := hooks.PreTokenGenV2Event{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "2")}
			e.Request.UserAttributes = hookUserAttributes(u)
			e.Request.Scopes = []string{scopeUserAdmin}
			ev, resp = e, &hooks.PreTokenGenV2Response{}
		} else {
			e := hooks.PreTokenGenEvent{CognitoEventUserPoolsHeader: hooks.Header(p, "", source, name, "1")}
			e.Request.UserAttributes = hookUserAttributes(u)
			ev, resp = e, &hooks.PreTokenGenResponse{}
		}
	}
	out := &HookTestResult{Trigger: trigger, Source: source, OK: true}
	res, err := s.hookClient().Do(ctx, hooks.Call{Hook: h, Trigger: trigger, Source: source, DeliveryID: "test-" + now.Format("20060102T150405.000"), Event: ev, Response: resp})
	if res != nil {
		out.Status, out.Latency = res.Status, res.Latency
	}
	var he *hooks.Error
	if errors.As(err, &he) {
		ie := he.Identity()
		out.OK, out.ErrorCode, out.Error = false, ie.Code, ie.Message
	} else if err != nil {
		return nil, err
	}
	return out, nil
}
