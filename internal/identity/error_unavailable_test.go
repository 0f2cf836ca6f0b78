package identity

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeUnavailable(t *testing.T) {
	t.Parallel()
	down := fmt.Errorf("%w: %w", ErrUnavailable, errors.New("connection refused"))
	for _, tc := range []struct {
		name string
		err  error
		code Code
		msg  string
	}{
		{"nil", nil, "", "An internal error occurred."},
		{"plain", errors.New("x"), CodeInternal, "An internal error occurred."},
		{"unavailable", down, CodeUnavailable, ErrUnavailable.Message},
		{"internal wrapping unavailable", &Error{Code: CodeInternal, Message: "An internal error occurred.", Err: down}, CodeUnavailable, ErrUnavailable.Message},
		{"joined", errors.Join(errors.New("rollback failed"), down), CodeUnavailable, ErrUnavailable.Message},
		{"specific code wins", &Error{Code: CodeNotAuthorized, Message: "no", Err: down}, CodeNotAuthorized, "no"},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("%s: ErrorCode = %q, want %q", tc.name, got, tc.code)
		}
		if tc.err != nil {
			if got := ErrorMessage(tc.err); got != tc.msg {
				t.Errorf("%s: ErrorMessage = %q, want %q", tc.name, got, tc.msg)
			}
		}
	}
}
