package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The admin console (docs/console.md) lives under /{pool}/console. People
// sign in on the pool's hosted sign-in page (a hosted session, session.go);
// auth.Service.ConsoleSignIn then decides their role — pool admin or
// company admin — and the context every handler passes to the service
// carries the matching actor, so the service checks every action again
// (company admins get forbidden on anything outside their companies).
// Every POST carries the CSRF token of its path; destructive actions go
// through a confirmation page. No JavaScript.

// consolePages are the console's templates (templates/console_<name>.html,
// each with templates/console_layout.html).
var consolePages = []string{"dashboard", "registrations", "registration", "users", "user", "confirm",
	"companies", "company", "groups", "group", "clients", "client", "policy", "hooks", "audit", "emails", "jobs", "forbidden", "mfa"}

var consoleFuncs = template.FuncMap{
	"t":    func(k string) string { return text[k] },
	"tc":   codeText,
	"when": fmtWhen,
	"ago":  fmtAgo,
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"esc": url.PathEscape,
	// pair passes an id and a name map to the "who" template.
	"pair": func(id string, names map[string]string) whoArgs { return whoArgs{ID: id, Names: names} },
}

// codeText renders the text of key k escaped, with `commands` in code
// elements (rather than literal backticks).
func codeText(k string) template.HTML {
	parts := strings.Split(text[k], "`")
	var b strings.Builder
	for i, p := range parts {
		p = template.HTMLEscapeString(p)
		if i%2 == 1 && i < len(parts)-1 {
			p = "<code>" + p + "</code>"
		} else if i%2 == 1 {
			p = "`" + p // an unpaired backtick stays as typed
		}
		b.WriteString(p)
	}
	return template.HTML(b.String())
}

type whoArgs struct {
	ID    string
	Names map[string]string
}

// consoleTemplates parses the console's templates; it panics at start-up if
// one is missing or broken (they are embedded; a test renders each).
var consoleTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range consolePages {
		t := template.Must(template.New(name).Funcs(consoleFuncs).ParseFS(templateFS,
			"templates/console_layout.html", "templates/console_"+name+".html"))
		if t.Lookup("console") == nil || t.Lookup("content") == nil {
			panic(fmt.Sprintf("web: console template %s: missing layout or content", name))
		}
		m[name] = t
	}
	return m
}()

func fmtWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtAgo(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// consoleReq is what every console handler works with.
type consoleReq struct {
	ctx  context.Context // carries the console actor
	pool *identity.Pool
	role *auth.ConsoleRole
	base string // /{pool}/console
}

func (c *consoleReq) path(parts ...string) string {
	p := c.base
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// console wraps a console handler: it resolves the pool and the session
// (no session: the hosted sign-in, coming back here), and the role
// through the service (neither role: 403). adminOnly pages also need the
// service to confirm a pool admin.
func (w *Web) console(adminOnly bool, h func(http.ResponseWriter, *http.Request, *consoleReq)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		poolID := r.PathValue("pool")
		p, err := w.svc.GetPool(r.Context(), poolID)
		if err != nil {
			w.errorPage(rw, r, err)
			return
		}
		s, ok := w.CurrentSession(r, p.ID)
		if !ok {
			back := r.URL.Path
			if r.Method != http.MethodGet || !ValidReturnTo(p.ID, back) {
				back = "/" + p.ID + "/console"
			}
			http.Redirect(rw, r, SignInPath(p.ID, "", back), http.StatusSeeOther)
			return
		}
		ctx, role, err := w.svc.ConsoleSignIn(r.Context(), p.ID, s.Sub, httpserver.RemoteIP(r))
		c := &consoleReq{ctx: ctx, pool: p, role: role, base: "/" + url.PathEscape(p.ID) + "/console"}
		if err != nil {
			if identity.ErrorCode(err) == identity.CodeForbidden {
				w.consoleRender(rw, r, c, http.StatusForbidden, "forbidden", map[string]any{"Title": text["console.forbidden"], "Who": s.Username})
				return
			}
			w.errorPage(rw, r, err)
			return
		}
		if r.Method == http.MethodPost && !w.parseForm(rw, r) {
			return
		}
		if adminOnly {
			if err := w.svc.RequirePoolAdmin(ctx, p.ID); err != nil {
				w.consoleError(rw, r, c, err)
				return
			}
		}
		h(rw, r, c)
	}
}

// consoleRender renders a console page: layout, navigation for the role,
// and a CSRF token function bound to each form's action.
func (w *Web) consoleRender(rw http.ResponseWriter, r *http.Request, c *consoleReq, status int, page string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Pool"] = c.pool
	data["PoolName"] = poolName(c.pool)
	data["Role"] = c.role
	data["Base"] = c.base
	data["Nav"] = consoleNav(c, page)
	data["SignOut"] = "/" + url.PathEscape(c.pool.ID) + "/signout"
	var csrfErr error
	data["CSRF"] = func(action string) string {
		v, err := w.csrfTokenFor(rw, r, action)
		if err != nil {
			csrfErr = err
		}
		return v
	}
	if _, ok := data["Title"]; !ok {
		data["Title"] = text["console."+page]
	}
	var b bytes.Buffer
	if err := consoleTemplates[page].ExecuteTemplate(&b, "console", data); err != nil || csrfErr != nil {
		w.opts.Log.ErrorContext(r.Context(), "web: console render", "page", page, "err", err, "csrf", csrfErr)
		http.Error(rw, text["error.internal"], http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(b.Bytes())
	}
}

type navItem struct {
	Href, Label string
	Current     bool
}

func consoleNav(c *consoleReq, page string) []navItem {
	if c.role == nil {
		return nil
	}
	type it struct{ page, path, key string }
	items := []it{{"dashboard", "", "console.dashboard"}, {"registrations", "registrations", "console.registrations"}}
	if c.role.PoolAdmin {
		items = append(items, it{"users", "users", "console.users"}, it{"companies", "companies", "console.companies"},
			it{"groups", "groups", "console.groups"}, it{"clients", "clients", "console.clients"},
			it{"policy", "policy", "console.policy"}, it{"mfa", "mfa", "console.mfa"}, it{"hooks", "hooks", "console.hooks"},
			it{"audit", "audit", "console.audit"}, it{"emails", "emails", "console.emails"}, it{"jobs", "jobs", "console.jobs"})
	} else {
		items = append(items, it{"companies", "companies", "console.my_companies"})
	}
	cur := map[string]string{"registration": "registrations", "user": "users", "company": "companies", "group": "groups", "client": "clients"}
	if v, ok := cur[page]; ok {
		page = v
	}
	var out []navItem
	for _, i := range items {
		h := c.base
		if i.path != "" {
			h += "/" + i.path
		}
		out = append(out, navItem{Href: h, Label: text[i.key], Current: i.page == page})
	}
	return out
}

// consoleError maps a service error to a console page (403 for
// forbidden, 404 for missing, 400 for bad input).
func (w *Web) consoleError(rw http.ResponseWriter, r *http.Request, c *consoleReq, err error) {
	status := http.StatusInternalServerError
	switch identity.ErrorCode(err) {
	case identity.CodeForbidden:
		status = http.StatusForbidden
	case identity.CodeResourceNotFound, identity.CodeUserNotFound:
		status = http.StatusNotFound
	case identity.CodeInternal, identity.CodeUnavailable, "":
	default:
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError {
		w.opts.Log.ErrorContext(r.Context(), "web: console", "path", r.URL.Path, "err", err)
	}
	w.consoleRender(rw, r, c, status, "forbidden", map[string]any{"Title": text["console.error"], "Message": userMessage(err), "Status": status})
}

// consoleBack redirects after a POST to to, with a notice key.
func consoleBack(rw http.ResponseWriter, r *http.Request, to, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "notice=" + url.QueryEscape(notice)
	}
	redirect(rw, r, to)
}

// notice is the text of a ?notice= key (only known keys are shown).
func notice(r *http.Request) string {
	k := r.URL.Query().Get("notice")
	if k == "" {
		return ""
	}
	return text["console.notice."+k]
}
