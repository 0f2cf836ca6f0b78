package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

// TestConsolePasskeys: a pool admin sees a user's passkeys on the user's
// page and removes one (the route is for pool admins only, as the
// company form's).
func TestConsolePasskeys(t *testing.T) {
	t.Parallel()
	e := consoleSetupWith(t, setupOpts{host: "localhost"})
	ctx := context.Background()
	v, err := e.svc.AdminGetUser(ctx, e.pool.ID, "mallory@example.org")
	if err != nil {
		t.Fatal(err)
	}
	a := softauthn.New(t, e.base)
	opts, err := e.svc.StartPasskeyRegistration(ctx, e.pool.ID, v.User.Sub, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CompletePasskeyRegistration(ctx, e.pool.ID, v.User.Sub, a.Create(opts), "YubiKey <5>"); err != nil {
		t.Fatal(err)
	}

	root := e.consoleLogin("root@example.org")
	page := must(t, root.get(e.console("users/mallory%40example.org")), http.StatusOK)
	contains(t, page, "Passkeys", "YubiKey &lt;5&gt;", "localhost")
	m := regexp.MustCompile(`<form method="post" action="([^"]+/passkeys/delete)"><input type="hidden" name="csrf" value="([^"]+)">`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no remove form: %s", page.body)
	}
	must(t, root.post(e.base+m[1], url.Values{"csrf": {m[2]}, "id": {a.CredentialID()}}), http.StatusSeeOther)
	if l, _ := e.svc.ListPasskeys(ctx, e.pool.ID, v.User.Sub); len(l) != 0 {
		t.Fatalf("%d passkeys after removal", len(l))
	}
	contains(t, must(t, root.get(e.console("users/mallory%40example.org")), http.StatusOK), "No passkeys.")
}
