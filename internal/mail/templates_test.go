package mail_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
)

var testPool = &identity.Pool{ID: "eu-west-1_AbC123xyZ", Name: "Acme Docs"}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuiltinTemplatesRender(t *testing.T) {
	t.Parallel()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{
		"Code": "483920", "Username": "jo@example.com", "ExpiresIn": "24 hours",
		"TemporaryPassword": "Tmp-pass-1234", "SignInURL": "https://id.example.com/p/sign-in",
		"Factor": "An authenticator app", "Change": "added to", "NewEmail": "j***@e***.org",
	}
	for _, name := range mail.RequiredTemplates {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			subject, text, html, err := tpl.Render(testPool, name, data)
			if err != nil {
				t.Fatal(err)
			}
			if subject == "" || strings.ContainsAny(subject, "\r\n") {
				t.Errorf("subject %q", subject)
			}
			if !strings.Contains(subject+text, "Acme Docs") {
				t.Errorf("pool name missing: %q / %q", subject, text)
			}
			if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, "</html>") {
				t.Errorf("html is not a document: %q", html)
			}
			for _, s := range []string{text, html} {
				if strings.Contains(s, "<no value>") {
					t.Errorf("unfilled key: %q", s)
				}
				// No tracking pixels or remote content.
				if strings.Contains(strings.ToLower(s), "<img") || strings.Contains(s, "src=") {
					t.Errorf("remote content: %q", s)
				}
			}
			switch name {
			case "signup_code", "forgot_password", "verify_email":
				if !strings.Contains(text, "    483920\n") || !strings.Contains(html, "483920") {
					t.Errorf("code missing: %q", text)
				}
				if !strings.Contains(text, "24 hours") {
					t.Errorf("expiry missing: %q", text)
				}
			case "invite":
				for _, want := range []string{"jo@example.com", "Tmp-pass-1234", "https://id.example.com/p/sign-in", "24 hours"} {
					if !strings.Contains(text, want) || !strings.Contains(html, want) {
						t.Errorf("invite lacks %q", want)
					}
				}
			}
		})
	}
}

func TestTemplatesEscapeHTMLNotText(t *testing.T) {
	t.Parallel()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	pool := &identity.Pool{ID: "eu-west-1_x", Name: `<script>alert(1)</script>`}
	subject, text, html, err := tpl.Render(pool, "password_changed", map[string]any{"Username": "a&b"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html not escaped: %q", html)
	}
	if !strings.Contains(text, "a&b") || !strings.Contains(subject, "<script>") {
		t.Errorf("text or subject escaped: %q %q", subject, text)
	}
}

func TestTemplateSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	pool := &identity.Pool{ID: "eu-west-1_x", Name: "Evil\r\nBcc: victim@example.com"}
	subject, _, _, err := tpl.Render(pool, "signup_code", map[string]any{"Code": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject %q spans lines", subject)
	}
}

func TestTemplateOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"signup_code.subject":                     "Global: {{.Code}}",
		"eu-west-1_AbC123xyZ/signup_code.subject": "Pool {{.PoolName}}: {{.Code}}",
		"eu-west-1_AbC123xyZ/signup_code.txt":     "Your code: {{.Code}} ({{.Extra}})",
		"welcome.subject":                         "Welcome to {{.PoolName}}",
		"welcome.txt":                             "Hi {{.Username}}",
		"README.md":                               "ignored",
	})
	tpl, err := mail.NewTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"Code": "111222", "Extra": "x"}

	// Pool override for subject and text; HTML from the built-in.
	subject, text, html, err := tpl.Render(testPool, "signup_code", data)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Pool Acme Docs: 111222" || text != "Your code: 111222 (x)" || !strings.Contains(html, "111222") {
		t.Errorf("pool override: %q %q %q", subject, text, html)
	}
	// Another pool: global subject override, built-in text.
	other := &identity.Pool{ID: "us-east-1_Other0000", Name: "Other"}
	subject, text, _, err = tpl.Render(other, "signup_code", data)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Global: 111222" || !strings.Contains(text, "Other") {
		t.Errorf("global override: %q %q", subject, text)
	}
	// A template that only exists as an override, with no HTML.
	subject, text, html, err = tpl.Render(other, "welcome", map[string]any{"Username": "jo"})
	if err != nil || subject != "Welcome to Other" || text != "Hi jo" || html != "" {
		t.Errorf("welcome: %q %q %q %v", subject, text, html, err)
	}
	if _, _, _, err := tpl.Render(other, "nope", nil); !errors.Is(err, mail.ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
}

func TestTemplateOverrideErrorsFailStartup(t *testing.T) {
	t.Parallel()
	tests := map[string]map[string]string{
		"bad subject":      {"signup_code.subject": "{{.Code"},
		"bad pool html":    {"eu-west-1_AbC123xyZ/invite.html": "<p>{{if}}</p>"},
		"undefined func":   {"invite.txt": "{{ nosuchfunc .Code }}"},
		"html only custom": {"eu-west-1_AbC123xyZ/custom.html": "<p>hi</p>"},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, files)
			if _, err := mail.NewTemplates(dir); err == nil {
				t.Fatal("NewTemplates accepted a broken override")
			}
		})
	}
	if _, err := mail.NewTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("NewTemplates accepted a missing directory")
	}
}

func TestTemplatesAdd(t *testing.T) {
	t.Parallel()
	tpl, err := mail.NewTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	if err := tpl.Add("approval_request", "{{.PoolName}}: approve {{.Applicant}}?", "Review: {{.ReviewURL}}", `<a href="{{.ReviewURL}}">Review</a>`); err != nil {
		t.Fatal(err)
	}
	if err := tpl.Add("signup_code", "x", "y", ""); err == nil {
		t.Error("Add replaced a built-in")
	}
	if err := tpl.Add("bad", "{{", "y", ""); err == nil {
		t.Error("Add accepted a broken template")
	}
	subject, text, html, err := tpl.Render(testPool, "approval_request", map[string]any{
		"Applicant": "jo@example.com", "ReviewURL": "https://id.example.com/approvals/abc?x=1&y=2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Acme Docs: approve jo@example.com?" || text != "Review: https://id.example.com/approvals/abc?x=1&y=2" ||
		!strings.Contains(html, `href="https://id.example.com/approvals/abc?x=1&amp;y=2"`) {
		t.Errorf("%q %q %q", subject, text, html)
	}
}

func TestValidateAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"jo@example.com", "jo@example.com", true},
		{"  jo@example.com ", "jo@example.com", true},
		{"jo.doe+tag@sub.example.co.uk", "jo.doe+tag@sub.example.co.uk", true},
		{"jo@localhost", "jo@localhost", true},
		{"", "", false},
		{"jo", "", false},
		{"jo@", "", false},
		{"@example.com", "", false},
		{"jo@example", "", false},
		{"Jo <jo@example.com>", "", false},
		{"jo@example.com, ann@example.com", "", false},
		{"jo@example.com\r\nBcc: x@example.com", "", false},
		{"jo@example.com (Jo)", "", false},
		{strings.Repeat("a", 250) + "@example.com", "", false},
	}
	for _, tt := range tests {
		got, err := mail.ValidateAddress(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ValidateAddress(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			continue
		}
		if err != nil && (identity.ErrorCode(err) != identity.CodeInvalidParameter) {
			t.Errorf("ValidateAddress(%q): code %s", tt.in, identity.ErrorCode(err))
		}
	}
}
