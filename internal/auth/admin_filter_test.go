package auth

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		want *store.UserFilter
	}{
		{"", nil},
		{"   ", nil},
		{`email = "Jo@Example.com"`, &store.UserFilter{Attr: "email", Op: store.FilterEquals, Value: "jo@example.com"}},
		{`email^="jo"`, &store.UserFilter{Attr: "email", Op: store.FilterPrefix, Value: "jo"}},
		{"  username\t=\n\"ANN\"  ", &store.UserFilter{Attr: "username", Op: store.FilterEquals, Value: "ann"}},
		{`name ^= "Ann \"the\" \\ Admin"`, &store.UserFilter{Attr: "name", Op: store.FilterPrefix, Value: `Ann "the" \ Admin`}},
		{`given_name = "Zoë"`, &store.UserFilter{Attr: "given_name", Op: store.FilterEquals, Value: "Zoë"}},
		{`family_name = ""`, &store.UserFilter{Attr: "family_name", Op: store.FilterEquals, Value: ""}},
		{`phone_number ^= "+1"`, &store.UserFilter{Attr: "phone_number", Op: store.FilterPrefix, Value: "+1"}},
		{`preferred_username = "Ann"`, &store.UserFilter{Attr: "preferred_username", Op: store.FilterEquals, Value: "Ann"}},
		{`cognito:user_status = "UNCONFIRMED"`, &store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "UNCONFIRMED"}},
		{`status_code = "CONFIRMED"`, &store.UserFilter{Attr: "cognito:user_status", Op: store.FilterEquals, Value: "CONFIRMED"}},
		{`status = "Disabled"`, &store.UserFilter{Attr: "status", Op: store.FilterEquals, Value: "Disabled"}},
		{`sub = "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90"`, &store.UserFilter{Attr: "sub", Op: store.FilterEquals, Value: "3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90"}},
		{`email = "a=b^=c"`, &store.UserFilter{Attr: "email", Op: store.FilterEquals, Value: "a=b^=c"}},
	}
	for _, c := range ok {
		got, err := parseFilter(c.in)
		if err != nil {
			t.Errorf("parseFilter(%q): %v", c.in, err)
			continue
		}
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("parseFilter(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	bad := []string{
		`email`,
		`email =`,
		`email = jo`,
		`email = 'jo'`,
		`email = "jo`,
		`email = "jo\"`,
		`email == "jo"`,
		`email != "jo"`,
		`email ~= "jo"`,
		`= "jo"`,
		`"jo"`,
		`custom:company = "x"`,
		`address = "x"`,
		`Email = "x"`,
		`email = "a" and name = "b"`,
		`email = "a" "b"`,
		`email = "a\n"`,
		`email = "a\x"`,
		"email = \"a\x01\"",
		`status = "enabled"`,
		`cognito:user_status = "ACTIVE"`,
		"email = \"\xff\"",
		`email = "` + strings.Repeat("a", 300) + `"`,
		`(email = "a")`,
	}
	for _, in := range bad {
		f, err := parseFilter(in)
		if err == nil {
			t.Errorf("parseFilter(%q) = %+v, want an error", in, f)
			continue
		}
		ie := admWantCode(t, err, identity.CodeInvalidParameter)
		if ie.Field != "filter" || ie.Message == "" {
			t.Errorf("parseFilter(%q): %+v", in, ie)
		}
	}
}
