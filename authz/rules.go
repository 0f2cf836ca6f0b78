package authz

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Rule grants access to the requests matching Methods and Path.
//
// A rule with Public set lets anyone through, token or not. Otherwise the
// caller needs a valid token, and then must be in at least one of Groups
// (when Groups is not empty) and satisfy every one of Claims.
type Rule struct {
	// Methods lists the HTTP methods matched ("GET" also matches "HEAD",
	// as in net/http.ServeMux). Empty matches every method.
	Methods []string
	// Path is a net/http.ServeMux path pattern without method or host:
	// "/companies/{company}/documents/{id}", "/static/" (a subtree),
	// "/{$}" (exactly "/"). When several rules match a request, the most
	// specific pattern wins, as in ServeMux; a request no rule matches is
	// refused (403).
	Path string
	// Public lets the request through without a token.
	Public bool
	// Groups: the caller must be in at least one (cognito:groups).
	Groups []string
	// Claims: every condition must hold.
	Claims []Condition
	// RequireMFA: the token's sign-in must have used a second factor
	// ("mfa" in its amr claim). A token without it is refused with 401
	// and Decision.StepUp (RFC 9470's insufficient_user_authentication):
	// the client signs in again with the factor (step-up).
	RequireMFA bool
	// MatrixParams says that the backend behind this rule reads ";"
	// path parameters and strips them from each segment before routing
	// (Tomcat, Jetty, Spring: "/files;jsessionid=1/a" is "/files/a").
	// Without it a path holding ";" matches no rule (403), because such a
	// backend resolves "/public/..;/admin" to "/admin". With it, a path
	// holding ";" is decided on the path with each segment's ";..."
	// removed, which must pass every other check and select this rule.
	MatrixParams bool
}

// Condition compares one claim of the caller's token with a literal or
// with a wildcard of the request's path. A claim that is absent, empty, or
// not a string (or boolean) never satisfies a condition.
type Condition struct {
	// Claim is the claim's name, e.g. "custom:company_name".
	Claim string
	// Equals, when set, is the value the claim must have.
	Equals string
	// PathValue, when set, names a wildcard of the rule's Path; the claim
	// must equal that segment of the request's path (after unescaping),
	// e.g. Claim "custom:company_name", PathValue "company" for Path
	// "/companies/{company}/documents". Exactly one of Equals and PathValue
	// is set.
	PathValue string
}

// Policy is a compiled, immutable list of rules. It is safe for
// concurrent use.
type Policy struct {
	mux   *http.ServeMux
	rules []Rule
}

// Decision is the outcome of Policy.Check.
type Decision struct {
	// Status is http.StatusOK (allowed), http.StatusUnauthorized (a token
	// is needed) or http.StatusForbidden (no rule matches, or the rule's
	// groups or conditions are not met).
	Status int
	// Rule is the matched rule's pattern ("" when none matched).
	Rule string
	// Reason says why a request was refused, for logs.
	Reason string
	// StepUp: the token is valid but its sign-in lacks the second factor
	// the rule requires (Status is 401).
	StepUp bool
}

// Allowed reports whether the decision lets the request through.
func (d Decision) Allowed() bool { return d.Status == http.StatusOK }

var validMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// NewPolicy compiles rules. Errors name the first bad rule: an empty or
// relative path, an unknown method, a public rule with groups or
// conditions, a condition with neither or both of Equals and PathValue, a
// PathValue naming no wildcard of the path, or two rules whose patterns
// conflict as ServeMux patterns would.
func NewPolicy(rules []Rule) (p *Policy, err error) {
	p = &Policy{mux: http.NewServeMux(), rules: append([]Rule(nil), rules...)}
	defer func() {
		if r := recover(); r != nil { // ServeMux panics on conflicting patterns
			p, err = nil, fmt.Errorf("authz: %v", r)
		}
	}()
	for i := range p.rules {
		r := &p.rules[i]
		where := fmt.Sprintf("authz: rule %d (%s)", i+1, r.Path)
		if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, " \t") {
			return nil, fmt.Errorf("%s: path must be a ServeMux path pattern starting with /", where)
		}
		if r.Public && (len(r.Groups) > 0 || len(r.Claims) > 0 || r.RequireMFA) {
			return nil, fmt.Errorf("%s: a public rule has no groups or claims", where)
		}
		wild := wildcards(r.Path)
		for _, c := range r.Claims {
			switch {
			case c.Claim == "":
				return nil, fmt.Errorf("%s: condition without a claim", where)
			case (c.Equals == "") == (c.PathValue == ""):
				return nil, fmt.Errorf("%s: condition on %s needs exactly one of equals and path_value", where, c.Claim)
			case c.PathValue != "" && !wild[c.PathValue]:
				return nil, fmt.Errorf("%s: path_value %q is not a wildcard of the path", where, c.PathValue)
			}
		}
		h := matchHandler(i)
		if len(r.Methods) == 0 {
			p.mux.Handle(r.Path, h)
			continue
		}
		for _, m := range r.Methods {
			m = strings.ToUpper(m)
			if !validMethods[m] {
				return nil, fmt.Errorf("%s: unknown method %q", where, m)
			}
			p.mux.Handle(m+" "+r.Path, h)
		}
	}
	return p, nil
}

// MustPolicy is NewPolicy for rules written in code; it panics on error.
func MustPolicy(rules ...Rule) *Policy {
	p, err := NewPolicy(rules)
	if err != nil {
		panic(err)
	}
	return p
}

// wildcards returns the names of the {name} and {name...} segments.
func wildcards(path string) map[string]bool {
	w := map[string]bool{}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			if name != "$" {
				w[name] = true
			}
		}
	}
	return w
}

type matchKey struct{}

type match struct {
	idx int
	req *http.Request // carries the path values
}

func matchHandler(i int) http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if m, ok := r.Context().Value(matchKey{}).(*match); ok {
			m.idx, m.req = i, r
		}
	})
}

// nopWriter swallows what ServeMux writes for 404, 405 and redirects.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (*nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (*nopWriter) WriteHeader(int)             {}

// find returns the rule matching r and the request carrying its path
// values. A request ServeMux would redirect (an unclean path such as
// "/a/../b" or "/a//b") or answer 404 or 405 matches no rule, and so does
// one whose path a backend might read differently (see readPath).
func (p *Policy) find(r *http.Request) (*Rule, *http.Request) {
	u := r.URL
	if u == nil {
		return nil, nil
	}
	params := strings.Contains(u.EscapedPath(), ";")
	if params {
		if u = withoutParams(u); u == nil {
			return nil, nil
		}
	}
	i, mr := p.readPath(r, u)
	if i < 0 || (params && !p.rules[i].MatrixParams) {
		return nil, nil
	}
	return &p.rules[i], mr
}

// readPath returns the index of the rule matching r with URL u (-1 for
// none) and the request carrying its path values. -1 too when u is
// ambiguous (ambiguousPath), or when another reading of it that some
// backends make selects another rule: trailing dots and spaces stripped
// from each segment (Windows and IIS), or Unicode compatibility forms
// folded (NFKC: "ａｄｍｉｎ" is "admin" to some frameworks). A reading that
// selects the same rule is harmless: the rule's conditions still compare
// the segment as sent.
func (p *Policy) readPath(r *http.Request, u *url.URL) (int, *http.Request) {
	if ambiguousPath(u) {
		return -1, nil
	}
	i, mr := p.match(r, u)
	if i < 0 {
		return -1, nil
	}
	for _, alt := range []func(string) (string, bool){trimTrailingDots, foldCompat} {
		other, ok := alt(u.Path)
		if !ok {
			return -1, nil
		}
		if other == u.Path {
			continue
		}
		ou := &url.URL{Path: other}
		if ambiguousPath(ou) {
			return -1, nil
		}
		if strings.Count(other, ";") != strings.Count(u.Path, ";") {
			// A look-alike ("\uff1b") that a folding backend reads as the
			// matrix-parameter delimiter: that backend routes another path.
			return -1, nil
		}
		if j, _ := p.match(r, ou); j != i {
			return -1, nil
		}
	}
	return i, mr
}

// match runs the rules' ServeMux on r with URL u.
func (p *Policy) match(r *http.Request, u *url.URL) (int, *http.Request) {
	m := &match{idx: -1}
	r2 := r.WithContext(context.WithValue(r.Context(), matchKey{}, m))
	r2.URL = u
	p.mux.ServeHTTP(&nopWriter{}, r2)
	return m.idx, m.req
}

// Check decides whether id may make request r (id is nil for a request
// without a valid token). Only r's method and URL path are read.
func (p *Policy) Check(r *http.Request, id *Identity) Decision {
	if p == nil {
		return Decision{Status: http.StatusForbidden, Reason: "no policy"}
	}
	rule, mr := p.find(r)
	if rule == nil {
		return Decision{Status: http.StatusForbidden, Reason: "no rule matches"}
	}
	d := Decision{Rule: rule.Path}
	switch {
	case rule.Public:
		d.Status = http.StatusOK
	case id == nil:
		d.Status, d.Reason = http.StatusUnauthorized, "token required"
	case len(rule.Groups) > 0 && !inAny(id, rule.Groups):
		d.Status, d.Reason = http.StatusForbidden, "not in a required group"
	default:
		d.Status = http.StatusOK
		for _, c := range rule.Claims {
			want := c.Equals
			if c.PathValue != "" {
				want = mr.PathValue(c.PathValue)
			}
			if got := id.Claim(c.Claim); got == "" || want == "" || got != want {
				d.Status, d.Reason = http.StatusForbidden, "claim "+c.Claim+" does not match"
				break
			}
		}
		if d.Status == http.StatusOK && rule.RequireMFA && !id.HasAMR("mfa") {
			d.Status, d.Reason, d.StepUp = http.StatusUnauthorized, "a second factor is required", true
		}
	}
	return d
}

// NeedsToken reports whether r matches a rule that is not public: false
// for public routes and for requests no rule matches (refused anyway).
func (p *Policy) NeedsToken(r *http.Request) bool {
	if p == nil {
		return false
	}
	rule, _ := p.find(r)
	return rule != nil && !rule.Public
}

func inAny(id *Identity, groups []string) bool {
	for _, g := range groups {
		if id.InGroup(g) {
			return true
		}
	}
	return false
}

// ambiguousPath reports a path that routers disagree about, so that a rule
// matched here could select another resource behind the proxy (Spring
// Security's StrictHttpFirewall refuses much the same list):
//
//   - a backslash, or an encoded slash, backslash, semicolon or percent
//     sign (%2F, %5C, %3B, %25: some backends decode twice or split
//     after decoding);
//   - a "." or ".." segment once decoded ("%2e%2e", ".%2E");
//   - a decoded path that is not valid UTF-8 (overlong forms such as
//     %c0%ae, which lenient decoders read as ".");
//   - a control character once decoded (%00, CR, LF, DEL).
//
// Such requests match no rule (403); no honest client sends them. A raw
// ";" is handled by find (Rule.MatrixParams).
func ambiguousPath(u *url.URL) bool {
	raw := u.EscapedPath()
	if strings.ContainsRune(raw, '\\') {
		return true
	}
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] == '%' {
			switch strings.ToLower(raw[i+1 : i+3]) {
			case "2f", "5c", "3b", "25":
				return true
			}
		}
	}
	if !utf8.ValidString(u.Path) {
		return true
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	for i := 0; i < len(u.Path); i++ {
		if c := u.Path[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	return false
}

// withoutParams returns u with each segment's ";..." removed, the path a
// servlet container routes; nil if that path does not decode.
func withoutParams(u *url.URL) *url.URL {
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		segs[i], _, _ = strings.Cut(seg, ";")
	}
	raw := strings.Join(segs, "/")
	path, err := url.PathUnescape(raw)
	if err != nil {
		return nil
	}
	return &url.URL{Path: path, RawPath: raw}
}

// trimTrailingDots strips trailing dots and spaces from each segment, as
// Windows does with file names; false when that empties a segment
// ("...", ". ").
func trimTrailingDots(path string) (string, bool) {
	if !strings.Contains(path, ".") && !strings.Contains(path, " ") {
		return path, true
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		t := strings.TrimRight(seg, ". ")
		if t == "" && seg != "" {
			return "", false
		}
		segs[i] = t
	}
	return strings.Join(segs, "/"), true
}

// foldCompat returns the NFKC form of a non-ASCII path, in which fullwidth
// and other compatibility characters become their ASCII look-alikes
// ("\uff0e\uff0e" is "..", "\uff0f" is "/", "\u2025" is "..").
func foldCompat(path string) (string, bool) {
	for i := 0; i < len(path); i++ {
		if path[i] >= utf8.RuneSelf {
			return norm.NFKC.String(path), true
		}
	}
	return path, true
}
