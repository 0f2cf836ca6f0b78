package forwardauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestCompanyFromTheStoredMembership: forward-auth names the company the
// user's stored company attribute says (written only by approvals and
// admins), not a company claim in the access token, and not another
// attribute that merely has the usual name: custom:company_name, which
// rules and X-Auth-Company read as the company, is the pool's company
// attribute. security.md A1, A7
func TestCompanyFromTheStoredMembership(t *testing.T) {
	t.Parallel()
	g, _ := setup(t, 0)
	ctx := context.Background()
	// A pre token generation hook puts custom:company_name=Acme into every
	// access token.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		ev["response"] = map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
			"accessTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"custom:company_name": "Acme"}}}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ev)
	}))
	t.Cleanup(hs.Close)
	if _, _, err := g.Svc.PutHook(ctx, g.Pool.ID, identity.TriggerPreTokenGeneration, auth.HookInput{URL: hs.URL, Version: "2"}); err != nil {
		t.Fatal(err)
	}
	bob := g.User(t, "bob@globex.test", "Globex", "Admins")
	if res := g.Check(t, "GET", "/companies/Acme/documents", bob.Access); res.StatusCode != http.StatusForbidden {
		t.Fatalf("token claim Acme: %d", res.StatusCode)
	}
	res := g.Check(t, "GET", "/companies/Globex/documents", bob.Access)
	if res.StatusCode != http.StatusOK || res.Header.Get(authz.HeaderCompany) != "Globex" {
		t.Fatalf("stored Globex: %d %q", res.StatusCode, res.Header.Get(authz.HeaderCompany))
	}

	// A pool whose company attribute is custom:org: custom:company_name is
	// an ordinary attribute the user writes, and the header does not
	// follow it.
	if err := g.Svc.DeleteHook(ctx, g.Pool.ID, identity.TriggerPreTokenGeneration); err != nil {
		t.Fatal(err)
	}
	if err := g.Svc.AddCustomAttributes(ctx, g.Pool.ID, []identity.AttributeDef{{Name: "custom:org", Type: identity.AttrString, Mutable: true}}); err != nil {
		t.Fatal(err)
	}
	p, err := g.Svc.GetPool(ctx, g.Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.SignUp.CompanyAttribute = "custom:org"
	if _, err := g.Svc.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := g.Svc.AdminUpdateUserAttributes(ctx, g.Pool.ID, "bob@globex.test", map[string]string{"custom:org": "Globex"}); err != nil {
		t.Fatal(err)
	}
	bob = g.SignIn(t, "bob@globex.test")
	if _, err := g.Svc.UpdateUserAttributes(ctx, bob.Access, map[string]string{"custom:company_name": "Acme"}); err != nil {
		t.Fatal(err)
	}
	if res := g.Check(t, "GET", "/companies/Acme/documents", bob.Access); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the user's own custom:company_name: %d", res.StatusCode)
	}
	res = g.Check(t, "GET", "/companies/Globex/documents", bob.Access)
	if res.StatusCode != http.StatusOK || res.Header.Get(authz.HeaderCompany) != "Globex" {
		t.Fatalf("the company attribute's Globex: %d %q", res.StatusCode, res.Header.Get(authz.HeaderCompany))
	}
}
