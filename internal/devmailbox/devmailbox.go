package devmailbox

import (
	"context"
	"embed"
	"encoding/json"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
)

//go:embed templates/mailbox.html
var templatesFS embed.FS

// page is parsed at init: a broken template fails at startup (and in
// tests), not on the first request.
var page = template.Must(template.New("mailbox.html").Funcs(template.FuncMap{
	"fmtTime": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
}).ParseFS(templatesFS, "templates/mailbox.html"))

// Lister is the part of *auth.Service the mailbox needs.
type Lister interface {
	ListEmails(ctx context.Context, poolID, status string, limit int, token string) ([]*identity.Email, string, error)
}

// Limits on one page.
const (
	DefaultLimit = 100
	MaxLimit     = 500
	pageSize     = 60
)

// Email is one email as the mailbox shows it.
type Email struct {
	ID        int64     `json:"id"`
	PoolID    string    `json:"pool_id"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Template  string    `json:"template"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	Text      string    `json:"text"`
	// Codes are one-time codes found in the text body.
	Codes []string `json:"codes"`
	// Passwords are temporary passwords found in the text body (invites).
	Passwords []string `json:"temporary_passwords"`
	// Links are the http(s) URLs in the text body.
	Links []string `json:"links"`
}

// Handler serves GET /dev/mailbox and GET /dev/mailbox.json from svc
// (an *auth.Service).
func Handler(svc Lister) http.Handler {
	h := &handler{svc: svc}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dev/mailbox", h.html)
	mux.HandleFunc("GET /dev/mailbox.json", h.json)
	return mux
}

type handler struct {
	svc Lister
}

type query struct {
	Pool  string
	To    string
	Limit int
}

func parseQuery(r *http.Request) query {
	q := query{Pool: r.URL.Query().Get("pool"), To: strings.ToLower(strings.TrimSpace(r.URL.Query().Get("to"))), Limit: DefaultLimit}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		q.Limit = min(n, MaxLimit)
	}
	return q
}

// load pages through the outbox, newest first, until q.Limit emails match.
func (h *handler) load(ctx context.Context, q query) ([]Email, error) {
	var out []Email
	token := ""
	for pages := 0; len(out) < q.Limit && pages < 50; pages++ {
		list, next, err := h.svc.ListEmails(ctx, q.Pool, "", pageSize, token)
		if err != nil {
			return nil, err
		}
		for _, e := range list {
			if q.To != "" && !strings.EqualFold(e.To, q.To) {
				continue
			}
			out = append(out, view(e))
			if len(out) == q.Limit {
				break
			}
		}
		if next == "" || next == token {
			break
		}
		token = next
	}
	if out == nil {
		out = []Email{}
	}
	return out, nil
}

func view(e *identity.Email) Email {
	return Email{
		ID: e.ID, PoolID: e.PoolID, To: e.To, Subject: e.Subject, Template: e.Template, Status: e.Status,
		Attempts: e.Attempts, LastError: e.LastError, CreatedAt: e.CreatedAt, SentAt: e.SentAt, Text: e.Text,
		Codes: EmailCodes(e), Passwords: TemporaryPasswords(e.Text), Links: Links(e.Text),
	}
}

func setHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Robots-Tag", "noindex")
}

func (h *handler) html(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r)
	emails, err := h.load(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setHeaders(w, "text/html; charset=utf-8")
	data := struct {
		Query  query
		Emails []Email
		Now    time.Time
	}{q, emails, time.Now()}
	if err := page.Execute(w, data); err != nil {
		slog.Default().ErrorContext(r.Context(), "devmailbox: render", "err", err)
	}
}

func (h *handler) json(w http.ResponseWriter, r *http.Request) {
	emails, err := h.load(r.Context(), parseQuery(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setHeaders(w, "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		DevOnly string  `json:"dev_only"`
		Emails  []Email `json:"emails"`
	}{"This mailbox exists only in development mode (gatehouse serve --dev).", emails})
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	slog.Default().ErrorContext(r.Context(), "devmailbox: list emails", "err", err)
	setHeaders(w, "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("could not list emails: " + identity.ErrorMessage(err) + "\n"))
}

var (
	// A code is a run of 4 to 10 digits standing alone; a line that
	// mentions "code" is searched first, so that dates and counts in other
	// lines do not come first.
	markedRE   = regexp.MustCompile(`<span ` + mail.CodeMarker + `>([^<]*)</span>`)
	codeRE     = regexp.MustCompile(`(?:^|[^0-9A-Za-z])([0-9]{4,10})(?:$|[^0-9A-Za-z])`)
	linkRE     = regexp.MustCompile(`https?://[^\s<>"'()\[\]]+`)
	passwordRE = regexp.MustCompile(`(?i)temporary\s+password\s*(?:is\s*)?:\s*(\S+)`)
)

// EmailCodes returns the one-time codes of e: what its HTML body marks as
// a code (the templates' {{code .Code}}, mail.CodeMarker), in order. An
// email with no marked code (an operator's own HTML template, or a text
// body only) falls back to Codes of the text body. A number that is not
// marked — the year of a date line, a count — is never a code.
func EmailCodes(e *identity.Email) []string {
	if strings.Contains(e.HTML, mail.CodeMarker) {
		out := []string{}
		for _, m := range markedRE.FindAllStringSubmatch(e.HTML, -1) {
			if c := strings.TrimSpace(html.UnescapeString(m[1])); c != "" {
				out = appendUnique(out, c)
			}
		}
		return out
	}
	return Codes(e.Text)
}

// Codes returns the one-time codes in text: standalone runs of 4–10 digits
// on a line that mentions a code, or on the next non-blank line when that
// one had none (the usual "Your code is:" with the code on its own line).
// Digits inside links, and on lines that mention no code, are ignored.
func Codes(text string) []string {
	inCode := []string{}
	// pending: the last non-blank line mentioned a code without one.
	pending := false
	for _, line := range strings.Split(text, "\n") {
		mentions := strings.Contains(strings.ToLower(line), "code")
		clean := linkRE.ReplaceAllString(line, " ")
		found := codeRE.FindAllStringSubmatch(clean, -1)
		for _, m := range found {
			if mentions || pending {
				inCode = appendUnique(inCode, m[1])
			}
		}
		if strings.TrimSpace(line) != "" {
			pending = mentions && len(found) == 0
		}
	}
	return inCode
}

// TemporaryPasswords returns the values after "temporary password:" in text.
func TemporaryPasswords(text string) []string {
	out := []string{}
	for _, m := range passwordRE.FindAllStringSubmatch(text, -1) {
		out = appendUnique(out, strings.TrimRight(m[1], ".,;"))
	}
	return out
}

// Links returns the http(s) URLs in text, without trailing punctuation.
func Links(text string) []string {
	out := []string{}
	for _, l := range linkRE.FindAllString(text, -1) {
		out = appendUnique(out, strings.TrimRight(l, ".,;:!?"))
	}
	return out
}

func appendUnique(list []string, v string) []string {
	for _, s := range list {
		if s == v {
			return list
		}
	}
	return append(list, v)
}
