// Package retention deletes the rows that only record the past once they
// are older than their pool keeps them (identity.RetentionSettings:
// audit events, sent/dead/discarded emails, finished jobs, decided
// registrations), and the expired rows of the token tables (refresh
// tokens past store retention, revoked sign-ins, OAuth codes, throttle
// windows).
//
// Deletes go in small batches (Options.Batch rows, one statement each,
// oldest first) with a pause between them, so requests interleave with a
// run on both databases and no batch holds SQLite's write lock for long.
// Audit events are read, handed to Options.Archive (JSON lines), and only
// then deleted by id, so an archive holds exactly what was pruned. After a
// run, free pages are given back to the file system where the database can
// do so without a full rewrite (SQLite with auto_vacuum=INCREMENTAL, which
// `gatehouse db vacuum` sets up once).
package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// RefreshTokenRetention mirrors auth.RefreshTokenRetention: how long an
// expired refresh token is kept to answer "expired" rather than "invalid".
const RefreshTokenRetention = 7 * 24 * time.Hour

// Options configures one run.
type Options struct {
	Store store.Store
	Now   func() time.Time
	// Batch is the rows per delete statement (default 500).
	Batch int
	// Pause between batches (default 5ms), so requests get the database.
	Pause time.Duration
	// Archive, if set, receives every pruned audit event as one JSON line
	// (the form of `gatehouse audit export`) before it is deleted.
	Archive io.Writer
}

// Result counts what a run deleted, by table.
type Result map[string]int

// Reclaimer is implemented by stores that can give free pages back
// cheaply after deletes (sqlstore.DB).
type Reclaimer interface {
	Reclaim(ctx context.Context) error
}

// Run deletes, pool by pool, what each pool's retention allows, then the
// rows of no pool by the defaults, then the expired token rows.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Pause == 0 {
		o.Pause = 5 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &run{o: o, res: Result{}, now: o.Now()}
	var token string
	for {
		pools, next, err := o.Store.ListPools(ctx, store.Page{Token: token, Limit: 60})
		if err != nil {
			return r.res, fmt.Errorf("retention: list pools: %w", err)
		}
		for _, p := range pools {
			if err := r.pool(ctx, p.ID, p.Settings.Retention.Effective()); err != nil {
				return r.res, err
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	if err := r.pool(ctx, "", identity.DefaultRetention); err != nil {
		return r.res, err
	}
	if err := r.expired(ctx); err != nil {
		return r.res, err
	}
	if rc, ok := o.Store.(Reclaimer); ok {
		if err := rc.Reclaim(ctx); err != nil {
			return r.res, fmt.Errorf("retention: reclaim free pages: %w", err)
		}
	}
	return r.res, nil
}

type run struct {
	o   Options
	res Result
	now time.Time
}

// loop calls batch until it deletes fewer than a full batch, pausing
// between calls, and adds the count to table.
func (r *run) loop(ctx context.Context, table string, batch func() (int, error)) error {
	for {
		n, err := batch()
		if err != nil {
			return fmt.Errorf("retention: %s: %w", table, err)
		}
		if n > 0 {
			r.res[table] += n
		}
		if n < r.o.Batch {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.o.Pause):
		}
	}
}

// pool prunes the rows of poolID ("" = of no pool) by rs.
func (r *run) pool(ctx context.Context, poolID string, rs identity.RetentionSettings) error {
	if cut, ok := identity.Cutoff(r.now, rs.AuditDays); ok {
		if err := r.loop(ctx, "audit_events", func() (int, error) { return r.audit(ctx, poolID, cut) }); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		table store.PruneTable
		days  int
	}{{store.PruneEmails, rs.EmailDays}, {store.PruneJobs, rs.JobDays}, {store.PruneRegistrations, rs.RegistrationDays}} {
		cut, ok := identity.Cutoff(r.now, t.days)
		if !ok {
			continue
		}
		err := r.loop(ctx, string(t.table), func() (int, error) {
			return r.o.Store.PruneFinished(ctx, t.table, poolID, cut, r.o.Batch)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// audit archives, then deletes, one batch of old audit events.
func (r *run) audit(ctx context.Context, poolID string, cut time.Time) (int, error) {
	evs, err := r.o.Store.OldAuditEvents(ctx, poolID, cut, r.o.Batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	if r.o.Archive != nil {
		if err := WriteJSONLines(r.o.Archive, evs); err != nil {
			return 0, fmt.Errorf("archive: %w", err)
		}
	}
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	if _, err := r.o.Store.DeleteAuditEvents(ctx, ids); err != nil {
		return 0, err
	}
	return len(evs), nil
}

// expired deletes the expired rows of the token tables. Their store
// methods delete up to 1000 rows a call.
func (r *run) expired(ctx context.Context) error {
	st := r.o.Store
	for _, t := range []struct {
		table string
		del   func() (int, error)
	}{
		{"refresh_tokens", func() (int, error) { return st.DeleteExpiredRefreshTokens(ctx, r.now.Add(-RefreshTokenRetention)) }},
		{"sign_ins", func() (int, error) { return st.DeleteExpiredSignIns(ctx, r.now.Add(-RefreshTokenRetention)) }},
		{"revoked_origins", func() (int, error) { return st.DeleteExpiredRevokedOrigins(ctx, r.now) }},
		{"oauth_codes", func() (int, error) { return st.DeleteExpiredOAuthCodes(ctx, r.now) }},
		{"oidc_sessions", func() (int, error) { return st.DeleteExpiredOIDCSessions(ctx, r.now) }},
		{"throttles", func() (int, error) { return st.DeleteExpiredThrottles(ctx, r.now) }},
	} {
		for {
			n, err := t.del()
			if err != nil {
				return fmt.Errorf("retention: %s: %w", t.table, err)
			}
			if n > 0 {
				r.res[t.table] += n
			}
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
	}
	return ctx.Err()
}

// Event is the JSON-lines form of one audit event (`gatehouse audit
// export`, retention archives).
type Event struct {
	ID      int64             `json:"id"`
	PoolID  string            `json:"pool_id"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Via     string            `json:"via,omitempty"`
	Action  string            `json:"action"`
	Subject string            `json:"subject,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
	IP      string            `json:"ip,omitempty"`
}

// WriteJSONLines writes evs to w, one JSON object a line.
func WriteJSONLines(w io.Writer, evs []*identity.AuditEvent) error {
	enc := json.NewEncoder(w)
	for _, e := range evs {
		if err := enc.Encode(Event{ID: e.ID, PoolID: e.PoolID, Time: e.Time.UTC(), Actor: e.Actor, Via: e.Via,
			Action: e.Action, Subject: e.Subject, Detail: e.Detail, IP: e.IP}); err != nil {
			return err
		}
	}
	return nil
}
