package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestErrorPageUnavailableIs503: a database outage on a page (e.g. an
// approver's link) is a retryable 503 with Retry-After, not a 500.
func TestErrorPageUnavailableIs503(t *testing.T) {
	t.Parallel()
	w, err := New(nil, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	cause := fmt.Errorf("decide: %w", &identity.Error{Code: identity.CodeInternal, Message: "x",
		Err: fmt.Errorf("sqlstore: begin: %w", identity.ErrUnavailable)})
	w.errorPage(rec, httptest.NewRequest("GET", "/p/x/approve", nil), cause)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "briefly unavailable") {
		t.Fatalf("page does not say the service is unavailable:\n%s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	w.errorPage(rec, httptest.NewRequest("GET", "/p/x/approve", nil), fmt.Errorf("boom"))
	if rec.Code != 500 {
		t.Fatalf("plain internal error: status %d; want 500", rec.Code)
	}
}
