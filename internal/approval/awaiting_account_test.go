package approval_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// TestApproverAwaitingAccountBecomesCompanyAdmin: an approver named as a
// user who had no account yet (gatehouse apply's `user: <address>`) gets
// the approval emails at that address; once a user with that address,
// verified, is activated, the approver is that user — a company admin
// through the API — while a plain address approver stays an address.
func TestApproverAwaitingAccountBecomesCompanyAdmin(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		acme(e, map[string]any{"approvers": []map[string]any{
			{"email": "alice@acme.example", "awaiting_account": true}, {"email": "boss@acme.example"}}})

		// Alice signs up herself; her request goes to the approvers' addresses.
		e.signUpAndVerify("alice@acme.example", "Acme")
		approve, _ := links(t, e.mail("alice@acme.example"))
		e.mail("boss@acme.example")
		if res := e.decideByLink(approve); res.status != http.StatusOK {
			t.Fatalf("decision: %d %s", res.status, res.body)
		}
		var co struct {
			Approvers []map[string]any `json:"approvers"`
		}
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/companies/acme", e.adminKey, nil), 200).decode(t, &co)
		var alice struct {
			Sub string `json:"sub"`
		}
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/users/alice@acme.example", e.adminKey, nil), 200).decode(t, &alice)
		if len(co.Approvers) != 2 || co.Approvers[0]["sub"] != alice.Sub || co.Approvers[0]["email"] != nil ||
			co.Approvers[1]["email"] != "boss@acme.example" || co.Approvers[1]["sub"] != nil {
			t.Fatalf("approvers after alice's activation: %v (alice %s)", co.Approvers, alice.Sub)
		}
		// Alice is now the company's admin on the API.
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		e.must(e.signIn("alice@acme.example"), 200).decode(t, &tok)
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/companies/acme", tok.AccessToken, nil), 200)

		// The linking was audited.
		var audit struct{ Items []map[string]any }
		e.must(e.do("GET", "/api/v1/pools/"+e.pool.ID+"/audit?action=company.approver_linked", e.adminKey, nil), 200).decode(t, &audit)
		if len(audit.Items) != 1 {
			t.Fatalf("audit: %v", audit.Items)
		}
	})
}
