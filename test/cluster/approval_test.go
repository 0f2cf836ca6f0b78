package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The approval part of the load: applicants sign up to the Acme company of
// an approval pool, verify their email, and the two approvers' links are
// used at once on two nodes (boss approves, hr denies) for most requests;
// the rest stay pending long enough for the reminders.
const (
	approvalPoolID   = "eu-west-1_Approval1"
	approvalWorkers  = 2
	reminderInterval = 4 * time.Second
	boss, hr         = "boss@acme.test", "hr@acme.test"
)

type approvalRun struct {
	client    string
	mu        sync.Mutex
	accepted  map[string]bool // sign-ups answered 2xx
	verified  map[string]bool // confirmations answered 2xx
	raced     map[string]bool // both links were used at once
	leftAlone map[string]bool // never decided by the test
	seq       atomic.Int64
}

// setupApproval declares the approval pool with `gatehouse apply` (the
// CLI, on the shared database) and reads its client id.
func (c *cluster) setupApproval(t *testing.T, bin string, env []string, dir string) *approvalRun {
	t.Helper()
	spec := fmt.Sprintf(`pools:
  - name: approvals
    id: %s
    username_mode: email
    schema:
      - {name: company_name, type: String, mutable: true}
    clients: [{name: app, auth_flows: [USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH]}]
    sign_up:
      company_attribute: custom:company_name
      approval: {expiry: 7d, reminder: %s, on_deny: delete}
    companies:
      - name: Acme
        approvers: [{email: %s}, {email: %s}]
`, approvalPoolID, reminderInterval, boss, hr)
	path := filepath.Join(dir, "approval.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("apply", "-f", path)
	var cl struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(run("clients", "get", "--pool", approvalPoolID, "app", "-o", "json"), &cl); err != nil || cl.ID == "" {
		t.Fatalf("client of the approval pool: %v", err)
	}
	return &approvalRun{client: cl.ID, accepted: map[string]bool{}, verified: map[string]bool{},
		raced: map[string]bool{}, leftAlone: map[string]bool{}}
}

var (
	approveLinkRE = regexp.MustCompile(`To approve: (\S+)`)
	denyLinkRE    = regexp.MustCompile(`To deny: +(\S+)`)
	csrfFieldRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// approvalLinks waits for approver's approval email about applicant and
// returns its links, pointed at base instead of the public URL.
func (c *cluster) approvalLinks(approver, applicant, base string, bound time.Duration) (approve, deny string, ok bool) {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		for _, m := range c.smtp.MessagesTo(approver) {
			if !strings.Contains(m.Text, applicant) {
				continue
			}
			a, d := approveLinkRE.FindStringSubmatch(m.Text), denyLinkRE.FindStringSubmatch(m.Text)
			if a == nil || d == nil {
				continue
			}
			return rebase(a[1], base), rebase(d[1], base), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", "", false
}

// rebase replaces the public origin of link with base (a node).
func rebase(link, base string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	return base + u.EscapedPath()
}

// decide opens an approval link (GET: the confirmation page, which changes
// nothing) and submits its form (POST, with the page's CSRF token and
// cookie), possibly to another node.
func decide(ctx context.Context, link, postBase string) answer {
	req, _ := http.NewRequestWithContext(ctx, "GET", link, nil)
	res, err := httpc.Do(req)
	if err != nil {
		return answer{}
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	m := csrfFieldRE.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		return answer{Status: res.StatusCode, Code: "no form"}
	}
	post := rebase(link, postBase)
	form := url.Values{"csrf": {string(m[1])}}
	req, _ = http.NewRequestWithContext(ctx, "POST", post, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range res.Cookies() {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	res, err = httpc.Do(req)
	if err != nil {
		return answer{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	a := answer{Status: res.StatusCode, Body: b}
	switch {
	case strings.Contains(string(b), "already decided"):
		a.Code = "already decided"
	case res.StatusCode == http.StatusOK:
		a.Code = "decided"
	}
	return a
}

// approvalLoad starts the approval workers; they stop with ctx, except the
// ones finishing started requests, which cwg tracks.
func (c *cluster) approvalLoad(ctx context.Context, ar *approvalRun, wg, cwg *sync.WaitGroup) {
	verifyCh := make(chan string, 4096)
	decideCh := make(chan string, 4096)
	var swg sync.WaitGroup
	for w := 0; w < approvalWorkers; w++ {
		swg.Add(1)
		go func() {
			defer swg.Done()
			for ctx.Err() == nil {
				email := fmt.Sprintf("ap-%d@applicant.test", ar.seq.Add(1))
				a := call(ctx, c.pick(), "POST", "/api/v1/auth/sign-up", "", map[string]any{
					"client_id": ar.client, "username": email, "password": userPassword,
					"attributes": map[string]string{"email": email, "custom:company_name": "Acme"},
				}, nil)
				if ctx.Err() != nil && !a.ok() {
					break
				}
				c.tally.add("ap-sign-up", a)
				if !a.ok() {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				ar.mu.Lock()
				ar.accepted[email] = true
				ar.mu.Unlock()
				verifyCh <- email
				time.Sleep(150 * time.Millisecond) // applicants are fewer than sign-ins
			}
		}()
	}
	// Closing: verifyCh once the sign-up workers are done, decideCh once
	// the verifier is done.
	wg.Add(1)
	go func() { defer wg.Done(); swg.Wait(); close(verifyCh) }()
	cwg.Add(2)
	go func() {
		defer cwg.Done()
		defer close(decideCh)
		for email := range verifyCh {
			msg, ok := c.smtp.Next(email, 45*time.Second)
			if !ok {
				continue
			}
			for attempt := 0; attempt < 40; attempt++ {
				a := call(context.Background(), c.pick(), "POST", "/api/v1/auth/confirm-sign-up", "", map[string]any{
					"client_id": ar.client, "username": email, "code": msg.Code(),
				}, nil)
				c.tally.add("ap-verify", a)
				if a.ok() {
					ar.mu.Lock()
					ar.verified[email] = true
					ar.mu.Unlock()
					decideCh <- email
					break
				}
				if a.Status != 0 && a.Status < 500 {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
		}
	}()
	go func() {
		defer cwg.Done()
		n := 0
		for email := range decideCh {
			n++
			if n%3 == 0 { // left pending: the reminders are for these
				ar.mu.Lock()
				ar.leftAlone[email] = true
				ar.mu.Unlock()
				continue
			}
			nodeA := c.pick()
			nodeB := c.pickOther(nodeA)
			approve, _, ok1 := c.approvalLinks(boss, email, nodeA, 45*time.Second)
			_, deny, ok2 := c.approvalLinks(hr, email, nodeB, 45*time.Second)
			if !ok1 || !ok2 {
				continue // counted by the email checks
			}
			// Both approvers at once, on two nodes; retried while the
			// cluster is in trouble (5xx, no answer).
			var dw sync.WaitGroup
			for _, l := range []struct{ link, post, op string }{{approve, nodeB, "ap-approve"}, {deny, nodeA, "ap-deny"}} {
				dw.Add(1)
				go func() {
					defer dw.Done()
					link, post := l.link, l.post
					for attempt := 0; attempt < 40; attempt++ {
						a := decide(context.Background(), link, post)
						c.tally.add(l.op, a)
						if a.Status != 0 && a.Status < 500 {
							return
						}
						if a.Status == 0 {
							// No answer: the node is down. A load
							// balancer would send the retry elsewhere.
							post = c.pick()
							link = rebase(l.link, post)
						}
						time.Sleep(250 * time.Millisecond)
					}
				}()
			}
			dw.Wait()
			ar.mu.Lock()
			ar.raced[email] = true
			ar.mu.Unlock()
		}
	}()
}

// checkApproval checks the approval invariants once the jobs are drained.
func (c *cluster) checkApproval(t *testing.T, db *sql.DB, ar *approvalRun) (summary string) {
	type reg struct{ id, state string }
	get := func(email string) (reg, bool) {
		var r reg
		err := db.QueryRow(`SELECT id, state FROM registrations WHERE pool_id = $1 AND email = $2`, approvalPoolID, email).Scan(&r.id, &r.state)
		return r, err == nil
	}
	approved, denied, dupOutcome, reminded, dupReminder := 0, 0, 0, 0, 0
	for email := range ar.accepted {
		var n int
		_ = db.QueryRow(`SELECT COUNT(*) FROM registrations WHERE pool_id = $1 AND email = $2`, approvalPoolID, email).Scan(&n)
		if n != 1 {
			t.Errorf("approval sign-up %s: %d registrations", email, n)
		}
	}
	for email := range ar.raced {
		r, ok := get(email)
		if !ok {
			t.Errorf("%s: no registration", email)
			continue
		}
		var decisions int
		_ = db.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE subject = $1 AND action IN ('registration.approve', 'registration.deny')`, "registration:"+r.id).Scan(&decisions)
		if decisions != 1 {
			t.Errorf("%s: %d decisions recorded, want exactly 1", email, decisions)
		}
		var users int
		var status string
		_ = db.QueryRow(`SELECT COUNT(*), COALESCE(MAX(status), '') FROM users WHERE pool_id = $1 AND username = $2`, approvalPoolID, email).Scan(&users, &status)
		msgs := c.smtp.MessagesTo(email)
		var gotApproved, gotDenied int
		for _, m := range msgs {
			s := strings.ToLower(m.Subject)
			switch {
			case strings.Contains(s, "not approved"):
				gotDenied++
			case strings.Contains(s, "approved"):
				gotApproved++
			}
		}
		switch r.state {
		case "approved":
			approved++
			if users != 1 || status != "CONFIRMED" {
				t.Errorf("%s approved but user rows %d status %q", email, users, status)
			}
			if gotApproved == 0 || gotDenied != 0 {
				t.Errorf("%s approved; emails: %d approved, %d denied", email, gotApproved, gotDenied)
			}
			dupOutcome += max(gotApproved-1, 0)
		case "denied":
			denied++
			if users != 0 {
				t.Errorf("%s denied (on_deny delete) but the user is still there", email)
			}
			if gotDenied == 0 || gotApproved != 0 {
				t.Errorf("%s denied; emails: %d approved, %d denied", email, gotApproved, gotDenied)
			}
			dupOutcome += max(gotDenied-1, 0)
		default:
			t.Errorf("%s: both approvers decided, state is %s", email, r.state)
		}
	}
	// Reminders: one outbox email per request and approver at most (the
	// notice is recorded once, whichever node's job ran); every request
	// left pending past the reminder got one by SMTP, duplicates counted.
	var dupRows int
	_ = db.QueryRow(`SELECT COUNT(*) FROM (SELECT to_addr, text_body FROM emails WHERE template = 'registration_reminder' GROUP BY to_addr, text_body HAVING COUNT(*) > 1) d`).Scan(&dupRows)
	if dupRows != 0 {
		t.Errorf("%d reminders were queued twice for the same request and approver", dupRows)
	}
	lateVerified := 0
	for email := range ar.leftAlone {
		r, ok := get(email)
		if !ok || r.state != "pending" {
			t.Errorf("%s left alone: registration %+v", email, r)
			continue
		}
		// The reminder is scheduled from the sign-up; it does nothing for
		// a request still awaiting verification at that time, so only a
		// request verified before the deadline is owed one.
		var created, verifiedAt int64
		_ = db.QueryRow(`SELECT created_at FROM registrations WHERE id = $1`, r.id).Scan(&created)
		_ = db.QueryRow(`SELECT COALESCE(MIN(occurred_at), 0) FROM audit_events WHERE subject = $1 AND action = 'registration.pending'`, "registration:"+r.id).Scan(&verifiedAt)
		if verifiedAt == 0 || verifiedAt >= created+reminderInterval.Milliseconds() {
			lateVerified++
			continue
		}
		for _, approver := range []string{boss, hr} {
			n := 0
			for _, m := range c.smtp.MessagesTo(approver) {
				if strings.Contains(strings.ToLower(m.Subject), "remind") && strings.Contains(m.Text, email) {
					n++
				}
			}
			if n == 0 {
				t.Errorf("no reminder to %s about %s", approver, email)
			}
			reminded++
			dupReminder += max(n-1, 0)
		}
	}
	return fmt.Sprintf("approval: %d sign-ups, %d verified, %d raced decisions (%d approved, %d denied, each decided once), %d outcome email duplicates, %d left pending with %d reminders (%d duplicates; %d verified after the reminder deadline, none owed)",
		len(ar.accepted), len(ar.verified), len(ar.raced), approved, denied, dupOutcome, len(ar.leftAlone), reminded, dupReminder, lateVerified)
}
