package oidc_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// TestBrowserArticle000RelyingParty is article 000 ending on a relying
// party: in Chromium the person signs up on the hosted page naming her
// company, enters the emailed code and sees "waiting for approval"; the
// company's approver approves (through the service here: the approver's
// emailed link and confirm page are walked in internal/web's
// TestBrowserArticle000); then the person clicks "Sign in" on the relying
// party, signs in on the hosted page and lands back on the relying party
// holding an ID token with custom:company_name and the company group.
func TestBrowserArticle000RelyingParty(t *testing.T) {
	path := chromium(t)
	e := setup(t)
	ctx := context.Background()
	e.pool.Settings.SignUp = identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{}, CompanyAttribute: "custom:company_name", CompanyLookup: true}
	p, err := e.svc.UpdatePool(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = p
	if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: e.pool.ID, Name: "globex", DisplayName: "Globex Corporation",
		Approvers: []identity.Approver{{Email: "boss@globex.example"}}}); err != nil {
		t.Fatal(err)
	}
	rp := newRP(t, e)
	e.addCallback(e.conf, rp.srv.URL+"/callback")
	b := newChromeTab(t, path)
	const ann, annPW = "ann@globex.example", "another long passphrase 77"

	// Sign up on the hosted page.
	b.open(e.issuer + "/signup?client_id=" + e.conf)
	b.waitPath("/signup")
	b.do(chromedp.SendKeys(chromedp.ID("username"), ann), chromedp.SendKeys(chromedp.ID("password"), annPW),
		chromedp.SendKeys(chromedp.ID("attr-company_name"), "Globex Corporation"))
	b.shot("oidc-a000-01-signup")
	b.submit()
	b.waitPath("/confirm")

	// The emailed code (read from the outbox the mail goes out from).
	var code string
	es, _, err := e.st.ListEmails(ctx, e.pool.ID, "", store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range es {
		if m.To == ann {
			code = sixDigits.FindString(m.Text)
			break
		}
	}
	if code == "" {
		t.Fatalf("no code emailed to %s", ann)
	}
	b.do(chromedp.SendKeys(chromedp.ID("code"), code))
	b.submit()
	b.waitPath("/pending")
	b.shot("oidc-a000-02-waiting-for-approval")

	// The approver approves.
	regs, _, err := e.svc.ListRegistrations(ctx, e.pool.ID, auth.RegistrationFilter{}, 10, "")
	if err != nil || len(regs) != 1 {
		t.Fatalf("registrations: %v %v", regs, err)
	}
	if _, err := e.svc.DecideRegistration(ctx, e.pool.ID, regs[0].ID, identity.DecisionApprove, "", auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)

	// Sign in at the relying party.
	b.open(rp.srv.URL + "/")
	b.waitPath("/")
	b.do(chromedp.Click(chromedp.CSS("a#signin")))
	b.waitPath("/login")
	b.do(chromedp.SendKeys(chromedp.ID("username"), ann), chromedp.SendKeys(chromedp.ID("password"), annPW))
	b.submit()
	b.waitPath("/callback")
	b.shot("oidc-a000-03-relying-party")
	b.see("Signed in as "+ann, `"custom:company_name": "globex"`, `"cognito:groups": [`, `"globex"`)
}
