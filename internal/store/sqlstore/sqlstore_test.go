package sqlstore

import (
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-- only a comment\n", nil},
		{"CREATE TABLE a (x INT);\nCREATE INDEX b ON a (x);\n", []string{"CREATE TABLE a (x INT);", "CREATE INDEX b ON a (x);"}},
		{"CREATE TABLE a (\n  x INT, -- note\n  y INT\n);\n\n-- c\nSELECT 1", []string{"CREATE TABLE a (\n  x INT, -- note\n  y INT\n);", "SELECT 1"}},
	}
	for _, tc := range tests {
		if got := splitStatements(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	dollar := &querier{d: &Dialect{DollarPlaceholders: true}, bind: new(sync.Map)}
	plain := &querier{d: &Dialect{}, bind: new(sync.Map)}
	tests := []struct{ in, dollar string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y IN (?,?)", "SELECT a FROM t WHERE x = $1 AND y IN ($2,$3)"},
	}
	for _, tc := range tests {
		for i := 0; i < 2; i++ { // second round hits the cache
			if got := dollar.rebind(tc.in); got != tc.dollar {
				t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.dollar)
			}
		}
		if got := plain.rebind(tc.in); got != tc.in {
			t.Errorf("plain rebind(%q) = %q", tc.in, got)
		}
	}
}

func TestPageToken(t *testing.T) {
	t.Parallel()
	tok := encodeToken(int64(1700000000123), "sub-1")
	var ms int64
	var sub string
	if err := decodeToken(tok, &ms, &sub); err != nil || ms != 1700000000123 || sub != "sub-1" {
		t.Fatalf("round trip: %d %q %v", ms, sub, err)
	}
	for _, bad := range []string{"", "***", encodeToken("a"), encodeToken("a", "b"), encodeToken(int64(1), int64(2))} {
		if err := decodeToken(bad, &ms, &sub); err == nil {
			t.Errorf("decodeToken(%q) accepted", bad)
		}
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	if ms(time.Time{}) != 0 || !fromMS(0).IsZero() {
		t.Error("zero time does not map to 0")
	}
	in := time.Date(2026, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("x", -7*3600))
	got := fromMS(ms(in))
	if !got.Equal(in.Truncate(time.Millisecond)) || got.Location() != time.UTC {
		t.Errorf("fromMS(ms(%v)) = %v", in, got)
	}
}
