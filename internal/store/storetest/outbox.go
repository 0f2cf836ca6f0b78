package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testEmails(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_em"
	mustPool(t, s, pool)
	e := &identity.Email{PoolID: pool, To: "a@example.com", Subject: "Your code", Text: "123456",
		HTML: "<p>123456</p>", Template: "signup_code", CreatedAt: t0}
	noErr(t, "InsertEmail", s.InsertEmail(c, e))
	if e.ID == 0 || e.Status != identity.EmailQueued {
		t.Fatalf("InsertEmail: id %d status %q", e.ID, e.Status)
	}
	got, err := s.GetEmail(c, e.ID)
	noErr(t, "GetEmail", err)
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("GetEmail =\n%+v\nwant\n%+v", got, e)
	}
	_, err = s.GetEmail(c, e.ID+1000)
	wantErr(t, "GetEmail missing", err, store.ErrNotFound)
	wantErr(t, "InsertEmail missing pool", s.InsertEmail(c, &identity.Email{PoolID: "eu-west-1_none", To: "x"}), store.ErrNotFound)

	e.Status, e.Attempts, e.LastError, e.SentAt = identity.EmailSent, 2, "421 try later", t0.Add(time.Minute)
	noErr(t, "UpdateEmail", s.UpdateEmail(c, e))
	got, _ = s.GetEmail(c, e.ID)
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("GetEmail after update =\n%+v\nwant\n%+v", got, e)
	}
	wantErr(t, "UpdateEmail missing", s.UpdateEmail(c, &identity.Email{ID: e.ID + 1000}), store.ErrNotFound)

	// A system email without a pool, and more of the pool's.
	sys := &identity.Email{To: "ops@example.com", Subject: "system", CreatedAt: t0}
	noErr(t, "InsertEmail no pool", s.InsertEmail(c, sys))
	ids := []int64{sys.ID, e.ID}
	for i := 0; i < 4; i++ {
		x := &identity.Email{PoolID: pool, To: "b@example.com", Status: identity.EmailDead}
		noErr(t, "InsertEmail", s.InsertEmail(c, x))
		ids = append(ids, x.ID)
	}
	if !(ids[0] > ids[1] && ids[2] > ids[0]) {
		t.Fatalf("email ids not increasing: %v", ids)
	}
	var all []int64
	for _, page := range pageAll(t, 2, func(p store.Page) ([]*identity.Email, string, error) { return s.ListEmails(c, "", "", p) }) {
		for _, x := range page {
			all = append(all, x.ID)
		}
	}
	want := []int64{ids[5], ids[4], ids[3], ids[2], ids[0], ids[1]}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("ListEmails = %v, want newest first %v", all, want)
	}
	list, _, err := s.ListEmails(c, pool, "", store.Page{})
	noErr(t, "ListEmails pool", err)
	if len(list) != 5 {
		t.Errorf("ListEmails pool: %d", len(list))
	}
	list, _, err = s.ListEmails(c, pool, identity.EmailSent, store.Page{})
	noErr(t, "ListEmails status", err)
	if len(list) != 1 || list[0].ID != e.ID {
		t.Errorf("ListEmails sent = %v", list)
	}
	list, _, _ = s.ListEmails(c, "", identity.EmailDead, store.Page{Limit: 3})
	if len(list) != 3 {
		t.Errorf("ListEmails dead limit 3: %d", len(list))
	}
	got, _ = s.GetEmail(c, sys.ID)
	if got.PoolID != "" {
		t.Errorf("system email pool = %q", got.PoolID)
	}
}

func testJobs(t *testing.T, s store.Store) {
	c := ctx(t)
	lease := 30 * time.Second
	mk := func(kind string, runAt time.Time) *identity.Job {
		t.Helper()
		j := &identity.Job{Kind: kind, Payload: []byte(`{"k":"` + kind + `"}`), RunAt: runAt, MaxAttempts: 5, CreatedAt: t0, UpdatedAt: t0}
		noErr(t, "EnqueueJob", s.EnqueueJob(c, j))
		if j.ID == 0 || j.State != identity.JobPending {
			t.Fatalf("EnqueueJob: id %d state %q", j.ID, j.State)
		}
		return j
	}
	a := mk("a", t0)
	b := mk("b", t0.Add(-time.Minute)) // due earlier: claimed first
	future := mk("future", t0.Add(time.Hour))
	got, err := s.GetJob(c, a.ID)
	noErr(t, "GetJob", err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetJob =\n%+v\nwant\n%+v", got, a)
	}
	_, err = s.GetJob(c, future.ID+100)
	wantErr(t, "GetJob missing", err, store.ErrNotFound)

	if n, _ := s.CountJobs(c, identity.JobPending); n != 3 {
		t.Errorf("CountJobs pending = %d", n)
	}
	claimed, err := s.ClaimJobs(c, "w1", t0, lease, 1)
	noErr(t, "ClaimJobs", err)
	if len(claimed) != 1 || claimed[0].ID != b.ID {
		t.Fatalf("ClaimJobs limit 1 = %+v, want job b", claimed)
	}
	j := claimed[0]
	if j.State != identity.JobRunning || j.LockedBy != "w1" || j.Attempts != 1 || !j.LockedUntil.Equal(t0.Add(lease)) {
		t.Errorf("claimed job: %+v", j)
	}
	if string(j.Payload) != `{"k":"b"}` {
		t.Errorf("payload %q", j.Payload)
	}
	claimed, err = s.ClaimJobs(c, "w2", t0, lease, 10)
	noErr(t, "ClaimJobs", err)
	if len(claimed) != 1 || claimed[0].ID != a.ID {
		t.Fatalf("second ClaimJobs = %+v, want job a only", claimed)
	}
	claimed, _ = s.ClaimJobs(c, "w3", t0, lease, 10)
	if len(claimed) != 0 {
		t.Fatalf("third ClaimJobs = %d jobs, want none", len(claimed))
	}
	if n, _ := s.CountJobs(c, identity.JobRunning); n != 2 {
		t.Errorf("CountJobs running = %d", n)
	}
	if claimed, _ := s.ClaimJobs(c, "w3", t0, lease, 0); len(claimed) != 0 {
		t.Error("ClaimJobs limit 0 claimed jobs")
	}

	// Only the holder completes or fails a job.
	wantErr(t, "CompleteJob by another worker", s.CompleteJob(c, b.ID, "w2", t0), store.ErrNotFound)
	noErr(t, "CompleteJob", s.CompleteJob(c, b.ID, "w1", t0.Add(time.Second)))
	wantErr(t, "CompleteJob twice", s.CompleteJob(c, b.ID, "w1", t0), store.ErrNotFound)
	got, _ = s.GetJob(c, b.ID)
	if got.State != identity.JobDone || got.LockedBy != "" || !got.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("completed job: %+v", got)
	}
	wantErr(t, "CompleteJob missing", s.CompleteJob(c, 999999, "w1", t0), store.ErrNotFound)

	// FailJob with retry: pending again at retryAt, claimable then.
	wantErr(t, "FailJob by another worker", s.FailJob(c, a.ID, "w1", "boom", t0.Add(time.Minute), t0), store.ErrNotFound)
	noErr(t, "FailJob retry", s.FailJob(c, a.ID, "w2", "boom", t0.Add(time.Minute), t0))
	got, _ = s.GetJob(c, a.ID)
	if got.State != identity.JobPending || got.LastError != "boom" || !got.RunAt.Equal(t0.Add(time.Minute)) || got.LockedBy != "" {
		t.Errorf("failed job: %+v", got)
	}
	if claimed, _ := s.ClaimJobs(c, "w1", t0.Add(59*time.Second), lease, 10); len(claimed) != 0 {
		t.Errorf("claimed a job before its retry time: %+v", claimed)
	}
	claimed, _ = s.ClaimJobs(c, "w1", t0.Add(time.Minute), lease, 10)
	if len(claimed) != 1 || claimed[0].ID != a.ID || claimed[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v", claimed)
	}
	// FailJob without retry: dead.
	noErr(t, "FailJob dead", s.FailJob(c, a.ID, "w1", "fatal", time.Time{}, t0.Add(time.Minute)))
	got, _ = s.GetJob(c, a.ID)
	if got.State != identity.JobDead || got.LastError != "fatal" {
		t.Errorf("dead job: %+v", got)
	}

	// An expired lease is reclaimed by another worker; the first worker
	// has lost it.
	claimed, _ = s.ClaimJobs(c, "w1", t0.Add(time.Hour), lease, 10)
	if len(claimed) != 1 || claimed[0].ID != future.ID {
		t.Fatalf("claim future = %+v", claimed)
	}
	if claimed, _ := s.ClaimJobs(c, "w2", t0.Add(time.Hour+lease-time.Millisecond), lease, 10); len(claimed) != 0 {
		t.Fatalf("lease reclaimed before expiry: %+v", claimed)
	}
	claimed, _ = s.ClaimJobs(c, "w2", t0.Add(time.Hour+lease), lease, 10)
	if len(claimed) != 1 || claimed[0].ID != future.ID || claimed[0].LockedBy != "w2" || claimed[0].Attempts != 2 {
		t.Fatalf("reclaim = %+v", claimed)
	}
	wantErr(t, "CompleteJob after losing the lease", s.CompleteJob(c, future.ID, "w1", t0), store.ErrNotFound)
	wantErr(t, "FailJob after losing the lease", s.FailJob(c, future.ID, "w1", "x", time.Time{}, t0), store.ErrNotFound)
	noErr(t, "CompleteJob by new holder", s.CompleteJob(c, future.ID, "w2", t0))

	counts := map[string]int{identity.JobDone: 2, identity.JobDead: 1, identity.JobPending: 0, identity.JobRunning: 0, "": 3}
	for state, want := range counts {
		if n, err := s.CountJobs(c, state); err != nil || n != want {
			t.Errorf("CountJobs(%q) = %d, %v; want %d", state, n, err, want)
		}
	}
}

func testAudit(t *testing.T, s store.Store) {
	c := ctx(t)
	events := []*identity.AuditEvent{
		{PoolID: "p1", Time: t0, Actor: "user:a", Action: "user.sign_up", Subject: "user:a", Detail: map[string]string{"ip": "x", "k": "v"}, IP: "192.0.2.1"},
		{PoolID: "p1", Time: t0.Add(time.Second), Actor: "admin-key:k", Via: "api", Action: "user.disable", Subject: "user:a"},
		{PoolID: "p2", Time: t0.Add(2 * time.Second), Actor: "cli", Action: "pool.create", Subject: "pool:p2"},
		{Time: t0.Add(3 * time.Second), Actor: "system", Action: "keys.rotate"},
	}
	for _, e := range events {
		noErr(t, "InsertAudit", s.InsertAudit(c, e))
		if e.ID == 0 {
			t.Fatal("InsertAudit did not set ID")
		}
	}
	list, next, err := s.ListAudit(c, store.AuditFilter{}, store.Page{})
	noErr(t, "ListAudit", err)
	if next != "" || len(list) != 4 {
		t.Fatalf("ListAudit: %d, next %q", len(list), next)
	}
	if !reflect.DeepEqual(list, []*identity.AuditEvent{events[3], events[2], events[1], events[0]}) {
		t.Errorf("ListAudit =\n%+v", list)
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int
	}{
		{"pool", store.AuditFilter{PoolID: "p1"}, []int{1, 0}},
		{"actor", store.AuditFilter{Actor: "cli"}, []int{2}},
		{"subject", store.AuditFilter{Subject: "user:a"}, []int{1, 0}},
		{"action", store.AuditFilter{Action: "user.disable"}, []int{1}},
		{"since inclusive", store.AuditFilter{Since: t0.Add(time.Second)}, []int{3, 2, 1}},
		{"until exclusive", store.AuditFilter{Until: t0.Add(2 * time.Second)}, []int{1, 0}},
		{"combined", store.AuditFilter{PoolID: "p1", Since: t0.Add(time.Second), Action: "user.disable"}, []int{1}},
		{"none", store.AuditFilter{PoolID: "p3"}, nil},
	}
	for _, tc := range tests {
		list, _, err := s.ListAudit(c, tc.f, store.Page{})
		noErr(t, "ListAudit "+tc.name, err)
		var got []int
		for _, e := range list {
			for i, want := range events {
				if e.ID == want.ID {
					got = append(got, i)
				}
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListAudit %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	var ids []int64
	for _, page := range pageAll(t, 3, func(p store.Page) ([]*identity.AuditEvent, string, error) {
		return s.ListAudit(c, store.AuditFilter{}, p)
	}) {
		for _, e := range page {
			ids = append(ids, e.ID)
		}
	}
	if want := []int64{events[3].ID, events[2].ID, events[1].ID, events[0].ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("paged ListAudit = %v, want %v", ids, want)
	}
}
