package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// testCompanyIdPs: put and read back by company (any case) and by name,
// replace in place, a name taken by another company is a conflict, an
// unknown company is not found, listing, deletion, and the cascade with
// the company.
func testCompanyIdPs(t *testing.T, s store.Store) {
	c := ctx(t)
	const pool = "eu-west-1_cidp"
	mustPool(t, s, pool)
	for _, n := range []string{"Acme", "Beta"} {
		noErr(t, "CreateCompany", s.CreateCompany(c, &identity.Company{PoolID: pool, Name: n, Status: identity.CompanyActive, CreatedAt: t0, UpdatedAt: t0}))
	}
	idp := &identity.CompanyIdP{PoolID: pool, Company: "Acme", Name: "sso:0a1b", Kind: identity.CompanyIdPOIDC,
		Provider: identity.IdentityProvider{Name: "sso:0a1b", Type: identity.ProviderOIDC, Issuer: "https://op.acme.example",
			ClientID: "gh", ClientSecretSealed: "sealed", AttributeMapping: map[string]string{"email": "email"}},
		RequireSSO: true, CreatedAt: t0, UpdatedAt: t0}
	noErr(t, "PutCompanyIdP", s.PutCompanyIdP(c, idp))
	got, err := s.GetCompanyIdP(c, pool, "ACME")
	if err != nil || !reflect.DeepEqual(got, idp) {
		t.Fatalf("round trip:\n got %+v %v\nwant %+v", got, err, idp)
	}
	got, err = s.GetCompanyIdPByName(c, pool, "sso:0a1b")
	if err != nil || got.Company != "Acme" {
		t.Fatalf("by name: %+v %v", got, err)
	}
	idp.RequireSSO, idp.Provider.ClientID, idp.UpdatedAt = false, "gh2", t0.Add(1e9)
	noErr(t, "PutCompanyIdP replace", s.PutCompanyIdP(c, idp))
	if got, _ = s.GetCompanyIdP(c, pool, "acme"); got.RequireSSO || got.Provider.ClientID != "gh2" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("replaced: %+v", got)
	}
	wantErr(t, "name of another company", s.PutCompanyIdP(c, &identity.CompanyIdP{PoolID: pool, Company: "Beta",
		Name: "sso:0a1b", Kind: identity.CompanyIdPOIDC, CreatedAt: t0, UpdatedAt: t0}), store.ErrConflict)
	wantErr(t, "unknown company", s.PutCompanyIdP(c, &identity.CompanyIdP{PoolID: pool, Company: "Nobody",
		Name: "sso:ffff", Kind: identity.CompanyIdPOIDC, CreatedAt: t0, UpdatedAt: t0}), store.ErrNotFound)
	noErr(t, "PutCompanyIdP Beta", s.PutCompanyIdP(c, &identity.CompanyIdP{PoolID: pool, Company: "Beta",
		Name: "sso:beef", Kind: identity.CompanyIdPOIDC, CreatedAt: t0, UpdatedAt: t0}))
	list, err := s.ListCompanyIdPs(c, pool)
	if err != nil || len(list) != 2 || list[0].Company != "Acme" || list[1].Name != "sso:beef" {
		t.Fatalf("list: %+v %v", list, err)
	}
	noErr(t, "DeleteCompanyIdP", s.DeleteCompanyIdP(c, pool, "beta"))
	wantErr(t, "delete again", s.DeleteCompanyIdP(c, pool, "Beta"), store.ErrNotFound)
	// SCIM tokens: one per company, replaced in place.
	_, err = s.GetSCIMToken(c, pool, "Acme")
	wantErr(t, "no SCIM token", err, store.ErrNotFound)
	noErr(t, "PutSCIMToken", s.PutSCIMToken(c, pool, "Acme", "h1", t0))
	noErr(t, "PutSCIMToken again", s.PutSCIMToken(c, pool, "ACME", "h2", t0))
	if h, err := s.GetSCIMToken(c, pool, "acme"); err != nil || h != "h2" {
		t.Fatalf("SCIM token %q %v", h, err)
	}
	wantErr(t, "SCIM token of no company", s.PutSCIMToken(c, pool, "Nobody", "h", t0), store.ErrNotFound)
	noErr(t, "DeleteCompany", s.DeleteCompany(c, pool, "Acme"))
	_, err = s.GetSCIMToken(c, pool, "Acme")
	wantErr(t, "SCIM token cascade", err, store.ErrNotFound)
	_, err = s.GetCompanyIdP(c, pool, "Acme")
	wantErr(t, "cascade with the company", err, store.ErrNotFound)

	// The SAML replay cache: an assertion ID is used once per pool while
	// it has not expired.
	exp := t0.Add(5 * time.Minute)
	noErr(t, "UseSAMLAssertion", s.UseSAMLAssertion(c, pool, "_a1", exp, t0))
	wantErr(t, "replayed assertion", s.UseSAMLAssertion(c, pool, "_a1", exp, t0.Add(time.Minute)), store.ErrConflict)
	noErr(t, "same id in another pool", s.UseSAMLAssertion(c, "eu-west-1_other", "_a1", exp, t0))
	noErr(t, "an expired record is dropped", s.UseSAMLAssertion(c, pool, "_a1", t0.Add(time.Hour), t0.Add(6*time.Minute)))
}
