package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestUnavailableIs503 checks that a database outage reaches the client as
// 503 unavailable with Retry-After, also when a layer on the way wrapped
// it as an internal error.
func TestUnavailableIs503(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("sqlstore: begin: %w: %w", identity.ErrUnavailable, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"))
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"bare", cause},
		{"wrapped as internal", &identity.Error{Code: identity.CodeInternal, Message: "An internal error occurred.", Err: cause}},
		{"wrapped twice", fmt.Errorf("sign in: %w", &identity.Error{Code: identity.CodeInternal, Message: "x", Err: cause})},
	} {
		rec := httptest.NewRecorder()
		a := newAPI(nil, Options{Log: discardLog()})
		a.writeError(rec, httptest.NewRequest("POST", "/api/v1/auth/sign-in", nil), tc.err)
		p := decodeProblem(t, rec)
		if rec.Code != 503 || p.Code != "unavailable" || p.Detail != identity.ErrUnavailable.Message {
			t.Errorf("%s: %d %+v", tc.name, rec.Code, p)
		}
		if got := rec.Header().Get("Retry-After"); got != retryAfterSeconds {
			t.Errorf("%s: Retry-After %q", tc.name, got)
		}
	}
	// A plain internal error stays a 500 without Retry-After.
	rec := httptest.NewRecorder()
	newAPI(nil, Options{Log: discardLog()}).writeError(rec, httptest.NewRequest("GET", "/", nil), errors.New("boom"))
	if rec.Code != 500 || rec.Header().Get("Retry-After") != "" {
		t.Errorf("internal: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestAbandonedRequestIsNot500 checks that a client hanging up mid-request
// is logged as abandoned (499), not as a server error, while the same error
// on a live request stays a 500.
func TestAbandonedRequestIsNot500(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	a := newAPI(nil, Options{Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	a.writeError(rec, httptest.NewRequest("POST", "/api/v1/auth/sign-in", nil).WithContext(ctx), fmt.Errorf("sign in: %w", context.Canceled))
	if rec.Code != StatusClientClosedRequest {
		t.Fatalf("abandoned: status %d", rec.Code)
	}
	if logged.Len() != 0 {
		t.Fatalf("abandoned request logged at info or above: %s", logged.String())
	}
	rec = httptest.NewRecorder()
	a.writeError(rec, httptest.NewRequest("POST", "/api/v1/auth/sign-in", nil), fmt.Errorf("sign in: %w", context.Canceled))
	if rec.Code != 500 {
		t.Fatalf("live request with a cancelled inner call: status %d", rec.Code)
	}
}
