package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

const companyPools = `
pools:
  - name: co
    username_mode: email
    schema:
      - {name: company_name, type: String, mutable: true}
    sign_up:
      default_groups: [Users]
    companies:
      - {name: Acme, group: acme, approvers: [{email: boss@acme.example}]}
      - {name: Globex, approvers: [{email: boss@globex.example}]}
`

// TestUsersCompanyGroups: a user created with a company is in its group
// (as an approved member is); users update moves the user and the groups;
// --remove takes the user out. security.md A3, A4
func TestUsersCompanyGroups(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, c *cli) {
		c.ok("apply", "-f", c.write("co.yaml", companyPools))
		groups := func() (string, []string) {
			t.Helper()
			var u userJSON
			must(t, json.Unmarshal([]byte(c.ok("users", "get", "--pool", "co", "ivy@example.com", "-o", "json")), &u))
			sort.Strings(u.Groups)
			return u.Attributes["custom:company_name"], u.Groups
		}
		c.ok("users", "create", "--pool", "co", "ivy@example.com", "--attr", "custom:company_name=ACME", "--suppress")
		if co, g := groups(); co != "Acme" || strings.Join(g, ",") != "Users,acme" {
			t.Fatalf("created: %q %v", co, g)
		}
		assertContains(t, c.ok("users", "update", "--pool", "co", "ivy@example.com", "--attr", "custom:company_name=globex"), "updated ivy@example.com")
		if co, g := groups(); co != "Globex" || strings.Join(g, ",") != "Globex,Users" {
			t.Fatalf("moved: %q %v", co, g)
		}
		c.ok("users", "update", "--pool", "co", "ivy@example.com", "--remove", "custom:company_name")
		if co, g := groups(); co != "" || strings.Join(g, ",") != "Users" {
			t.Fatalf("removed: %q %v", co, g)
		}
		if _, _, err := c.run("", "users", "update", "--pool", "co", "ivy@example.com", "--attr", "name=Ivy\r\nX"); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Fatalf("control character: %v", err)
		}
	})
}
