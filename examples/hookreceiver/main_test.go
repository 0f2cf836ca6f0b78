package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestReceiverRefusesReplays: a real delivery from Gatehouse's hooks
// client is accepted once; the same request replayed within the window is
// a duplicate (the handler does not run again); replayed after the window
// it is refused; and its body under another id is refused. security.md G4
func TestReceiverRefusesReplays(t *testing.T) {
	t.Parallel()
	const secret = "ghs_receiver-test-secret"
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	var runs atomic.Int64
	rc := &Receiver{Secret: secret, Now: now, Handle: func(ev map[string]any) (int, any) {
		runs.Add(1)
		return preSignUp(func(e string) bool { return e == "taken@example.com" })(ev)
	}}
	var captured *http.Request
	var capturedBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		capturedBody, _ = io.ReadAll(r.Body)
		captured = r.Clone(context.Background())
		r.Body = io.NopCloser(bytes.NewReader(capturedBody))
		rc.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := hooks.New(hooks.Options{Now: now, AllowedNetworks: hooks.LoopbackNetworks}) // the receiver runs on 127.0.0.1
	ev := hooks.PreSignUpEvent{}
	ev.TriggerSource = hooks.SourcePreSignUpSignUp
	ev.Request.UserAttributes = map[string]string{"email": "ann@example.com"}
	var resp hooks.PreSignUpResponse
	if _, err := c.Do(context.Background(), hooks.Call{Hook: &identity.Hook{URL: srv.URL, Secret: secret},
		Trigger: identity.TriggerPreSignUp, Source: hooks.SourcePreSignUpSignUp, DeliveryID: "d-1", Event: ev, Response: &resp}); err != nil {
		t.Fatalf("delivery: %v", err)
	}
	replay := func(id string) int {
		r := httptest.NewRequest("POST", "/pre-sign-up", bytes.NewReader(capturedBody))
		r.Header = captured.Header.Clone()
		if id != "" {
			r.Header.Set(hooks.IDHeader, id)
		}
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, r)
		return w.Code
	}
	if code := replay(""); code != 200 || runs.Load() != 1 {
		t.Fatalf("replay within the window: %d, handler ran %d times", code, runs.Load())
	}
	if code := replay("d-2"); code != 401 {
		t.Fatalf("body under another id: %d", code)
	}
	clock.Add(int64(hooks.DefaultTolerance/time.Second) + 1)
	if code := replay(""); code != 401 || runs.Load() != 1 {
		t.Fatalf("replay after the window: %d, handler ran %d times", code, runs.Load())
	}
	// A taken email is refused with Lambda's error shape.
	ev.Request.UserAttributes["email"] = "taken@example.com"
	_, err := c.Do(context.Background(), hooks.Call{Hook: &identity.Hook{URL: srv.URL, Secret: secret},
		Trigger: identity.TriggerPreSignUp, Source: hooks.SourcePreSignUpSignUp, DeliveryID: "d-3", Event: ev, Response: &resp})
	var he *hooks.Error
	if !errors.As(err, &he) || he.Identity().Message != "PreSignUp failed with error Email is already taken." {
		t.Fatalf("taken email: %v", err)
	}
}
