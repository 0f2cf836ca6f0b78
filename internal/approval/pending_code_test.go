package approval_test

import (
	"net/http"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// TestNativeAPIApprovalPendingCode: the native API tells an applicant
// whose email is verified and whose request waits for the approvers
// (approval_pending) from one who has not verified the email yet
// (user_not_confirmed); both are 403, and both only after the right
// password (issue 12).
func TestNativeAPIApprovalPendingCode(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st store.Store) {
		e := setup(t, st, approvalPolicy(nil))
		acme(e, nil)
		e.must(e.signUp("unverified@mycompany.example", "acme"), http.StatusCreated)
		r := e.signIn("unverified@mycompany.example")
		if r.status != http.StatusForbidden || r.code() != string(identity.CodeUserNotConfirmed) {
			t.Fatalf("unverified: %d %s", r.status, r.body)
		}
		e.signUpAndVerify("waiting@mycompany.example", "acme")
		r = e.signIn("waiting@mycompany.example")
		if r.status != http.StatusForbidden || r.code() != string(identity.CodeApprovalPending) {
			t.Fatalf("awaiting approval: %d %s", r.status, r.body)
		}
		// A second confirm-sign-up of the verified applicant says the same.
		r = e.do("POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{"client_id": e.clientID, "username": "waiting@mycompany.example", "code": "000000"})
		if r.code() == string(identity.CodeUserNotConfirmed) {
			t.Fatalf("confirm again: %d %s", r.status, r.body)
		}
		// The wrong password still says nothing about the account.
		r = e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": e.clientID, "username": "waiting@mycompany.example", "password": "wrong password wrong password"})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
	})
}
