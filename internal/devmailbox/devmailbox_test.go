package devmailbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// outbox is a Lister over a fixed slice (newest first), paging like the
// store does.
type outbox []*identity.Email

func (o outbox) ListEmails(ctx context.Context, poolID, status string, limit int, token string) ([]*identity.Email, string, error) {
	start := 0
	if token != "" {
		for i, e := range o {
			if e.ID < mustAtoi(token) {
				start = i
				break
			}
		}
	}
	var out []*identity.Email
	next := ""
	for _, e := range o[start:] {
		if poolID != "" && e.PoolID != poolID {
			continue
		}
		if len(out) == limit {
			next = itoa(out[len(out)-1].ID)
			break
		}
		out = append(out, e)
	}
	return out, next, nil
}

func mustAtoi(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func setup(t *testing.T, emails ...*identity.Email) http.Handler {
	t.Helper()
	return Handler(outbox(emails))
}

func get(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	return rec
}

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestExtractors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		text      string
		codes     []string
		passwords []string
		links     []string
	}{
		{"code on its own line after the mention", "Hello,\n\nYour verification code is:\n\n    170937\n\nIt expires in 24 hours.\n", []string{"170937"}, []string{}, []string{}},
		{"code in the mentioning line", "Your code: 4821 (valid for 10 minutes)\nRef 99999\n", []string{"4821"}, []string{}, []string{}},
		{"no fallback to any number (a year is not a code)", "Use 555123 to continue.\nSent 2026.\n", []string{}, []string{}, []string{}},
		{"digits in links ignored", "Code below\nhttps://x.example/reset?token=123456789\n", []string{}, []string{}, []string{"https://x.example/reset?token=123456789"}},
		{"temporary password", "Username: a@b.c\nTemporary password: 7DoJ!EAz7!rSGz#_\nThe temporary password expires in 7 days.\n", []string{}, []string{"7DoJ!EAz7!rSGz#_"}, []string{}},
		{"links trimmed", "Open https://id.example.com/approve/abc. Or http://localhost:8080/x,\n", []string{}, []string{}, []string{"https://id.example.com/approve/abc", "http://localhost:8080/x"}},
		{"no digits glued to letters", "Order AB12345CD\n", []string{}, []string{}, []string{}},
	}
	for _, tt := range tests {
		got := []any{Codes(tt.text), TemporaryPasswords(tt.text), Links(tt.text)}
		want := []any{tt.codes, tt.passwords, tt.links}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, want)
		}
	}
}

func TestMailboxHTMLEscapesAndShowsCodes(t *testing.T) {
	t.Parallel()
	h := setup(t,
		&identity.Email{ID: 2, PoolID: "p2", To: "eve@example.com", Subject: `<script>alert("x")</script>`, Status: "queued",
			Text: "Your code is 654321\nhttps://evil.example/\"><script>alert(1)</script>\n", CreatedAt: t0.Add(time.Minute)},
		&identity.Email{ID: 1, PoolID: "p1", To: "jo@example.com", Subject: "demo: your verification code", Status: "sent",
			Text: "Your verification code for demo is:\n\n    170937\n", CreatedAt: t0},
	)
	rec := get(t, h, "/dev/mailbox")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{"Development mode only", `<span class="code">170937</span>`, `<span class="code">654321</span>`,
		"jo@example.com", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Fatal("page contains an unescaped <script>")
	}
	if strings.Index(body, "eve@example.com") > strings.Index(body, "jo@example.com") {
		t.Error("not newest first")
	}
	h2 := rec.Header()
	if h2.Get("Cache-Control") != "no-store" || !strings.Contains(h2.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("headers: %v", h2)
	}
}

func TestMailboxJSONFilters(t *testing.T) {
	t.Parallel()
	var emails []*identity.Email
	for i := int64(150); i >= 1; i-- {
		pool := "p1"
		if i%2 == 0 {
			pool = "p2"
		}
		emails = append(emails, &identity.Email{ID: i, PoolID: pool, To: "u" + itoa(i%3) + "@example.com", Text: "code " + itoa(100000+i), CreatedAt: t0})
	}
	h := setup(t, emails...)
	decode := func(url string) []Email {
		rec := get(t, h, url)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", url, rec.Code, rec.Header().Get("Content-Type"))
		}
		var out struct {
			Emails []Email `json:"emails"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out.Emails
	}
	all := decode("/dev/mailbox.json")
	if len(all) != DefaultLimit || all[0].ID != 150 || all[0].Codes[0] != "100150" {
		t.Fatalf("default page: %d emails, first %+v", len(all), all[0])
	}
	if got := decode("/dev/mailbox.json?limit=1000"); len(got) != 150 {
		t.Errorf("limit over the total: %d emails, want 150 (paged through)", len(got))
	}
	p1 := decode("/dev/mailbox.json?pool=p1&limit=500")
	if len(p1) != 75 {
		t.Errorf("pool filter: %d", len(p1))
	}
	for _, e := range p1 {
		if e.PoolID != "p1" {
			t.Fatalf("pool filter leaked %+v", e)
		}
	}
	to := decode("/dev/mailbox.json?to=U1@example.com&limit=5")
	if len(to) != 5 || to[0].To != "u1@example.com" {
		t.Errorf("to filter: %+v", to)
	}
	if got := decode("/dev/mailbox.json?pool=none"); got == nil || len(got) != 0 {
		t.Errorf("empty result should be [] not null: %v", got)
	}
}
