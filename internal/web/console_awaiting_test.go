package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestConsoleKeepsApproverAwaitingAccount: the company page shows an
// approver who has no account yet as user:<address>, and saving the form
// unchanged keeps them awaiting their account (not a plain address).
func TestConsoleKeepsApproverAwaitingAccount(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	co := *e.company
	co.Approvers = append(co.Approvers, identity.Approver{Email: "alice@acme.example", AwaitingAccount: true})
	if _, err := e.svc.UpdateCompany(ctx, &co); err != nil {
		t.Fatal(err)
	}
	root := e.consoleLogin("root@example.org")
	page := must(t, root.get(e.console("companies/acme")), http.StatusOK)
	m := regexp.MustCompile(`(?s)<textarea id="approvers" name="approvers"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(m[1], "user:alice@acme.example") {
		t.Fatalf("approvers field: %v", m)
	}
	must(t, root.post(e.console("companies/acme"), url.Values{"csrf": {formCSRF(t, page, "/"+e.pool.ID+"/console/companies/acme")},
		"display_name": {"Acme"}, "approvers": {m[1]}, "domains": {""}, "group": {"acme"}, "status": {"active"}}), http.StatusSeeOther)
	got, err := e.svc.GetCompany(ctx, e.pool.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range got.Approvers {
		if a.Email == "alice@acme.example" {
			found = a.AwaitingAccount
		}
	}
	if !found {
		t.Fatalf("approvers after saving: %+v", got.Approvers)
	}
}
