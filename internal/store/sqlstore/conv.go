package sqlstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Times are stored as BIGINT unix milliseconds in UTC; 0 is the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Booleans are stored as INTEGER 0/1 on both backends.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullStr stores "" as NULL (for nullable foreign keys and unique columns).
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonText encodes v as JSON text for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode: %w", err)
	}
	return string(b), nil
}

// fromJSON decodes a TEXT column; "" leaves v unchanged.
func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sqlstore: decode: %w", err)
	}
	return nil
}

// Page tokens are base64url(JSON array of the last row's sort key). They are
// opaque to callers; a token that does not decode is an invalid_parameter
// error.
func encodeToken(key ...any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadToken = identity.Errorf(identity.CodeInvalidParameter, "Invalid pagination token.")

// decodeToken decodes a token into the pointers in dst (string or int64).
func decodeToken(tok string, dst ...any) error {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return errBadToken
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != len(dst) {
		return errBadToken
	}
	for i := range raw {
		if err := json.Unmarshal(raw[i], dst[i]); err != nil {
			return errBadToken
		}
	}
	return nil
}
