package storetest

import (
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// migrationsBefore returns b's migrations numbered below v.
func migrationsBefore(t *testing.T, b Backend, v int) fs.FS {
	t.Helper()
	before := fstest.MapFS{}
	names, err := fs.Glob(b.Migrations, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v %v", names, err)
	}
	for _, n := range names {
		nv, err := strconv.Atoi(strings.SplitN(n, "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		if nv < v {
			body, err := fs.ReadFile(b.Migrations, n)
			if err != nil {
				t.Fatal(err)
			}
			before[n] = &fstest.MapFile{Data: body}
		}
	}
	return before
}

// RunMigration0030 checks the upgrade to migration 0030 (the approvers
// index) on a database whose companies were written before it: every
// company admin (sub) and every address awaiting an account is found
// through the index, plain address approvers and other pools are not,
// malformed or empty approver lists are skipped, and writes keep the
// index from then on.
func RunMigration0030(t *testing.T, b Backend) {
	t.Helper()
	old, w := b.OpenWith(t, migrationsBefore(t, b, 30))
	p := mustPool(t, old, "eu-west-1_m30")
	q := mustPool(t, old, "eu-west-1_m30b")
	// Rows as a node before 0030 wrote them: literal SQL, the same on
	// both dialects.
	for _, stmt := range []string{
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + p.ID + `', 'acme', 'Acme', 'acme',
			'[{"sub":"s1"},{"email":"boss@acme.example"},{"email":"alice@acme.example","awaiting_account":true},{"sub":"s1"}]', 'active')`,
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + p.ID + `', 'beta', 'Beta', 'beta',
			'[{"sub":"s2"},{"sub":"s1"},{"email":"alice@acme.example","awaiting_account":true}]', 'active')`,
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + p.ID + `', 'empty', 'Empty', 'empty', '[]', 'active')`,
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + p.ID + `', 'nulled', 'Nulled', 'nulled', 'null', 'active')`,
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + p.ID + `', 'odd', 'Odd', 'odd',
			'["s1", {"sub":""}, {"email":"","awaiting_account":true}, {"email":"carl@acme.example","awaiting_account":false}]', 'active')`,
		`INSERT INTO companies (pool_id, name_key, name, group_name, approvers, status) VALUES ('` + q.ID + `', 'acme', 'Acme', 'acme',
			'[{"sub":"s1"},{"sub":"s9"},{"email":"alice@acme.example","awaiting_account":true}]', 'active')`,
	} {
		if _, err := w.ExecContext(ctx(t), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	s, _ := b.OpenWith(t, b.Migrations)
	c := ctx(t)
	names := func(list []*identity.Company, err error) []string {
		t.Helper()
		noErr(t, "list", err)
		var out []string
		for _, co := range list {
			out = append(out, co.PoolID+"/"+co.Name)
		}
		return out
	}
	for _, tc := range []struct {
		what string
		got  []string
		want []string
	}{
		{"approved by s1", names(s.ListCompaniesApprovedBy(c, p.ID, "s1")), []string{p.ID + "/Acme", p.ID + "/Beta"}},
		{"approved by s2", names(s.ListCompaniesApprovedBy(c, p.ID, "s2")), []string{p.ID + "/Beta"}},
		{"approved by s9 (another pool)", names(s.ListCompaniesApprovedBy(c, p.ID, "s9")), nil},
		{"approved by s9 in its pool", names(s.ListCompaniesApprovedBy(c, q.ID, "s9")), []string{q.ID + "/Acme"}},
		{"awaiting alice", names(s.ListCompaniesAwaitingApprover(c, p.ID, "Alice@acme.example")), []string{p.ID + "/Acme", p.ID + "/Beta"}},
		{"awaiting boss (plain address)", names(s.ListCompaniesAwaitingApprover(c, p.ID, "boss@acme.example")), nil},
		{"awaiting carl (not awaiting)", names(s.ListCompaniesAwaitingApprover(c, p.ID, "carl@acme.example")), nil},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("after migration 0030, %s = %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	// Writes after the upgrade keep the index.
	acme, err := s.GetCompany(c, p.ID, "acme")
	noErr(t, "GetCompany", err)
	acme.Approvers = []identity.Approver{{Sub: "s3"}}
	noErr(t, "UpdateCompany", s.UpdateCompany(c, acme))
	if got := names(s.ListCompaniesApprovedBy(c, p.ID, "s1")); !reflect.DeepEqual(got, []string{p.ID + "/Beta"}) {
		t.Errorf("after an update, approved by s1 = %v", got)
	}
	if got := names(s.ListCompaniesApprovedBy(c, p.ID, "s3")); !reflect.DeepEqual(got, []string{p.ID + "/Acme"}) {
		t.Errorf("after an update, approved by s3 = %v", got)
	}
}
