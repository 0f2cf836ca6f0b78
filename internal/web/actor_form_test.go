package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestOneActorFormForDecisions (issue 12): the same person deciding
// through any surface is recorded the same way — actor "user:<sub>" — and
// the surface apart, in via; on the request (decided_by, decided_via) and
// on its audit event alike. Carol is a company admin of acme (an approver
// by sub); root a pool admin; boss a plain address approver.
func TestOneActorFormForDecisions(t *testing.T) {
	t.Parallel()
	e := consoleSetup(t)
	ctx := context.Background()
	rootSub := mustSub(t, e, "root@example.org")
	byLink := e.annReq // carol got ann's approval email
	byAPI := e.pendingSignUp("bea@example.org", "Acme Corporation")
	byConsole := e.pendingSignUp("cid@example.org", "Acme Corporation")
	byRoot := e.pendingSignUp("dan@example.org", "Acme Corporation")
	byBoss := e.pendingSignUp("eve@example.org", "Acme Corporation")
	byCLI := e.pendingSignUp("fay@example.org", "Acme Corporation")

	// Email link.
	link := approveLink(t, e.mail("carol@acme.example"))
	b := e.browser()
	must(t, b.get(link), http.StatusOK)
	must(t, b.submit(link, url.Values{}), http.StatusOK)

	// Native API, with carol's access token.
	cl, err := e.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.pool.ID, Name: "api", AuthFlows: []string{identity.FlowUserPassword}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"client_id": cl.Client.ID, "username": "carol@acme.example", "password": pw})
	res, err := http.Post(e.base+"/api/v1/auth/sign-in", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v", res, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest("POST", e.base+"/api/v1/pools/"+e.pool.ID+"/registrations/"+byAPI+"/approve", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if r := b.do(req); r.status != 200 {
		t.Fatalf("API decision: %d %s", r.status, r.body)
	}

	// Console, as carol (company admin) and as root (pool admin).
	for who, id := range map[string]string{"carol@acme.example": byConsole, "root@example.org": byRoot} {
		cb := e.consoleLogin(who)
		page := must(t, cb.get(e.console("registrations/"+id)), http.StatusOK)
		must(t, cb.post(e.console("registrations/"+id), url.Values{"csrf": {formCSRF(t, page, "/"+e.pool.ID+"/console/registrations/"+id)},
			"decision": {"approve"}}), http.StatusSeeOther)
	}

	// A plain address approver's link, and the CLI.
	var bossLink string
	for i := 0; i < 6 && bossLink == ""; i++ {
		m := e.mail("boss@acme.example")
		if bytes.Contains([]byte(m.Text), []byte("eve@example.org")) {
			bossLink = approveLink(t, m)
		}
	}
	must(t, b.submit(bossLink, url.Values{}), http.StatusOK)
	cliCtx := identity.WithActor(ctx, identity.Actor{ID: "cli"})
	if _, err := e.svc.DecideRegistration(cliCtx, e.pool.ID, byCLI, identity.DecisionApprove, "", auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}

	carol := "user:" + e.carolSub
	for _, tc := range []struct{ id, who, via string }{
		{byLink, carol, "email-link"},
		{byAPI, carol, "api"},
		{byConsole, carol, "console"},
		{byRoot, "user:" + rootSub, "console"},
		{byBoss, "approver-link:boss@acme.example", "email-link"},
		{byCLI, "cli", "cli"},
	} {
		d, err := e.svc.GetRegistration(ctx, e.pool.ID, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Request.State != identity.RegApproved || d.Request.DecidedBy != tc.who || d.Request.DecidedVia != tc.via {
			t.Errorf("%s: %s by %q via %q, want %q via %q", tc.id, d.Request.State, d.Request.DecidedBy, d.Request.DecidedVia, tc.who, tc.via)
		}
		found := false
		for _, ev := range d.Events {
			if ev.Action == "registration.approve" {
				found = true
				if ev.Actor != tc.who || ev.Via != tc.via {
					t.Errorf("%s: audit actor %q via %q, want %q via %q", tc.id, ev.Actor, ev.Via, tc.who, tc.via)
				}
			}
		}
		if !found {
			t.Errorf("%s: no registration.approve event", tc.id)
		}
	}
	// Everything else carol did in the console is recorded in the same
	// form: her sign-in to the hosted pages is not a console action, but
	// the company's audit trail lists her as user:<sub> only.
	evs, _, err := e.svc.Audit(ctx, auth.AuditQuery{PoolID: e.pool.ID, Actor: carol})
	if err != nil || len(evs) < 3 {
		t.Fatalf("carol's events: %d %v", len(evs), err)
	}
}
