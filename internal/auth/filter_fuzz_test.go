package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// FuzzParseFilter: parseFilter never panics; it returns either nil, an
// invalid_parameter error, or a filter on a searchable attribute whose value
// round-trips through quoting.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		``, `email = "a@b.c"`, `email ^= "jo"`, `name = "a \"b\" \\ c"`, `status = "Enabled"`,
		`cognito:user_status = "CONFIRMED"`, `email = "`, `email = "\`, `=`, `^=`, `x = "y"`, "email = \"\xff\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseFilter(in)
		if err != nil {
			var ie *identity.Error
			if !errors.As(err, &ie) || ie.Code != identity.CodeInvalidParameter || ie.Message == "" {
				t.Fatalf("parseFilter(%q): error %v is not a clear invalid_parameter", in, err)
			}
			if got != nil {
				t.Fatalf("parseFilter(%q): filter and error", in)
			}
			return
		}
		if got == nil {
			if strings.TrimSpace(in) != "" {
				t.Fatalf("parseFilter(%q) = nil, nil for a non-empty filter", in)
			}
			return
		}
		if !filterAttrs[got.Attr] || (got.Op != store.FilterEquals && got.Op != store.FilterPrefix) || !utf8.ValidString(got.Value) {
			t.Fatalf("parseFilter(%q) = %+v", in, got)
		}
		// Quoting the value again parses to the same filter.
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(got.Value)
		again, err := parseFilter(got.Attr + " " + string(got.Op) + ` "` + q + `"`)
		if err != nil && len(q) < MaxFilterLen-40 {
			t.Fatalf("re-parse of %+v: %v", got, err)
		}
		if err == nil && *again != *got {
			t.Fatalf("re-parse of %+v = %+v", got, again)
		}
	})
}
