package e2e_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// throttled is a 429 problem with its wait.
type throttled struct {
	Code       string
	Detail     string
	RetryAfter int `json:"retry_after"`
}

// The native API answers the lockout and the code throttles with 429, the
// wait in seconds as Retry-After and as the problem's retry_after
// (security.md L2, L3, L4).
func TestThrottlesThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("throttles")
	p, err := e.db.GetPool(context.Background(), poolID)
	if err != nil {
		t.Fatal(err)
	}
	p.LockoutDuration = time.Hour
	if err := e.db.UpdatePool(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	const jo = "jo@example.test"
	e.signUpConfirmed(poolID, clientID, jo)

	signIn := func(pw string) response {
		return e.do("POST", "/api/v1/auth/sign-in", "", map[string]any{"client_id": clientID, "username": jo, "password": pw})
	}
	for range auth.DefaultMaxFailures {
		if pr := e.must(401, signIn(otherPassword)).problem(t); pr.Code != "not_authorized" {
			t.Fatalf("wrong password: %+v", pr)
		}
	}
	r := e.must(429, signIn(goodPassword))
	r.problem(t)
	var th throttled
	r.json(t, &th)
	header, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if th.Code != "password_attempts_exceeded" || th.Detail != "Password attempts exceeded" ||
		th.RetryAfter < 3500 || th.RetryAfter > 3600 || header != th.RetryAfter {
		t.Fatalf("locked: %+v, Retry-After %q", th, r.header.Get("Retry-After"))
	}

	// Reset codes: asked for, guessed; the sixth ask is refused.
	forgot := func() response {
		return e.do("POST", "/api/v1/auth/forgot-password", "", map[string]any{"client_id": clientID, "username": jo})
	}
	for range auth.CodeIssueLimit {
		e.must(200, forgot())
	}
	r = e.must(429, forgot())
	r.json(t, &th)
	if th.Code != "limit_exceeded" || th.Detail != "Attempt limit exceeded, please try after some time." ||
		th.RetryAfter <= 0 || r.header.Get("Retry-After") != strconv.Itoa(th.RetryAfter) {
		t.Fatalf("sixth code: %+v, Retry-After %q", th, r.header.Get("Retry-After"))
	}
	guess := "000000"
	if e.lastCode(poolID, jo) == guess {
		guess = "111111"
	}
	for i := range auth.CodeFailureLimit {
		// Five wrong guesses use up the code; every guess counts on the
		// window all the same.
		pr := e.do("POST", "/api/v1/auth/confirm-forgot-password", "", map[string]any{
			"client_id": clientID, "username": jo, "code": guess, "password": otherPassword}).problem(t)
		if want := map[bool]string{true: "code_mismatch", false: "too_many_failed_attempts"}[i < 5]; pr.Code != want {
			t.Fatalf("guess %d: %+v, want %s", i+1, pr, want)
		}
	}
	r = e.must(429, e.do("POST", "/api/v1/auth/confirm-forgot-password", "", map[string]any{
		"client_id": clientID, "username": jo, "code": e.lastCode(poolID, jo), "password": otherPassword}))
	if r.json(t, &th); th.Code != "limit_exceeded" || r.header.Get("Retry-After") == "" {
		t.Fatalf("code past the window's limit: %s", r.body)
	}
}
