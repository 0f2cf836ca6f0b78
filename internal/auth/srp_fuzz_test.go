package auth

import (
	"strings"
	"testing"
)

// FuzzSRPParse feeds client-controlled SRP fields (SRP_A, TIMESTAMP) to
// their parsers: never a panic, never a number longer than allowed, and a
// parsed timestamp formats back to a value that parses to the same instant.
func FuzzSRPParse(f *testing.F) {
	for _, s := range []string{"0", "02", "ff", "-1", " 1a ", "xyz", strings.Repeat("f", 768),
		"Sun Nov 22 01:37:29 UTC 2026", "Sun Nov 2 01:37:29 UTC 2026", "Mon Jan 02 15:04:05 UTC 2006", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if x, ok := parseHexInt(s, maxSRPAHexLen); ok {
			if x.Sign() < 0 || len(strings.TrimSpace(s)) > maxSRPAHexLen {
				t.Fatalf("parseHexInt(%q) = %v", s, x)
			}
		}
		if ts, ok := parseSRPTimestamp(s); ok {
			again, ok2 := parseSRPTimestamp(ts.Format(srpTimestampLayouts[0]))
			if !ok2 || !again.Equal(ts) {
				t.Fatalf("timestamp %q parsed to %v, round trip %v %v", s, ts, again, ok2)
			}
		}
	})
}
