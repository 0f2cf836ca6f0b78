package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testCompanyApprovers: the approvers index (ListCompaniesApprovedBy,
// ListCompaniesAwaitingApprover, migration 0030) follows every kind of
// company write — create, update (approver added, removed, an awaiting
// address linked to a user), a failed update, a rolled-back transaction,
// delete, the pool's deletion — and never answers with another pool's
// companies.
func testCompanyApprovers(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool, other = "eu-west-1_appr", "eu-west-1_appr2"
	mustPool(t, s, pool)
	mustPool(t, s, other)
	names := func(list []*identity.Company, err error) []string {
		t.Helper()
		noErr(t, "list", err)
		var out []string
		for _, co := range list {
			if co.PoolID != pool {
				t.Fatalf("a company of pool %s in the answer for %s", co.PoolID, pool)
			}
			out = append(out, co.Name)
		}
		return out
	}
	approves := func(sub string) []string { return names(s.ListCompaniesApprovedBy(c, pool, sub)) }
	awaiting := func(email string) []string { return names(s.ListCompaniesAwaitingApprover(c, pool, email)) }
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}

	acme := &identity.Company{PoolID: pool, Name: "Acme", DisplayName: "Acme", Group: "acme", Status: identity.CompanyActive,
		EmailDomains: []string{"acme.example"},
		Approvers: []identity.Approver{{Sub: "s1"}, {Email: "boss@acme.example"}, {Email: "alice@acme.example", AwaitingAccount: true},
			{Sub: "s1"}}, // a duplicate counts once
		CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "CreateCompany Acme", s.CreateCompany(c, acme))
	noErr(t, "CreateCompany Beta", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "beta", Group: "beta", Status: identity.CompanyActive,
		Approvers: []identity.Approver{{Sub: "s2"}, {Sub: "s1"}, {Email: "alice@acme.example", AwaitingAccount: true}}, CreatedAt: t0, UpdatedAt: t0}))
	noErr(t, "CreateCompany Gamma", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Gamma", Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	// Another pool lists the same sub and address: never in pool's answers.
	noErr(t, "CreateCompany other pool", s.CreateCompany(c, &identity.Company{PoolID: other, Name: "Acme", Group: "acme", Status: identity.CompanyActive,
		Approvers: []identity.Approver{{Sub: "s1"}, {Sub: "s9"}, {Email: "alice@acme.example", AwaitingAccount: true}}, CreatedAt: t0, UpdatedAt: t0}))

	want("approved by s1", approves("s1"), "Acme", "beta")
	want("approved by s2", approves("s2"), "beta")
	want("approved by s9 (another pool's)", approves("s9"))
	want("approved by nobody", approves(""))
	want("approved by S1 (subs are exact)", approves("S1"))
	// The whole company comes back, domains included.
	got, err := s.ListCompaniesApprovedBy(c, pool, "s2")
	noErr(t, "ListCompaniesApprovedBy", err)
	full, err := s.GetCompany(c, pool, "beta")
	noErr(t, "GetCompany", err)
	if !reflect.DeepEqual(got[0], full) {
		t.Fatalf("ListCompaniesApprovedBy = %+v, want %+v", got[0], full)
	}
	got, err = s.ListCompaniesApprovedBy(c, pool, "s1")
	noErr(t, "ListCompaniesApprovedBy", err)
	if !reflect.DeepEqual(got[0].EmailDomains, []string{"acme.example"}) {
		t.Fatalf("domains: %v", got[0].EmailDomains)
	}

	// Addresses: compared lower-cased; a plain address approver (no
	// account awaited) is not indexed, nor is anyone's sub as an address.
	want("awaiting alice", awaiting("alice@acme.example"), "Acme", "beta")
	want("awaiting ALICE", awaiting("ALICE@Acme.Example"), "Acme", "beta")
	want("awaiting boss (a plain address)", awaiting("boss@acme.example"))
	want("awaiting s1", awaiting("s1"))
	want("awaiting nobody", awaiting(""))

	// Update: s1 removed from Acme, s3 added, alice linked to her sub.
	acme.Approvers = []identity.Approver{{Sub: "s3"}, {Email: "boss@acme.example"}, {Sub: "sub-alice"}}
	noErr(t, "UpdateCompany", s.UpdateCompany(c, acme))
	want("approved by s1 after removal", approves("s1"), "beta")
	want("approved by s3 after addition", approves("s3"), "Acme")
	want("approved by alice after linking", approves("sub-alice"), "Acme")
	want("awaiting alice after linking", awaiting("alice@acme.example"), "beta")

	// A failed update (a domain taken) inside a transaction: the index
	// agrees with the company's record in that transaction (SQLite keeps
	// the statements before the failed one, PostgreSQL rolls back to a
	// savepoint), and the transaction the service then rolls back leaves
	// both as they were.
	noErr(t, "CreateCompany Delta", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Delta", EmailDomains: []string{"delta.example"},
		Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	err = s.InTx(c, func(q store.Querier) error {
		bad := *acme
		bad.Approvers, bad.EmailDomains = []identity.Approver{{Sub: "s4"}}, []string{"delta.example"}
		err := q.UpdateCompany(c, &bad)
		wantErr(t, "UpdateCompany taken domain", err, store.ErrConflict)
		rec, gerr := q.GetCompany(c, pool, "acme")
		noErr(t, "GetCompany in tx", gerr)
		l, lerr := q.ListCompaniesApprovedBy(c, pool, "s4")
		noErr(t, "ListCompaniesApprovedBy in tx", lerr)
		if inRecord := reflect.DeepEqual(rec.Approvers, bad.Approvers); inRecord != (len(l) == 1) {
			t.Errorf("after a failed update the index (%d companies for s4) disagrees with the record %v", len(l), rec.Approvers)
		}
		return err
	})
	wantErr(t, "InTx with a failed update", err, store.ErrConflict)
	want("approved by s4 after a failed update", approves("s4"))
	want("approved by s3 after a failed update", approves("s3"), "Acme")
	// A rolled-back transaction leaves the index as it was.
	boom := errors.New("boom")
	err = s.InTx(c, func(q store.Querier) error {
		next := *acme
		next.Approvers = []identity.Approver{{Sub: "s5"}}
		noErr(t, "UpdateCompany in tx", q.UpdateCompany(c, &next))
		if l, err := q.ListCompaniesApprovedBy(c, pool, "s5"); err != nil || len(l) != 1 {
			t.Errorf("inside the transaction: %v %v", l, err)
		}
		return boom
	})
	wantErr(t, "InTx rolled back", err, boom)
	want("approved by s5 after rollback", approves("s5"))
	want("approved by s3 after rollback", approves("s3"), "Acme")
	// Updating a company that is not there writes no index row.
	wantErr(t, "UpdateCompany missing", s.UpdateCompany(c, &identity.Company{PoolID: pool, Name: "Nope", Status: identity.CompanyActive,
		Approvers: []identity.Approver{{Sub: "s6"}}}), store.ErrNotFound)
	want("approved by s6 of a missing company", approves("s6"))

	// A deleted company disappears; another pool's is untouched.
	noErr(t, "DeleteCompany", s.DeleteCompany(c, pool, "BETA"))
	want("approved by s1 after delete", approves("s1"))
	want("approved by s2 after delete", approves("s2"))
	want("awaiting alice after delete", awaiting("alice@acme.example"))
	if l, err := s.ListCompaniesApprovedBy(c, other, "s1"); err != nil || len(l) != 1 || l[0].PoolID != other {
		t.Fatalf("other pool after delete: %v %v", l, err)
	}
	// A company made again under the old name starts with its own approvers.
	noErr(t, "CreateCompany Beta again", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Beta", Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	want("approved by s2 after re-create", approves("s2"))

	// Companies by group: the group, or the name of a company without one.
	groups := func(g string) []string { return names(s.ListCompaniesByGroup(c, pool, g)) }
	want("group acme", groups("acme"), "Acme")
	want("group Gamma (a company without a group: its name)", groups("Gamma"), "Gamma")
	want("group gamma (the name as written)", groups("gamma"))
	want("group none", groups(""))
	if l, err := s.ListCompaniesByGroup(c, other, "acme"); err != nil || len(l) != 1 || l[0].PoolID != other {
		t.Fatalf("group in the other pool: %v %v", l, err)
	}

	// Deleting the pool takes its index rows with it.
	noErr(t, "DeletePool", s.DeletePool(c, other))
	if l, err := s.ListCompaniesApprovedBy(c, other, "s1"); err != nil || len(l) != 0 {
		t.Fatalf("deleted pool: %v %v", l, err)
	}
}

// testDeleteUserEndsApprover: deleting a user takes it out of the approvers
// of its pool's companies in the same transaction (record and index), and
// leaves the other approvers, the other pools and a failed deletion alone;
// a user created later with the same sub is nobody's approver.
func testDeleteUserEndsApprover(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool, other = "eu-west-1_delappr", "eu-west-1_delappr2"
	mustPool(t, s, pool)
	mustPool(t, s, other)
	ann, bob := mustUser(t, s, pool, "ann"), mustUser(t, s, pool, "bob")
	ann2 := newUser(other, "ann")
	ann2.Sub = ann.Sub // the same sub in another pool: another user
	noErr(t, "CreateUser other pool", s.CreateUser(c, ann2, false))
	mk := func(p, name string, approvers ...identity.Approver) {
		t.Helper()
		noErr(t, "CreateCompany "+name, s.CreateCompany(c, &identity.Company{PoolID: p, Name: name, Group: name, Status: identity.CompanyActive,
			Approvers: approvers, CreatedAt: t0, UpdatedAt: t0}))
	}
	mk(pool, "acme", identity.Approver{Sub: ann.Sub}, identity.Approver{Sub: bob.Sub},
		identity.Approver{Email: "carol@acme.example", AwaitingAccount: true})
	mk(pool, "solo", identity.Approver{Sub: ann.Sub})
	mk(pool, "bobs", identity.Approver{Sub: bob.Sub})
	mk(other, "acme", identity.Approver{Sub: ann.Sub})
	approvers := func(p, name string) []identity.Approver {
		t.Helper()
		co, err := s.GetCompany(c, p, name)
		noErr(t, "GetCompany "+name, err)
		return co.Approvers
	}
	companies := func(p, sub string) int {
		t.Helper()
		l, err := s.ListCompaniesApprovedBy(c, p, sub)
		noErr(t, "ListCompaniesApprovedBy", err)
		return len(l)
	}

	// A deletion that fails (no such user) changes no company.
	wantErr(t, "DeleteUser unknown", s.DeleteUser(c, pool, "sub-nobody"), store.ErrNotFound)
	// A deletion rolled back with its transaction leaves ann an approver.
	boom := errors.New("boom")
	err := s.InTx(c, func(q store.Querier) error {
		noErr(t, "DeleteUser in tx", q.DeleteUser(c, pool, ann.Sub))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if n := companies(pool, ann.Sub); n != 2 {
		t.Fatalf("after a rolled-back deletion ann approves %d companies, want 2", n)
	}

	noErr(t, "DeleteUser ann", s.DeleteUser(c, pool, ann.Sub))
	if got, want := approvers(pool, "acme"), []identity.Approver{{Sub: bob.Sub}, {Email: "carol@acme.example", AwaitingAccount: true}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("acme approvers after ann's deletion = %+v, want %+v", got, want)
	}
	if got := approvers(pool, "solo"); len(got) != 0 {
		t.Fatalf("solo approvers after its only approver's deletion = %+v, want none", got)
	}
	if n := companies(pool, ann.Sub); n != 0 {
		t.Fatalf("the index still names ann for %d companies", n)
	}
	if n := companies(pool, bob.Sub); n != 2 {
		t.Fatalf("bob approves %d companies, want 2", n)
	}
	if got := approvers(other, "acme"); !reflect.DeepEqual(got, []identity.Approver{{Sub: ann.Sub}}) {
		t.Fatalf("the other pool's company changed: %+v", got)
	}
	// An account made again with the deleted sub inherits nothing.
	again := newUser(pool, "ann-again")
	again.Sub = ann.Sub
	noErr(t, "CreateUser with the deleted sub", s.CreateUser(c, again, false))
	if n := companies(pool, ann.Sub); n != 0 {
		t.Fatalf("a new user with the deleted sub approves %d companies", n)
	}
}
