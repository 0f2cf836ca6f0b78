package sqlstore_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
)

// The successor bounds exactly the strings starting with the prefix, in
// UTF-8 byte order (what COLLATE "C" compares), and is valid UTF-8
// (PostgreSQL refuses anything else).
func TestPrefixSuccessor(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ann", "ano", true},
		{"a", "b", true},
		{"user9", "user:", true},
		{"jos\u00e9", "jos\u00ea", true},
		{"x\ud7ff", "x\ue000", true}, // past the surrogates
		{"x\U0010FFFF", "y", true},   // the last code point dropped
		{"\U0010FFFF", "", false},
		{"", "", false},
	} {
		got, ok := sqlstore.PrefixSuccessor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PrefixSuccessor(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && (!utf8.ValidString(got) || got <= tc.in) {
			t.Errorf("PrefixSuccessor(%q) = %q: not valid UTF-8 above the prefix", tc.in, got)
		}
		// Every extension of the prefix sorts below the bound.
		for _, ext := range []string{"", "a", "\x7f", "\u00ff", "\uffff", "\U0010FFFF\U0010FFFF"} {
			s := tc.in + ext
			if ok && s >= got {
				t.Errorf("%q starts with %q but is not below %q", s, tc.in, got)
			}
		}
		if ok && strings.HasPrefix(got, tc.in) {
			t.Errorf("PrefixSuccessor(%q) = %q starts with the prefix", tc.in, got)
		}
	}
}
