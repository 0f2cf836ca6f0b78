package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SCIM filters (RFC 7644 section 3.4.2.2):
//
//	FILTER    = attrExp / logExp / valuePath / "not" "(" FILTER ")" / "(" FILTER ")"
//	valuePath = attrPath "[" valFilter "]" [ "." subAttr ]
//	attrExp   = attrPath "pr" / attrPath compareOp compValue
//	compareOp = eq / ne / co / sw / ew / gt / lt / ge / le
//	compValue = false / null / true / number / string
//
// with "not" binding tighter than "and", and "and" tighter than "or".
// Attribute names and operators are case-insensitive; attribute paths may
// carry the core schema's URN. The parser is bounded (length, terms,
// nesting) and checks every path against the attributes the resource type
// really has, so an unknown attribute is an invalidFilter error rather
// than a silent non-match. A filter is evaluated in memory over the
// company's members only (auth.SCIMListUsers): no filter reaches another
// company, whatever its "or"s.

// Limits of a filter.
const (
	maxFilterLen   = 4096
	maxFilterTerms = 64
	maxFilterDepth = 16
)

// attrKind is how an attribute compares.
type attrKind int

const (
	kindString     attrKind = iota // case-insensitive (caseExact false)
	kindExact                      // case-sensitive string (ids, externalId)
	kindBool                       // true / false
	kindTime                       // RFC 3339 date-time
	kindMultiEmpty                 // a multi-valued complex attribute itself (emails): compares its "value"
)

// schemaAttrs maps the lower-cased attribute paths a filter may name on
// a resource type (top-level, "parent.sub") to their kind.
type schemaAttrs map[string]attrKind

var userAttrs = schemaAttrs{
	"id": kindExact, "externalid": kindExact, "username": kindString, "active": kindBool,
	"name.givenname": kindString, "name.familyname": kindString,
	"emails": kindMultiEmpty, "emails.value": kindString, "emails.type": kindString, "emails.primary": kindBool,
	"meta.created": kindTime, "meta.lastmodified": kindTime, "meta.resourcetype": kindString,
}

var groupAttrs = schemaAttrs{
	"id": kindExact, "externalid": kindExact, "displayname": kindString,
	"members": kindMultiEmpty, "members.value": kindExact, "members.display": kindString,
	"meta.created": kindTime, "meta.lastmodified": kindTime, "meta.resourcetype": kindString,
}

// filterError is a filter the parser refuses, with its scimType.
type filterError struct{ scimType, msg string }

func (e *filterError) Error() string { return e.msg }

func invalidFilter(format string, a ...any) *filterError {
	return &filterError{"invalidFilter", fmt.Sprintf(format, a...)}
}

// node is a parsed filter.
type node interface {
	match(r resource) bool
}

// resource is a resource as a filter sees it: lower-cased attribute
// names; a complex value is a resource, a multi-valued one a []resource.
type resource map[string]any

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ f node }

func (n andNode) match(r resource) bool { return n.l.match(r) && n.r.match(r) }
func (n orNode) match(r resource) bool  { return n.l.match(r) || n.r.match(r) }
func (n notNode) match(r resource) bool { return !n.f.match(r) }

// path is an attribute path: attr[where].sub (where and sub optional).
type path struct {
	attr, sub string
	where     node
	kind      attrKind
}

// values returns the values the path names in r.
func (p path) values(r resource) []any {
	v, ok := r[p.attr]
	if !ok || v == nil {
		return nil
	}
	switch t := v.(type) {
	case []resource:
		var out []any
		for _, e := range t {
			if p.where != nil && !p.where.match(e) {
				continue
			}
			sub := p.sub
			if sub == "" {
				sub = "value"
			}
			if x, ok := e[sub]; ok && x != nil {
				out = append(out, x)
			}
		}
		return out
	case resource:
		if x, ok := t[p.sub]; ok && x != nil {
			return []any{x}
		}
		return nil
	default:
		return []any{v}
	}
}

type compareNode struct {
	p     path
	op    string // eq ne co sw ew gt ge lt le pr
	value any    // string, bool, float64, time.Time or nil
}

func (n compareNode) match(r resource) bool {
	vs := n.p.values(r)
	switch n.op {
	case "pr":
		for _, v := range vs {
			if s, ok := v.(string); !ok || s != "" {
				return true
			}
		}
		return false
	case "ne":
		return !compareNode{n.p, "eq", n.value}.match(r)
	}
	if n.value == nil { // eq null: absent
		return n.op == "eq" && len(vs) == 0
	}
	for _, v := range vs {
		if n.one(v) {
			return true
		}
	}
	return false
}

func (n compareNode) one(v any) bool {
	switch want := n.value.(type) {
	case bool:
		got, ok := v.(bool)
		return ok && n.op == "eq" && got == want
	case time.Time:
		got, ok := v.(time.Time)
		if !ok {
			return false
		}
		c := got.Compare(want)
		switch n.op {
		case "eq":
			return c == 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		case "le":
			return c <= 0
		}
		return false
	case string:
		got, ok := v.(string)
		if !ok {
			return false
		}
		if n.p.kind != kindExact {
			got, want = strings.ToLower(got), strings.ToLower(want)
		}
		switch n.op {
		case "eq":
			return got == want
		case "co":
			return strings.Contains(got, want)
		case "sw":
			return strings.HasPrefix(got, want)
		case "ew":
			return strings.HasSuffix(got, want)
		case "gt":
			return got > want
		case "ge":
			return got >= want
		case "lt":
			return got < want
		case "le":
			return got <= want
		}
	}
	return false
}

// parseFilter parses a filter for a resource type.
func parseFilter(s string, attrs schemaAttrs) (node, error) {
	if len(s) > maxFilterLen {
		return nil, &filterError{"tooMany", fmt.Sprintf("A filter is at most %d bytes.", maxFilterLen)}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, attrs: attrs}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, invalidFilter("Unexpected %s in the filter.", p.toks[p.i].echo())
	}
	return n, nil
}

type tokKind int

const (
	tWord tokKind = iota
	tString
	tNumber
	tOpen   // (
	tClose  // )
	tLBrack // [
	tRBrack // ]
	tDotSub // ".sub" right after "]"
)

type token struct {
	kind tokKind
	text string // word (as written), decoded string, number, or sub-attribute
}

func (t token) echo() string {
	s := t.text
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strconv.Quote(s)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_$:.+", c) >= 0
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(':
			out = append(out, token{kind: tOpen, text: "("})
			i++
		case c == ')':
			out = append(out, token{kind: tClose, text: ")"})
			i++
		case c == '[':
			out = append(out, token{kind: tLBrack, text: "["})
			i++
		case c == ']':
			out = append(out, token{kind: tRBrack, text: "]"})
			i++
			if i < len(s) && s[i] == '.' {
				j := i + 1
				for j < len(s) && isWordByte(s[j]) && s[j] != '.' {
					j++
				}
				if j == i+1 {
					return nil, invalidFilter("A sub-attribute name must follow \"].\".")
				}
				out = append(out, token{kind: tDotSub, text: s[i+1 : j]})
				i = j
			}
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, invalidFilter("A string in the filter is not closed.")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, invalidFilter("Bad string in the filter.")
			}
			out = append(out, token{kind: tString, text: v})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			k := tWord
			if c == '-' || c >= '0' && c <= '9' {
				if _, err := strconv.ParseFloat(w, 64); err != nil {
					return nil, invalidFilter("Bad number %s in the filter.", token{text: w}.echo())
				}
				k = tNumber
			}
			out = append(out, token{kind: k, text: w})
			i = j
		default:
			return nil, invalidFilter("Unexpected character %q in the filter.", rune(c))
		}
		if len(out) > 4*maxFilterTerms {
			return nil, &filterError{"tooMany", fmt.Sprintf("A filter has at most %d comparisons.", maxFilterTerms)}
		}
	}
	if len(out) == 0 {
		return nil, invalidFilter("The filter is empty.")
	}
	return out, nil
}

type parser struct {
	toks  []token
	i     int
	terms int
	attrs schemaAttrs
	// in is the multi-valued attribute of an enclosing [...], whose
	// sub-attributes the inner filter names.
	in string
}

func (p *parser) peekWord(w string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tWord && strings.EqualFold(p.toks[p.i].text, w)
}

func (p *parser) or(depth int) (node, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.i++
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.i++
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	if depth > maxFilterDepth {
		return nil, invalidFilter("The filter nests more than %d levels.", maxFilterDepth)
	}
	if p.i >= len(p.toks) {
		return nil, invalidFilter("The filter ends too early.")
	}
	if p.peekWord("not") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tOpen {
		p.i++
		f, err := p.group(depth)
		if err != nil {
			return nil, err
		}
		return notNode{f}, nil
	}
	if p.toks[p.i].kind == tOpen {
		return p.group(depth)
	}
	return p.attrExp(depth)
}

// group parses "(" FILTER ")".
func (p *parser) group(depth int) (node, error) {
	if p.i >= len(p.toks) || p.toks[p.i].kind != tOpen {
		return nil, invalidFilter("\"(\" expected.")
	}
	p.i++
	f, err := p.or(depth + 1)
	if err != nil {
		return nil, err
	}
	if p.i >= len(p.toks) || p.toks[p.i].kind != tClose {
		return nil, invalidFilter("\")\" expected.")
	}
	p.i++
	return f, nil
}

// attrName canonicalises an attribute path as written: the core schema
// URN prefix removed, lower-cased.
func (p *parser) attrName(w string) string {
	l := strings.ToLower(w)
	for _, urn := range []string{strings.ToLower(schemaUser) + ":", strings.ToLower(schemaGroup) + ":"} {
		if strings.HasPrefix(l, urn) {
			return l[len(urn):]
		}
	}
	return l
}

func (p *parser) attrExp(depth int) (node, error) {
	t := p.toks[p.i]
	if t.kind != tWord {
		return nil, invalidFilter("An attribute name expected, not %s.", t.echo())
	}
	if p.terms++; p.terms > maxFilterTerms {
		return nil, &filterError{"tooMany", fmt.Sprintf("A filter has at most %d comparisons.", maxFilterTerms)}
	}
	p.i++
	name := p.attrName(t.text)
	full := name
	if p.in != "" {
		full = p.in + "." + name
	}
	pa := path{}
	if p.i < len(p.toks) && p.toks[p.i].kind == tLBrack {
		if p.in != "" || strings.Contains(name, ".") {
			return nil, invalidFilter("A value filter [...] cannot nest.")
		}
		if k, ok := p.attrs[name]; !ok || k != kindMultiEmpty {
			return nil, invalidFilter("%s is not a multi-valued attribute.", t.echo())
		}
		p.i++
		inner := &parser{toks: p.toks, i: p.i, attrs: p.attrs, in: name, terms: p.terms}
		where, err := inner.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.i, p.terms = inner.i, inner.terms
		if p.i >= len(p.toks) || p.toks[p.i].kind != tRBrack {
			return nil, invalidFilter("\"]\" expected.")
		}
		p.i++
		pa = path{attr: name, where: where, kind: kindMultiEmpty}
		if p.i < len(p.toks) && p.toks[p.i].kind == tDotSub {
			sub := strings.ToLower(p.toks[p.i].text)
			k, ok := p.attrs[name+"."+sub]
			if !ok {
				return nil, invalidFilter("Unknown attribute %s.", token{text: name + "." + sub}.echo())
			}
			pa.sub, pa.kind = sub, k
			p.i++
		} else if p.i >= len(p.toks) || !p.isOp() {
			// emails[type eq "work"] alone: some element matches.
			return compareNode{p: pa, op: "pr"}, nil
		}
	} else {
		k, ok := p.attrs[full]
		if !ok {
			return nil, invalidFilter("Unknown or unsupported attribute %s.", t.echo())
		}
		if p.in != "" {
			pa = path{attr: name, kind: k}
		} else if a, sub, ok := strings.Cut(name, "."); ok {
			pa = path{attr: a, sub: sub, kind: k}
		} else {
			pa = path{attr: name, kind: k}
		}
		if k == kindMultiEmpty {
			pa.kind = p.attrs[name+".value"]
		}
	}
	if !p.isOp() {
		return nil, invalidFilter("An operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) expected after %s.", t.echo())
	}
	op := strings.ToLower(p.toks[p.i].text)
	p.i++
	if op == "pr" {
		return compareNode{p: pa, op: op}, nil
	}
	if p.i >= len(p.toks) {
		return nil, invalidFilter("A value expected after %s.", strconv.Quote(op))
	}
	v := p.toks[p.i]
	p.i++
	val, err := compValue(pa.kind, op, v)
	if err != nil {
		return nil, err
	}
	return compareNode{p: pa, op: op, value: val}, nil
}

func (p *parser) isOp() bool {
	if p.i >= len(p.toks) || p.toks[p.i].kind != tWord {
		return false
	}
	switch strings.ToLower(p.toks[p.i].text) {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr":
		return true
	}
	return false
}

// compValue checks the value against the attribute's kind and the
// operator.
func compValue(kind attrKind, op string, v token) (any, error) {
	if v.kind == tWord && strings.EqualFold(v.text, "null") {
		if op != "eq" && op != "ne" {
			return nil, invalidFilter("null compares only with eq or ne.")
		}
		return nil, nil
	}
	switch kind {
	case kindBool:
		if v.kind != tWord || !strings.EqualFold(v.text, "true") && !strings.EqualFold(v.text, "false") {
			return nil, invalidFilter("A boolean attribute compares with true or false.")
		}
		if op != "eq" && op != "ne" {
			return nil, invalidFilter("A boolean attribute compares only with eq or ne.")
		}
		return strings.EqualFold(v.text, "true"), nil
	case kindTime:
		if v.kind != tString {
			return nil, invalidFilter("A date-time compares with a quoted RFC 3339 string.")
		}
		tm, err := time.Parse(time.RFC3339Nano, v.text)
		if err != nil {
			return nil, invalidFilter("%s is not an RFC 3339 date-time.", v.echo())
		}
		if op == "co" || op == "sw" || op == "ew" {
			return nil, invalidFilter("A date-time compares with eq, ne, gt, ge, lt or le.")
		}
		return tm, nil
	default:
		if v.kind != tString {
			return nil, invalidFilter("A string attribute compares with a quoted string, not %s.", v.echo())
		}
		return v.text, nil
	}
}

// String forms: a parsed filter printed back, canonical (lower-cased
// names, parenthesised), which parses to the same filter (FuzzFilter).
// Parentheses are printed only where the tree needs them, so that the
// printed form nests no deeper than the filter as written.
func (n andNode) String() string {
	l, r := fmt.Sprint(n.l), fmt.Sprint(n.r)
	if _, ok := n.l.(orNode); ok {
		l = "(" + l + ")"
	}
	switch n.r.(type) {
	case orNode, andNode:
		r = "(" + r + ")"
	}
	return l + " and " + r
}

func (n orNode) String() string {
	r := fmt.Sprint(n.r)
	if _, ok := n.r.(orNode); ok {
		r = "(" + r + ")"
	}
	return fmt.Sprint(n.l) + " or " + r
}

func (n notNode) String() string { return "not (" + fmt.Sprint(n.f) + ")" }

func quote(s string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func (p path) String() string {
	s := p.attr
	if p.where != nil {
		s += "[" + fmt.Sprint(p.where) + "]"
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	return s
}

func (n compareNode) String() string {
	if n.op == "pr" && n.p.where != nil && n.p.sub == "" {
		return n.p.String()
	}
	if n.op == "pr" {
		return n.p.String() + " pr"
	}
	var v string
	switch x := n.value.(type) {
	case nil:
		v = "null"
	case bool:
		v = strconv.FormatBool(x)
	case time.Time:
		v = quote(x.Format(time.RFC3339Nano))
	case string:
		v = quote(x)
	}
	return n.p.String() + " " + n.op + " " + v
}
