package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

// bigTables grow with the users of a pool: a read that walks one of them
// whole is a read whose time grows with the pool.
var bigTables = []string{"users", "user_attributes", "group_members", "refresh_tokens", "codes", "linked_identities", "user_factors",
	"audit_events", "registrations", "revoked_origins", "companies", "company_approvers", "emails", "jobs"}

// TestQueryPlans runs the hot reads through the real store methods,
// captures the statements they send (SetTrace) and EXPLAINs each on the
// same database: none may scan a table that grows with the pool. On
// PostgreSQL sequential scans are turned off for the EXPLAIN, so a plan
// that still has one has no usable index (small test tables would get seq
// scans anyway). A lost or unusable index fails here, on both databases.
//
// With GATEHOUSE_TEST_SCALE=1 (or GATEHOUSE_TEST_PLANS_USERS=N) the pool
// is filled with a million (N) users first (sqlstore.Populate), so the
// plans are those the planners pick at that size, with real statistics
// on PostgreSQL; SQLite is never analyzed (see sqlite.go), as in
// production.
func TestQueryPlans(t *testing.T) {
	for _, be := range storetest.Backends {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			testQueryPlans(t, be.Open(t).(*sqlstore.DB))
		})
	}
}

func testQueryPlans(t *testing.T, db *sqlstore.DB) {
	ctx := t.Context()
	const pool = "eu-west-1_plans"
	p := &identity.Pool{ID: pool, Name: pool, UsernameMode: identity.UsernameEmail, PasswordPolicy: identity.DefaultPasswordPolicy(),
		SigningAlg: "ES256", MaxFailedAttempts: 5, LockoutDuration: time.Minute, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	must(t, db.CreatePool(ctx, p))
	now := time.Now().UTC().Truncate(time.Millisecond)
	populated := planUsers(t) > 0
	if n := planUsers(t); n > 0 {
		start := time.Now()
		must(t, db.Populate(ctx, sqlstore.PopulateOptions{PoolID: pool, Users: n, PasswordHash: "x", Now: now}))
		t.Logf("populated %d users in %s", n, time.Since(start))
	}
	u := &identity.User{PoolID: pool, Sub: "sub-ann", Username: "ann@example.com", Email: "ann@example.com", EmailVerified: true,
		Status: identity.StatusConfirmed, Enabled: true, Attributes: map[string]string{"given_name": "Ann"}, CreatedAt: now, UpdatedAt: now}
	must(t, db.CreateUser(ctx, u, true))
	must(t, db.CreateGroup(ctx, &identity.Group{PoolID: pool, Name: "staff", CreatedAt: now, UpdatedAt: now}))
	must(t, db.AddUserToGroup(ctx, pool, u.Sub, "staff"))
	// Two more matches of every filter below, so each list has a second
	// page (read through its token).
	for i, x := range []struct{ sub, name, given, family string }{{"sub-anne", "anne", "Anne", "Lee"}, {"sub-andy", "andy", "Andy", "Lent"}} {
		must(t, db.CreateUser(ctx, &identity.User{PoolID: pool, Sub: x.sub, Username: x.name + "@example.com", Email: x.name + "@example.com",
			Status: []identity.UserStatus{identity.StatusConfirmed, identity.StatusUnconfirmed}[i], Enabled: false,
			Attributes: map[string]string{"given_name": x.given, "family_name": x.family}, CreatedAt: now, UpdatedAt: now}, true))
		must(t, db.AddUserToGroup(ctx, pool, x.sub, "staff"))
	}
	must(t, db.InsertRefreshToken(ctx, &identity.RefreshToken{Hash: "h1", PoolID: pool, UserSub: u.Sub, FamilyID: "f1",
		OriginJTI: "o1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(t, db.InsertAudit(ctx, &identity.AuditEvent{PoolID: pool, Time: now, Actor: "cli", Action: "x"}))
	// Companies whose approvers the console and activations look up.
	for _, name := range []string{"acme", "beta", "gamma"} {
		must(t, db.CreateCompany(ctx, &identity.Company{PoolID: pool, Name: name, Group: name, Status: identity.CompanyActive,
			Approvers: []identity.Approver{{Sub: "sub-" + name}, {Email: name + "@example.com", AwaitingAccount: true}}, CreatedAt: now, UpdatedAt: now}))
	}
	// Statistics as in production: always on PostgreSQL (whose EXPLAIN
	// runs without sequential scans and sorts), never on SQLite (never
	// analyzed: it plans for large tables).
	if db.Backend() == "postgres" {
		_, err := db.WriteDB().ExecContext(ctx, `ANALYZE`)
		must(t, err)
	}
	var err error

	page2 := func(list func(store.Page) (string, error)) error {
		next, err := list(store.Page{Limit: 1})
		if err != nil || next == "" {
			return err
		}
		_, err = list(store.Page{Limit: 1, Token: next})
		return err
	}
	ops := []struct {
		name string
		run  func() error
	}{
		{"GetUserSession", func() error { _, err := db.GetUserSession(ctx, pool, u.Sub, "o1"); return err }},
		{"GetUserSessionMFA", func() error { _, err := db.GetUserSessionMFA(ctx, pool, u.Sub, "o1"); return err }},
		{"GetRefreshSession", func() error { _, _, err := db.GetRefreshSession(ctx, "h1"); return err }},
		{"GetUser", func() error { _, err := db.GetUser(ctx, pool, u.Sub); return err }},
		{"GetUserByUsername", func() error { _, err := db.GetUserByUsername(ctx, pool, u.Username); return err }},
		{"GetUserByEmail", func() error { _, err := db.GetUserByEmail(ctx, pool, u.Email, true); return err }},
		{"ListUsers", func() error {
			return page2(func(pg store.Page) (string, error) {
				_, next, err := db.ListUsers(ctx, pool, nil, pg)
				return next, err
			})
		}},
		{"ListUsersInGroup", func() error {
			return page2(func(pg store.Page) (string, error) {
				_, next, err := db.ListUsersInGroup(ctx, pool, "staff", pg)
				return next, err
			})
		}},
		{"ListGroupsForUser", func() error { _, err := db.ListGroupsForUser(ctx, pool, u.Sub); return err }},
		{"SearchCompanies", func() error { _, err := db.SearchCompanies(ctx, pool, "ac", 10); return err }},
		{"ListRegistrations", func() error {
			_, _, err := db.ListRegistrations(ctx, pool, store.RegistrationFilter{State: identity.RegPending}, store.Page{Limit: 10})
			return err
		}},
		{"ListAudit", func() error {
			_, _, err := db.ListAudit(ctx, store.AuditFilter{PoolID: pool}, store.Page{Limit: 10})
			return err
		}},
		{"OriginRevoked", func() error { _, err := db.OriginRevoked(ctx, pool, "o1"); return err }},
		{"ListCompaniesApprovedBy", func() error { _, err := db.ListCompaniesApprovedBy(ctx, pool, "sub-beta"); return err }},
		{"ListCompaniesAwaitingApprover", func() error { _, err := db.ListCompaniesAwaitingApprover(ctx, pool, "beta@example.com"); return err }},
		{"ListCompaniesByGroup", func() error { _, err := db.ListCompaniesByGroup(ctx, pool, "beta"); return err }},
	}
	// Every filter kind, first page and the page after (the token's row
	// value): each must read its own index range in order.
	for _, f := range []store.UserFilter{
		{Attr: "email", Op: store.FilterEquals, Value: "ann@example.com"},
		{Attr: "email", Op: store.FilterPrefix, Value: "ann"},
		{Attr: "username", Op: store.FilterEquals, Value: "ann@example.com"},
		{Attr: "username", Op: store.FilterPrefix, Value: "an"},
		{Attr: "given_name", Op: store.FilterEquals, Value: "Ann"},
		{Attr: "given_name", Op: store.FilterPrefix, Value: "An"},
		{Attr: "family_name", Op: store.FilterPrefix, Value: "Le"},
		{Attr: "sub", Op: store.FilterEquals, Value: u.Sub},
		{Attr: "sub", Op: store.FilterPrefix, Value: "sub-a"},
		{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "CONFIRMED"},
		{Attr: "cognito:user_status", Op: store.FilterPrefix, Value: "CON"},
		{Attr: "status", Op: store.FilterEquals, Value: "Disabled"},
		{Attr: "status", Op: store.FilterEquals, Value: "Enabled"},
	} {
		ops = append(ops, struct {
			name string
			run  func() error
		}{"ListUsers " + f.Attr + " " + string(f.Op) + " " + f.Value, func() error {
			return page2(func(pg store.Page) (string, error) {
				_, next, err := db.ListUsers(ctx, pool, &f, pg)
				return next, err
			})
		}})
	}

	for _, op := range ops {
		var mu sync.Mutex
		var stmts [][2]any
		db.SetTrace(func(q string, args []any) {
			mu.Lock()
			stmts = append(stmts, [2]any{q, args})
			mu.Unlock()
		})
		err := op.run()
		db.SetTrace(nil)
		if err != nil {
			t.Errorf("%s: %v", op.name, err)
			continue
		}
		if len(stmts) == 0 {
			t.Errorf("%s: no statement captured", op.name)
		}
		for _, s := range stmts {
			plan := explain(t, db, s[0].(string), s[1].([]any))
			if tbl := fullScan(db.Backend(), plan); tbl != "" {
				t.Errorf("%s scans all of %s:\n%s\nplan:\n%s", op.name, tbl, s[0], plan)
			}
			list := strings.HasPrefix(op.name, "ListUsers")
			strict := !listOps[op.name] && ((!scanOK[op.name] || populated) && (db.Backend() != "postgres" || populated) || list)
			if populated && db.Backend() == "postgres" && (denseAtScale[op.name] || tinyAtScale[op.name]) {
				// With statistics PostgreSQL rightly walks the pool in
				// list order for a filter most users match (the page
				// comes after a few rows), and looks a table of a row
				// or two up by its first column.
				strict = false
			}
			if strict && (poolScan(plan) || pgPoolRange(plan)) {
				t.Errorf("%s walks a whole pool's rows:\n%s\nplan:\n%s", op.name, s[0], plan)
			}
			if list && sorts(plan) && !strings.Contains(s[0].(string), "FROM user_attributes\n") {
				t.Errorf("%s sorts its matches instead of reading them in index order:\n%s\nplan:\n%s", op.name, s[0], plan)
			}
		}
	}

	// The check can fail: without its index, the lookup by email scans.
	var q string
	var args []any
	db.SetTrace(func(s string, a []any) {
		if q == "" { // the user's row; then come its attributes
			q, args = s, a
		}
	})
	_, err = db.GetUserByEmail(ctx, pool, u.Email, true)
	db.SetTrace(nil)
	must(t, err)
	_, err = db.WriteDB().ExecContext(ctx, `DROP INDEX users_pool_email_created`)
	must(t, err)
	if plan := explain(t, db, q, args); fullScan(db.Backend(), plan) != "users" && !poolScan(plan) {
		t.Errorf("without users_pool_email_created the email lookup does not scan users:\n%s", plan)
	}

	// And for the companies of an approver or of a group: without its
	// index the lookup walks the pool's companies.
	for _, c := range []struct {
		index string
		run   func() error
	}{
		{"company_approvers_value", func() error { _, err := db.ListCompaniesApprovedBy(ctx, pool, "sub-beta"); return err }},
		{"companies_group", func() error { _, err := db.ListCompaniesByGroup(ctx, pool, "beta"); return err }},
	} {
		var q string
		var args []any
		db.SetTrace(func(s string, a []any) {
			if q == "" {
				q, args = s, a
			}
		})
		err := c.run()
		db.SetTrace(nil)
		must(t, err)
		_, err = db.WriteDB().ExecContext(ctx, `DROP INDEX `+c.index)
		must(t, err)
		if plan := explain(t, db, q, args); fullScan(db.Backend(), plan) == "" && !poolScan(plan) && !pgPoolRange(plan) {
			t.Errorf("without %s the lookup still reads an index range of its own:\n%s\nplan:\n%s", c.index, q, plan)
		}
	}

	// And for the lists: without its index a list walks the pool or
	// sorts its matches.
	for _, c := range []struct {
		f       store.UserFilter
		indexes map[string]string // backend: index to drop
	}{
		{store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "CONFIRMED"},
			map[string]string{"sqlite": "users_pool_status", "postgres": "users_pool_status_c"}},
		{store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Disabled"},
			map[string]string{"sqlite": "users_pool_enabled", "postgres": "users_pool_enabled"}},
		{store.UserFilter{Attr: "given_name", Op: store.FilterPrefix, Value: "An"},
			map[string]string{"sqlite": "user_attributes_name_value", "postgres": "user_attributes_value_c_sub"}},
	} {
		var q string
		var args []any
		db.SetTrace(func(s string, a []any) {
			if q == "" {
				q, args = s, a
			}
		})
		_, _, err := db.ListUsers(ctx, pool, &c.f, store.Page{Limit: 1})
		db.SetTrace(nil)
		must(t, err)
		idx := c.indexes[db.Backend()]
		_, err = db.WriteDB().ExecContext(ctx, `DROP INDEX `+idx)
		must(t, err)
		if plan := explain(t, db, q, args); fullScan(db.Backend(), plan) == "" && !poolScan(plan) && !sorts(plan) {
			t.Errorf("without %s, ListUsers %+v still reads an index in order:\n%s", idx, c.f, plan)
		}
	}
}

// explain returns the plan of q on db, one line per node.
func explain(t *testing.T, db *sqlstore.DB, q string, args []any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.ReadDB().Conn(ctx)
	must(t, err)
	defer conn.Close()
	prefix := "EXPLAIN QUERY PLAN "
	if db.Backend() != "postgres" {
		// EXPLAIN is planned with the schema this connection last read:
		// a read first, so it sees an index dropped since.
		_, err := conn.ExecContext(ctx, `SELECT count(*) FROM sqlite_schema`)
		must(t, err)
	} else {
		_, err := conn.ExecContext(ctx, `SET enable_seqscan = off`)
		must(t, err)
		defer conn.ExecContext(ctx, `RESET enable_seqscan`) //nolint:errcheck // the connection is only read
		_, err = conn.ExecContext(ctx, `SET enable_sort = off`)
		must(t, err)
		defer conn.ExecContext(ctx, `RESET enable_sort`) //nolint:errcheck // the connection is only read
		prefix = "EXPLAIN "
	}
	rows, err := conn.QueryContext(ctx, prefix+q, args...)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		must(t, rows.Scan(dest...))
		b.WriteString(vals[len(vals)-1].String) // SQLite: detail; PostgreSQL: the one QUERY PLAN column
		b.WriteByte('\n')
	}
	must(t, rows.Err())
	return b.String()
}

// listOps read a page of a pool in index order: walking the pool's index
// range is their plan (the LIMIT stops it). Every other operation looks up
// a few rows, and must not walk a pool's whole range. Every list of users
// (ListUsers with or without a filter, ListUsersInGroup) must read its
// rows in its index's order, without sorting them (userlist.go): on
// PostgreSQL sorts are turned off for the EXPLAIN, as sequential scans
// are, so a plan that still sorts has no index in the list's order.
var listOps = map[string]bool{"ListUsers": true, "ListRegistrations": true, "ListAudit": true}

// sorts reports a plan that sorts rows (not the json aggregate of a
// user's groups, which sorts that user's few).
func sorts(plan string) bool {
	for _, line := range strings.Split(plan, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "->"))
		if strings.HasPrefix(line, "USE TEMP B-TREE FOR") && strings.Contains(line, "ORDER BY") && !strings.Contains(line, "json_group_array") ||
			strings.HasPrefix(line, "Sort ") || strings.HasPrefix(line, "Incremental Sort ") {
			return true
		}
	}
	return false
}

// scanOK are reads of a page of matches in list order: without statistics
// (a SQLite file never analyzed) a planner may walk the pool in list order
// and stop at the LIMIT; with them (populated, ANALYZEd) it must use the
// filter's index when matches are few. On PostgreSQL every pool-walk check
// needs statistics: on a handful of rows all index paths cost the same.
//
// Prefix filters are not among them: ListUsers counts a prefix's matches
// through the filter's index and, when few, starts from that index on
// both databases (migration 0024 gives PostgreSQL its COLLATE "C"
// indexes), so a lost prefix index fails here.
var scanOK = map[string]bool{}

// denseAtScale are filters most populated users match; tinyAtScale reads
// tables Populate leaves nearly empty.
var (
	denseAtScale = map[string]bool{"ListUsers cognito:user_status = CONFIRMED": true, "ListUsers cognito:user_status ^= CON": true,
		"ListUsers status = Enabled": true}
	tinyAtScale = map[string]bool{"OriginRevoked": true}
)

var (
	sqlitePoolOnly = regexp.MustCompile(`^SEARCH \w+ USING (COVERING )?INDEX \w+ \(pool_id=\?\)$`)
	pgPoolOnly     = regexp.MustCompile(`Index Cond: \((\w+\.)?pool_id = (\$\d+|'[^']*'::text)\)$`)
)

// pgPoolRange reports a PostgreSQL plan that reads a primary key by
// conditions on columns after one it has no condition on: it walks the
// pool's range of that key and tests every entry (company_approvers'
// (pool_id, name_key, kind, value) searched by kind and value, which is
// what PostgreSQL does without company_approvers_value).
func pgPoolRange(plan string) bool {
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		for key, second := range pgKeySecond {
			if strings.Contains(line, "using "+key+" ") && i+1 < len(lines) &&
				strings.Contains(lines[i+1], "Index Cond:") && !strings.Contains(lines[i+1], "("+second+" = ") {
				return true
			}
		}
	}
	return false
}

// pgKeySecond: primary keys (pool_id, <second>, ...) that pgPoolRange checks.
var pgKeySecond = map[string]string{"company_approvers_pkey": "name_key"}

// poolScan reports a plan whose only index condition is the pool.
func poolScan(plan string) bool {
	for _, line := range strings.Split(plan, "\n") {
		line = strings.TrimSpace(line)
		if sqlitePoolOnly.MatchString(line) || pgPoolOnly.MatchString(line) {
			return true
		}
	}
	return false
}

// fullScan returns the big table the plan reads whole, or "".
func fullScan(backend, plan string) string {
	for _, line := range strings.Split(plan, "\n") {
		line = strings.TrimSpace(line)
		for _, tbl := range bigTables {
			switch backend {
			case "postgres":
				if strings.Contains(line, "Seq Scan on "+tbl+" ") || strings.HasSuffix(line, "Seq Scan on "+tbl) {
					return tbl
				}
			default:
				// "SCAN users" or "SCAN u" (an alias) without an index; a
				// SEARCH or a SCAN ... USING INDEX walks an index range.
				if strings.HasPrefix(line, "SCAN "+tbl) && !strings.Contains(line, "USING") {
					return tbl
				}
			}
		}
		if backend != "postgres" && strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "USING") &&
			!strings.Contains(plan, "CO-ROUTINE "+strings.Fields(line)[1]+"\n") && // a subquery's few rows
			!strings.Contains(line, "CONSTANT ROW") && !strings.Contains(line, "SUBQUERY") && !strings.HasPrefix(line, "SCAN json_each") {
			return strings.Fields(line)[1]
		}
	}
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// planUsers is the size of the populated pool TestQueryPlans checks:
// GATEHOUSE_TEST_PLANS_USERS, else with GATEHOUSE_TEST_SCALE=1 (the switch
// of every test at scale) GATEHOUSE_TEST_SCALE_USERS or 1,000,000; 0 (a
// handful of rows) by default.
func planUsers(t *testing.T) int {
	if n := envInt(t, "GATEHOUSE_TEST_PLANS_USERS"); n > 0 {
		return n
	}
	if os.Getenv("GATEHOUSE_TEST_SCALE") != "1" {
		return 0
	}
	if n := envInt(t, "GATEHOUSE_TEST_SCALE_USERS"); n > 0 {
		return n
	}
	return 1000000
}

func envInt(t *testing.T, name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}
