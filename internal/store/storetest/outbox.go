package storetest

import (
	"errors"
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

	// UpdateEmail replaces the content only, and only while queued.
	e.Subject, e.Text = "Your new code", "654321"
	e2 := *e
	e2.Status, e2.Attempts, e2.LastError = identity.EmailSent, 7, "ignored"
	noErr(t, "UpdateEmail", s.UpdateEmail(c, &e2))
	got, _ = s.GetEmail(c, e.ID)
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("GetEmail after update =\n%+v\nwant\n%+v", got, e)
	}
	wantErr(t, "UpdateEmail missing", s.UpdateEmail(c, &identity.Email{ID: e.ID + 1000}), store.ErrNotFound)
	noErr(t, "SetEmailJob", s.SetEmailJob(c, e.ID, 77))
	wantErr(t, "SetEmailJob missing", s.SetEmailJob(c, e.ID+1000, 77), store.ErrNotFound)
	if got, _ := s.GetEmail(c, e.ID); got.JobID != 77 {
		t.Errorf("JobID = %d", got.JobID)
	}

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
	list, _, err = s.ListEmails(c, pool, identity.EmailQueued, store.Page{})
	noErr(t, "ListEmails status", err)
	if len(list) != 1 || list[0].ID != e.ID {
		t.Errorf("ListEmails queued = %v", list)
	}
	list, _, _ = s.ListEmails(c, "", identity.EmailDead, store.Page{Limit: 3})
	if len(list) != 3 {
		t.Errorf("ListEmails dead limit 3: %d", len(list))
	}
	got, _ = s.GetEmail(c, sys.ID)
	if got.PoolID != "" {
		t.Errorf("system email pool = %q", got.PoolID)
	}
	counts, err := s.CountEmails(c, identity.EmailQueued, identity.EmailDead, identity.EmailSending)
	noErr(t, "CountEmails", err)
	if want := map[string]int{identity.EmailQueued: 2, identity.EmailDead: 4, identity.EmailSending: 0}; !reflect.DeepEqual(counts, want) {
		t.Errorf("CountEmails = %v, want %v", counts, want)
	}
	if counts, _ := s.CountEmails(c); counts[identity.EmailQueued] != 2 || len(counts) != 2 {
		t.Errorf("CountEmails() = %v", counts)
	}
}

// testEmailDelivery pins the compare-and-set statements of the delivery
// state machine (internal/mail): only the attempt holding its job's lease
// starts a send, an outcome lands only over the attempt that started it,
// and a discard wins over anything not sent.
func testEmailDelivery(t *testing.T, s store.Store) {
	c := ctx(t)
	clk := useClock(t, s)
	const pool = "eu-west-1_ed"
	mustPool(t, s, pool)
	lease := time.Minute
	newEmail := func() (*identity.Email, *identity.Job) {
		t.Helper()
		e := &identity.Email{PoolID: pool, To: "a@example.com", Template: "signup_code", CreatedAt: t0}
		noErr(t, "InsertEmail", s.InsertEmail(c, e))
		j := &identity.Job{PoolID: pool, Kind: "email.send", Payload: []byte("{}"), RunAt: t0, MaxAttempts: 3}
		noErr(t, "EnqueueJob", s.EnqueueJob(c, j))
		noErr(t, "SetEmailJob", s.SetEmailJob(c, e.ID, j.ID))
		return e, j
	}
	claim := func(worker string) *identity.Job {
		t.Helper()
		js, err := s.ClaimJobs(c, worker, []string{"email.send"}, lease, 1)
		noErr(t, "ClaimJobs", err)
		if len(js) != 1 {
			t.Fatalf("ClaimJobs by %s: %d jobs", worker, len(js))
		}
		return js[0]
	}
	start := func(e *identity.Email, j *identity.Job) bool {
		t.Helper()
		ok, err := s.StartEmailDelivery(c, e.ID, j.ID, j.Attempts, j.LockedBy)
		noErr(t, "StartEmailDelivery", err)
		return ok
	}
	move := func(tr store.EmailTransition) bool {
		t.Helper()
		ok, err := s.TransitionEmail(c, tr)
		noErr(t, "TransitionEmail", err)
		return ok
	}
	status := func(e *identity.Email) *identity.Email {
		t.Helper()
		got, err := s.GetEmail(c, e.ID)
		noErr(t, "GetEmail", err)
		return got
	}

	e, j := newEmail()
	if start(e, &identity.Job{ID: j.ID, Attempts: 1, LockedBy: "w1"}) {
		t.Fatal("a send started without a lease")
	}
	a1 := claim("w1")
	if start(e, &identity.Job{ID: a1.ID, Attempts: 1, LockedBy: "w2"}) {
		t.Fatal("another worker started the send")
	}
	if start(e, &identity.Job{ID: a1.ID + 1000, Attempts: 1, LockedBy: "w1"}) {
		t.Fatal("a send started for another job")
	}
	if !start(e, a1) {
		t.Fatal("the lease holder could not start the send")
	}
	if start(e, a1) {
		t.Fatal("one attempt started the send twice")
	}
	if got := status(e); got.Status != identity.EmailSending || got.JobAttempt != 1 || got.Attempts != 1 {
		t.Fatalf("after start: %+v", got)
	}
	// An outcome of another attempt, or from a wrong state, is refused.
	if move(store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailSending}, Attempt: 2, To: identity.EmailRetrying}) {
		t.Fatal("attempt 2 wrote over attempt 1")
	}
	if move(store.EmailTransition{ID: e.ID, JobID: j.ID + 1, From: []string{identity.EmailSending}, Attempt: 1, To: identity.EmailRetrying}) {
		t.Fatal("another job wrote over the email")
	}
	if !move(store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailSending}, Attempt: 1, To: identity.EmailRetrying, LastError: "451"}) {
		t.Fatal("attempt 1's failure not recorded")
	}
	if got := status(e); got.Status != identity.EmailRetrying || got.LastError != "451" {
		t.Fatalf("after failure: %+v", got)
	}
	noErr(t, "FailJob", s.FailJob(c, a1.ID, 1, "w1", "451", time.Second))

	// The lease of attempt 2 expires while it sends (the node stalled);
	// attempt 3 takes over and only it may record the outcome.
	clk.Advance(time.Second)
	a2 := claim("w1")
	if !start(e, a2) {
		t.Fatal("attempt 2 could not start")
	}
	clk.Advance(lease)
	if start(e, a2) {
		t.Fatal("an expired lease started a send")
	}
	a3 := claim("w2")
	if a3.Attempts != 3 || a3.Lost != 1 || a3.MaxAttempts != 4 {
		t.Fatalf("taken over: %+v", a3)
	}
	if !start(e, a3) {
		t.Fatal("attempt 3 could not take the send over")
	}
	if move(store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailSending}, Attempt: 2, To: identity.EmailSent}) {
		t.Fatal("the stale attempt recorded its outcome")
	}
	if !move(store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailSending}, Attempt: 3, To: identity.EmailSent}) {
		t.Fatal("attempt 3's success not recorded")
	}
	if got := status(e); got.Status != identity.EmailSent || !got.SentAt.Equal(clk.Now()) || got.Attempts != 3 {
		t.Fatalf("sent: %+v", got)
	}
	// Sent is final.
	for _, to := range []string{identity.EmailDiscarded, identity.EmailDead, identity.EmailQueued} {
		if move(store.EmailTransition{ID: e.ID, JobID: j.ID, From: []string{identity.EmailQueued, identity.EmailRetrying, identity.EmailSending, identity.EmailDead}, To: to}) {
			t.Fatalf("sent email moved to %s", to)
		}
	}
	if _, err := s.TransitionEmail(c, store.EmailTransition{ID: e.ID, To: identity.EmailSent}); err == nil {
		t.Error("a transition without From was accepted")
	}

	// Discard during a send: the sending attempt can no longer record a
	// failure over it, nor start again.
	e2, j2 := newEmail()
	b1 := claim("w1")
	if b1.ID != j2.ID || !start(e2, b1) {
		t.Fatal("second email: no start")
	}
	if !move(store.EmailTransition{ID: e2.ID, JobID: j2.ID, From: []string{identity.EmailQueued, identity.EmailRetrying, identity.EmailSending, identity.EmailDead}, To: identity.EmailDiscarded, LastError: "discarded by cli"}) {
		t.Fatal("discard refused")
	}
	if move(store.EmailTransition{ID: e2.ID, JobID: j2.ID, From: []string{identity.EmailSending}, Attempt: 1, To: identity.EmailRetrying}) {
		t.Fatal("a failure overwrote the discard")
	}
	if start(e2, b1) {
		t.Fatal("a discarded email started")
	}

	// An email written before emails were linked to their jobs is adopted
	// by the job that starts it.
	e3 := &identity.Email{PoolID: pool, To: "c@example.com", CreatedAt: t0}
	noErr(t, "InsertEmail", s.InsertEmail(c, e3))
	j3 := &identity.Job{PoolID: pool, Kind: "email.send", Payload: []byte("{}"), RunAt: t0, MaxAttempts: 3}
	noErr(t, "EnqueueJob", s.EnqueueJob(c, j3))
	c3 := claim("w1")
	if c3.ID != j3.ID || !start(e3, c3) {
		t.Fatal("unlinked email not adopted")
	}
	if got := status(e3); got.JobID != j3.ID {
		t.Fatalf("adopted: %+v", got)
	}
}

// testRearmDeadEmails: the bulk retry after an outage queues every dead
// email of the pool together with its job, and nothing else.
func testRearmDeadEmails(t *testing.T, s store.Store) {
	c := ctx(t)
	useClock(t, s)
	for _, p := range []string{"eu-west-1_rd", "eu-west-1_other"} {
		mustPool(t, s, p)
	}
	type pair struct {
		e *identity.Email
		j *identity.Job
	}
	mk := func(pool, status, state string) pair {
		t.Helper()
		j := &identity.Job{PoolID: pool, Kind: "email.send", State: state, Attempts: 8, MaxAttempts: 8, LastError: "550"}
		noErr(t, "EnqueueJob", s.EnqueueJob(c, j))
		e := &identity.Email{PoolID: pool, To: "a@example.com", Status: status, Attempts: 8, LastError: "550", JobID: j.ID}
		noErr(t, "InsertEmail", s.InsertEmail(c, e))
		return pair{e, j}
	}
	dead1 := mk("eu-west-1_rd", identity.EmailDead, identity.JobDead)
	dead2 := mk("eu-west-1_rd", identity.EmailDead, identity.JobDead)
	sent := mk("eu-west-1_rd", identity.EmailSent, identity.JobDone)
	discarded := mk("eu-west-1_rd", identity.EmailDiscarded, identity.JobDiscarded)
	other := mk("eu-west-1_other", identity.EmailDead, identity.JobDead)
	n, err := s.RearmDeadEmails(c, "eu-west-1_rd", "email.send", 5)
	noErr(t, "RearmDeadEmails", err)
	if n != 2 {
		t.Fatalf("RearmDeadEmails = %d, want 2", n)
	}
	for _, p := range []pair{dead1, dead2} {
		e, _ := s.GetEmail(c, p.e.ID)
		j, _ := s.GetJob(c, p.j.ID)
		if e.Status != identity.EmailQueued || j.State != identity.JobPending || j.MaxAttempts != 13 || !j.RunAt.Equal(t0) {
			t.Errorf("rearmed: email %+v job %+v", e, j)
		}
	}
	for _, p := range []pair{sent, discarded, other} {
		e, _ := s.GetEmail(c, p.e.ID)
		j, _ := s.GetJob(c, p.j.ID)
		if e.Status != p.e.Status || j.State != p.j.State {
			t.Errorf("untouched email %s/%s became %s/%s", p.e.Status, p.j.State, e.Status, j.State)
		}
	}
	if n, _ := s.RearmDeadEmails(c, "eu-west-1_rd", "email.send", 5); n != 0 {
		t.Errorf("second RearmDeadEmails = %d", n)
	}
}

func testJobs(t *testing.T, s store.Store) {
	c := ctx(t)
	clk := useClock(t, s)
	lease := 30 * time.Second
	kinds := []string{"a", "b", "future"}
	mk := func(kind string, runAt time.Time) *identity.Job {
		t.Helper()
		j := &identity.Job{Kind: kind, Payload: []byte(`{"k":"` + kind + `"}`), RunAt: runAt, MaxAttempts: 5}
		noErr(t, "EnqueueJob", s.EnqueueJob(c, j))
		if j.ID == 0 || j.State != identity.JobPending || !j.CreatedAt.Equal(t0) || !j.UpdatedAt.Equal(t0) {
			t.Fatalf("EnqueueJob: %+v", j)
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
	wantErr(t, "EnqueueJob missing pool", s.EnqueueJob(c, &identity.Job{PoolID: "eu-west-1_none", Kind: "a"}), store.ErrNotFound)

	if n, _ := s.CountJobs(c, identity.JobPending); n != 3 {
		t.Errorf("CountJobs pending = %d", n)
	}
	// Only the kinds asked for are claimed.
	if claimed, _ := s.ClaimJobs(c, "w1", []string{"other"}, lease, 10); len(claimed) != 0 {
		t.Fatalf("ClaimJobs of another kind = %+v", claimed)
	}
	if claimed, _ := s.ClaimJobs(c, "w1", nil, lease, 10); len(claimed) != 0 {
		t.Fatalf("ClaimJobs of no kind = %+v", claimed)
	}
	claimed, err := s.ClaimJobs(c, "w1", kinds, lease, 1)
	noErr(t, "ClaimJobs", err)
	if len(claimed) != 1 || claimed[0].ID != b.ID {
		t.Fatalf("ClaimJobs limit 1 = %+v, want job b", claimed)
	}
	j := claimed[0]
	if j.State != identity.JobRunning || j.LockedBy != "w1" || j.Attempts != 1 || !j.LockedUntil.Equal(t0.Add(lease)) || !j.UpdatedAt.Equal(t0) {
		t.Errorf("claimed job: %+v", j)
	}
	if string(j.Payload) != `{"k":"b"}` {
		t.Errorf("payload %q", j.Payload)
	}
	claimed, err = s.ClaimJobs(c, "w2", kinds, lease, 10)
	noErr(t, "ClaimJobs", err)
	if len(claimed) != 1 || claimed[0].ID != a.ID {
		t.Fatalf("second ClaimJobs = %+v, want job a only", claimed)
	}
	claimed, _ = s.ClaimJobs(c, "w3", kinds, lease, 10)
	if len(claimed) != 0 {
		t.Fatalf("third ClaimJobs = %d jobs, want none", len(claimed))
	}
	if n, _ := s.CountJobs(c, identity.JobRunning); n != 2 {
		t.Errorf("CountJobs running = %d", n)
	}
	if claimed, _ := s.ClaimJobs(c, "w3", kinds, lease, 0); len(claimed) != 0 {
		t.Error("ClaimJobs limit 0 claimed jobs")
	}

	// Only the current attempt of the holder completes or fails a job.
	clk.Advance(time.Second)
	wantErr(t, "CompleteJob by another worker", s.CompleteJob(c, b.ID, 1, "w2"), store.ErrNotFound)
	wantErr(t, "CompleteJob of another attempt", s.CompleteJob(c, b.ID, 2, "w1"), store.ErrNotFound)
	noErr(t, "CompleteJob", s.CompleteJob(c, b.ID, 1, "w1"))
	wantErr(t, "CompleteJob twice", s.CompleteJob(c, b.ID, 1, "w1"), store.ErrNotFound)
	got, _ = s.GetJob(c, b.ID)
	if got.State != identity.JobDone || got.LockedBy != "" || !got.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("completed job: %+v", got)
	}
	wantErr(t, "CompleteJob missing", s.CompleteJob(c, 999999, 1, "w1"), store.ErrNotFound)

	// FailJob with retry: pending again retryIn after now, claimable then.
	wantErr(t, "FailJob by another worker", s.FailJob(c, a.ID, 1, "w1", "boom", time.Minute), store.ErrNotFound)
	wantErr(t, "FailJob of another attempt", s.FailJob(c, a.ID, 2, "w2", "boom", time.Minute), store.ErrNotFound)
	noErr(t, "FailJob retry", s.FailJob(c, a.ID, 1, "w2", "boom", time.Minute))
	got, _ = s.GetJob(c, a.ID)
	if got.State != identity.JobPending || got.LastError != "boom" || !got.RunAt.Equal(t0.Add(time.Second+time.Minute)) || got.LockedBy != "" {
		t.Errorf("failed job: %+v", got)
	}
	clk.Advance(time.Minute - time.Millisecond)
	if claimed, _ := s.ClaimJobs(c, "w1", kinds, lease, 10); len(claimed) != 0 {
		t.Errorf("claimed a job before its retry time: %+v", claimed)
	}
	clk.Advance(time.Millisecond)
	claimed, _ = s.ClaimJobs(c, "w1", kinds, lease, 10)
	if len(claimed) != 1 || claimed[0].ID != a.ID || claimed[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v", claimed)
	}
	// FailJob without retry: dead.
	noErr(t, "FailJob dead", s.FailJob(c, a.ID, 2, "w1", "fatal", 0))
	got, _ = s.GetJob(c, a.ID)
	if got.State != identity.JobDead || got.LastError != "fatal" {
		t.Errorf("dead job: %+v", got)
	}

	// An expired lease is reclaimed by another worker, which gets the lost
	// attempt back; the first worker has lost it.
	clk.Set(t0.Add(time.Hour))
	claimed, _ = s.ClaimJobs(c, "w1", kinds, lease, 10)
	if len(claimed) != 1 || claimed[0].ID != future.ID {
		t.Fatalf("claim future = %+v", claimed)
	}
	clk.Advance(lease - time.Millisecond)
	if claimed, _ := s.ClaimJobs(c, "w2", kinds, lease, 10); len(claimed) != 0 {
		t.Fatalf("lease reclaimed before expiry: %+v", claimed)
	}
	clk.Advance(time.Millisecond)
	claimed, _ = s.ClaimJobs(c, "w2", kinds, lease, 10)
	if len(claimed) != 1 || claimed[0].ID != future.ID || claimed[0].LockedBy != "w2" || claimed[0].Attempts != 2 ||
		claimed[0].Lost != 1 || claimed[0].MaxAttempts != 6 {
		t.Fatalf("reclaim = %+v", claimed)
	}
	wantErr(t, "CompleteJob after losing the lease", s.CompleteJob(c, future.ID, 1, "w1"), store.ErrNotFound)
	wantErr(t, "FailJob after losing the lease", s.FailJob(c, future.ID, 1, "w1", "x", 0), store.ErrNotFound)
	noErr(t, "CompleteJob by new holder", s.CompleteJob(c, future.ID, 2, "w2"))
	if got, _ := s.GetJob(c, future.ID); got.Lost != 0 || got.State != identity.JobDone {
		t.Errorf("an outcome resets Lost: %+v", got)
	}

	counts := map[string]int{identity.JobDone: 2, identity.JobDead: 1, identity.JobPending: 0, identity.JobRunning: 0, "": 3}
	for state, want := range counts {
		if n, err := s.CountJobs(c, state); err != nil || n != want {
			t.Errorf("CountJobs(%q) = %d, %v; want %d", state, n, err, want)
		}
	}
	states, err := s.CountJobStates(c, identity.JobDone, identity.JobDead, identity.JobRunning)
	noErr(t, "CountJobStates", err)
	if want := map[string]int{identity.JobDone: 2, identity.JobDead: 1, identity.JobRunning: 0}; !reflect.DeepEqual(states, want) {
		t.Errorf("CountJobStates = %v, want %v", states, want)
	}
}

// testJobAdmin: discard, re-arm and hasten are compare-and-set on the
// state; ListJobs filters and pages; a pool's jobs go with the pool.
func testJobAdmin(t *testing.T, s store.Store) {
	c := ctx(t)
	clk := useClock(t, s)
	mustPool(t, s, "eu-west-1_ja")
	mustPool(t, s, "eu-west-1_jb")
	mk := func(pool, kind string, runAt time.Time) *identity.Job {
		t.Helper()
		j := &identity.Job{PoolID: pool, Kind: kind, RunAt: runAt, MaxAttempts: 2}
		noErr(t, "EnqueueJob", s.EnqueueJob(c, j))
		return j
	}
	later := mk("eu-west-1_ja", "k", t0.Add(time.Hour))
	run := mk("eu-west-1_ja", "k", t0)
	global := mk("", "g", t0.Add(time.Hour))
	other := mk("eu-west-1_jb", "k", t0.Add(time.Hour))
	if got, _ := s.GetJob(c, global.ID); got.PoolID != "" {
		t.Errorf("global job pool %q", got.PoolID)
	}

	// Hasten: a pending job becomes due now, once; not a running one.
	ok, err := s.HastenJob(c, later.ID)
	noErr(t, "HastenJob", err)
	if got, _ := s.GetJob(c, later.ID); !ok || !got.RunAt.Equal(t0) {
		t.Errorf("hastened: %v %+v", ok, got)
	}
	claimed, _ := s.ClaimJobs(c, "w1", []string{"k"}, time.Minute, 10)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d", len(claimed))
	}
	if ok, _ := s.HastenJob(c, run.ID); ok {
		t.Error("hastened a running job")
	}
	// Rearm applies to dead jobs only, with a new budget.
	if ok, _ := s.RearmJob(c, run.ID, 3); ok {
		t.Error("rearmed a running job")
	}
	noErr(t, "FailJob", s.FailJob(c, run.ID, 1, "w1", "550", 0))
	clk.Advance(time.Minute)
	ok, err = s.RearmJob(c, run.ID, 3)
	noErr(t, "RearmJob", err)
	got, _ := s.GetJob(c, run.ID)
	if !ok || got.State != identity.JobPending || got.MaxAttempts != 4 || !got.RunAt.Equal(t0.Add(time.Minute)) || got.LastError != "550" {
		t.Errorf("rearmed: %v %+v", ok, got)
	}
	// Discard wins over pending, running and dead; a running attempt of
	// a discarded job can record nothing.
	ok, err = s.DiscardJob(c, later.ID, "discarded by cli")
	noErr(t, "DiscardJob running", err)
	if !ok {
		t.Fatal("discard of a running job refused")
	}
	wantErr(t, "CompleteJob after discard", s.CompleteJob(c, later.ID, 1, "w1"), store.ErrNotFound)
	wantErr(t, "FailJob after discard", s.FailJob(c, later.ID, 1, "w1", "x", time.Minute), store.ErrNotFound)
	clk.Advance(time.Hour)
	if claimed, _ := s.ClaimJobs(c, "w2", []string{"k"}, time.Minute, 10); len(claimed) != 2 || claimed[0].ID == later.ID || claimed[1].ID == later.ID {
		t.Fatalf("claim after discard = %+v", claimed)
	}
	got, _ = s.GetJob(c, later.ID)
	if got.State != identity.JobDiscarded || got.LastError != "discarded by cli" {
		t.Errorf("discarded: %+v", got)
	}
	for _, f := range []func() (bool, error){
		func() (bool, error) { return s.DiscardJob(c, later.ID, "again") },
		func() (bool, error) { return s.RearmJob(c, later.ID, 1) },
		func() (bool, error) { return s.HastenJob(c, later.ID) },
		func() (bool, error) { return s.DiscardJob(c, 999999, "x") },
	} {
		if ok, err := f(); ok || err != nil {
			t.Errorf("change of a discarded or missing job: %v %v", ok, err)
		}
	}

	// ListJobs: newest first, by pool, state and kind, paged.
	var ids []int64
	for _, page := range pageAll(t, 2, func(p store.Page) ([]*identity.Job, string, error) {
		return s.ListJobs(c, store.JobFilter{}, p)
	}) {
		for _, j := range page {
			ids = append(ids, j.ID)
		}
	}
	if want := []int64{other.ID, global.ID, run.ID, later.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ListJobs = %v, want %v", ids, want)
	}
	for _, tc := range []struct {
		f    store.JobFilter
		want []int64
	}{
		{store.JobFilter{PoolID: "eu-west-1_ja"}, []int64{run.ID, later.ID}},
		{store.JobFilter{State: identity.JobDiscarded}, []int64{later.ID}},
		{store.JobFilter{Kind: "g"}, []int64{global.ID}},
		{store.JobFilter{PoolID: "eu-west-1_jb", State: identity.JobRunning}, []int64{other.ID}},
		{store.JobFilter{PoolID: "eu-west-1_none"}, nil},
	} {
		list, _, err := s.ListJobs(c, tc.f, store.Page{})
		noErr(t, "ListJobs", err)
		var got []int64
		for _, j := range list {
			got = append(got, j.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListJobs %+v = %v, want %v", tc.f, got, tc.want)
		}
	}

	// A pool's jobs are deleted with it; global ones stay.
	noErr(t, "DeletePool", s.DeletePool(c, "eu-west-1_ja"))
	if _, err := s.GetJob(c, run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("job of a deleted pool: %v", err)
	}
	if _, err := s.GetJob(c, global.ID); err != nil {
		t.Errorf("global job: %v", err)
	}
}

// testJobsDatabaseClock: without a test clock, leases and due times come
// from the database's clock, in milliseconds, whatever the caller's clock.
func testJobsDatabaseClock(t *testing.T, s store.Store) {
	c := ctx(t)
	soon := &identity.Job{Kind: "k", MaxAttempts: 1} // RunAt zero: due under any clock
	noErr(t, "EnqueueJob", s.EnqueueJob(c, soon))
	// Due in a day by this process's clock, which the database shares
	// within far less than that.
	late := &identity.Job{Kind: "k", MaxAttempts: 1, RunAt: time.Now().Add(24 * time.Hour)}
	noErr(t, "EnqueueJob", s.EnqueueJob(c, late))
	claimed, err := s.ClaimJobs(c, "w", []string{"k"}, 90*time.Second, 10)
	noErr(t, "ClaimJobs", err)
	if len(claimed) != 1 || claimed[0].ID != soon.ID {
		t.Fatalf("claimed %+v", claimed)
	}
	// Lease and stamp come from one reading of the database's clock.
	if d := claimed[0].LockedUntil.Sub(claimed[0].UpdatedAt); d != 90*time.Second {
		t.Errorf("lease = %v, want 90s", d)
	}
	if soon.CreatedAt.IsZero() || claimed[0].UpdatedAt.Before(soon.CreatedAt) {
		t.Errorf("created %v, claimed %v", soon.CreatedAt, claimed[0].UpdatedAt)
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
