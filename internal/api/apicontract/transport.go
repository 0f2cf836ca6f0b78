package apicontract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Checker validates traffic against one OpenAPI document and records
// which operations answered 2xx to a request that was itself valid.
type Checker struct {
	doc *openapi3.T
	mux *http.ServeMux // "METHOD path" of every operation -> its route

	mu      sync.Mutex
	covered map[string]bool // "METHOD path" answered 2xx, validated
}

// operation is what the Checker's mux resolves a request to.
type operation struct {
	pattern string
	route   *routers.Route
	codes   map[int][]string // status -> problem codes its description lists
}

// codesRE finds the `code` values a problem response's description lists.
var codesRE = regexp.MustCompile("`([a-z_]+)`")

// registerDecoders teaches openapi3filter the body types of the reference
// page (/api/v1/docs): text as text, images as files.
var registerDecoders = sync.OnceFunc(func() {
	for _, t := range []string{"text/html", "text/css", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.PlainBodyDecoder)
	}
	openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
})

// NewChecker loads doc (strictly, as Load) and indexes its operations.
func NewChecker(ctx context.Context, doc []byte) (*Checker, error) {
	registerDecoders()
	d, err := Load(ctx, doc)
	if err != nil {
		return nil, err
	}
	c := &Checker{doc: d, mux: http.NewServeMux(), covered: map[string]bool{}}
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			o := &operation{pattern: method + " " + path, codes: map[int][]string{},
				route: &routers.Route{Spec: d, Path: path, PathItem: item, Method: method, Operation: op}}
			for status, r := range op.Responses.Map() {
				n, err := strconv.Atoi(status)
				if err != nil || n < 400 || r.Value == nil || r.Value.Description == nil {
					continue
				}
				for _, m := range codesRE.FindAllStringSubmatch(*r.Value.Description, -1) {
					o.codes[n] = append(o.codes[n], m[1])
				}
			}
			c.mux.Handle(o.pattern, o)
		}
	}
	return c, nil
}

// paramRE finds a path template's parameters.
var paramRE = regexp.MustCompile(`\{(\w+)\}`)

// ServeHTTP copies the path parameters the mux matched into the map the
// request's context carries (see check); it writes nothing.
func (o *operation) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	params, _ := r.Context().Value(paramsKey{}).(map[string]string)
	for _, m := range paramRE.FindAllStringSubmatch(o.route.Path, -1) {
		params[m[1]] = r.PathValue(m[1])
	}
}

// Patterns returns "METHOD path" of every documented operation.
func (c *Checker) Patterns() []string {
	var ps []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			ps = append(ps, method+" "+path)
		}
	}
	sort.Strings(ps)
	return ps
}

// Covered reports whether pattern answered 2xx to a valid request.
func (c *Checker) Covered(pattern string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.covered[pattern]
}

// ResetCoverage forgets what was covered (between passes of a test run).
func (c *Checker) ResetCoverage() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.covered)
}

// Reporter is what a violation is reported to (a *testing.T).
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Transport returns an http.RoundTripper that sends through next and
// checks each exchange against the document, reporting violations to t:
//
//   - a request to a route the document does not describe, answered
//     anything but 404 or 405;
//   - a request the document says is invalid, answered 2xx (the document
//     is stricter than the server);
//   - a response whose status the operation does not list (5xx aside,
//     which the default response covers), whose body or headers do not
//     match the schema (a missing required field, a wrong type), or whose
//     JSON carries a field the schema does not declare;
//   - a problem whose code the operation's response for that status does
//     not list.
//
// A valid request answered 2xx counts for coverage.
func (c *Checker) Transport(t Reporter, next http.RoundTripper) http.RoundTripper {
	return roundTripper{c: c, t: t, next: next}
}

type roundTripper struct {
	c    *Checker
	t    Reporter
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
	}
	out := req.Clone(req.Context())
	if req.Body != nil {
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := rt.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err != nil {
		return res, nil // the caller sees the read error
	}
	if !apiPath(req.URL.Path) {
		return res, nil // the ops routes (/healthz, /metrics, ...) are not the native API
	}
	if msg := rt.c.check(req, reqBody, res, resBody); msg != "" {
		rt.t.Helper()
		rt.t.Errorf("contract (internal/api/openapi.yaml): %s %s -> %d: %s", req.Method, req.URL.Path, res.StatusCode, msg)
	}
	return res, nil
}

// apiPath reports whether path is the native API's: /api/v1/... or a
// pool's /{pool}/.well-known/ documents.
func apiPath(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") || strings.Contains(path, "/.well-known/")
}

// check returns what is wrong with the exchange ("" for nothing).
func (c *Checker) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) string {
	lookup := req.Clone(context.Background())
	lookup.Body = http.NoBody
	h, pattern := c.mux.Handler(lookup)
	o, ok := h.(*operation)
	if !ok || pattern == "" {
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			return checkProblem(res, resBody)
		}
		return "the document describes no such operation (add it to openapi.yaml)"
	}
	// Path parameters, through the same mux: its handler sees them.
	params := map[string]string{}
	c.mux.ServeHTTP(discard{}, lookup.WithContext(context.WithValue(lookup.Context(), paramsKey{}, params)))

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    withBody(req, reqBody),
		PathParams: params,
		Route:      o.route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	ok2xx := res.StatusCode >= 200 && res.StatusCode < 300
	if reqErr != nil && ok2xx {
		return fmt.Sprintf("the server accepted a request the document refuses: %v", reqErr)
	}

	resp := o.route.Operation.Responses.Status(res.StatusCode)
	if resp == nil && res.StatusCode < 500 {
		return fmt.Sprintf("status %d is not documented for %s (body %s)", res.StatusCode, o.pattern, clip(resBody))
	}
	if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(resBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: res.StatusCode < 500, MultiError: true},
	}); err != nil {
		return fmt.Sprintf("the response does not match the document: %v (body %s)", err, clip(resBody))
	}
	if resp != nil && resp.Value != nil {
		if mt := resp.Value.Content.Get(mediaType(res.Header)); mt != nil && mt.Schema != nil && len(resBody) > 0 {
			var v any
			if err := json.Unmarshal(resBody, &v); err == nil {
				if extra := undeclared(mt.Schema, v, "$"); len(extra) > 0 {
					return fmt.Sprintf("the response carries fields the document does not declare: %s", strings.Join(extra, ", "))
				}
			}
		}
	}
	if res.StatusCode >= 400 {
		if msg := checkProblem(res, resBody); msg != "" {
			return msg
		}
		var p struct{ Code string }
		_ = json.Unmarshal(resBody, &p)
		if res.StatusCode < 500 && !slices.Contains(o.codes[res.StatusCode], p.Code) {
			return fmt.Sprintf("problem code %q is not listed in the %d response of %s (it lists %v)", p.Code, res.StatusCode, o.pattern, o.codes[res.StatusCode])
		}
	}
	if ok2xx && reqErr == nil {
		c.mu.Lock()
		c.covered[o.pattern] = true
		c.mu.Unlock()
	}
	return ""
}

// checkProblem: every error is an RFC 9457 problem with a code.
func checkProblem(res *http.Response, body []byte) string {
	if mediaType(res.Header) != "application/problem+json" {
		return fmt.Sprintf("an error that is not a problem document (%s)", res.Header.Get("Content-Type"))
	}
	var p struct {
		Status int
		Code   string
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Code == "" || p.Status != res.StatusCode {
		return fmt.Sprintf("a problem without code or with the wrong status: %s", clip(body))
	}
	return ""
}

// undeclared lists the JSON paths in v that schema does not declare: a
// property of an object whose schema lists properties and does not allow
// additional ones. oneOf/anyOf/allOf declare what any alternative does.
func undeclared(s *openapi3.SchemaRef, v any, at string) []string {
	if s == nil || s.Value == nil {
		return nil
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		props, open, extra := declared(s.Value)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch ps := props[k]; {
			case len(ps) > 0:
				// The alternative that fits best.
				var best []string
				for i, p := range ps {
					if e := undeclared(p, v[k], at+"."+k); i == 0 || len(e) < len(best) {
						best = e
					}
				}
				out = append(out, best...)
			case extra != nil:
				out = append(out, undeclared(extra, v[k], at+"."+k)...)
			case !open:
				out = append(out, at+"."+k)
			}
		}
	case []any:
		for i, e := range v {
			if s.Value.Items != nil {
				out = append(out, undeclared(s.Value.Items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return out
}

// declared gathers an object schema's properties (through allOf, oneOf
// and anyOf), whether it is open (no properties listed, or
// additionalProperties: true) and the schema of additional properties.
func declared(s *openapi3.Schema) (props map[string][]*openapi3.SchemaRef, open bool, extra *openapi3.SchemaRef) {
	props = map[string][]*openapi3.SchemaRef{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		for k, p := range s.Properties {
			props[k] = append(props[k], p)
		}
		if s.AdditionalProperties.Schema != nil {
			extra = s.AdditionalProperties.Schema
		}
		if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has {
			open = true
		}
		for _, group := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
			for _, r := range group {
				if r.Value != nil {
					walk(r.Value)
				}
			}
		}
	}
	walk(s)
	if len(props) == 0 && extra == nil {
		open = true
	}
	return props, open, extra
}

func mediaType(h http.Header) string {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r
}

type paramsKey struct{}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
