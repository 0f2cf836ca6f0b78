package api

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestOpenAPIMatchesRoutes walks every route in routes.go and every
// operation in openapi.yaml: each must have its counterpart, so the
// document and the code cannot drift.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	decodeOpenAPI(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	opIDs := map[string]string{}
	for path, item := range doc.Paths {
		for method, v := range item {
			if method == "parameters" {
				continue
			}
			op, _ := v.(map[string]any)
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s has no operationId", key)
			} else if other, dup := opIDs[id]; dup {
				t.Errorf("operationId %s used by %s and %s", id, key, other)
			}
			opIDs[id] = key
			for _, f := range []string{"summary", "description"} {
				if s, _ := op[f].(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s has no %s", key, f)
				}
			}
			responses, ok := op["responses"].(map[string]any)
			if !ok {
				t.Errorf("%s has no responses", key)
			}
			// An operation that takes no input (no parameters, body or
			// credentials: the public documents) has no 4xx to list.
			_, params := op["parameters"]
			_, body := op["requestBody"]
			takesInput := params || body || item["parameters"] != nil || !public(op)
			checkProblemResponses(t, key, responses, takesInput)
			// Every {param} in the path is declared.
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				if !declaresParam(doc.Paths[path], op, m[1]) {
					t.Errorf("%s does not declare path parameter %s", key, m[1])
				}
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range newAPI(nil, Options{}).routes() {
		if registered[rt.pattern] {
			t.Errorf("route %s registered twice", rt.pattern)
		}
		registered[rt.pattern] = true
		if !documented[rt.pattern] {
			t.Errorf("route %s is not in openapi.yaml", rt.pattern)
		}
	}
	var missing []string
	for k := range documented {
		if !registered[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("openapi.yaml documents %s, which routes.go does not register", k)
	}
	if len(registered) < 50 {
		t.Fatalf("only %d routes registered", len(registered))
	}
}

// declaresParam reports whether the operation or its path item declares
// the parameter name (inline or by a $ref ending in /name).
func declaresParam(item map[string]any, op map[string]any, name string) bool {
	var lists []any
	if ps, ok := op["parameters"].([]any); ok {
		lists = append(lists, ps...)
	}
	if ps, ok := item["parameters"].([]any); ok {
		lists = append(lists, ps...)
	}
	for _, p := range lists {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			return true
		}
		if m, ok := p.(map[string]any); ok {
			if ref, _ := m["$ref"].(string); strings.HasSuffix(ref, "/"+name) {
				return true
			}
		}
	}
	return false
}

// TestOpenAPIRefsResolve checks every $ref points at a defined component.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	decodeOpenAPI(t, &doc)
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if !resolves(doc, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if n < 100 {
		t.Fatalf("only %d refs found", n)
	}
}

func resolves(doc map[string]any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// checkProblemResponses: an operation documents its 4xx answers (one
// response a status, each a problem document naming the codes it can
// carry as `code` in its description) and its server faults (default).
func checkProblemResponses(t *testing.T, key string, responses map[string]any, takesInput bool) {
	t.Helper()
	n := 0
	for status, v := range responses {
		r, _ := v.(map[string]any)
		if !strings.HasPrefix(status, "4") && !strings.HasPrefix(status, "5") {
			continue
		}
		n++
		desc, _ := r["description"].(string)
		content, _ := r["content"].(map[string]any)
		if content["application/problem+json"] == nil || !strings.Contains(desc, "Codes: `") {
			t.Errorf("%s %s: not a problem document listing its codes (description %q)", key, status, desc)
		}
	}
	if takesInput && n == 0 {
		t.Errorf("%s documents no 4xx response", key)
	}
	if _, ok := responses["default"]; !ok {
		t.Errorf("%s has no default (server fault) response", key)
	}
}

// public reports whether op needs no credentials (security: [{}]).
func public(op map[string]any) bool {
	sec, _ := op["security"].([]any)
	if len(sec) != 1 {
		return false
	}
	m, _ := sec[0].(map[string]any)
	return len(m) == 0
}

// TestOpenAPIProblemCodesMatchStatuses: each code an operation lists for a
// status is one statusFor maps to that status and one the Problem
// schema's code enum has, and every code of that enum is one statusFor
// knows: the document cannot promise a code under the wrong status.
func TestOpenAPIProblemCodesMatchStatuses(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct{ Enum []string }
					}
				}
			}
		}
	}
	decodeOpenAPI(t, &doc)
	enum := map[string]bool{}
	for _, c := range doc.Components.Schemas.Problem.Properties.Code.Enum {
		if _, ok := statusFor(identity.Code(c)); !ok {
			t.Errorf("Problem.code lists %q, which statusFor does not know", c)
		}
		enum[c] = true
	}
	codeRE := regexp.MustCompile("`([a-z_]+)`")
	n := 0
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Responses map[string]struct{ Description string }
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			for status, r := range op.Responses {
				want, err := strconv.Atoi(status)
				if err != nil || want < 400 {
					continue
				}
				for _, m := range codeRE.FindAllStringSubmatch(r.Description, -1) {
					n++
					if got, ok := statusFor(identity.Code(m[1])); !ok || got != want || !enum[m[1]] {
						t.Errorf("%s %s: %s lists `%s`, which is answered with %d", strings.ToUpper(method), path, status, m[1], got)
					}
				}
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d listed codes found", n)
	}
}

// decodeOpenAPI decodes the served document into v.
func decodeOpenAPI(t *testing.T, v any) {
	t.Helper()
	b, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
