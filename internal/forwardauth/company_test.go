package forwardauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
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
	bob := g.User(t, "bob@globex.test", "Globex", "Admins")
	// An access token of bob's sign-in that also carries
	// custom:company_name=Acme, signed with the pool's own key (as a pre
	// token generation hook's claimsToAddOrOverride would make it).
	parts := strings.Split(bob.Access, ".")
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil {
		t.Fatal(err)
	}
	claims["custom:company_name"] = "Acme"
	withClaim, err := g.Tokens.Sign(ctx, g.Pool, claims)
	if err != nil {
		t.Fatal(err)
	}
	if res := g.Check(t, "GET", "/companies/Acme/documents", withClaim); res.StatusCode != http.StatusForbidden {
		t.Fatalf("token claim Acme: %d", res.StatusCode)
	}
	if res := g.Check(t, "GET", "/companies/Globex/documents", withClaim); res.StatusCode != http.StatusOK || res.Header.Get(authz.HeaderCompany) != "Globex" {
		t.Fatalf("token claim Acme, stored Globex: %d %q", res.StatusCode, res.Header.Get(authz.HeaderCompany))
	}
	res := g.Check(t, "GET", "/companies/Globex/documents", bob.Access)
	if res.StatusCode != http.StatusOK || res.Header.Get(authz.HeaderCompany) != "Globex" {
		t.Fatalf("stored Globex: %d %q", res.StatusCode, res.Header.Get(authz.HeaderCompany))
	}

	// A pool whose company attribute is custom:org: custom:company_name is
	// an ordinary attribute the user writes, and the header does not
	// follow it.
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
