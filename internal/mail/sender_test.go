package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

const testFrom = "Example <no-reply@example.com>"

func testEmail(to string) *identity.Email {
	return &identity.Email{
		ID: 42, PoolID: "eu-west-1_AbC123xyZ", To: to,
		Subject:   "Example: your verification code",
		Text:      "Hello,\n\nYour code is:\n\n    123456\n\nIt expires in 24 hours.\n",
		HTML:      `<p>Your code is <b>123456</b>. <a href="https://id.example.com/confirm?a=1&amp;b=2">Confirm</a></p>`,
		Template:  "signup_code",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func newSender(t *testing.T, srv *mailtest.Server) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(srv.SMTPConfig(testFrom))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSenderDeliversMultipart(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	s := newSender(t, srv)
	if err := s.Send(context.Background(), testEmail("jo@example.com")); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "jo@example.com", 10*time.Second)
	if m.ParseError != nil {
		t.Fatal(m.ParseError)
	}
	if m.Subject != "Example: your verification code" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.From != "no-reply@example.com" {
		t.Errorf("envelope from %q", m.From)
	}
	if !strings.Contains(m.HeaderFrom(), "no-reply@example.com") {
		t.Errorf("header from %q", m.HeaderFrom())
	}
	if got := m.Code(); got != "123456" {
		t.Errorf("code %q", got)
	}
	if !strings.Contains(m.Text, "It expires in 24 hours.") {
		t.Errorf("text %q", m.Text)
	}
	if !strings.Contains(m.HTML, "<b>123456</b>") {
		t.Errorf("html %q", m.HTML)
	}
	if got := m.Link("/confirm"); got != "https://id.example.com/confirm?a=1&b=2" {
		t.Errorf("link %q", got)
	}
	if m.MessageID != "<gatehouse.42.1767323045000@example.com>" {
		t.Errorf("message id %q", m.MessageID)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted %q", m.Header.Get("Auto-Submitted"))
	}
	if m.TLS {
		t.Error("TLS on a plain server")
	}
}

func TestSMTPSenderStartTLSAndAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t, mailtest.WithTLS(), mailtest.WithAuth("relay", "s3cret"))
	s := newSender(t, srv)
	if err := s.Send(context.Background(), testEmail("ann@example.com")); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "ann@example.com", 10*time.Second)
	if !m.TLS {
		t.Error("message did not travel over TLS")
	}

	// Without the test CA the self-signed certificate is refused.
	cfg := srv.SMTPConfig(testFrom)
	cfg.RootCAs = nil
	s2, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Send(context.Background(), testEmail("ann@example.com"))
	if err == nil || jobs.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: err = %v, want a temporary certificate error", err)
	}

	// Wrong password: a relay configuration problem, retried.
	cfg = srv.SMTPConfig(testFrom)
	cfg.Password = "wrong"
	s3, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.Send(context.Background(), testEmail("ann@example.com")); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("bad credentials: err = %v, want a temporary error", err)
	}
	if n := len(srv.MessagesTo("ann@example.com")); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestSMTPSenderStartTLSMandatory(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t) // no STARTTLS offered
	cfg := srv.SMTPConfig(testFrom)
	cfg.TLS = mail.TLSStartTLS
	s, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testEmail("jo@example.com"))
	if err == nil {
		t.Fatal("sent without TLS although STARTTLS is mandatory")
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("server received a message")
	}
}

func TestSMTPSenderClassifiesFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stage     mailtest.Stage
		code      int
		permanent bool
	}{
		{mailtest.StageMail, 451, false},
		{mailtest.StageRcpt, 452, false},
		{mailtest.StageData, 421, false},
		{mailtest.StageMail, 550, true},
		{mailtest.StageRcpt, 550, true},
		{mailtest.StageData, 554, true},
	}
	srv := mailtest.StartServer(t)
	s := newSender(t, srv)
	for _, tt := range tests {
		srv.Fail(tt.stage, tt.code, "", 1)
		err := s.Send(context.Background(), testEmail("fail@example.com"))
		if err == nil {
			t.Fatalf("%s %d: no error", tt.stage, tt.code)
		}
		if jobs.IsPermanent(err) != tt.permanent {
			t.Errorf("%s %d: permanent = %v, want %v (%v)", tt.stage, tt.code, !tt.permanent, tt.permanent, err)
		}
		if got := mail.SMTPStatus(err); got != tt.code {
			t.Errorf("%s %d: SMTPStatus = %d", tt.stage, tt.code, got)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Fatalf("refused messages were recorded: %d", len(srv.Messages()))
	}
	// After the injected failures are used up, delivery works.
	if err := s.Send(context.Background(), testEmail("fail@example.com")); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPSenderNetworkErrorIsTemporary(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	cfg := srv.SMTPConfig(testFrom)
	cfg.Port = 1 // nothing listens there
	s, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testEmail("jo@example.com"))
	if err == nil || jobs.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
}

func TestNewSMTPSenderValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  mail.SMTPConfig
		ok   bool
	}{
		{"starttls default", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com"}, true},
		{"implicit tls", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: "tls"}, true},
		{"none on loopback", mail.SMTPConfig{Host: "127.0.0.1", Port: 2525, From: "a@example.com", TLS: "none"}, true},
		{"none on localhost", mail.SMTPConfig{Host: "localhost", From: "a@example.com", TLS: "none"}, true},
		{"none on ::1", mail.SMTPConfig{Host: "::1", From: "a@example.com", TLS: "none"}, true},
		{"none remote", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: "none"}, false},
		{"unknown tls", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: "ssl"}, false},
		{"no host", mail.SMTPConfig{From: "a@example.com"}, false},
		{"no from", mail.SMTPConfig{Host: "smtp.example.com"}, false},
		{"bad from", mail.SMTPConfig{Host: "smtp.example.com", From: "not an address"}, false},
		{"bad port", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Port: 70000}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mail.NewSMTPSender(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDevSenderDeliversNothing(t *testing.T) {
	t.Parallel()
	if err := mail.NewDevSender(nil).Send(context.Background(), testEmail("jo@example.com")); err != nil {
		t.Fatal(err)
	}
}

// A send that is cancelled while the relay hangs ends at once and delivers
// nothing, also when the relay answers later: the connection is closed
// under it (a discarded email is not sent; issue 21 item 2).
func TestSMTPSenderCancelAbortsAStalledSend(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]mailtest.Option{nil, {mailtest.WithTLS(), mailtest.WithAuth("relay", "pw")},
		{mailtest.WithImplicitTLS(), mailtest.WithAuth("relay", "pw")}} {
		srv := mailtest.StartServer(t, opts...)
		cfg := srv.SMTPConfig(testFrom)
		cfg.Timeout = time.Hour // only the cancellation may end the send
		s, err := mail.NewSMTPSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv.Stall(mailtest.StageMail, 1)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- s.Send(ctx, testEmail("jo@example.com")) }()
		srv.WaitStalled(t, 1, 30*time.Second)
		cancel()
		select {
		case err = <-errc:
		case <-time.After(30 * time.Second):
			t.Fatal("the send did not end when its context was cancelled")
		}
		srv.Release()
		if err == nil || jobs.IsPermanent(err) {
			t.Fatalf("cancelled send: %v, want a temporary error", err)
		}
		// A later message goes through; the cancelled one never arrives.
		if err := s.Send(context.Background(), testEmail("ann@example.com")); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.MessagesTo("jo@example.com")); n != 0 {
			t.Fatalf("cancelled message delivered %d times", n)
		}
	}
}

func TestSMTPSenderImplicitTLSAndAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t, mailtest.WithImplicitTLS(), mailtest.WithAuth("relay", "s3cret"))
	s := newSender(t, srv)
	if err := s.Send(context.Background(), testEmail("ann@example.com")); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, "ann@example.com", 10*time.Second); !m.TLS {
		t.Error("message did not travel over TLS")
	}
	// The certificate is checked as with STARTTLS.
	cfg := srv.SMTPConfig(testFrom)
	cfg.RootCAs = nil
	s2, err := mail.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Send(context.Background(), testEmail("ann@example.com")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}
