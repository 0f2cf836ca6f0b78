package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// One-time codes
//
// A code is 6 digits drawn from s.cfg.Rand (crypto/rand in production).
// Only its hash is stored: sha256Hex(pool, sub, purpose, email, code). The
// email the code was sent to is part of the hash, so a code proves control
// of that address only: if the user's email changes after the code was
// sent (by the user or an administrator), the old code no longer matches.
// At most one code per (pool, user, purpose) exists; a new one replaces the
// old (store.PutCode). A code is consumed with store.UseCode, an atomic
// compare-and-set, and allows MaxCodeAttempts wrong guesses.

const codeLen = 6

// codeTTL returns the validity of a code of purpose.
func codeTTL(purpose identity.CodePurpose) time.Duration {
	switch purpose {
	case identity.PurposeSignUp:
		return SignUpCodeTTL
	case identity.PurposeForgot:
		return ForgotCodeTTL
	default:
		return VerifyCodeTTL
	}
}

// codeTemplate returns the email template of purpose.
func codeTemplate(purpose identity.CodePurpose) string {
	switch purpose {
	case identity.PurposeSignUp:
		return TemplateSignUpCode
	case identity.PurposeForgot:
		return TemplateForgotPassword
	default:
		return TemplateVerifyEmail
	}
}

// codeHash is what is stored for code, bound to pool, user, purpose and the
// email address the code was sent to.
func codeHash(p *identity.Pool, u *identity.User, purpose identity.CodePurpose, code string) string {
	return sha256Hex(p.ID, u.Sub, string(purpose), strings.ToLower(u.Email), code)
}

// humanDuration renders a code lifetime for an email ("24 hours", "1 hour",
// "10 minutes").
func humanDuration(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	if d%time.Hour == 0 {
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// delivery is the masked destination of an email to addr.
func delivery(addr string) *CodeDelivery {
	return &CodeDelivery{Destination: maskEmail(addr), DeliveryMedium: "EMAIL", AttributeName: "email"}
}

// sendCode creates a fresh one-time code for (pool, user, purpose), stores
// its hash (replacing any earlier one) and enqueues the email to u.Email
// through q, so the code and its email commit or roll back together with the
// caller's state change. It returns invalid_parameter when u has no email.
func (s *Service) sendCode(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, purpose identity.CodePurpose) (*CodeDelivery, error) {
	if u.Email == "" {
		return nil, identity.Errorf(identity.CodeInvalidParameter, "The user has no email address to send a code to.")
	}
	code, err := s.randomString(codeLen, digits)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ttl := codeTTL(purpose)
	c := &identity.OneTimeCode{
		PoolID:    p.ID,
		UserSub:   u.Sub,
		Purpose:   purpose,
		Hash:      codeHash(p, u, purpose, code),
		ExpiresAt: now.Add(ttl),
		CreatedAt: now,
	}
	if err := q.PutCode(ctx, c); err != nil {
		return nil, fmt.Errorf("put code: %w", err)
	}
	data := map[string]any{
		"Code":      code,
		"Username":  u.Username,
		"PoolName":  p.Name,
		"ExpiresIn": humanDuration(ttl),
	}
	if _, err := s.enqueueMessage(ctx, q, p, u, codeTemplate(purpose), data); err != nil { // Mail.Enqueue + custom_message hook
		return nil, fmt.Errorf("enqueue %s email: %w", purpose, err)
	}
	return delivery(u.Email), nil
}

// errCodeMismatch is Cognito's answer to a wrong code (and, with
// PreventUserExistenceErrors, to a code for an unknown user).
var errCodeMismatch = identity.Errorf(identity.CodeCodeMismatch, "Invalid verification code provided, please try again.")

// codeError maps a UseCode outcome that is not CodeOK to the caller's error.
// A missing code is reported as a mismatch: it was used, replaced, or never
// sent, and saying which would tell a guesser more than it needs.
func codeError(o store.CodeOutcome) error {
	switch o {
	case store.CodeExpired:
		return identity.Errorf(identity.CodeExpiredCode, "Invalid code provided, please request a code again.")
	case store.CodeExhausted:
		return identity.Errorf(identity.CodeTooManyFailedAttempts, "Too many failed attempts; please request a new code.")
	default:
		return errCodeMismatch
	}
}

// checkCodeInput rejects a code that cannot be valid before any lookup.
// Anything else (including non-digits) is compared and counts as an attempt.
func checkCodeInput(code string) error {
	if strings.TrimSpace(code) == "" {
		return identity.FieldError("code", "A confirmation code is required.")
	}
	if len(code) > 64 {
		return identity.FieldError("code", "The confirmation code is too long.")
	}
	return nil
}

// useCodeTx runs one transaction that consumes the code of (p, u, purpose)
// and, when it matched, applies the flow's state change through apply (in
// the same transaction, so the code is consumed only if the change commits).
// A wrong code's attempt counter is committed, not rolled back: the
// transaction commits with no other change and the mismatch error is
// returned afterwards. apply re-reads whatever it changes through q.
func (s *Service) useCodeTx(ctx context.Context, p *identity.Pool, u *identity.User, purpose identity.CodePurpose, code string, apply func(q store.Querier) error) error {
	hash := codeHash(p, u, purpose, strings.TrimSpace(code))
	var outcome store.CodeOutcome
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		o, err := q.UseCode(ctx, p.ID, u.Sub, purpose, hash, s.now(), MaxCodeAttempts)
		if err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		outcome = o
		if o != store.CodeOK {
			return nil // commit the attempt
		}
		return apply(q)
	})
	if err != nil {
		return err
	}
	if outcome != store.CodeOK {
		return codeError(outcome)
	}
	return nil
}

// reloadUser re-reads u inside a transaction. A user deleted meanwhile is
// user_not_found.
func reloadUser(ctx context.Context, q store.Querier, u *identity.User) (*identity.User, error) {
	cur, err := q.GetUser(ctx, u.PoolID, u.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return cur, nil
}
