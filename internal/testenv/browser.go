package testenv

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is an HTTP client with a cookie jar that does not follow
// redirects, for page tests that need no JavaScript (Chromium tests drive
// the real browser). Header is added to every request; a "Host" entry
// sets the request's Host.
type Browser struct {
	T      testing.TB
	C      *http.Client
	Header http.Header
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: t, Header: http.Header{}, C: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Browser returns a new browser for the stack.
func (s *Stack) Browser() *Browser { return NewBrowser(s.T) }

// Response is a whole answer.
type Response struct {
	URL    string // the request's URL
	Status int
	Header http.Header
	Body   string
}

// Do sends req with the browser's headers and cookies.
func (b *Browser) Do(req *http.Request) Response {
	b.T.Helper()
	for k, v := range b.Header {
		req.Header[k] = v
	}
	if h := b.Header.Get("Host"); h != "" {
		req.Host = h
	}
	res, err := b.C.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return Response{URL: req.URL.String(), Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

// Get fetches u.
func (b *Browser) Get(u string) Response {
	b.T.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(req)
}

// Post posts form to u as application/x-www-form-urlencoded.
func (b *Browser) Post(u string, form url.Values) Response {
	b.T.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// The patterns that read the pages' forms: hidden fields (name, value),
// a form's action, and the CSRF token.
var (
	HiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	ActionRE = regexp.MustCompile(`<form[^>]* action="([^"]+)"`)
	CSRFRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// CSRF returns the page's CSRF form token ("" if none).
func (r Response) CSRF() string {
	if m := CSRFRE.FindStringSubmatch(r.Body); m != nil {
		return m[1]
	}
	return ""
}

// Hidden returns the hidden fields of the page's forms.
func (r Response) Hidden() url.Values {
	form := url.Values{}
	for _, m := range HiddenRE.FindAllStringSubmatch(r.Body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return form
}

// Action returns the absolute action URL of the page's first form ("" if
// none).
func (r Response) Action() string {
	a := ActionRE.FindStringSubmatch(r.Body)
	if a == nil {
		return ""
	}
	return Resolve(r.URL, html.UnescapeString(a[1]))
}

// Location returns the absolute URL of a redirect's Location.
func (r Response) Location() string { return Resolve(r.URL, r.Header.Get("Location")) }

// Resolve makes ref absolute against the URL base.
func Resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	l, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(l).String()
}

// Submit posts page's first form as a person would: its hidden fields
// (the CSRF token among them) plus the fields kv (name, value, ...).
func (b *Browser) Submit(page Response, kv ...string) Response {
	b.T.Helper()
	form := page.Hidden()
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	a := page.Action()
	if a == "" {
		b.T.Fatalf("no form on %s: %s", page.URL, page.Body)
	}
	return b.Post(a, form)
}

// Fill GETs pageURL, then posts form back to it (without the query) with
// the page's CSRF token, and the query's client_id when form has none.
func (b *Browser) Fill(pageURL string, form url.Values) Response {
	b.T.Helper()
	g := b.Get(pageURL)
	if g.Status != http.StatusOK {
		b.T.Fatalf("GET %s: %d %s", pageURL, g.Status, g.Body)
	}
	form.Set("csrf", g.CSRF())
	u, err := url.Parse(pageURL)
	if err != nil {
		b.T.Fatal(err)
	}
	if form.Get("client_id") == "" {
		form.Set("client_id", u.Query().Get("client_id"))
	}
	u.RawQuery = ""
	return b.Post(u.String(), form)
}

// HostedSignIn signs username in on the pool's hosted sign-in page for
// clientID (pw "" is Password) and returns the answer to the form, a
// redirect when it worked; the browser then holds the hosted session.
func (s *Stack) HostedSignIn(b *Browser, clientID, username, pw string) Response {
	s.T.Helper()
	if pw == "" {
		pw = Password
	}
	page := b.Get(s.Page("login?client_id=" + url.QueryEscape(clientID)))
	if page.Status != http.StatusOK {
		s.T.Fatalf("sign-in page: %d %s", page.Status, page.Body)
	}
	return b.Submit(page, "username", username, "password", pw)
}
