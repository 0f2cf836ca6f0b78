package auth

import (
	"context"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// EmailStatuses are the delivery states of an outbox email
// (internal/mail's state machine).
var EmailStatuses = []string{identity.EmailQueued, identity.EmailSending, identity.EmailSent, identity.EmailRetrying,
	identity.EmailDead, identity.EmailDiscarded}

// Outbox list limits.
const (
	DefaultEmailLimit = 60
	MaxEmailLimit     = store.MaxPageLimit
)

// ListEmails lists the outbox (dev mailbox, console), newest first.
// poolID "" lists every pool's emails; status "" every status, otherwise one
// of EmailStatuses. limit
// 1..1000, 0: 60. Emails hold one-time codes and temporary passwords, so
// callers must restrict this to administrators (or the dev mailbox).
//
// Errors: invalid_parameter (status, limit, token).
func (s *Service) ListEmails(ctx context.Context, poolID, status string, limit int, token string) ([]*identity.Email, string, error) {
	if status != "" && !contains(EmailStatuses, status) {
		return nil, "", identity.FieldError("status", "The status must be one of %s.", strings.Join(EmailStatuses, ", "))
	}
	n := limit
	if n == 0 {
		n = DefaultEmailLimit
	}
	if n < 1 || n > MaxEmailLimit {
		return nil, "", identity.FieldError("limit", "The limit must be between 1 and %d.", MaxEmailLimit)
	}
	es, next, err := s.cfg.Store.ListEmails(ctx, poolID, status, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list emails", err)
	}
	return es, next, nil
}
