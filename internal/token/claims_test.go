package token

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestMarshalClaims: marshalClaims writes what json.Marshal writes, for
// the values tokens carry and for anything a hook may add.
func TestMarshalClaims(t *testing.T) {
	i := 7
	for _, c := range []map[string]any{
		nil,
		{},
		{"sub": "0d6f3b52-7f0e-4d55-9a3e-2b1c4d5e6f70", "email": "ann+x@example.com", "exp": int64(1800000000), "iat": 1799996400,
			"email_verified": true, "cognito:groups": []string{"staff", "a \"quoted\" <group> & co"}, "amr": []string(nil), "empty": []string{}},
		{"html": "<script>&</script>", "ctl": "a\x00b\nc\td\x7f", "utf8": "Zoë \u2028 \u2029 日本", "bad": "\xff\xfe", "quote": `"\`},
		{"float": 1.5, "big": 1e21, "small": 1e-7, "nested": map[string]any{"b": 1, "a": []any{"x", 2.0, nil}}, "nil": nil, "ptr": &i,
			"number": json.Number("12"), "raw": json.RawMessage(`{"z":1}`)},
		{"z": "last", "A": "upper", "a": "lower", "ä": "non-ascii key", "<k>": "escaped key"},
	} {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalClaims(c)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("marshalClaims(%v)\n got %s (%v)\nwant %s", c, got, err, want)
		}
	}
	if _, err := marshalClaims(map[string]any{"f": func() {}}); err == nil {
		t.Error("an unencodable value encoded")
	}
}

// FuzzMarshalClaims: any string keys and values encode as json.Marshal
// encodes them.
func FuzzMarshalClaims(f *testing.F) {
	f.Add("sub", "value", "g1", "g2", int64(3))
	f.Add("<", "\xff", "\u2028", `"`, int64(-1))
	f.Fuzz(func(t *testing.T, k, v, g1, g2 string, n int64) {
		c := map[string]any{k: v, "groups": []string{g1, g2}, "n": n, k + "x": true}
		want, werr := json.Marshal(c)
		got, err := marshalClaims(c)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v), want %s (%v)", got, err, want, werr)
		}
	})
}
