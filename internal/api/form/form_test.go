package form_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

type inner struct {
	C int `json:"c"`
}

type target struct {
	Name  string            `json:"name"`
	N     int               `json:"n"`
	Flag  bool              `json:"flag"`
	Attrs map[string]string `json:"attrs"`
	List  []string          `json:"list"`
	In    inner             `json:"in"`
	Ptr   *int              `json:"ptr"`
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ct, body string
		code           identity.Code
		field          string
		msg            string // substring of the message
	}{
		{name: "ok", ct: "application/json", body: `{"name":"x","n":3,"attrs":{"a":"b"},"in":{"c":1}}`},
		{name: "ok with charset", ct: "application/json; charset=UTF-8", body: `{"name":"x"}`},
		{name: "trailing white space ok", ct: "application/json", body: "{\"name\":\"x\"}\n\t "},
		{name: "leading white space ok", ct: "application/json", body: "\n {}"},
		{name: "missing content type", ct: "", body: `{}`, code: form.CodeUnsupportedMediaType},
		{name: "form content type", ct: "application/x-www-form-urlencoded", body: `name=x`, code: form.CodeUnsupportedMediaType},
		{name: "text/plain", ct: "text/plain", body: `{}`, code: form.CodeUnsupportedMediaType},
		{name: "other charset", ct: "application/json; charset=latin1", body: `{}`, code: form.CodeUnsupportedMediaType},
		{name: "bad media type", ct: "application/json;;;=", body: `{}`, code: form.CodeUnsupportedMediaType},
		{name: "empty", ct: "application/json", body: ``, code: identity.CodeInvalidParameter, msg: "required"},
		{name: "only space", ct: "application/json", body: "  \n", code: identity.CodeInvalidParameter, msg: "required"},
		{name: "malformed", ct: "application/json", body: `{"name":}`, code: identity.CodeInvalidParameter, msg: "not valid JSON (at byte"},
		{name: "truncated", ct: "application/json", body: `{"name":"x"`, code: identity.CodeInvalidParameter, msg: "ends too early"},
		{name: "array", ct: "application/json", body: `[]`, code: identity.CodeInvalidParameter, msg: "JSON object"},
		{name: "null", ct: "application/json", body: `null`, code: identity.CodeInvalidParameter, msg: "JSON object"},
		{name: "string", ct: "application/json", body: `"x"`, code: identity.CodeInvalidParameter, msg: "JSON object"},
		{name: "unknown field", ct: "application/json", body: `{"nme":"x"}`, code: identity.CodeInvalidParameter, field: "nme", msg: `Unknown field "nme"`},
		{name: "unknown nested field", ct: "application/json", body: `{"in":{"d":1}}`, code: identity.CodeInvalidParameter, field: "d"},
		{name: "wrong type string", ct: "application/json", body: `{"name":5}`, code: identity.CodeInvalidParameter, field: "name", msg: `Field "name" must be a string, not a number`},
		{name: "wrong type int", ct: "application/json", body: `{"n":"5"}`, code: identity.CodeInvalidParameter, field: "n", msg: "integer"},
		{name: "fraction for int", ct: "application/json", body: `{"n":1.5}`, code: identity.CodeInvalidParameter, field: "n", msg: "the number 1.5"},
		{name: "overflow", ct: "application/json", body: `{"n":1e400}`, code: identity.CodeInvalidParameter, field: "n"},
		{name: "wrong type bool", ct: "application/json", body: `{"flag":"true"}`, code: identity.CodeInvalidParameter, field: "flag", msg: "boolean"},
		{name: "map value not string", ct: "application/json", body: `{"attrs":{"a":1}}`, code: identity.CodeInvalidParameter, field: "attrs"},
		{name: "nested wrong type", ct: "application/json", body: `{"in":{"c":"x"}}`, code: identity.CodeInvalidParameter, field: "in.c"},
		{name: "list wrong type", ct: "application/json", body: `{"list":"x"}`, code: identity.CodeInvalidParameter, field: "list", msg: "an array"},
		{name: "trailing object", ct: "application/json", body: `{"name":"x"}{"name":"y"}`, code: identity.CodeInvalidParameter, msg: "after the JSON object"},
		{name: "trailing garbage", ct: "application/json", body: `{"name":"x"} x`, code: identity.CodeInvalidParameter, msg: "after the JSON object"},
		{name: "invalid utf-8", ct: "application/json", body: "{\"name\":\"\xff\"}", code: identity.CodeInvalidParameter, msg: "UTF-8"},
		{name: "over the cap", ct: "application/json", body: `{"name":"` + strings.Repeat("a", 200) + `"}`, code: identity.CodePayloadTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			var dst target
			err := form.DecodeJSON(r, 128, &dst)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ie *identity.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *identity.Error %s", err, err, tc.code)
			}
			if ie.Code != tc.code || ie.Field != tc.field || !strings.Contains(ie.Message, tc.msg) {
				t.Fatalf("got code=%s field=%q msg=%q; want code=%s field=%q msg~%q", ie.Code, ie.Field, ie.Message, tc.code, tc.field, tc.msg)
			}
		})
	}
}

func TestDecodeJSONMergesOverPrefilled(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"n":7}`))
	r.Header.Set("Content-Type", "application/json")
	dst := target{Name: "kept", N: 1}
	if err := form.DecodeJSON(r, 0, &dst); err != nil {
		t.Fatal(err)
	}
	if dst.Name != "kept" || dst.N != 7 {
		t.Fatalf("got %+v", dst)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q    string
		want int
		ok   bool
	}{{"", 0, true}, {"limit=5", 5, true}, {"limit=0", 0, false}, {"limit=61", 0, false}, {"limit=x", 0, false}, {"limit=-1", 0, false}, {"limit=99999999999999999999", 0, false}} {
		r := httptest.NewRequest("GET", "/?"+tc.q, nil)
		got, err := form.QueryInt(r, "limit", 0, 1, 60)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %d %v", tc.q, got, err)
		}
		if err != nil && identity.ErrorCode(err) != identity.CodeInvalidParameter {
			t.Errorf("%q: code %s", tc.q, identity.ErrorCode(err))
		}
	}
	r := httptest.NewRequest("GET", "/?f="+strings.Repeat("a", 11), nil)
	if _, err := form.QueryString(r, "f", 10); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("long query string: %v", err)
	}
	r = httptest.NewRequest("GET", "/?f=%ff", nil)
	if _, err := form.QueryString(r, "f", 10); identity.ErrorCode(err) != identity.CodeInvalidParameter {
		t.Fatalf("invalid utf-8 query: %v", err)
	}
}

// FuzzDecodeJSON: whatever the body, DecodeJSON returns nil or an
// *identity.Error with a client-side code; it never panics and never
// reports an internal error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"x","n":1}`, `{"in":{"c":1}}`, `[`, `{"n":1e999}`, `{"attrs":{"a":null}}`,
		`{"list":["a",1]}`, "{\"name\":\"\xff\"}", `{"name":"x"} {}`, `{"ptr":null}`, `{"a":{"b":{"c":[[[[[]]]]]}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var dst target
		err := form.DecodeJSON(r, 4096, &dst)
		if err == nil {
			return
		}
		var ie *identity.Error
		if !errors.As(err, &ie) {
			t.Fatalf("%q: error %T %v is not an *identity.Error", body, err, err)
		}
		switch ie.Code {
		case identity.CodeInvalidParameter, identity.CodePayloadTooLarge:
		default:
			t.Fatalf("%q: code %s", body, ie.Code)
		}
		if ie.Message == "" {
			t.Fatalf("%q: empty message", body)
		}
	})
}
