package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

//go:embed templates/*
var builtinFS embed.FS

// Template names every Gatehouse needs (the constants of internal/auth).
// NewTemplates fails if a built-in one is missing.
var RequiredTemplates = []string{"signup_code", "forgot_password", "verify_email", "invite", "password_changed", "mfa_code", "mfa_changed", "email_change_requested"}

// Standard data keys. Render sets each one that the caller left out to "",
// and PoolName to the pool's name, so templates can use them freely.
var standardKeys = []string{"Code", "Username", "PoolName", "ExpiresIn", "TemporaryPassword", "SignInURL"}

// CodeMarker is the attribute of the element that the HTML body's
// {{code .Code}} puts around a one-time code: the mark that tells tools
// (the dev mailbox) which text is a code, rather than guessing from the
// digits in the text (a date's year is not a code). In the text body and
// the subject, {{code .Code}} is the code alone.
const CodeMarker = "data-gatehouse-code"

var (
	textFuncs = texttemplate.FuncMap{"code": func(v any) string { return fmt.Sprint(v) }}
	htmlFuncs = htmltemplate.FuncMap{"code": func(v any) htmltemplate.HTML {
		c := htmltemplate.HTMLEscapeString(fmt.Sprint(v))
		return htmltemplate.HTML(`<span ` + CodeMarker + `>` + c + `</span>`)
	}}
)

// Template file extensions: the subject line and the text body are
// text/template, the HTML body html/template (contextual escaping).
const (
	extSubject = ".subject"
	extText    = ".txt"
	extHTML    = ".html"
)

// set is the three parts of one email template; a nil part falls back to
// the next level (global override, then built-in).
type set struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Templates renders emails from built-in templates, optionally overridden
// from a directory, globally or per pool. It is safe for concurrent use
// once built.
type Templates struct {
	builtin map[string]*set
	global  map[string]*set            // overrides in <dir>/<name>.<ext>
	pools   map[string]map[string]*set // overrides in <dir>/<poolID>/<name>.<ext>
}

// NewTemplates loads the built-in templates and, if overrideDir is not "",
// every override in it: <overrideDir>/<name>.{subject,txt,html} apply to
// all pools, <overrideDir>/<poolID>/<name>.{subject,txt,html} to one pool.
// Each file overrides one part; missing parts fall back (pool, then global,
// then built-in). Files with other extensions are ignored.
//
// It returns an error if a required built-in template is missing, if
// overrideDir cannot be read, or if any template fails to parse.
func NewTemplates(overrideDir string) (*Templates, error) {
	t := &Templates{global: map[string]*set{}, pools: map[string]map[string]*set{}}
	sub, err := fs.Sub(builtinFS, "templates")
	if err != nil {
		return nil, err
	}
	t.builtin, err = loadDir(sub, ".")
	if err != nil {
		return nil, fmt.Errorf("mail: built-in templates: %w", err)
	}
	for _, name := range RequiredTemplates {
		s := t.builtin[name]
		if s == nil || s.subject == nil || s.text == nil || s.html == nil {
			return nil, fmt.Errorf("mail: built-in template %q is missing or incomplete", name)
		}
	}
	if overrideDir == "" {
		return t, nil
	}
	dir := os.DirFS(overrideDir)
	t.global, err = loadDir(dir, ".")
	if err != nil {
		return nil, fmt.Errorf("mail: templates in %s: %w", overrideDir, err)
	}
	entries, err := fs.ReadDir(dir, ".")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sets, err := loadDir(dir, e.Name())
		if err != nil {
			return nil, fmt.Errorf("mail: templates in %s: %w", filepath.Join(overrideDir, e.Name()), err)
		}
		if len(sets) > 0 {
			t.pools[e.Name()] = sets
		}
	}
	// An override must also execute against the standard data: catches
	// calls of undefined functions' arguments and the like at startup.
	for poolID, sets := range t.pools {
		for name := range sets {
			if _, _, _, err := t.render(poolID, name, sampleData()); err != nil {
				return nil, fmt.Errorf("mail: template %s/%s: %w", poolID, name, err)
			}
		}
	}
	for name := range t.global {
		if _, _, _, err := t.render("", name, sampleData()); err != nil {
			return nil, fmt.Errorf("mail: template %s: %w", name, err)
		}
	}
	return t, nil
}

func sampleData() map[string]any {
	return map[string]any{
		"Code": "123456", "Username": "jo@example.com", "PoolName": "Example",
		"ExpiresIn": "24 hours", "TemporaryPassword": "temporary", "SignInURL": "https://id.example.com/sign-in",
	}
}

// loadDir parses the template files directly in dir of fsys.
func loadDir(fsys fs.FS, dir string) (map[string]*set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	sets := map[string]*set{}
	get := func(name string) *set {
		if sets[name] == nil {
			sets[name] = &set{}
		}
		return sets[name]
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ext := filepath.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext)
		if name == "" || (ext != extSubject && ext != extText && ext != extHTML) {
			continue
		}
		src, err := fs.ReadFile(fsys, pathJoin(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		switch ext {
		case extSubject:
			tt, err := texttemplate.New(e.Name()).Funcs(textFuncs).Parse(strings.TrimSpace(string(src)))
			if err != nil {
				return nil, err
			}
			get(name).subject = tt
		case extText:
			tt, err := texttemplate.New(e.Name()).Funcs(textFuncs).Parse(string(src))
			if err != nil {
				return nil, err
			}
			get(name).text = tt
		case extHTML:
			ht, err := htmltemplate.New(e.Name()).Funcs(htmlFuncs).Parse(string(src))
			if err != nil {
				return nil, err
			}
			get(name).html = ht
		}
	}
	return sets, nil
}

func pathJoin(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// Names returns the names of the templates that can be rendered.
func (t *Templates) Names() []string {
	seen := map[string]bool{}
	for n := range t.builtin {
		seen[n] = true
	}
	for n := range t.global {
		seen[n] = true
	}
	for _, sets := range t.pools {
		for n := range sets {
			seen[n] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownTemplate is returned (wrapped) by Render for a name with no
// template.
var ErrUnknownTemplate = errors.New("mail: unknown template")

// Render renders template name for pool (nil for no pool) with data. The
// standard keys (Code, Username, PoolName, ExpiresIn, TemporaryPassword,
// SignInURL) default to "" (PoolName to the pool's name); any other keys are
// passed through. The subject is one line; the HTML body is a complete
// document with no remote content.
//
// Errors: ErrUnknownTemplate (wrapped) or a template execution error.
func (t *Templates) Render(pool *identity.Pool, name string, data map[string]any) (subject, text, html string, err error) {
	full := make(map[string]any, len(data)+len(standardKeys))
	for _, k := range standardKeys {
		full[k] = ""
	}
	poolID := ""
	if pool != nil {
		poolID = pool.ID
		full["PoolName"] = pool.Name
	}
	for k, v := range data {
		full[k] = v
	}
	return t.render(poolID, name, full)
}

func (t *Templates) render(poolID, name string, data map[string]any) (subject, text, html string, err error) {
	var s set
	for _, level := range []*set{t.pools[poolID][name], t.global[name], t.builtin[name]} {
		if level == nil {
			continue
		}
		if s.subject == nil {
			s.subject = level.subject
		}
		if s.text == nil {
			s.text = level.text
		}
		if s.html == nil {
			s.html = level.html
		}
	}
	if s.subject == nil || s.text == nil {
		return "", "", "", fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	var b bytes.Buffer
	if err := s.subject.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	subject = oneLine(b.String())
	b.Reset()
	if err := s.text.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	text = b.String()
	if s.html != nil {
		b.Reset()
		if err := s.html.Execute(&b, data); err != nil {
			return "", "", "", err
		}
		html = b.String()
		if !strings.Contains(strings.ToLower(html), "<html") {
			html, err = wrapHTML(subject, html)
			if err != nil {
				return "", "", "", err
			}
		}
	}
	return subject, text, html, nil
}

// oneLine collapses whitespace (including CR and LF, which could inject
// headers) into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var layout = htmltemplate.Must(htmltemplate.New("layout").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#222;background:#fff">
<div style="max-width:560px;margin:0 auto">
{{.Body}}
</div>
</body>
</html>
`))

// wrapHTML puts an HTML fragment (already escaped by html/template) into
// the layout document.
func wrapHTML(subject, body string) (string, error) {
	var b bytes.Buffer
	err := layout.Execute(&b, map[string]any{"Subject": subject, "Body": htmltemplate.HTML(body)})
	return b.String(), err
}

// Add registers a built-in template from source, for packages that need
// emails beyond the required ones (e.g. the approval workflow). Call it at
// wiring time, before the Templates are used. Overrides in the directory
// given to NewTemplates still take precedence. html may be "" (text only).
//
// Errors: a parse error, or an error if name is empty or already built in.
func (t *Templates) Add(name, subject, text, html string) error {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return fmt.Errorf("mail: bad template name %q", name)
	}
	if t.builtin[name] != nil {
		return fmt.Errorf("mail: template %q already exists", name)
	}
	s := &set{}
	var err error
	if s.subject, err = texttemplate.New(name + extSubject).Funcs(textFuncs).Parse(strings.TrimSpace(subject)); err != nil {
		return err
	}
	if s.text, err = texttemplate.New(name + extText).Funcs(textFuncs).Parse(text); err != nil {
		return err
	}
	if html != "" {
		if s.html, err = htmltemplate.New(name + extHTML).Funcs(htmlFuncs).Parse(html); err != nil {
			return err
		}
	}
	t.builtin[name] = s
	return nil
}
