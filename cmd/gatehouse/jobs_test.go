package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

const jobsPoolYAML = `
pools:
  - name: jobs
    username_mode: email
  - name: other
    username_mode: email
`

// TestJobsCommands: gatehouse jobs list|show|retry|discard|retry-dead-emails
// over the queued invitation of a user created by the CLI (no runner runs).
func TestJobsCommands(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("pools.yaml", jobsPoolYAML))
		c.ok("users", "create", "--pool", "jobs", "ann@example.com")
		c.ok("users", "create", "--pool", "other", "bob@example.com")

		var all []jobJSON
		must(t, json.Unmarshal([]byte(c.ok("jobs", "list", "-o", "json")), &all))
		if len(all) != 2 {
			t.Fatalf("jobs list: %+v", all)
		}
		var mine []jobJSON
		must(t, json.Unmarshal([]byte(c.ok("jobs", "list", "--pool", "jobs", "--state", "pending", "-o", "json")), &mine))
		if len(mine) != 1 || mine[0].Kind != mail.JobKind || mine[0].State != identity.JobPending || mine[0].Attempts != 0 {
			t.Fatalf("jobs list --pool jobs: %+v", mine)
		}
		id := fmt.Sprint(mine[0].ID)
		other := fmt.Sprint(all[0].ID)
		if other == id {
			other = fmt.Sprint(all[1].ID)
		}
		assertContains(t, c.ok("jobs", "list"), "ID", "KIND", "NEXT RUN", "email.send", "pending", "now")
		assertContains(t, c.ok("jobs", "show", id), "email.send", "0 of 8", `"email_id"`)

		// Another pool's job is not found under --pool.
		if _, _, err := c.run("", "jobs", "show", "--pool", "jobs", other); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("show of another pool's job: %v", err)
		}
		for _, bad := range []string{"0", "x", "-3"} {
			if _, _, err := c.run("", "jobs", "show", bad); err == nil {
				t.Errorf("jobs show %s: no error", bad)
			}
		}
		if _, _, err := c.run("", "jobs", "list", "--state", "stuck"); err == nil || !strings.Contains(err.Error(), "state") {
			t.Errorf("jobs list --state stuck: %v", err)
		}

		// Retry of a pending job makes it due now; discard gives it up,
		// with its email; after that neither applies.
		c.ok("jobs", "retry", "--pool", "jobs", id)
		var j jobJSON
		must(t, json.Unmarshal([]byte(c.ok("jobs", "discard", id, "-o", "json")), &j))
		if j.State != identity.JobDiscarded || j.LastError != "discarded by cli" {
			t.Fatalf("discarded: %+v", j)
		}
		for _, op := range []string{"retry", "discard"} {
			if _, _, err := c.run("", "jobs", op, id); err == nil || !strings.Contains(err.Error(), "discarded") {
				t.Errorf("jobs %s of a discarded job: %v", op, err)
			}
		}
		assertContains(t, c.ok("jobs", "retry-dead-emails", "--pool", "jobs"), "Queued again:", "0")
		if _, _, err := c.run("", "jobs", "retry-dead-emails"); err == nil {
			t.Error("retry-dead-emails without --pool")
		}
	})
}

// TestServeWithoutSMTPKeepsEmailsQueued: a node without a mail server
// spends no attempt on emails (they used to die after ~24 minutes of
// retries); a node with one, started later, delivers them.
func TestServeWithoutSMTPKeepsEmailsQueued(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	cfg.MasterKey = testMasterKey
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	cfg.Jobs.Poll = Duration(20 * time.Millisecond)
	cfg.Admin.AllowFrom = []string{"10.0.0.0/8"}
	m := startNode(t, cfg)
	ctx := identity.WithActor(context.Background(), identity.Actor{ID: "cli"})
	c := setup(t)
	c.env["GATEHOUSE_DATA_DIR"] = dataDir
	c.ok("apply", "-f", c.write("pools.yaml", jobsPoolYAML))
	c.ok("users", "create", "--pool", "jobs", "ann@example.com")
	p, err := resolvePool(ctx, m.core.svc, "jobs")
	must(t, err)

	// The runner of this node does not claim deliveries, however often
	// it looks.
	for _, k := range m.runner.Kinds() {
		if k == mail.JobKind {
			t.Fatal("a node without SMTP claims email.send jobs")
		}
	}
	for range 5 {
		if n, err := m.runner.RunOnce(context.Background()); err != nil || n != 0 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
	}
	es, _, err := m.core.svc.ListEmails(ctx, p.ID, "", 10, "")
	must(t, err)
	if len(es) != 1 || es[0].Status != identity.EmailQueued || es[0].Attempts != 0 {
		t.Fatalf("outbox without SMTP: %+v", es)
	}
	j, err := m.core.svc.GetJob(ctx, p.ID, es[0].JobID)
	must(t, err)
	if j.State != identity.JobPending || j.Attempts != 0 {
		t.Fatalf("job without SMTP: %+v", j)
	}

	// admin.allow_from guards the jobs API as it does the pools API.
	if r := do(t, "GET", m.URL()+"/api/v1/jobs", "ghk_whatever.secret", nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "not available from this address") {
		t.Errorf("jobs API from a disallowed address = %d %s", r.status, r.body)
	}

	// A node with a mail server delivers it.
	smtpSrv := mailtest.StartServer(t)
	sc := smtpSrv.SMTPConfig("no-reply@example.com")
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS, cfg.SMTP.From = sc.Host, sc.Port, sc.TLS, sc.From
	startNode(t, cfg)
	smtpSrv.WaitFor(t, "ann@example.com", 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := m.core.store.GetEmail(ctx, es[0].ID)
		must(t, err)
		if e.Status == identity.EmailSent {
			if e.Attempts != 1 {
				t.Errorf("sent after %d attempts, want 1", e.Attempts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("email not recorded as sent: %+v", e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
