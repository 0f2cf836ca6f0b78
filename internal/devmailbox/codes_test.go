package devmailbox_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/devmailbox"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
)

// TestCodesFromEachTemplate: the dev mailbox shows as codes only what a
// template marks as one ({{code .Code}}), never the year of a date line
// or another number in the text ("Code: 2026" on approval emails, issue
// 12). Every built-in template is rendered with data full of numbers.
func TestCodesFromEachTemplate(t *testing.T) {
	t.Parallel()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	pool := &identity.Pool{ID: "us-east-1_Test", Name: "Acme 2026"}
	data := map[string]any{
		"Code": "482915", "Username": "jo1234@example.com", "ExpiresIn": "7 days",
		"TemporaryPassword": "Temp 5555 pass", "SignInURL": "https://id.example.com/us-east-1_Test/login?n=123456",
		"ApplicantEmail": "jo1234@example.com", "Company": "Acme 2026", "RequestedAt": "Mon, 02 Mar 2026 10:00:00 UTC",
		"FromIP": "203.0.113.7", "UserAgent": "browser/2024", "ApproveURL": "https://id.example.com/a/9999",
		"DenyURL": "https://id.example.com/d/8888", "Reason": "denied 2026", "Note": "ticket 7777",
		"DecidedAt": "Tue, 03 Mar 2026 11:00:00 UTC", "Approver": "boss@acme.example",
	}
	// The templates whose body shows the one-time code.
	withCode := []string{"signup_code", "forgot_password", "verify_email", "mfa_code"}
	names := tpl.Names()
	if len(names) < 9 {
		t.Fatalf("templates: %v", names)
	}
	for _, name := range names {
		subject, text, html, err := tpl.Render(pool, name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := devmailbox.EmailCodes(&identity.Email{Template: name, Subject: subject, Text: text, HTML: html})
		want := []string{}
		if slices.Contains(withCode, name) {
			want = []string{"482915"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: codes %v, want %v", name, got, want)
		}
		// The marker never shows in the text body, and the HTML body
		// still shows the code as text.
		if strings.Contains(text, "data-gatehouse-code") {
			t.Errorf("%s: marker in the text body", name)
		}
		if slices.Contains(withCode, name) && !strings.Contains(html, ">482915<") {
			t.Errorf("%s: the HTML body lost the code: %s", name, html)
		}
	}
	// An email without a marked code (an operator's own HTML template, or
	// none): only a line that mentions a code gives one, never a date.
	if got := devmailbox.EmailCodes(&identity.Email{Text: "Requested: Mon, 02 Mar 2026\nBy: 2026 people\n"}); len(got) != 0 {
		t.Errorf("unmarked email without a code line: %v", got)
	}
	if got := devmailbox.EmailCodes(&identity.Email{Text: "Sent 2026.\nYour code is:\n\n  771122\n"}); !slices.Equal(got, []string{"771122"}) {
		t.Errorf("unmarked email with a code line: %v", got)
	}
}
