package mailtest_test

import (
	"context"
	"net/smtp"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/mail/mailtest"
)

func TestParseNestedMultipartBase64AndEncodedSubject(t *testing.T) {
	t.Parallel()
	raw := "From: Example <no-reply@example.com>\r\n" +
		"To: jo@example.com\r\n" +
		"Subject: =?UTF-8?q?Caf=C3=A9_code?=\r\n" +
		"Message-ID: <1@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n" +
		"\r\n" +
		"--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=inner\r\n" +
		"\r\n" +
		"--inner\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		"WW91ciBjb2RlIGlzOgoKICAgIDc3MTIwOQoKU2VlIGh0dHBzOi8vaWQuZXhhbXBsZS5jb20v\r\n" +
		"Y29uZmlybT90PWFiYy4K\r\n" +
		"--inner\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"<p>Code <b>771209</b> <a href=3D\"https://id.example.com/x?a=3D1&amp;b=3D2\">go</a=\r\n" +
		"></p>\r\n" +
		"--inner--\r\n" +
		"--outer--\r\n"
	m, err := mailtest.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Café code" || m.MessageID != "<1@example.com>" || m.HeaderFrom() != "Example <no-reply@example.com>" {
		t.Errorf("headers: %q %q %q", m.Subject, m.MessageID, m.HeaderFrom())
	}
	if m.Text != "Your code is:\n\n    771209\n\nSee https://id.example.com/confirm?t=abc.\n" {
		t.Errorf("text %q", m.Text)
	}
	if m.HTML != "<p>Code <b>771209</b> <a href=\"https://id.example.com/x?a=1&amp;b=2\">go</a></p>" {
		t.Errorf("html %q", m.HTML)
	}
	if m.Code() != "771209" {
		t.Errorf("code %q", m.Code())
	}
	want := []string{"https://id.example.com/confirm?t=abc", "https://id.example.com/x?a=1&b=2"}
	if got := m.Links(); !reflect.DeepEqual(got, want) {
		t.Errorf("links %q", got)
	}
	if m.Link("/x?") != want[1] || m.Link("nope") != "" {
		t.Errorf("Link: %q", m.Link("/x?"))
	}
	if _, err := mailtest.Parse([]byte("not a message")); err == nil {
		t.Error("Parse accepted garbage")
	}
}

func TestExtractCodeAndLinks(t *testing.T) {
	t.Parallel()
	codes := []struct{ in, want string }{
		{"Your code is:\n\n    123456\n", "123456"},
		{"Your code is 654321. It expires in 24 hours.", "654321"},
		{"Port 8080 only, expires in 10 minutes", ""},
		{"\n  0042\n and 987654", "0042"},
		{"", ""},
	}
	for _, c := range codes {
		if got := mailtest.ExtractCode(c.in); got != c.want {
			t.Errorf("ExtractCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	links := mailtest.ExtractLinks("Go to https://a.example.com/p?x=1, or (http://b.example.com/q). Again https://a.example.com/p?x=1!")
	want := []string{"https://a.example.com/p?x=1", "http://b.example.com/q"}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("ExtractLinks = %q", links)
	}
}

func send(t *testing.T, srv *mailtest.Server, to, subject string) error {
	t.Helper()
	s, err := mail.NewSMTPSender(srv.SMTPConfig("no-reply@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	return s.Send(context.Background(), &identity.Email{ID: 1, To: to, Subject: subject, Text: "body of " + subject})
}

func TestWaitForReturnsEachMessageOnce(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	for _, subj := range []string{"first", "second"} {
		if err := send(t, srv, "jo@example.com", subj); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(t, srv, "ann@example.com", "other"); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, "JO@example.com", 10*time.Second); m.Subject != "first" || strings.TrimSpace(m.Text) != "body of first" {
		t.Fatalf("first: %q %q", m.Subject, m.Text)
	}
	if m := srv.WaitFor(t, "jo@example.com", 10*time.Second); m.Subject != "second" {
		t.Fatalf("second: %q", m.Subject)
	}
	if _, ok := srv.Next("jo@example.com", 10*time.Millisecond); ok {
		t.Fatal("a third message to jo")
	}
	if len(srv.Messages()) != 3 || len(srv.MessagesTo("ann@example.com")) != 1 {
		t.Fatalf("messages: %d", len(srv.Messages()))
	}

	// A message that arrives while WaitFor waits.
	go func() { _ = send(t, srv, "late@example.com", "late") }()
	if m := srv.WaitFor(t, "late@example.com", 30*time.Second); m.Subject != "late" {
		t.Fatalf("late: %q", m.Subject)
	}
}

func TestFailuresOnDemand(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	srv.Fail(mailtest.StageData, 452, "", -1)
	for range 3 {
		err := send(t, srv, "jo@example.com", "x")
		if mail.SMTPStatus(err) != 452 {
			t.Fatalf("err = %v, want 452", err)
		}
	}
	srv.ClearFailures()
	if err := send(t, srv, "jo@example.com", "x"); err != nil {
		t.Fatal(err)
	}
	if srv.Attempts() != 4 || len(srv.Messages()) != 1 {
		t.Fatalf("attempts %d, messages %d", srv.Attempts(), len(srv.Messages()))
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t, mailtest.WithAuth("u", "p"))
	// A client that does not authenticate is refused at MAIL FROM.
	err := smtp.SendMail(srv.Addr, nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Fatalf("unauthenticated send: %v", err)
	}
	if err := send(t, srv, "b@example.com", "ok"); err != nil {
		t.Fatal(err)
	}
}

func TestStallHoldsATransactionUntilRelease(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	srv.Stall(mailtest.StageMail, 1)
	errc := make(chan error, 1)
	go func() { errc <- send(t, srv, "jo@example.com", "held") }()
	srv.WaitStalled(t, 1, 30*time.Second)
	if len(srv.Messages()) != 0 {
		t.Fatal("a stalled message arrived")
	}
	// Only the first transaction stalls: another one goes through.
	if err := send(t, srv, "ann@example.com", "quick"); err != nil {
		t.Fatal(err)
	}
	srv.Release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if srv.Stalled() != 0 || len(srv.MessagesTo("jo@example.com")) != 1 || len(srv.Messages()) != 2 {
		t.Fatalf("stalled %d, messages %d", srv.Stalled(), len(srv.Messages()))
	}
}

func TestStalledClientThatLeavesDeliversNothing(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartServer(t)
	srv.Stall(mailtest.StageMail, -1)
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Mail("a@example.com") }()
	srv.WaitStalled(t, 1, 30*time.Second)
	c.Close() // the client gives up while the relay hangs
	<-errc
	srv.Release()
	if err := send(t, srv, "jo@example.com", "after"); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages()) != 1 || srv.Attempts() != 2 {
		t.Fatalf("messages %d, attempts %d", len(srv.Messages()), srv.Attempts())
	}
}
