package e2e_test

import (
	"net/url"
	"strings"
	"testing"
)

type scimUser struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Active   bool   `json:"active"`
	Name     struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Emails []struct {
		Value string `json:"value"`
	} `json:"emails"`
}

type scimList struct {
	Total     int        `json:"totalResults"`
	Resources []scimUser `json:"Resources"`
}

// TestSCIMCoreOperations: Globex's admin makes the company's SCIM token;
// with it the company's IdP creates, gets, lists (with the userName
// filter), replaces, patches, deactivates and deletes members, and lists
// the company's group. Deactivating gil, signed in with a password, ends
// his sessions at once. The token reaches no other company, an address
// outside Globex's domains is refused, a rotated token stops working.
func TestSCIMCoreOperations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, clientID, gilAccess := e.companyPool(t)
	e.must(200, e.admin("PATCH", P+"/companies/globex", map[string]any{"email_domains": []string{"globex.example"}}))
	gus := "Bearer " + e.signInAccess(clientID, "gus@globex.example")
	var tok struct {
		Token   string `json:"token"`
		BaseURL string `json:"scim_base_url"`
	}
	e.must(201, e.do("POST", P+"/companies/globex/scim-token", gus, nil)).json(t, &tok)
	if !strings.HasPrefix(tok.Token, "ghs_") || !strings.HasSuffix(tok.BaseURL, "/scim/v2/"+strings.TrimPrefix(P, "/api/v1/pools/")+"/Globex") {
		t.Fatalf("token %+v", tok)
	}
	u, err := url.Parse(tok.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	base, bearer := u.Path, "Bearer "+tok.Token

	// Authentication.
	e.must(401, e.do("GET", base+"/Users", "", nil))
	e.must(401, e.do("GET", base+"/Users", "Bearer ghs_wrong", nil))
	e.must(401, e.do("GET", strings.Replace(base, "/Globex", "/Acme", 1)+"/Users", bearer, nil))

	// Create.
	var ann scimUser
	e.must(201, e.do("POST", base+"/Users", bearer, map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "ann@globex.example", "name": map[string]string{"givenName": "Ann", "familyName": "Lee"},
		"emails": []map[string]any{{"value": "ann@globex.example", "primary": true}}, "active": true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]string{"department": "ignored"},
	})).json(t, &ann)
	if ann.ID == "" || ann.UserName != "ann@globex.example" || !ann.Active || ann.Name.GivenName != "Ann" {
		t.Fatalf("created %+v", ann)
	}
	if g := e.userGroups(P, "ann@globex.example"); !strings.Contains(strings.Join(g, ","), "Globex") {
		t.Fatalf("ann's groups %v", g)
	}
	e.must(409, e.do("POST", base+"/Users", bearer, map[string]any{"userName": "ann@globex.example"}))
	e.must(400, e.do("POST", base+"/Users", bearer, map[string]any{"userName": "eve@acme.example"}))
	e.must(400, e.do("POST", base+"/Users", bearer, "{not json"))

	// Get and list.
	e.must(200, e.do("GET", base+"/Users/"+ann.ID, bearer, nil))
	e.must(404, e.do("GET", base+"/Users/no-such-id", bearer, nil))
	var list scimList
	e.must(200, e.do("GET", base+"/Users?filter="+url.QueryEscape(`userName eq "ANN@globex.example"`), bearer, nil)).json(t, &list)
	if list.Total != 1 || list.Resources[0].ID != ann.ID {
		t.Fatalf("filtered %+v", list)
	}
	e.must(200, e.do("GET", base+"/Users?startIndex=1&count=2", bearer, nil)).json(t, &list)
	if list.Total != 4 || len(list.Resources) != 2 { // gil, gus, gia, ann
		t.Fatalf("listed %+v", list)
	}
	e.must(400, e.do("GET", base+"/Users?filter="+url.QueryEscape(`password co "x"`), bearer, nil))

	// Replace and patch.
	var got scimUser
	e.must(200, e.do("PUT", base+"/Users/"+ann.ID, bearer, map[string]any{"userName": "ann@globex.example",
		"name": map[string]string{"givenName": "Annie", "familyName": "Lee"}, "active": true})).json(t, &got)
	if got.Name.GivenName != "Annie" {
		t.Fatalf("replaced %+v", got)
	}
	e.must(400, e.do("PUT", base+"/Users/"+ann.ID, bearer, map[string]any{"userName": "other@globex.example", "active": true}))
	e.must(200, e.do("PATCH", base+"/Users/"+ann.ID, bearer, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "name.familyName", "value": "Park"}}})).json(t, &got)
	if got.Name.FamilyName != "Park" {
		t.Fatalf("patched %+v", got)
	}

	// Deactivate gil (Entra ID's form): his access token stops at once.
	e.must(200, e.do("GET", "/api/v1/me", "Bearer "+gilAccess, nil))
	list = scimList{}
	e.must(200, e.do("GET", base+"/Users?filter="+url.QueryEscape(`userName eq "gil@globex.example"`), bearer, nil)).json(t, &list)
	if list.Total != 1 {
		t.Fatalf("gil %+v", list)
	}
	e.must(200, e.do("PATCH", base+"/Users/"+list.Resources[0].ID, bearer, map[string]any{
		"Operations": []map[string]any{{"op": "Replace", "value": map[string]any{"active": "False"}}}})).json(t, &got)
	if got.Active {
		t.Fatalf("still active %+v", got)
	}
	e.must(401, e.do("GET", "/api/v1/me", "Bearer "+gilAccess, nil))
	e.must(403, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": "gil@globex.example", "password": goodPassword}))

	// Groups.
	var groups struct {
		Total     int `json:"totalResults"`
		Resources []struct {
			ID      string              `json:"id"`
			Members []map[string]string `json:"members"`
		} `json:"Resources"`
	}
	e.must(200, e.do("GET", base+"/Groups", bearer, nil)).json(t, &groups)
	if groups.Total != 1 || len(groups.Resources[0].Members) != 4 { // the company's own group
		t.Fatalf("groups %+v", groups)
	}
	e.must(200, e.do("GET", base+"/Groups/"+url.PathEscape(groups.Resources[0].ID), bearer, nil))

	// Delete.
	e.must(204, e.do("DELETE", base+"/Users/"+ann.ID, bearer, nil))
	e.must(404, e.do("GET", base+"/Users/"+ann.ID, bearer, nil))

	// A rotated token replaces the old one.
	e.must(201, e.do("POST", P+"/companies/globex/scim-token", gus, nil))
	e.must(401, e.do("GET", base+"/Users", bearer, nil))
}
