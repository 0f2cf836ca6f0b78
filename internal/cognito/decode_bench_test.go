package cognito

import (
	"strings"
	"testing"
)

// BenchmarkDecode measures reading a GetUser body: the struct decode and
// the required-member check.
func BenchmarkDecode(b *testing.B) {
	for _, op := range []string{"GetUser", "none"} {
		b.Run(op, func(b *testing.B) { benchDecode(b, op) })
	}
}

func benchDecode(b *testing.B, op string) {
	body := []byte(`{"AccessToken":"` + strings.Repeat("x", 900) + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		c := &call{op: op, body: body}
		var in struct{ AccessToken string }
		if err := c.decode(&in); err != nil {
			b.Fatal(err)
		}
	}
}
