package scim

import (
	"fmt"
	"testing"
	"time"
)

var (
	fT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ann = resource{"id": "u-1", "username": "Ann@Globex.example", "externalid": "00uANN", "active": true,
		"name":   resource{"givenname": "Ann", "familyname": "Lee"},
		"emails": []resource{{"value": "ann@globex.example", "type": "work", "primary": true}},
		"meta":   resource{"created": fT0, "lastmodified": fT0.Add(time.Hour), "resourcetype": "User"}}
	bob = resource{"id": "u-2", "username": "bob@globex.example", "active": false,
		"name":   resource{"givenname": "Bob"},
		"emails": []resource{{"value": "bob@home.example", "type": "home"}},
		"meta":   resource{"created": fT0, "lastmodified": fT0, "resourcetype": "User"}}
)

// TestFilterMatch: each operator, case rules (userName is not case
// exact, externalId and id are), multi-valued attributes with and
// without a value filter, precedence (not > and > or), parentheses,
// null and pr, date-times.
func TestFilterMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter   string
		ann, bob bool
	}{
		{`userName eq "ann@globex.example"`, true, false},
		{`USERNAME EQ "ANN@GLOBEX.EXAMPLE"`, true, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@globex.example"`, false, true},
		{`userName ne "ann@globex.example"`, false, true},
		{`userName co "globex"`, true, true},
		{`userName sw "b"`, false, true},
		{`userName ew ".EXAMPLE"`, true, true},
		{`userName gt "b"`, false, true},
		{`userName le "b"`, true, false},
		{`externalId eq "00uANN"`, true, false},
		{`externalId eq "00uann"`, false, false},
		{`externalId pr`, true, false},
		{`externalId eq null`, false, true},
		{`externalId ne null`, true, false},
		{`id eq "u-2"`, false, true},
		{`active eq true`, true, false},
		{`active ne true`, false, true},
		{`name.givenName eq "bob"`, false, true},
		{`name.familyName pr`, true, false},
		{`emails.value ew "@globex.example"`, true, false},
		{`emails co "home"`, false, true},
		{`emails[type eq "work"]`, true, false},
		{`emails[type eq "work"].value eq "ann@globex.example"`, true, false},
		{`emails[type eq "home" and value co "bob"]`, false, true},
		{`emails[not (type eq "work")].value pr`, false, true},
		{`meta.lastModified gt "2026-03-01T10:00:00Z"`, true, false},
		{`meta.lastModified ge "2026-03-01T10:00:00Z"`, true, true},
		{`meta.created lt "2026-03-01T10:00:01+00:00"`, true, true},
		{`meta.lastModified eq "2026-03-01T11:00:00Z"`, true, false},
		{`userName sw "a" or userName sw "b" and active eq true`, true, false},
		{`(userName sw "a" or userName sw "b") and active eq false`, false, true},
		{`not (active eq true) or externalId pr`, true, true},
		{`not(userName co "ann")`, false, true},
		{`userName eq "a\"b" or userName eq "\u0061nn@globex.example"`, true, false},
	} {
		f, err := parseFilter(tc.filter, userAttrs)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if a, b := f.match(ann), f.match(bob); a != tc.ann || b != tc.bob {
			t.Errorf("%s (parsed %v): ann %v bob %v, want %v %v", tc.filter, f, a, b, tc.ann, tc.bob)
		}
	}
}

// TestFilterErrors: what the parser refuses, with RFC 7644's scimType.
func TestFilterErrors(t *testing.T) {
	t.Parallel()
	deep := ""
	for range 20 {
		deep += "("
	}
	deep += `active eq true`
	for range 20 {
		deep += ")"
	}
	many := `userName eq "a"`
	for range 70 {
		many += ` or userName eq "a"`
	}
	for _, tc := range []struct{ filter, scimType string }{
		{``, "invalidFilter"},
		{`userName`, "invalidFilter"},
		{`userName eq`, "invalidFilter"},
		{`userName eq "x`, "invalidFilter"},
		{`userName eq x`, "invalidFilter"},
		{`userName xx "x"`, "invalidFilter"},
		{`password eq "x"`, "invalidFilter"},
		{`groups eq "admins"`, "invalidFilter"},
		{`active gt true`, "invalidFilter"},
		{`active eq "true"`, "invalidFilter"},
		{`meta.lastModified gt "yesterday"`, "invalidFilter"},
		{`meta.lastModified co "2026"`, "invalidFilter"},
		{`userName co null`, "invalidFilter"},
		{`userName eq "a" and`, "invalidFilter"},
		{`(userName eq "a"`, "invalidFilter"},
		{`userName eq "a")`, "invalidFilter"},
		{`userName[value eq "a"]`, "invalidFilter"},
		{`emails[type eq "work"`, "invalidFilter"},
		{`emails[type[value eq "x"] eq "y"]`, "invalidFilter"},
		{`emails[type eq "work"].nothing eq "x"`, "invalidFilter"},
		{`userName eq "a" ; drop`, "invalidFilter"},
		{`not userName eq "a"`, "invalidFilter"},
		{deep, "invalidFilter"},
		{many, "tooMany"},
		{string(make([]byte, maxFilterLen+1)), "tooMany"},
	} {
		_, err := parseFilter(tc.filter, userAttrs)
		fe, ok := err.(*filterError)
		if !ok || fe.scimType != tc.scimType || fe.msg == "" {
			t.Errorf("%.60q: err %v, want scimType %s", tc.filter, err, tc.scimType)
		}
	}
	if _, err := parseFilter(`displayName eq "Engineering" and members[value eq "u-1"]`, groupAttrs); err != nil {
		t.Errorf("group filter: %v", err)
	}
	if _, err := parseFilter(`userName eq "a"`, groupAttrs); err == nil {
		t.Error("a user attribute on groups parsed")
	}
}

// FuzzFilter: the parser never panics; it refuses with invalidFilter or
// tooMany and a message, or returns a filter whose printed form parses
// to the same filter; not (F) matches exactly what F does not.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "a"`, `emails[type eq "work"].value co "@x"`, `not (active eq true) or externalId pr`,
		`(a eq "b"`, `meta.lastModified gt "2026-01-01T00:00:00Z"`, `userName eq "\u00e9\"" and name.givenName sw "A"`,
		`emails[type eq "work" or not (value ew "x")]`, `externalId eq null`, "userName eq \"\xff\"", `x[`, `]`, `"`, `-1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := parseFilter(in, userAttrs)
		if err != nil {
			fe, ok := err.(*filterError)
			if !ok || (fe.scimType != "invalidFilter" && fe.scimType != "tooMany") || fe.msg == "" {
				t.Fatalf("parseFilter(%q): error %v", in, err)
			}
			if n != nil {
				t.Fatalf("parseFilter(%q): a filter and an error", in)
			}
			return
		}
		printed := fmt.Sprint(n)
		again, err := parseFilter(printed, userAttrs)
		if err != nil && err.(*filterError).scimType != "tooMany" {
			t.Fatalf("parseFilter(%q) printed %q, which does not parse: %v", in, printed, err)
		}
		if err == nil && fmt.Sprint(again) != printed {
			t.Fatalf("parseFilter(%q): printed %q, reprinted %q", in, printed, fmt.Sprint(again))
		}
		for _, r := range []resource{ann, bob} {
			if n.match(r) == (notNode{n}).match(r) {
				t.Fatalf("parseFilter(%q): not (F) agrees with F", in)
			}
			if err == nil && n.match(r) != again.match(r) {
				t.Fatalf("parseFilter(%q): the printed form matches differently", in)
			}
		}
	})
}
