package auth

import (
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// MaxFilterLen is the longest ListUsers filter accepted (Cognito's limit).
const MaxFilterLen = 256

// filterAttrs are the attributes ListUsers can search, as in Cognito.
// status_code is the store's alias of cognito:user_status.
var filterAttrs = map[string]bool{
	"username": true, "email": true, "phone_number": true, "name": true, "given_name": true,
	"family_name": true, "preferred_username": true, "cognito:user_status": true, "status_code": true,
	"status": true, "sub": true,
}

const filterSyntax = `Use attribute = "value" or attribute ^= "value".`

// parseFilter parses a ListUsers filter in Cognito's syntax: one condition
// `attr = "value"` (exact) or `attr ^= "value"` (prefix), with optional
// whitespace around the parts. The value is a double-quoted string in which
// \" and \\ are the only escapes. Searchable attributes: username, email,
// phone_number, name, given_name, family_name, preferred_username,
// cognito:user_status (status_code), status ("Enabled"/"Disabled"), sub.
// Values of email and username are lower-cased, as both are stored so.
//
// An empty (or all-whitespace) filter returns nil, nil. Anything else that
// does not parse is an invalid_parameter error naming the problem.
func parseFilter(in string) (*store.UserFilter, error) {
	if len(in) > MaxFilterLen {
		return nil, identity.FieldError("filter", "The filter is longer than %d characters.", MaxFilterLen)
	}
	if !utf8.ValidString(in) {
		return nil, identity.FieldError("filter", "The filter must be valid UTF-8.")
	}
	s := strings.TrimSpace(in)
	if s == "" {
		return nil, nil
	}
	// Attribute name: letters, digits, '_' and ':'.
	i := 0
	for i < len(s) && isFilterNameByte(s[i]) {
		i++
	}
	attr := s[:i]
	if attr == "" {
		return nil, identity.FieldError("filter", "The filter must start with an attribute name. %s", filterSyntax)
	}
	if !filterAttrs[attr] {
		return nil, identity.FieldError("filter", "The attribute %q cannot be searched; searchable attributes are username, email, phone_number, name, given_name, family_name, preferred_username, cognito:user_status, status and sub.", safeEcho(attr))
	}
	s = strings.TrimLeft(s[i:], " \t\r\n")
	var op store.FilterOp
	switch {
	case strings.HasPrefix(s, "^="):
		op, s = store.FilterPrefix, s[2:]
	case strings.HasPrefix(s, "="):
		op, s = store.FilterEquals, s[1:]
	default:
		return nil, identity.FieldError("filter", "Expected = or ^= after %s. %s", attr, filterSyntax)
	}
	s = strings.TrimLeft(s, " \t\r\n")
	if s == "" || s[0] != '"' {
		return nil, identity.FieldError("filter", "The value must be a double-quoted string. %s", filterSyntax)
	}
	var b strings.Builder
	closed := false
	j := 1
	for j < len(s) {
		c := s[j]
		if c == '\\' {
			if j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\\') {
				return nil, identity.FieldError("filter", `Only \" and \\ may be escaped in a filter value.`)
			}
			b.WriteByte(s[j+1])
			j += 2
			continue
		}
		if c == '"' {
			closed = true
			j++
			break
		}
		b.WriteByte(c)
		j++
	}
	if !closed {
		return nil, identity.FieldError("filter", "The filter value has no closing quote.")
	}
	if rest := strings.TrimSpace(s[j:]); rest != "" {
		return nil, identity.FieldError("filter", "Unexpected text after the value; a filter has exactly one condition. %s", filterSyntax)
	}
	value := b.String()
	for _, r := range value {
		if r < 0x20 || r == 0x7f {
			return nil, identity.FieldError("filter", "The filter value may not contain control characters.")
		}
	}
	if attr == "status_code" {
		attr = "cognito:user_status"
	}
	switch attr {
	case "email", "username":
		value = strings.ToLower(value)
	case "cognito:user_status":
		if op == store.FilterEquals && !identity.UserStatus(value).Valid() {
			return nil, identity.FieldError("filter", "Unknown user status %q.", safeEcho(value))
		}
	case "status":
		if op == store.FilterEquals && value != "Enabled" && value != "Disabled" {
			return nil, identity.FieldError("filter", `The status filter value must be "Enabled" or "Disabled".`)
		}
	}
	return &store.UserFilter{Attr: attr, Op: op, Value: value}, nil
}

func isFilterNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':'
}
