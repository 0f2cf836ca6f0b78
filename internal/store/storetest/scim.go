package storetest

import (
	"reflect"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testSCIM: externalIds are unique within a company but not across
// companies, are replaced and removed, and go with the user; pushed
// groups round-trip, their display names are unique (any case) within a
// company, and they go with the company.
func testSCIM(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_scim"
	mustPool(t, s, pool)
	for _, n := range []string{"Acme", "Beta"} {
		noErr(t, "CreateCompany", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: n, Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	}
	ann, bob, cat := mustUser(t, s, pool, "ann"), mustUser(t, s, pool, "bob"), mustUser(t, s, pool, "cat")
	noErr(t, "SetSCIMExternalID", s.SetSCIMExternalID(c, pool, "Acme", ann.Sub, "00u1"))
	wantErr(t, "same externalId in the company", s.SetSCIMExternalID(c, pool, "acme", bob.Sub, "00u1"), store.ErrConflict)
	noErr(t, "same externalId in another company", s.SetSCIMExternalID(c, pool, "Beta", cat.Sub, "00u1"))
	noErr(t, "replace", s.SetSCIMExternalID(c, pool, "Acme", ann.Sub, "00u2"))
	noErr(t, "bob", s.SetSCIMExternalID(c, pool, "Acme", bob.Sub, "00u1"))
	wantErr(t, "unknown user", s.SetSCIMExternalID(c, pool, "Acme", "no-such-sub", "00u9"), store.ErrNotFound)
	ids, err := s.ListSCIMExternalIDs(c, pool, "ACME")
	if err != nil || !reflect.DeepEqual(ids, map[string]string{ann.Sub: "00u2", bob.Sub: "00u1"}) {
		t.Fatalf("externalIds %v %v", ids, err)
	}
	noErr(t, "remove", s.SetSCIMExternalID(c, pool, "Acme", bob.Sub, ""))
	noErr(t, "DeleteUser", s.DeleteUser(c, pool, ann.Sub))
	if ids, err = s.ListSCIMExternalIDs(c, pool, "Acme"); err != nil || len(ids) != 0 {
		t.Fatalf("after removal and deletion %v %v", ids, err)
	}

	g := &identity.SCIMGroup{PoolID: pool, Company: "Acme", ID: "g1", DisplayName: "Engineering", ExternalID: "okta-1",
		PoolGroup: "engineers", CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "PutSCIMGroup", s.PutSCIMGroup(c, g))
	got, err := s.GetSCIMGroup(c, pool, "acme", "g1")
	if err != nil || !reflect.DeepEqual(got, g) {
		t.Fatalf("round trip:\n got %+v %v\nwant %+v", got, err, g)
	}
	_, err = s.GetSCIMGroup(c, pool, "Beta", "g1")
	wantErr(t, "another company's group", err, store.ErrNotFound)
	wantErr(t, "display name taken", s.PutSCIMGroup(c, &identity.SCIMGroup{PoolID: pool, Company: "Acme", ID: "g2",
		DisplayName: "ENGINEERING", PoolGroup: "x", CreatedAt: t0, UpdatedAt: t0}), store.ErrConflict)
	noErr(t, "same name in Beta", s.PutSCIMGroup(c, &identity.SCIMGroup{PoolID: pool, Company: "Beta", ID: "g3",
		DisplayName: "Engineering", PoolGroup: "x", CreatedAt: t0, UpdatedAt: t0}))
	wantErr(t, "unknown company", s.PutSCIMGroup(c, &identity.SCIMGroup{PoolID: pool, Company: "Nobody", ID: "g4",
		DisplayName: "x", PoolGroup: "x", CreatedAt: t0, UpdatedAt: t0}), store.ErrNotFound)
	g.DisplayName, g.UpdatedAt = "Eng", t0.Add(1e9)
	noErr(t, "replace group", s.PutSCIMGroup(c, g))
	list, err := s.ListSCIMGroups(c, pool, "Acme")
	if err != nil || len(list) != 1 || list[0].DisplayName != "Eng" {
		t.Fatalf("list %+v %v", list, err)
	}
	wantErr(t, "delete another company's", s.DeleteSCIMGroup(c, pool, "Beta", "g1"), store.ErrNotFound)
	noErr(t, "DeleteSCIMGroup", s.DeleteSCIMGroup(c, pool, "Acme", "g1"))
	// DomainRequiresSSO: only an active company's provider requiring SSO.
	noErr(t, "CreateCompany Gamma", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: "Gamma", EmailDomains: []string{"gamma.example"},
		Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	for _, want := range []bool{false, true} {
		if want {
			noErr(t, "PutCompanyIdP", s.PutCompanyIdP(c, &identity.CompanyIdP{PoolID: pool, Company: "Gamma", Name: "sso:9a",
				Kind: identity.CompanyIdPOIDC, RequireSSO: true, CreatedAt: t0, UpdatedAt: t0}))
		}
		if got, err := s.DomainRequiresSSO(c, pool, "GAMMA.example"); err != nil || got != want {
			t.Fatalf("DomainRequiresSSO = %v %v, want %v", got, err, want)
		}
	}
	if got, err := s.DomainRequiresSSO(c, pool, "nobody.example"); err != nil || got {
		t.Fatalf("unknown domain: %v %v", got, err)
	}
	gamma, err := s.GetCompany(c, pool, "Gamma")
	noErr(t, "GetCompany", err)
	gamma.Status = "disabled"
	noErr(t, "UpdateCompany", s.UpdateCompany(c, gamma))
	if got, err := s.DomainRequiresSSO(c, pool, "gamma.example"); err != nil || got {
		t.Fatalf("disabled company: %v %v", got, err)
	}
	noErr(t, "PutSCIMToken", s.PutSCIMToken(c, pool, "Beta", "h", t0))
	noErr(t, "DeleteSCIMToken", s.DeleteSCIMToken(c, pool, "BETA"))
	wantErr(t, "DeleteSCIMToken again", s.DeleteSCIMToken(c, pool, "Beta"), store.ErrNotFound)
	noErr(t, "DeleteCompany", s.DeleteCompany(c, pool, "Beta"))
	if list, err = s.ListSCIMGroups(c, pool, "Beta"); err != nil || len(list) != 0 {
		t.Fatalf("cascade %+v %v", list, err)
	}
}
