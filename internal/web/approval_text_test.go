package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestApproverPagesNameThePoolAndLeadOn: the approval link's pages say
// which pool they are about, never claim a sign-in that does not exist,
// and the result page offers a way onward (issue 12).
func TestApproverPagesNameThePoolAndLeadOn(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	b := e.browser()
	r := must(t, b.submit(e.page("signup?client_id="+e.clientID), signUpForm("nia@example.org", "Acme Corporation")), http.StatusSeeOther)
	code := e.mail("nia@example.org").Code()
	must(t, b.submit(e.base+r.header.Get("Location"), url.Values{"username": {"nia@example.org"}, "code": {code}}), http.StatusSeeOther)
	link := approveLink(t, e.mail("boss@acme.example"))

	boss := e.browser()
	page := must(t, boss.get(link), http.StatusOK)
	if !strings.Contains(page.body, "<h1>Registration request for Awesome Application</h1>") {
		t.Errorf("the approval page does not name the pool in its heading:\n%s", page.body)
	}
	if strings.Contains(page.body, "signed in") {
		t.Errorf("the approval page claims a sign-in:\n%s", page.body)
	}
	if !strings.Contains(page.body, "This link was sent to boss@acme.example") {
		t.Errorf("the approval page does not say whom the link was sent to:\n%s", page.body)
	}
	res := must(t, boss.post(link, url.Values{"csrf": {page.csrf()}}), http.StatusOK)
	for _, want := range []string{"Decision recorded for Awesome Application", `href="/` + e.pool.ID + `/console/registrations"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the result page lacks %q:\n%s", want, res.body)
		}
	}
	again := boss.post(link, url.Values{"csrf": {page.csrf()}})
	if again.status != http.StatusConflict || !strings.Contains(again.body, "Awesome Application") || !strings.Contains(again.body, "/console/registrations") {
		t.Errorf("the already-decided page: %d\n%s", again.status, again.body)
	}
}
