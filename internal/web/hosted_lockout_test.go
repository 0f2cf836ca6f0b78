package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The sign-in page says how long a lockout lasts and offers the password
// reset (security.md L2); under prevent_user_existence_errors it shows the
// same hint after every wrong answer instead, for known and unknown names
// alike (security.md L8).
func TestHostedLockoutSaysHowLong(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{rateBurst: 100})
	ctx := context.Background()
	if _, err := e.svc.AdminCreateUser(ctx, adminCreate(e, "lee@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AdminSetUserPassword(ctx, e.pool.ID, "lee@example.org", pw, true); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	login := func(user, pass string) resp {
		return b.submit(e.page("login?client_id="+e.clientID), url.Values{"username": {user}, "password": {pass}})
	}
	for range 5 {
		r := must(t, login("lee@example.org", "wrong password 123"), http.StatusUnauthorized)
		if !strings.Contains(r.body, "Incorrect username or password.") || !strings.Contains(r.body, `id="reset-hint"`) {
			t.Fatalf("wrong password page: %s", r.body)
		}
	}
	r := must(t, login("lee@example.org", pw), http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "this account is locked. Try again in 1 second.") ||
		!strings.Contains(r.body, "/forgot?") || !strings.Contains(r.body, "username=lee%40example.org") {
		t.Fatalf("locked page (Retry-After %q): %s", r.header.Get("Retry-After"), r.body)
	}

	// Hiding which accounts exist: locked and unknown look the same.
	e.pool.PreventUserExistenceErrors = true
	if _, err := e.svc.UpdatePool(ctx, e.pool); err != nil {
		t.Fatal(err)
	}
	locked := must(t, login("lee@example.org", pw), http.StatusUnauthorized)
	unknown := must(t, login("nobody@example.org", pw), http.StatusUnauthorized)
	for _, page := range []resp{locked, unknown} {
		if !strings.Contains(page.body, "Incorrect username or password.") || strings.Contains(page.body, "locked. Try again") ||
			!strings.Contains(page.body, "After 5 wrong passwords an account is locked for a while.") {
			t.Fatalf("page: %s", page.body)
		}
	}
}
