package store_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"Ácme  Corp": "acme corp",
		" Straße ":   "strasse",
		"ØRSTED":     "orsted",
		"Crème":      "creme",
	} {
		if got := store.FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}
