package retention_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/retention"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// TestRun, on each database: rows past their pool's retention are gone
// (audit events, finished emails, jobs and registrations; a pool's own
// shorter setting applies to it only), recent and unfinished ones stay,
// rows of no pool follow the defaults, and the archive holds exactly the
// audit events that were pruned. Batches smaller than the work make the
// run loop.
func TestRun(t *testing.T) {
	for _, be := range storetest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			testRun(t, be.Open(t))
		})
	}
}

func testRun(t *testing.T, st store.Store) {
	ctx := t.Context()
	mk := func(id string, rs identity.RetentionSettings) {
		p := &identity.Pool{ID: id, Name: id, UsernameMode: identity.UsernameEmail,
			PasswordPolicy: identity.DefaultPasswordPolicy(), SigningAlg: "ES256", MaxFailedAttempts: 5,
			LockoutDuration: time.Minute, CreatedAt: now, UpdatedAt: now}
		p.Settings.Retention = rs
		if err := st.CreatePool(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mk("eu-west-1_def", identity.RetentionSettings{})                              // defaults: audit 400 days
	mk("eu-west-1_short", identity.RetentionSettings{AuditDays: 10, EmailDays: 1}) // shorter
	mk("eu-west-1_keep", identity.RetentionSettings{AuditDays: -1})                // forever

	audit := func(pool, action string, at time.Time) {
		t.Helper()
		if err := st.InsertAudit(ctx, &identity.AuditEvent{PoolID: pool, Time: at, Actor: "cli", Action: action,
			Detail: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 7 { // 7 old events in the default pool: more than a batch of 3
		audit("eu-west-1_def", fmt.Sprintf("old.%d", i), days(401+i))
	}
	audit("eu-west-1_def", "recent", days(399))
	audit("eu-west-1_short", "old.short", days(11))
	audit("eu-west-1_short", "recent.short", days(9))
	audit("eu-west-1_keep", "ancient.keep", days(5000))
	audit("eu-west-1_gone", "old.deleted-pool", days(401)) // a deleted pool's row: defaults
	audit("eu-west-1_gone", "recent.deleted-pool", days(10))

	email := func(pool, status string, at time.Time) int64 {
		t.Helper()
		e := &identity.Email{PoolID: pool, To: "a@example.com", Subject: "s", Template: "t", Status: status, CreatedAt: at}
		if err := st.InsertEmail(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	sentOld := email("eu-west-1_def", identity.EmailSent, days(31))
	queuedOld := email("eu-west-1_def", identity.EmailQueued, days(31))
	sentRecent := email("eu-west-1_def", identity.EmailSent, days(29))
	shortSent := email("eu-west-1_short", identity.EmailSent, days(2))

	db := st.(*sqlstore.DB)
	db.SetClock(func() time.Time { return days(31) })
	job := func(state string) int64 {
		j := &identity.Job{PoolID: "eu-west-1_def", Kind: "test.kind", State: state, RunAt: days(31)}
		if err := st.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	doneOld, pendingOld := job(identity.JobDone), job(identity.JobPending)
	db.SetClock(func() time.Time { return now })
	doneRecent := job(identity.JobDone)

	reg := func(id string, state identity.RegistrationState, at time.Time) {
		if err := st.CreateRegistration(ctx, &identity.RegistrationRequest{ID: id, PoolID: "eu-west-1_def", UserSub: "s-" + id,
			State: state, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	reg("reg_old_denied", identity.RegDenied, days(401))
	reg("reg_old_pending", identity.RegPending, days(401))
	reg("reg_recent_approved", identity.RegApproved, days(10))

	var archive bytes.Buffer
	res, err := retention.Run(ctx, retention.Options{Store: st, Now: func() time.Time { return now }, Batch: 3, Pause: time.Microsecond, Archive: &archive})
	if err != nil {
		t.Fatal(err)
	}
	if res["audit_events"] != 9 || res["emails"] != 2 || res["jobs"] != 1 || res["registrations"] != 1 {
		t.Errorf("result = %v", res)
	}

	// The archive holds exactly the pruned audit events.
	var archived []string
	sc := bufio.NewScanner(&archive)
	for sc.Scan() {
		var e retention.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("archive line %q: %v", sc.Text(), err)
		}
		if e.Detail["k"] != "v" || e.Time.IsZero() || e.ID == 0 {
			t.Errorf("archived event %+v", e)
		}
		archived = append(archived, e.Action)
	}
	want := map[string]bool{"old.short": true, "old.deleted-pool": true}
	for i := range 7 {
		want[fmt.Sprintf("old.%d", i)] = true
	}
	if len(archived) != len(want) {
		t.Errorf("archived %v, want %d events", archived, len(want))
	}
	for _, a := range archived {
		if !want[a] {
			t.Errorf("archived %q, which must stay", a)
		}
	}
	left, _, err := st.ListAudit(ctx, store.AuditFilter{}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, e := range left {
		kept[e.Action] = true
	}
	for _, a := range []string{"recent", "recent.short", "ancient.keep", "recent.deleted-pool"} {
		if !kept[a] {
			t.Errorf("audit event %q was pruned", a)
		}
	}
	if len(left) != 4 {
		t.Errorf("%d audit events left, want 4", len(left))
	}

	for id, wantKept := range map[int64]bool{sentOld: false, queuedOld: true, sentRecent: true, shortSent: false} {
		_, err := st.GetEmail(ctx, id)
		if gotKept := err == nil; gotKept != wantKept {
			t.Errorf("email %d kept = %v, want %v (%v)", id, gotKept, wantKept, err)
		}
	}
	for id, wantKept := range map[int64]bool{doneOld: false, pendingOld: true, doneRecent: true} {
		_, err := st.GetJob(ctx, id)
		if gotKept := err == nil; gotKept != wantKept {
			t.Errorf("job %d kept = %v, want %v (%v)", id, gotKept, wantKept, err)
		}
	}
	for id, wantKept := range map[string]bool{"reg_old_denied": false, "reg_old_pending": true, "reg_recent_approved": true} {
		_, err := st.GetRegistration(ctx, "eu-west-1_def", id)
		if gotKept := err == nil; gotKept != wantKept {
			t.Errorf("registration %s kept = %v, want %v (%v)", id, gotKept, wantKept, err)
		}
	}

	// A second run finds nothing.
	res, err = retention.Run(ctx, retention.Options{Store: st, Now: func() time.Time { return now }})
	if err != nil || len(res) != 0 {
		t.Errorf("second run = %v, %v", res, err)
	}

	stats, err := st.TableStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Table == "audit_events" && (s.Rows != 4 || !s.Oldest.Equal(days(5000))) {
			t.Errorf("audit stats = %+v", s)
		}
	}
}

// TestCollector reports rows and the oldest row's age per table, from
// the database, and serves a scrape within the cache time from the cache.
func TestCollector(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	if err := st.InsertAudit(t.Context(), &identity.AuditEvent{Time: days(3), Actor: "cli", Action: "a"}); err != nil {
		t.Fatal(err)
	}
	clock := now
	c := retention.NewCollector(st, func() time.Time { return clock })
	gather := func() map[string]float64 {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				out[mf.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	got := gather()
	if got["gatehouse_table_rows/audit_events"] != 1 || got["gatehouse_table_oldest_row_age_seconds/audit_events"] != 3*86400 {
		t.Errorf("metrics = %v", got)
	}
	if _, ok := got["gatehouse_table_oldest_row_age_seconds/users"]; ok || got["gatehouse_table_rows/users"] != 0 {
		t.Errorf("empty users table: %v", got)
	}
	if err := st.InsertAudit(t.Context(), &identity.AuditEvent{Time: days(1), Actor: "cli", Action: "b"}); err != nil {
		t.Fatal(err)
	}
	if got := gather(); got["gatehouse_table_rows/audit_events"] != 1 {
		t.Errorf("within the cache time: %v", got["gatehouse_table_rows/audit_events"])
	}
	clock = clock.Add(time.Minute)
	if got := gather(); got["gatehouse_table_rows/audit_events"] != 2 {
		t.Errorf("after the cache time: %v", got["gatehouse_table_rows/audit_events"])
	}
}
