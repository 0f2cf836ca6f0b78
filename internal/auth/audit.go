package auth

import (
	"context"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Audit list limits: larger than the user-facing lists, as the log is read
// by operators and tools.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = store.MaxPageLimit
)

// AuditQuery filters the audit log; zero fields match all.
type AuditQuery struct {
	PoolID, Actor, Subject, Action string
	// Since (inclusive) and Until (exclusive) bound the time; zero: open.
	Since, Until time.Time
	Limit        int // 1..1000, 0: 100
	Token        string
}

// Audit lists audit events matching f, newest first as the store orders
// them. Events of deleted pools remain listed.
//
// Errors: invalid_parameter (limit, token).
func (s *Service) Audit(ctx context.Context, f AuditQuery) ([]*identity.AuditEvent, string, error) {
	n := f.Limit
	if n == 0 {
		n = DefaultAuditLimit
	}
	if n < 1 || n > MaxAuditLimit {
		return nil, "", identity.FieldError("limit", "The limit must be between 1 and %d.", MaxAuditLimit)
	}
	evs, next, err := s.cfg.Store.ListAudit(ctx, store.AuditFilter{
		PoolID: f.PoolID, Actor: f.Actor, Subject: f.Subject, Action: f.Action, Since: f.Since, Until: f.Until,
	}, page{Limit: n, Token: f.Token})
	if err != nil {
		return nil, "", wrapStoreErr("list audit", err)
	}
	return normalizeEvents(evs), next, nil
}
