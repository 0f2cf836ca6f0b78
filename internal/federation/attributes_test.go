package federation_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// setUpstream changes Jane's attributes at the upstream's store directly,
// as a provider that does not check its values would hold them.
func (e *env) setUpstream(attrs map[string]string) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.up.st.GetUser(ctx, e.upPool.ID, e.janeSub)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range attrs {
		u.Attributes[k] = v
	}
	if err := e.up.st.UpdateUser(ctx, u, true); err != nil {
		e.t.Fatal(err)
	}
}

// TestMappedControlCharactersRefused: a provider's claim holding a line
// break is refused at the first sign-in with a clear error, and nothing is
// written; at a later sign-in such a value is not taken (the stored one
// stays). security.md A6
func TestMappedControlCharactersRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	e.setUpstream(map[string]string{"name": "Jane\r\nBcc: all@acme.example"})
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status < 400 || r.status >= 500 || !strings.Contains(r.body, "control character") {
		t.Fatalf("first sign-in: %d %s", r.status, r.body)
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d users after a refused sign-in", n)
	}
	e.setUpstream(map[string]string{"name": "Jane Roe"})
	if r := e.signIn(newBrowser(t), "corp", nil); r.status != http.StatusOK {
		t.Fatalf("clean sign-in: %d %s", r.status, r.body)
	}
	e.setUpstream(map[string]string{"name": "Jane\nRoe"})
	if r := e.signIn(newBrowser(t), "corp", nil); r.status != http.StatusOK {
		t.Fatalf("later sign-in: %d %s", r.status, r.body)
	}
	if u := e.user("corp_" + e.janeSub); u.Attributes["name"] != "Jane Roe" {
		t.Fatalf("name after a bad upstream value: %q", u.Attributes["name"])
	}
}

// TestMappedCompanyIsARequest: a company mapped from the provider does not
// make a member of an open pool (no approval decided it, no domain proved
// it), and a later sign-in with another company changes nothing.
// security.md A2
func TestMappedCompanyIsARequest(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	if r := e.signIn(newBrowser(t), "corp", nil); r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	if u := e.user("corp_" + e.janeSub); u.Attributes["custom:company_name"] != "" {
		t.Fatalf("company from the provider: %v", u.Attributes)
	}
	// A pool admin sets the company; the provider cannot change it.
	ctx := context.Background()
	if err := e.down.svc.AdminUpdateUserAttributes(ctx, e.pool.ID, "corp_"+e.janeSub, map[string]string{"custom:company_name": "Acme Corporation"}); err != nil {
		t.Fatal(err)
	}
	e.setUpstream(map[string]string{"custom:company_name": "Globex"})
	if r := e.signIn(newBrowser(t), "corp", nil); r.status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", r.status, r.body)
	}
	if u := e.user("corp_" + e.janeSub); u.Attributes["custom:company_name"] != "Acme Corporation" {
		t.Fatalf("company after the provider changed it: %v", u.Attributes)
	}
}
