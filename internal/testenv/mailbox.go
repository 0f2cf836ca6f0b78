package testenv

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

// mailWait bounds the wait for a message the runner has just handed to
// the SMTP server (delivery is synchronous; this only guards a hang).
const mailWait = 10 * time.Second

// Drain runs due jobs (emails, approval steps) until none is left.
func (s *Stack) Drain() {
	s.T.Helper()
	for i := 0; i < 100; i++ {
		n, err := s.Runner.RunOnce(context.Background())
		if err != nil {
			s.T.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	s.T.Fatal("testenv: jobs keep coming")
}

// Mail delivers due emails over SMTP and returns the next message to
// addr (Options.SMTP). Its Code and Link methods read what a person
// would.
func (s *Stack) Mail(addr string) mailtest.Message {
	s.T.Helper()
	s.needSMTP()
	s.Drain()
	return s.SMTP.WaitFor(s.T, addr, mailWait)
}

// NoMail delivers due emails and fails if one more went to addr.
func (s *Stack) NoMail(addr string) {
	s.T.Helper()
	s.needSMTP()
	s.Drain()
	if m, ok := s.SMTP.Next(addr, 50*time.Millisecond); ok {
		s.T.Fatalf("unexpected email to %s: %s", addr, m.Subject)
	}
}

func (s *Stack) needSMTP() {
	if s.SMTP == nil {
		s.T.Helper()
		s.T.Fatal("testenv: no SMTP server (set Options.SMTP)")
	}
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// OutboxCode returns the 6-digit code of the newest email to addr in the
// pool's outbox, read through the service as the dev mailbox does, for
// stacks without an SMTP server.
func (s *Stack) OutboxCode(poolID, addr string) string {
	s.T.Helper()
	emails, _, err := s.Svc.ListEmails(context.Background(), poolID, "", 50, "")
	if err != nil {
		s.T.Fatalf("ListEmails: %v", err)
	}
	for _, m := range emails { // newest first
		if strings.EqualFold(m.To, addr) || strings.Contains(strings.ToLower(m.To), strings.ToLower(addr)) {
			if c := codeRE.FindStringSubmatch(m.Text); c != nil {
				return c[1]
			}
			s.T.Fatalf("no code in the email to %s: %q", addr, m.Text)
		}
	}
	s.T.Fatalf("no email to %s among %d", addr, len(emails))
	return ""
}

var (
	approveRE = regexp.MustCompile(`To approve: (\S+)`)
	denyRE    = regexp.MustCompile(`To deny: +(\S+)`)
)

// ApprovalLinks returns the approve and deny links of an approver's
// email.
func ApprovalLinks(t testing.TB, m mailtest.Message) (approve, deny string) {
	t.Helper()
	a, d := approveRE.FindStringSubmatch(m.Text), denyRE.FindStringSubmatch(m.Text)
	if a == nil || d == nil {
		t.Fatalf("no approval links in %q", m.Text)
	}
	return a[1], d[1]
}
