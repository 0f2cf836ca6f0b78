package main

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Readable errors for apply files. yaml.v3 reports "line 12: field aproval
// not found in type main.SignUpSpec"; a newcomer needs the file, the line,
// the section in the file's own words and the key they probably meant:
//
//	gatehouse.yaml:12: unknown field "aproval" in sign_up (did you mean "approval"?)

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)
	typeErrRE      = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+) (?:`([^`]*)` )?into (.+)$")
	lineRE         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// yamlKeys indexes the keys of a parsed document by line: the key, and the
// key of the section it is in ("" at the top).
type yamlKey struct{ key, section string }

func indexKeys(n *yaml.Node, section string, out map[int][]yamlKey) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexKeys(c, section, out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			indexKeys(c, section, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			out[k.Line] = append(out[k.Line], yamlKey{key: k.Value, section: section})
			indexKeys(v, k.Value, out)
		}
	}
}

// specTypes maps the Go type names of the apply file's structs
// ("main.SignUpSpec") to their types.
func specTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out[t.String()] != nil {
			return
		}
		out[t.String()] = t
		for i := 0; i < t.NumField(); i++ {
			walk(t.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(ApplyFile{}))
	return out
}

// yamlFieldNames lists the keys a struct accepts.
func yamlFieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			out = append(out, yamlFieldNames(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, name)
	}
	return out
}

// nearest returns the candidate closest to s by edit distance, or "" when
// none is close enough to be a likely typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(s)/4) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// kindWords says what a YAML value must be, for a Go type name in
// yaml.v3's messages.
func kindWords(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "main."):
		return "a mapping (key: value lines)"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a text value"
	}
	return goType
}

// explainYAMLError rewrites a decoding error of an apply file named name
// (src its content) into one line per problem, "name:line: message".
func explainYAMLError(name string, src []byte, err error) error {
	var doc yaml.Node
	keys := map[int][]yamlKey{}
	if yaml.Unmarshal(src, &doc) == nil {
		indexKeys(&doc, "", keys)
	}
	types := specTypes()
	at := func(line string) string { return name + ":" + line + ": " }
	keyOn := func(line, key string) (yamlKey, bool) {
		n, _ := strconv.Atoi(line)
		for _, k := range keys[n] {
			if key == "" || k.key == key {
				return k, true
			}
		}
		return yamlKey{}, false
	}
	explain := func(msg string) string {
		if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
			line, field, typ := m[1], m[2], m[3]
			s := fmt.Sprintf("%sunknown field %q", at(line), field)
			if k, ok := keyOn(line, field); ok && k.section != "" {
				s += " in " + k.section
			}
			if t := types[typ]; t != nil {
				if near := nearest(field, yamlFieldNames(t)); near != "" {
					s += fmt.Sprintf(" (did you mean %q?)", near)
				}
			}
			return s
		}
		if m := typeErrRE.FindStringSubmatch(msg); m != nil {
			line, tag, value, into := m[1], m[2], m[3], m[4]
			what := value
			switch tag {
			case "!!seq":
				what = "a list"
			case "!!map":
				what = "a mapping"
			default:
				what = strconv.Quote(value)
			}
			s := at(line)
			if k, ok := keyOn(line, ""); ok {
				s += k.key + ": "
			}
			return s + what + " is not " + kindWords(into)
		}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return at(m[1]) + m[2]
		}
		return name + ": " + strings.TrimPrefix(msg, "yaml: ")
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines := make([]string, 0, len(te.Errors))
		for _, e := range te.Errors {
			lines = append(lines, explain(e))
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	return errors.New(explain(err.Error()))
}
