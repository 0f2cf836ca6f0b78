package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func approvalPolicy() identity.SignUpPolicy {
	return identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{OnNoApprover: identity.NoApproverAdmins,
		PoolAdmins: []string{"admin@down.example"}}}
}

// TestApprovalWithMappedCompany: in an approval pool, the company comes
// from the mapped upstream attribute; the first sign-in creates the user
// and a pending request (no session); after approval the next sign-in
// opens a session.
func TestApprovalWithMappedCompany(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{policy: approvalPolicy()})
	ctx := context.Background()
	b := newBrowser(t)
	r := e.signIn(b, "corp", nil)
	if !strings.Contains(r.url, "/pending") {
		t.Fatalf("first sign-in ended at %s: %d %s", r.url, r.status, r.body)
	}
	u := e.user("corp_" + e.janeSub)
	reg, err := e.down.st.GetRegistrationByUser(ctx, e.pool.ID, u.Sub)
	if err != nil || reg.State != identity.RegPending || reg.CompanyName != "Acme Corporation" {
		t.Fatalf("registration %+v %v", reg, err)
	}
	if acc := b.get(e.downIssuer + "/account?client_id=" + e.app); acc.status != http.StatusFound {
		t.Fatalf("a pending user has a session: %d", acc.status)
	}
	if r := e.signIn(newBrowser(t), "corp", nil); !strings.Contains(r.url, "/pending") {
		t.Fatalf("second sign-in while pending: %s", r.url)
	}
	if _, err := e.down.svc.DecideRegistration(ctx, e.pool.ID, reg.ID, identity.DecisionApprove, "ok", auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	r = e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, u.Sub) {
		t.Fatalf("after approval: %d %s %s", r.status, r.url, r.body)
	}
	if cur := e.user("corp_" + e.janeSub); cur.Status != identity.StatusExternalProvider {
		t.Fatalf("status after approval %s", cur.Status)
	}
}

// TestApprovalAsksCompanyOnce: without a mapped company the first sign-in
// asks for it once; the request then waits for approval.
func TestApprovalAsksCompanyOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{policy: approvalPolicy(), mapping: map[string]string{"email": "email"}})
	b := newBrowser(t)
	page := e.signIn(b, "corp", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="company"`) {
		t.Fatalf("expected the company page: %d %s", page.status, page.body)
	}
	if n := e.count(); n != 0 {
		t.Fatalf("user created before the company was named: %d", n)
	}
	if r := b.submit(page, "company", " "); r.status != http.StatusBadRequest || !strings.Contains(r.body, `name="company"`) {
		t.Fatalf("blank company: %d %s", r.status, r.body)
	}
	r := b.submit(page, "company", "Globex Inc")
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "/pending") {
		t.Fatalf("after the company: %d %s", r.status, r.header.Get("Location"))
	}
	u := e.user("corp_" + e.janeSub)
	reg, err := e.down.st.GetRegistrationByUser(context.Background(), e.pool.ID, u.Sub)
	if err != nil || reg.CompanyName != "Globex Inc" {
		t.Fatalf("registration %+v %v", reg, err)
	}
	// The company page cannot be replayed once the sign-up happened.
	if r := b.submit(page, "company", "Globex Inc"); r.status != http.StatusUnauthorized {
		t.Fatalf("replayed company ticket: %d %s", r.status, r.body)
	}
	// Asked once: the next sign-in goes to the waiting page directly.
	if r := e.signIn(newBrowser(t), "corp", nil); !strings.Contains(r.url, "/pending") {
		t.Fatalf("second sign-in: %s %s", r.url, r.body)
	}
}

// TestDomainAllowList: an email outside the allow-list is refused, and
// nothing is written.
func TestDomainAllowList(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{policy: identity.SignUpPolicy{DomainAllowList: true,
		Domains: []identity.DomainRule{{Domain: "other.example", Group: "partners"}}}})
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "acme.example") {
		t.Fatalf("refused domain: %d %s", r.status, r.body)
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d users", n)
	}
	_, err := e.down.st.GetLinkedIdentity(context.Background(), e.pool.ID, "corp", e.janeSub)
	if err != store.ErrNotFound && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("link: %v", err)
	}
}

// TestPreSignUpExternalProvider: the pool's pre_sign_up hook is called
// with triggerSource PreSignUp_ExternalProvider; its refusal stops the
// sign-up.
func TestPreSignUpExternalProvider(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	var mu sync.Mutex
	var sources []string
	refuse := true
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		sources = append(sources, ev["triggerSource"].(string))
		no := refuse
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if no {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": "federated sign-ups are closed"})
			return
		}
		ev["response"] = map[string]any{}
		_ = json.NewEncoder(w).Encode(ev)
	}))
	t.Cleanup(hs.Close)
	if _, _, err := e.down.svc.PutHook(context.Background(), e.pool.ID, identity.TriggerPreSignUp,
		auth.HookInput{URL: hs.URL, TimeoutMS: 2000}); err != nil {
		t.Fatal(err)
	}
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "federated sign-ups are closed") {
		t.Fatalf("refused by the hook: %d %s", r.status, r.body)
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d users", n)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if r := e.signIn(newBrowser(t), "corp", nil); r.status != http.StatusOK {
		t.Fatalf("allowed by the hook: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sources) != 2 || sources[0] != "PreSignUp_ExternalProvider" || sources[1] != "PreSignUp_ExternalProvider" {
		t.Fatalf("trigger sources %v", sources)
	}
}
