package web

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// consoleNames maps the "user:<sub>" and "console:<sub>" actors and
// subjects of events to "<prefix><username>" for display, for a pool
// admin (auth.ConsoleUsernames); ids of users that are gone, and other
// ids, are left out (shown as they are). At most 200 distinct ids are
// looked up.
//
// Errors: forbidden.
func (w *Web) consoleNames(c *consoleReq, events []*identity.AuditEvent) (map[string]string, error) {
	type named struct{ id, prefix, sub string }
	var ids []named
	var subs []string
	seen := map[string]bool{}
	for _, e := range events {
		for _, id := range []string{e.Actor, e.Subject} {
			if seen[id] || len(seen) >= 200 {
				continue
			}
			seen[id] = true
			for _, prefix := range []string{"user:", auth.ConsoleActorPrefix} {
				if sub, ok := strings.CutPrefix(id, prefix); ok {
					ids = append(ids, named{id, prefix, sub})
					subs = append(subs, sub)
					break
				}
			}
		}
	}
	usernames, err := w.svc.ConsoleUsernames(c.ctx, c.pool.ID, subs)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range ids {
		if u, ok := usernames[n.sub]; ok {
			out[n.id] = n.prefix + u
		}
	}
	return out, nil
}
