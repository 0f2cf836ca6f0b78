package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/ratelimit"
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
	case identity.PurposeMFAEmail, identity.PurposeSignInEmail:
		return mfaEmailTTL
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
	case identity.PurposeMFAEmail, identity.PurposeSignInEmail:
		return TemplateMFACode
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
// A wrong code's attempt counters are committed, not rolled back: the
// transaction commits with no other change and the mismatch error is
// returned afterwards. apply re-reads whatever it changes through q.
//
// Besides the code's own MaxCodeAttempts, every attempt is counted on the
// user's window for the purpose (countCodeAttempt), which a new code does
// not reset; a right code takes its hit back. With
// PreventUserExistenceErrors an expired or used-up code answers as a wrong
// one, since an unknown user can only ever get that answer.
func (s *Service) useCodeTx(ctx context.Context, p *identity.Pool, u *identity.User, purpose identity.CodePurpose, code string, apply func(q store.Querier) error) error {
	hash := codeHash(p, u, purpose, strings.TrimSpace(code))
	var outcome store.CodeOutcome
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		counter, err := s.countCodeAttempt(ctx, q, p, purpose, userSubject(u))
		if err != nil {
			return err
		}
		o, err := q.UseCode(ctx, p.ID, u.Sub, purpose, hash, s.now(), MaxCodeAttempts)
		if err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		outcome = o
		if o != store.CodeOK {
			return nil // commit the attempt
		}
		if err := q.UndoThrottle(ctx, p.ID, counter, s.now()); err != nil {
			return fmt.Errorf("undo code attempt: %w", err)
		}
		return apply(q)
	})
	if err != nil {
		return err
	}
	if outcome != store.CodeOK {
		if p.PreventUserExistenceErrors {
			return errCodeMismatch
		}
		return codeError(outcome)
	}
	return nil
}

// Code throttles (docs/security.md, section L), shared by every node
// through the database except the per-address one:
//
//   - failed code guesses per user (or unknown name) and purpose:
//     CodeFailureLimit per CodeFailureWindow, whatever codes were sent
//     meanwhile (a new code resets only the code's own MaxCodeAttempts);
//   - codes sent per user (or unknown name) and purpose, on the
//     self-service requests (ForgotPassword, ResendConfirmationCode,
//     GetUserAttributeVerificationCode): CodeIssueLimit per CodeIssueWindow;
//   - codes asked for from one client address (IPv6 by /64) on a pool,
//     per process: IssueIPBurst at once, then one per IssueIPEvery.
//
// Past a limit the answer is limit_exceeded "Attempt limit exceeded,
// please try after some time." (Cognito's LimitExceededException) with
// RetryAfter. With PreventUserExistenceErrors a name that matches no user
// is counted under a keyed hash of the name, so it is throttled exactly
// like a real account and the answers cannot tell them apart.
const (
	CodeFailureLimit  = 10
	CodeFailureWindow = time.Hour
	CodeIssueLimit    = 5
	CodeIssueWindow   = time.Hour
	IssueIPBurst      = 20
	IssueIPEvery      = time.Minute
)

// limitExceeded is Cognito's answer to a throttled code request or guess.
func limitExceeded(wait time.Duration) error {
	return &identity.Error{Code: identity.CodeLimitExceeded,
		Message: "Attempt limit exceeded, please try after some time.", RetryAfter: wait}
}

// userSubject and nameSubject name what a code throttle counts: a user,
// or (with PreventUserExistenceErrors) a name that matches no user, as a
// keyed hash so that guessed names are not stored.
func userSubject(u *identity.User) string { return "sub:" + u.Sub }

func nameSubject(p *identity.Pool, username string) string {
	return "name:" + sha256Hex(p.ID, "throttle-name", normalizeUsername(username))[:32]
}

// countCodeAttempt counts one code guess for subject and purpose in q's
// transaction and returns the counter's name; limit_exceeded past
// CodeFailureLimit (the guess is then not compared).
func (s *Service) countCodeAttempt(ctx context.Context, q store.Querier, p *identity.Pool, purpose identity.CodePurpose, subject string) (string, error) {
	name := "code_fail:" + string(purpose) + ":" + subject
	now := s.now()
	n, end, err := q.HitThrottle(ctx, p.ID, name, now, CodeFailureWindow)
	if err != nil {
		return "", fmt.Errorf("count code attempt: %w", err)
	}
	if n > CodeFailureLimit {
		return "", limitExceeded(end.Sub(now))
	}
	return name, nil
}

// countCodeIssue counts one code email asked for subject and purpose in
// q's transaction; limit_exceeded past CodeIssueLimit.
func (s *Service) countCodeIssue(ctx context.Context, q store.Querier, p *identity.Pool, purpose identity.CodePurpose, subject string) error {
	now := s.now()
	n, end, err := q.HitThrottle(ctx, p.ID, "code_issue:"+string(purpose)+":"+subject, now, CodeIssueWindow)
	if err != nil {
		return fmt.Errorf("count code issue: %w", err)
	}
	if n > CodeIssueLimit {
		return limitExceeded(end.Sub(now))
	}
	// Through q: another connection would wait for this transaction's
	// (SQLite's single writer).
	s.runPurge(ctx, &s.throttlePurge, now, func() (int, error) { return q.DeleteExpiredThrottles(ctx, now) })
	return nil
}

// checkIssueIP applies the per-address limit on code requests (before
// anything is looked up, so it answers the same for every name). A
// request without an address (CLI, in-process callers) is not limited.
func (s *Service) checkIssueIP(p *identity.Pool, meta RequestMeta) error {
	if meta.IP == "" {
		return nil
	}
	if ok, wait := s.issueByIP.Allow(p.ID+"|"+ratelimit.IPKey(meta.IP), s.now()); !ok {
		return limitExceeded(wait)
	}
	return nil
}

// unknownCodeAttempt is a code guess for a name that matches no user
// (PreventUserExistenceErrors): counted under the name like a real user's
// guess and audited, in one transaction; code_mismatch, or limit_exceeded
// past the window's limit, as for a real user.
func (s *Service) unknownCodeAttempt(ctx context.Context, p *identity.Pool, purpose identity.CodePurpose, action, username string) error {
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if _, err := s.countCodeAttempt(ctx, q, p, purpose, nameSubject(p, username)); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, action, "username:"+safeEcho(normalizeUsername(username)), nil)
	})
	if err != nil {
		return err
	}
	return errCodeMismatch
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
