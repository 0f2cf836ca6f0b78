package e2e_test

import (
	"net/url"
	"sort"
	"strings"
	"testing"
)

// companyPool: a pool with the company attribute, companies Acme and
// Globex (approvers gus and gia, both Globex members), and gil, a Globex
// member invited by an admin, signed in. It returns the pool path, the
// client id and gil's access token.
func (e *env) companyPool(t *testing.T) (P, clientID, gilAccess string) {
	t.Helper()
	var p struct{ ID string }
	e.must(201, e.admin("POST", "/api/v1/pools", map[string]any{"name": "companies",
		"schema": []map[string]any{{"name": "custom:company_name", "type": "String", "mutable": true}}})).json(t, &p)
	P = "/api/v1/pools/" + p.ID
	var c struct{ ID string }
	e.must(201, e.admin("POST", P+"/clients", map[string]any{"name": "app",
		"auth_flows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}})).json(t, &c)
	for _, name := range []string{"gil", "gus", "gia"} {
		e.invite(P, name+"@globex.example", "Globex")
	}
	e.must(201, e.admin("POST", P+"/companies", map[string]any{"name": "Acme"}))
	e.must(201, e.admin("POST", P+"/companies", map[string]any{"name": "Globex",
		"approvers": []map[string]string{{"sub": "gus@globex.example"}, {"sub": "gia@globex.example"}}}))
	for _, name := range []string{"gil", "gus", "gia"} {
		// The companies came after the invitations: an admin puts the
		// members in.
		e.must(204, e.admin("PATCH", P+"/users/"+name+"%40globex.example/attributes", map[string]any{
			"attributes": map[string]string{"custom:company_name": "globex"}}))
	}
	return P, c.ID, e.signInAccess(c.ID, "gil@globex.example")
}

// invite creates a confirmed user with a permanent password through the
// admin API, naming company.
func (e *env) invite(P, email, company string) {
	e.t.Helper()
	attrs := map[string]string{"email_verified": "true"}
	if company != "" {
		attrs["custom:company_name"] = company
	}
	e.must(201, e.admin("POST", P+"/users", map[string]any{"username": email, "attributes": attrs, "message_action": "SUPPRESS"}))
	e.must(204, e.admin("PUT", P+"/users/"+url.PathEscape(email)+"/password", map[string]any{"password": goodPassword, "permanent": true}))
}

func (e *env) signInAccess(clientID, username string) string {
	e.t.Helper()
	return e.signInTokens(clientID, username).AccessToken
}

// signInTokens signs username in through clientID with goodPassword.
func (e *env) signInTokens(clientID, username string) tokens {
	e.t.Helper()
	var tk tokens
	e.must(200, e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": username, "password": goodPassword})).json(e.t, &tk)
	return tk
}

// signUpConfirmed signs username up through clientID with goodPassword
// and confirms it with the code sent to it.
func (e *env) signUpConfirmed(poolID, clientID, username string) {
	e.t.Helper()
	e.must(201, e.do("POST", "/api/v1/auth/sign-up", "", map[string]any{"client_id": clientID, "username": username, "password": goodPassword}))
	e.must(204, e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": clientID, "username": username, "code": e.lastCode(poolID, username)}))
}

type meResp struct {
	Email        string            `json:"email"`
	Verified     bool              `json:"email_verified"`
	PendingEmail string            `json:"pending_email"`
	Attributes   map[string]string `json:"attributes"`
	Groups       []string          `json:"groups"`
}

func (e *env) userGroups(P, username string) []string {
	e.t.Helper()
	var out struct {
		Items []struct{ Name string } `json:"items"`
	}
	e.must(200, e.admin("GET", P+"/users/"+url.PathEscape(username)+"/groups", nil)).json(e.t, &out)
	var names []string
	for _, g := range out.Items {
		names = append(names, g.Name)
	}
	sort.Strings(names)
	return names
}

// TestCompanyJumpNative: PATCH /me/attributes naming another company (or
// DELETE of the attribute) is refused with not_authorized naming it;
// nothing changes. An admin's PATCH moves the member and the group. A
// member invited with a company is in its group. security.md A1, A3, A4
func TestCompanyJumpNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, _, access := e.companyPool(t)
	bearer := "Bearer " + access
	if g := e.userGroups(P, "gil@globex.example"); strings.Join(g, ",") != "Globex" {
		t.Fatalf("groups %v", g)
	}
	// Invited with a company that exists: in its group at once.
	e.invite(P, "ivy@globex.example", "globex")
	if g := e.userGroups(P, "ivy@globex.example"); strings.Join(g, ",") != "Globex" {
		t.Fatalf("invited member's groups %v", g)
	}
	pr := e.must(401, e.do("PATCH", "/api/v1/me/attributes", bearer, map[string]any{"attributes": map[string]string{"custom:company_name": "Acme"}})).problem(t)
	if pr.Code != "not_authorized" || pr.Detail != "A client attempted to write unauthorized attribute custom:company_name." {
		t.Fatalf("problem %+v", pr)
	}
	e.must(401, e.do("DELETE", "/api/v1/me/attributes", bearer, map[string]any{"names": []string{"custom:company_name"}}))
	var me meResp
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if me.Attributes["custom:company_name"] != "Globex" || strings.Join(me.Groups, ",") != "Globex" {
		t.Fatalf("me %+v", me)
	}
	// No client may write it.
	pr = e.must(400, e.admin("POST", P+"/clients", map[string]any{"name": "w", "write_attributes": []string{"custom:company_name"}})).problem(t)
	if pr.Field != "write_attributes" {
		t.Fatalf("client problem %+v", pr)
	}
	// An admin moves gil.
	e.must(204, e.admin("PATCH", P+"/users/gil%40globex.example/attributes", map[string]any{"attributes": map[string]string{"custom:company_name": "ACME"}}))
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if me.Attributes["custom:company_name"] != "Acme" || strings.Join(me.Groups, ",") != "Acme" {
		t.Fatalf("me after the move %+v", me)
	}
}

// TestPendingEmailNative: the answer and GET /me say which email is
// pending; the verified one stays. Control characters are a 400 naming
// the field. security.md A5, A6
func TestPendingEmailNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, _, access := e.companyPool(t)
	bearer := "Bearer " + access
	var res struct {
		CodeDeliveries []struct {
			Destination string `json:"destination"`
		} `json:"code_deliveries"`
		PendingEmail string `json:"pending_email"`
	}
	e.must(200, e.do("PATCH", "/api/v1/me/attributes", bearer, map[string]any{"attributes": map[string]string{"email": "gil@initech.example"}})).json(t, &res)
	if res.PendingEmail != "gil@initech.example" || len(res.CodeDeliveries) != 1 || res.CodeDeliveries[0].Destination != "g***@i***" {
		t.Fatalf("answer %+v", res)
	}
	var me meResp
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if me.Email != "gil@globex.example" || !me.Verified || me.PendingEmail != "gil@initech.example" {
		t.Fatalf("me %+v", me)
	}
	e.must(204, e.do("POST", "/api/v1/me/verify-attribute", bearer, map[string]any{"attribute": "email", "code": e.lastCode(strings.TrimPrefix(P, "/api/v1/pools/"), "gil@initech.example")}))
	me = meResp{}
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if me.Email != "gil@initech.example" || !me.Verified || me.PendingEmail != "" {
		t.Fatalf("me after verifying %+v", me)
	}

	// A pool may take new emails at once, unverified (Cognito's default).
	var pv struct {
		Immediate bool `json:"email_update_without_verification"`
	}
	e.must(200, e.admin("PATCH", P, map[string]any{"email_update_without_verification": true})).json(t, &pv)
	if !pv.Immediate {
		t.Fatal("setting not applied")
	}
	res.PendingEmail = ""
	e.must(200, e.do("PATCH", "/api/v1/me/attributes", bearer, map[string]any{"attributes": map[string]string{"email": "gil@hooli.example"}})).json(t, &res)
	me = meResp{}
	e.must(200, e.do("GET", "/api/v1/me", bearer, nil)).json(t, &me)
	if res.PendingEmail != "" || me.Email != "gil@hooli.example" || me.Verified || me.PendingEmail != "" {
		t.Fatalf("without verification: %+v %+v", res, me)
	}

	pr := e.must(400, e.do("PATCH", "/api/v1/me/attributes", bearer, map[string]any{"attributes": map[string]string{"name": "Gil\r\nX-Evil: 1"}})).problem(t)
	if pr.Code != "invalid_parameter" || pr.Field != "name" || !strings.Contains(pr.Detail, "control character") {
		t.Fatalf("problem %+v", pr)
	}
	pr = e.must(400, e.admin("POST", P+"/users", map[string]any{"username": "x@example.com", "message_action": "SUPPRESS",
		"attributes": map[string]string{"family_name": "\x00"}})).problem(t)
	if pr.Field != "family_name" {
		t.Fatalf("admin create problem %+v", pr)
	}
}

// TestCompanyAdminPeersNative: a company admin (access token) may add an
// approver but not remove a peer; a pool admin may. security.md R3
func TestCompanyAdminPeersNative(t *testing.T) {
	t.Parallel()
	e := setup(t)
	P, clientID, _ := e.companyPool(t)
	gus := "Bearer " + e.signInAccess(clientID, "gus@globex.example")
	var c struct {
		Approvers []map[string]string `json:"approvers"`
	}
	e.must(200, e.do("GET", P+"/companies/Globex", gus, nil)).json(t, &c)
	if len(c.Approvers) != 2 {
		t.Fatalf("approvers %v", c.Approvers)
	}
	mine := append([]map[string]string(nil), c.Approvers...)
	self := mine[0]
	if e.subOf(P, "gus@globex.example") != self["sub"] {
		self = mine[1]
	}
	pr := e.must(403, e.do("PATCH", P+"/companies/Globex", gus, map[string]any{"approvers": []map[string]string{self}})).problem(t)
	if pr.Code != "forbidden" {
		t.Fatalf("problem %+v", pr)
	}
	e.must(200, e.do("GET", P+"/companies/Globex", gus, nil)).json(t, &c)
	if len(c.Approvers) != 2 {
		t.Fatalf("approvers after a refused removal %v", c.Approvers)
	}
	// Adding one is fine.
	e.must(200, e.do("PATCH", P+"/companies/Globex", gus, map[string]any{"approvers": append(mine, map[string]string{"email": "boss@globex.example"})}))
	// A pool admin may remove anyone.
	e.must(200, e.admin("PATCH", P+"/companies/Globex", map[string]any{"approvers": []map[string]string{self}}))
	// The admin user routes stay closed to a company admin's token.
	e.must(401, e.do("POST", P+"/users/gil%40globex.example/disable", gus, nil))
	e.must(401, e.do("PATCH", P+"/users/gil%40globex.example/attributes", gus, map[string]any{"attributes": map[string]string{"custom:company_name": "Acme"}}))
}

func (e *env) subOf(P, username string) string {
	e.t.Helper()
	var u struct{ Sub string }
	e.must(200, e.admin("GET", P+"/users/"+url.PathEscape(username), nil)).json(e.t, &u)
	return u.Sub
}
