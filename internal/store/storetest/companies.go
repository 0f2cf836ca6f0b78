package storetest

import (
	"reflect"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func testCompanies(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_cmp"
	mustPool(t, s, pool)
	co := &identity.Company{PoolID: pool, Name: "Acme", DisplayName: "Ácme Corp", EmailDomains: []string{"acme.example", "acme.test"},
		Group: "acme", Approvers: []identity.Approver{{Sub: "s1"}, {Email: "boss@acme.example"}, {Email: "alice@acme.example", AwaitingAccount: true}}, Status: identity.CompanyActive,
		CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "CreateCompany", s.CreateCompany(c, co))
	wantErr(t, "CreateCompany same name other case", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "ACME", Status: "active"}), store.ErrConflict)
	wantErr(t, "CreateCompany taken domain", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Other", EmailDomains: []string{"acme.test"}, Status: "active"}), store.ErrConflict)
	if _, err := s.GetCompany(c, pool, "other"); err == nil {
		t.Fatal("a company whose domain clashed was half written")
	}
	wantErr(t, "CreateCompany missing pool", s.CreateCompany(c, &identity.Company{PoolID: "eu-west-1_none", Name: "x", Status: "active"}), store.ErrNotFound)

	got, err := s.GetCompany(c, pool, "aCmE")
	noErr(t, "GetCompany", err)
	if !reflect.DeepEqual(got, co) {
		t.Fatalf("GetCompany =\n%+v\nwant\n%+v", got, co)
	}
	got, err = s.GetCompanyByDomain(c, pool, "ACME.test")
	noErr(t, "GetCompanyByDomain", err)
	if got.Name != "Acme" {
		t.Fatalf("GetCompanyByDomain = %q", got.Name)
	}
	_, err = s.GetCompanyByDomain(c, pool, "nope.example")
	wantErr(t, "GetCompanyByDomain missing", err, store.ErrNotFound)

	co.DisplayName, co.EmailDomains, co.Approvers, co.RequireMFA = "Acme Ltd", []string{"acme.example"}, nil, true
	noErr(t, "UpdateCompany", s.UpdateCompany(c, co))
	got, _ = s.GetCompany(c, pool, "acme")
	if got.DisplayName != "Acme Ltd" || !reflect.DeepEqual(got.EmailDomains, []string{"acme.example"}) || len(got.Approvers) != 0 || !got.RequireMFA {
		t.Fatalf("after update: %+v", got)
	}
	// The freed domain may now go to another company.
	noErr(t, "CreateCompany freed domain", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Beta", DisplayName: "Bêta Systems",
		EmailDomains: []string{"acme.test"}, Status: identity.CompanyActive}))
	noErr(t, "CreateCompany disabled", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Bexit", DisplayName: "Bexit",
		Status: identity.CompanyDisabled}))

	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"Acme", "Beta"}},
		{store.FoldName("BÉ"), []string{"Beta"}},
		{store.FoldName("acme l"), []string{"Acme"}},
		{"z", nil},
		{"%", nil},
	} {
		list, err := s.SearchCompanies(c, pool, tc.prefix, 10)
		noErr(t, "SearchCompanies", err)
		var names []string
		for _, x := range list {
			names = append(names, x.Name)
		}
		if !reflect.DeepEqual(names, tc.want) {
			t.Errorf("SearchCompanies(%q) = %v, want %v", tc.prefix, names, tc.want)
		}
	}

	list, next, err := s.ListCompanies(c, pool, store.Page{Limit: 2})
	noErr(t, "ListCompanies", err)
	if len(list) != 2 || next == "" {
		t.Fatalf("ListCompanies page 1: %d, %q", len(list), next)
	}
	list, next, err = s.ListCompanies(c, pool, store.Page{Limit: 2, Token: next})
	noErr(t, "ListCompanies 2", err)
	if len(list) != 1 || next != "" || list[0].Name != "Bexit" {
		t.Fatalf("ListCompanies page 2: %v, %q", list, next)
	}
	noErr(t, "DeleteCompany", s.DeleteCompany(c, pool, "BETA"))
	wantErr(t, "DeleteCompany again", s.DeleteCompany(c, pool, "beta"), store.ErrNotFound)
	_, err = s.GetCompanyByDomain(c, pool, "acme.test")
	wantErr(t, "domain of deleted company", err, store.ErrNotFound)
}
