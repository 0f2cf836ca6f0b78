// Package form decodes request input for the native JSON API: JSON bodies
// (strictly) and query parameters. Every failure is an *identity.Error whose
// message is safe to show and, where one is at fault, names the field; a
// client's mistake is never an internal error.
//
// Body rules, in order:
//
//	Content-Type must be application/json (charset utf-8 if given) -> 415 unsupported_media_type
//	body over the size cap                                           -> 413 payload_too_large
//	empty body                                                       -> 400 invalid_parameter
//	invalid UTF-8                                                    -> 400 invalid_parameter
//	not a JSON object at the top level                               -> 400 invalid_parameter
//	malformed JSON                                                   -> 400 invalid_parameter (with byte offset)
//	unknown field                                                    -> 400 invalid_parameter, field set
//	wrong type                                                       -> 400 invalid_parameter, field set
//	anything after the object but white space                        -> 400 invalid_parameter
package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// CodeUnsupportedMediaType is the error code for a body that is not
// declared as application/json. It is the API's own code (HTTP 415); the
// domain has no use for it.
const CodeUnsupportedMediaType identity.Code = "unsupported_media_type"

// DefaultMaxBytes caps bodies when the caller passes 0.
const DefaultMaxBytes = 1 << 20

// DecodeJSON decodes r's body into dst (a pointer to a struct), reading at
// most maxBytes (0: DefaultMaxBytes). Fields already set in dst are kept
// unless the body sets them, so callers may pre-fill defaults or current
// values (merge semantics for PATCH). Errors: CodeUnsupportedMediaType,
// identity.CodePayloadTooLarge, identity.CodeInvalidParameter.
func DecodeJSON(r *http.Request, maxBytes int64, dst any) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if r.Body == nil {
		return bodyRequired()
	}
	// MaxBytesReader with a nil writer just limits; the server's own
	// MaxBytesReader (httpserver.Wrap) may stop us earlier with the same
	// error type.
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &identity.Error{Code: identity.CodePayloadTooLarge,
				Message: fmt.Sprintf("The request body is larger than %d bytes.", mbe.Limit)}
		}
		return &identity.Error{Code: identity.CodeInvalidParameter, Message: "The request body could not be read.", Err: err}
	}
	return Unmarshal(body, dst)
}

// Unmarshal applies the body rules (all but Content-Type and size) to b.
func Unmarshal(b []byte, dst any) error {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return bodyRequired()
	}
	if !utf8.Valid(b) {
		return invalid("", "The request body is not valid UTF-8.")
	}
	if trimmed[0] != '{' {
		return invalid("", "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", "The request body has data after the JSON object.")
	}
	return nil
}

func bodyRequired() error {
	return invalid("", "A JSON request body is required.")
}

func invalid(field, msg string) error {
	return &identity.Error{Code: identity.CodeInvalidParameter, Field: field, Message: msg}
}

func checkContentType(ct string) error {
	if ct == "" {
		return &identity.Error{Code: CodeUnsupportedMediaType, Message: "Content-Type must be application/json."}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &identity.Error{Code: CodeUnsupportedMediaType, Message: "Content-Type must be application/json."}
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return &identity.Error{Code: CodeUnsupportedMediaType, Message: "Content-Type may only carry charset=utf-8."}
		}
	}
	return nil
}

// decodeError turns encoding/json's errors into field-naming messages.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid("", fmt.Sprintf("The request body is not valid JSON (at byte %d).", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid("", "The request body is not valid JSON (it ends too early).")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return invalid("", fmt.Sprintf("The request body must be a JSON object, not %s.", jsonKind(typ.Value)))
		}
		return invalid(field, fmt.Sprintf("Field %q must be %s, not %s.", field, jsonType(typ.Type), jsonKind(typ.Value)))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil {
			name = f
		}
		return invalid(name, fmt.Sprintf("Unknown field %q.", name))
	}
	// Anything else encoding/json reports is still about the input.
	return &identity.Error{Code: identity.CodeInvalidParameter, Message: "The request body could not be decoded.", Err: err}
}

// jsonKind names what the client sent, from UnmarshalTypeError.Value
// ("string", "number 1.5", "array", "object", "bool").
func jsonKind(v string) string {
	switch {
	case v == "bool":
		return "a boolean"
	case v == "string":
		return "a string"
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	case strings.HasPrefix(v, "number"):
		if n := strings.TrimPrefix(v, "number "); n != v && n != "" {
			return "the number " + n
		}
		return "a number"
	}
	return v
}

// jsonType names the JSON type a Go type expects.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "an object of strings"
		}
		return "an object"
	case reflect.Struct:
		return "an object"
	}
	return "a different type"
}

// QueryInt parses the optional integer query parameter name, in [min, max].
// Absent: def.
func QueryInt(r *http.Request, name string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, invalid(name, fmt.Sprintf("Query parameter %q must be an integer from %d to %d.", name, min, max))
	}
	return n, nil
}

// QueryString returns the query parameter name, refusing values longer than
// max bytes or not valid UTF-8.
func QueryString(r *http.Request, name string, max int) (string, error) {
	s := r.URL.Query().Get(name)
	if len(s) > max || !utf8.ValidString(s) {
		return "", invalid(name, fmt.Sprintf("Query parameter %q must be valid UTF-8 of at most %d bytes.", name, max))
	}
	return s, nil
}
