package store

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// FoldName folds a company display name for prefix search: Unicode NFD,
// combining marks removed, lower case, runs of spaces collapsed. "Ácme
// GmbH" and "acme gmbh" fold alike, so the type-ahead lookup is case- and
// accent-insensitive on every backend.
func FoldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		switch r {
		case 'ß':
			b.WriteString("ss")
			continue
		case 'ø', 'Ø':
			r = 'o'
		case 'æ', 'Æ':
			b.WriteString("ae")
			continue
		case 'ł', 'Ł':
			r = 'l'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
