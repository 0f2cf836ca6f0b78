package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// TestAdminLinkSignsInAsNativeUser: an administrator links Jane's
// upstream identity to a native user through the admin API; Jane's
// federated sign-in then signs in as that native user (no federated user
// is created, and the native account's attributes stay its own). After
// the administrator unlinks it, the same sign-in no longer reaches the
// native user: it is a first sign-in that creates corp_<sub>; and the
// identity, now that federated user's own, cannot be linked back.
func TestAdminLinkSignsInAsNativeUser(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	const native = "j.roe@down.example" // not Jane's upstream email: no link is offered
	v, err := e.down.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: native, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email_verified": "true", "name": "J. Roe (local)"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.down.svc.AdminSetUserPassword(ctx, e.pool.ID, native, "another long passphrase 9", true); err != nil {
		t.Fatal(err)
	}
	_, key, err := e.down.svc.CreateAPIKey(ctx, e.pool.ID, "ops")
	if err != nil {
		t.Fatal(err)
	}
	api := func(method, path string, body any) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, e.down.base+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	ids := "/api/v1/pools/" + e.pool.ID + "/users/" + url.PathEscape(native) + "/identities"

	if st, body := api("POST", ids, map[string]string{"provider": "corp", "subject": e.janeSub}); st != http.StatusCreated {
		t.Fatalf("link: %d %s", st, body)
	}
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") || !strings.Contains(r.body, v.User.Sub) {
		t.Fatalf("linked sign-in ended at %s: %d %s", r.url, r.status, r.body)
	}
	if n := e.count(); n != 1 {
		t.Fatalf("%d users after the linked sign-in, want only the native one", n)
	}
	if u := e.user(native); u.Attributes["name"] != "J. Roe (local)" || u.Email != native {
		t.Fatalf("the provider overwrote the native user: %+v", u)
	}

	if st, body := api("DELETE", ids+"/corp/"+url.PathEscape(e.janeSub), nil); st != http.StatusNoContent {
		t.Fatalf("unlink: %d %s", st, body)
	}
	r = e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("sign-in after unlink ended at %s: %d %s", r.url, r.status, r.body)
	}
	fed := e.user("corp_" + e.janeSub)
	if fed.Sub == v.User.Sub || !strings.Contains(r.body, fed.Sub) || strings.Contains(r.body, v.User.Sub) {
		t.Fatalf("after unlink the sign-in reached %s (native %s, federated %s)", r.body, v.User.Sub, fed.Sub)
	}
	if n := e.count(); n != 2 {
		t.Fatalf("%d users after the unlinked sign-in, want 2", n)
	}
	// The identity is corp_<sub>'s own now: linking it to the native
	// user again is refused, and Jane keeps signing in as corp_<sub>.
	if st, body := api("POST", ids, map[string]string{"provider": "corp", "subject": e.janeSub}); st != http.StatusConflict || !strings.Contains(body, "corp_") {
		t.Fatalf("relink over a federated user: %d %s", st, body)
	}
	if r = e.signIn(newBrowser(t), "corp", nil); !strings.Contains(r.body, fed.Sub) {
		t.Fatalf("after the refused relink: %d %s", r.status, r.body)
	}
}
