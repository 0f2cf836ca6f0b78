package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRetentionAuditExportAndDB drives the upkeep commands on both
// databases: a pool's retention comes from apply (a bad value is refused,
// nothing changed), audit export writes JSON lines of the pool's events,
// retention run with an archive deletes only what its pool no longer
// keeps (nothing here: every event is new), db stats and db vacuum answer.
func TestRetentionAuditExportAndDB(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		f := c.write("pool.yaml", "pools:\n  - name: kept\n    retention:\n      audit_days: 10\n      email_days: -1\n")
		assertContains(t, c.ok("apply", "-f", f), "created pool kept")
		assertContains(t, c.ok("apply", "-f", f), "No changes.")
		bad := c.write("bad.yaml", "pools:\n  - name: kept\n    retention:\n      audit_days: -5\n")
		if _, _, err := c.run("", "apply", "-f", bad); err == nil || !strings.Contains(err.Error(), "retention period") {
			t.Errorf("apply with audit_days -5: %v", err)
		}
		c.ok("users", "create", "--pool", "kept", "ann@example.com")

		out := filepath.Join(c.dir, "audit.jsonl")
		c.ok("audit", "export", "--pool", "kept", "--output", out)
		b, err := os.ReadFile(out)
		must(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) < 2 || !strings.Contains(string(b), `"action":"admin.user_create"`) {
			t.Errorf("export:\n%s", b)
		}
		if _, _, err := c.run("", "audit", "export", "--output", out); err == nil {
			t.Error("export overwrote an existing file")
		}
		if _, _, err := c.run("", "audit", "export", "--since", "yesterday"); err == nil {
			t.Error("export accepted --since yesterday")
		}

		archive := filepath.Join(c.dir, "archive.jsonl")
		assertContains(t, c.ok("retention", "run", "--archive", archive), "nothing to delete")
		assertContains(t, c.ok("db", "stats"), "audit_events", "users")
		assertContains(t, c.ok("db", "vacuum"), "vacuumed in")
	})
}

// TestDevPopulateAndMeasure: populate refuses outside dev mode without
// --force (its users share a published password), fills a pool with
// --force, continues with --start, makes a company per N users with
// --per-company, and measure reads it.
func TestDevPopulateAndMeasure(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		if _, _, err := c.run("", "dev", "populate", "--pool", "big", "--users", "10"); err == nil || !strings.Contains(err.Error(), "published password") {
			t.Fatalf("populate outside dev mode: %v", err)
		}
		assertContains(t, c.ok("dev", "populate", "--pool", "big", "--users", "1500", "--force"), "with 1500 users")
		assertContains(t, c.ok("dev", "populate", "--pool", "big", "--users", "600", "--start", "1500", "--force"), "with 600 users")
		if _, _, err := c.run("", "dev", "measure", "--pool", "big", "--iterations", "3"); err == nil || !strings.Contains(err.Error(), "published password") {
			t.Fatalf("measure (creating its small pool) outside dev mode: %v", err)
		}
		out := c.ok("dev", "measure", "--pool", "big", "--iterations", "3", "--small", "50", "--force")
		assertContains(t, out, "2100 users, 3 calls per operation", "(50 users)", "p99 ÷ small p99", "ListUsers given_name = (1 in 5,000)",
			"ListUsers email ^= user1 (dense), deep page", "ListUsersInGroup members (1 in 3), deep page", "SearchCompanies (type-ahead)", "2150 users in the database")
		// The small pool is made once.
		assertContains(t, c.ok("dev", "measure", "--pool", "big", "--iterations", "1", "--small", "50"), "(50 users)")
		list := c.ok("users", "list", "--pool", "big")
		assertContains(t, list, "user0@co0.example.com")
		// --per-company N: a company per N users.
		if _, _, err := c.run("", "dev", "populate", "--pool", "many", "--users", "5", "--per-company", "0", "--force"); err == nil || !strings.Contains(err.Error(), "--per-company") {
			t.Fatalf("populate --per-company 0: %v", err)
		}
		assertContains(t, c.ok("dev", "populate", "--pool", "many", "--users", "30", "--per-company", "1", "--force"), "with 30 users")
		assertContains(t, c.ok("companies", "list", "--pool", "many"), "co0", "co29", "co29.example.com")
	})
}
