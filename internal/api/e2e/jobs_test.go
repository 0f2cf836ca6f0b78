package e2e_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

type jobJSON struct {
	ID          int64  `json:"id"`
	PoolID      string `json:"pool_id"`
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"max_attempts"`
	LastError   string `json:"last_error"`
	Payload     struct {
		EmailID int64 `json:"email_id"`
	} `json:"payload"`
}

// TestJobsAPI: a pool key sees and changes its pool's jobs and emails
// only; every job (and a global one) only with a global key; Retry and
// Discard keep an email and its one job in step.
func TestJobsAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	poolA, _ := e.newPool("jobs-a")
	poolB, _ := e.newPool("jobs-b")
	for _, p := range []string{poolA, poolB} {
		e.must(201, e.admin("POST", "/api/v1/pools/"+p+"/users", map[string]any{
			"username": "ann@example.com", "attributes": map[string]string{"email_verified": "true"},
		}))
	}
	_, scoped, err := e.svc.CreateAPIKey(ctx, poolA, "a-only")
	if err != nil {
		t.Fatal(err)
	}
	key := "Bearer " + scoped
	var global *identity.Job
	if err := e.db.InTx(ctx, func(q store.Querier) error {
		global = &identity.Job{Kind: "maintenance.global", Payload: []byte(`{}`), MaxAttempts: 1}
		return q.EnqueueJob(ctx, global)
	}); err != nil {
		t.Fatal(err)
	}

	var list struct{ Items []jobJSON }
	e.must(200, e.do("GET", "/api/v1/pools/"+poolA+"/jobs?state=pending&kind=email.send", key, nil)).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].PoolID != poolA || list.Items[0].Kind != "email.send" || list.Items[0].Payload.EmailID == 0 {
		t.Fatalf("pool A's jobs: %+v", list.Items)
	}
	mine := list.Items[0]
	list.Items = nil
	e.must(200, e.admin("GET", "/api/v1/pools/"+poolB+"/jobs", nil)).json(t, &list)
	theirs := list.Items[0]
	list.Items = nil
	e.must(200, e.admin("GET", "/api/v1/jobs", nil)).json(t, &list)
	if len(list.Items) != 3 || list.Items[0].ID != global.ID || list.Items[0].PoolID != "" {
		t.Fatalf("every job: %+v", list.Items)
	}
	id := func(j jobJSON) string { return fmt.Sprint(j.ID) }
	for _, tc := range []struct {
		name, method, path, authz string
		status                    int
		code                      string
	}{
		{"pool key, every job", "GET", "/api/v1/jobs", key, 403, "forbidden"},
		{"pool key, a global job", "GET", "/api/v1/jobs/" + fmt.Sprint(global.ID), key, 403, "forbidden"},
		{"pool key, another pool's jobs", "GET", "/api/v1/pools/" + poolB + "/jobs", key, 403, "forbidden"},
		{"pool key, another pool's job under its own pool", "GET", "/api/v1/pools/" + poolA + "/jobs/" + id(theirs), key, 404, "resource_not_found"},
		{"pool key, a global job under its own pool", "POST", "/api/v1/pools/" + poolA + "/jobs/" + fmt.Sprint(global.ID) + "/discard", key, 404, "resource_not_found"},
		{"pool key, its job", "GET", "/api/v1/pools/" + poolA + "/jobs/" + id(mine), key, 200, ""},
		{"bad job id", "GET", "/api/v1/pools/" + poolA + "/jobs/abc", key, 404, "resource_not_found"},
		{"missing job", "GET", "/api/v1/jobs/999999", "Bearer " + e.adminKey, 404, "resource_not_found"},
		{"bad state", "GET", "/api/v1/jobs?state=stuck", "Bearer " + e.adminKey, 400, "invalid_parameter"},
		{"no key", "GET", "/api/v1/jobs", "", 401, "unauthenticated"},
		{"pool key, another pool's email", "POST", "/api/v1/pools/" + poolA + "/emails/" + fmt.Sprint(theirs.Payload.EmailID) + "/discard", key, 404, "resource_not_found"},
		{"retry of a queued email", "POST", "/api/v1/pools/" + poolA + "/emails/" + fmt.Sprint(mine.Payload.EmailID) + "/retry", key, 409, "conflict"},
	} {
		r := e.do(tc.method, tc.path, tc.authz, nil)
		if r.status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if tc.code != "" {
			if p := r.problem(t); p.Code != tc.code {
				t.Errorf("%s: code %s, want %s", tc.name, p.Code, tc.code)
			}
		}
	}

	// Discard an email: its job goes with it, for good.
	e.must(204, e.do("POST", "/api/v1/pools/"+poolA+"/emails/"+fmt.Sprint(mine.Payload.EmailID)+"/discard", key, nil))
	var j jobJSON
	e.must(200, e.do("GET", "/api/v1/pools/"+poolA+"/jobs/"+id(mine), key, nil)).json(t, &j)
	if j.State != identity.JobDiscarded || j.LastError == "" {
		t.Fatalf("job of a discarded email: %+v", j)
	}
	if p := e.must(409, e.do("POST", "/api/v1/pools/"+poolA+"/jobs/"+id(mine)+"/retry", key, nil)).problem(t); p.Code != "conflict" {
		t.Fatalf("retry of a discarded job: %+v", p)
	}
	em, err := e.db.GetEmail(ctx, mine.Payload.EmailID)
	if err != nil || em.Status != identity.EmailDiscarded || em.JobID != mine.ID {
		t.Fatalf("discarded email: %+v %v", em, err)
	}
	// Global key: discard, then retry of a pending job and the bulk retry.
	j = jobJSON{}
	e.must(200, e.admin("POST", "/api/v1/jobs/"+id(theirs)+"/retry", nil)).json(t, &j)
	if j.State != identity.JobPending {
		t.Fatalf("retried pending job: %+v", j)
	}
	var n struct{ Queued int }
	e.must(200, e.admin("POST", "/api/v1/pools/"+poolB+"/emails/retry-dead", nil)).json(t, &n)
	if n.Queued != 0 {
		t.Fatalf("retry-dead: %+v", n)
	}
	e.must(403, e.do("POST", "/api/v1/pools/"+poolB+"/emails/retry-dead", key, nil))
	j = jobJSON{}
	e.must(200, e.admin("POST", "/api/v1/jobs/"+fmt.Sprint(global.ID)+"/discard", nil)).json(t, &j)
	if j.State != identity.JobDiscarded || j.LastError == "" {
		t.Fatalf("discarded global job: %+v", j)
	}
	var emails struct {
		Items []struct {
			Status string
			JobID  int64 `json:"job_id"`
		}
	}
	e.must(200, e.do("GET", "/api/v1/pools/"+poolA+"/emails?status=discarded", key, nil)).json(t, &emails)
	if len(emails.Items) != 1 || emails.Items[0].JobID != mine.ID {
		t.Fatalf("discarded emails: %+v", emails.Items)
	}
	// Discard a pending job under its pool's path.
	j = jobJSON{}
	e.must(200, e.admin("POST", "/api/v1/pools/"+poolB+"/jobs/"+id(theirs)+"/discard", nil)).json(t, &j)
	if j.State != identity.JobDiscarded {
		t.Fatalf("discarded pool job: %+v", j)
	}
}

// TestEmailRetryAPI: an email the relay refused is dead; retrying it
// over the API queues it through its one job and it goes out.
func TestEmailRetryAPI(t *testing.T) {
	t.Parallel()
	e := setupOptions(t, testenv.Options{SMTP: true})
	poolID, _ := e.newPool("retry")
	e.stack.SMTP.Fail(mailtest.StageRcpt, 550, "mailbox unavailable", 1)
	e.must(201, e.admin("POST", "/api/v1/pools/"+poolID+"/users", map[string]any{
		"username": "joe@example.org", "attributes": map[string]string{"email_verified": "true"},
	}))
	e.stack.Drain()
	var dead struct {
		Items []struct {
			ID int64
			To string
		}
	}
	e.must(200, e.admin("GET", "/api/v1/pools/"+poolID+"/emails?status=dead", nil)).json(t, &dead)
	if len(dead.Items) != 1 || dead.Items[0].To != "joe@example.org" {
		t.Fatalf("dead emails: %+v", dead.Items)
	}
	e.must(204, e.admin("POST", "/api/v1/pools/"+poolID+"/emails/"+fmt.Sprint(dead.Items[0].ID)+"/retry", nil))
	if m := e.stack.Mail("joe@example.org"); m.Subject == "" {
		t.Fatalf("retried email: %+v", m)
	}
}
