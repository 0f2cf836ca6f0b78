package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestPoolNameInPageURLs: /<pool name>/signup redirects to the canonical
// /<pool id>/signup, keeping the rest of the path and the query string,
// when exactly one pool has that name; an ambiguous or unknown name is a
// 404, an id is served as before, and a POST is never redirected.
func TestPoolNameInPageURLs(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "twin", UsernameMode: identity.UsernameEmail}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	name := url.PathEscape(e.pool.Name) // "Awesome Application"
	for _, tc := range []struct{ path, want string }{
		{"/" + name + "/signup?client_id=" + e.clientID + "&return_to=%2Fx", "/" + e.pool.ID + "/signup?client_id=" + e.clientID + "&return_to=%2Fx"},
		{"/" + name + "/login", "/" + e.pool.ID + "/login"},
		{"/" + name + "/console/users", "/" + e.pool.ID + "/console/users"},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			req, _ := http.NewRequest(method, e.base+tc.path, nil)
			r := b.do(req)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.want {
				t.Errorf("%s %s: %d Location %q, want 303 %q", method, tc.path, r.status, r.header.Get("Location"), tc.want)
			}
		}
	}
	if r := b.get(e.page("signup")); r.status != http.StatusOK {
		t.Errorf("the id URL: %d", r.status)
	}
	for _, p := range []string{"/twin/signup", "/no-such-pool/signup"} {
		if r := b.get(e.base + p); r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.status)
		}
	}
	if r := b.post(e.base+"/"+name+"/signup", url.Values{"username": {"x@example.com"}}); r.status == http.StatusSeeOther {
		t.Errorf("a POST was redirected")
	}
	// A pool created a moment ago is found by name too.
	fresh, err := e.svc.CreatePool(ctx, auth.CreatePoolInput{Name: "fresh", UsernameMode: identity.UsernameEmail})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * 1e9)
	if r := b.get(e.base + "/fresh/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/"+fresh.ID+"/login" {
		t.Errorf("fresh pool: %d %q", r.status, r.header.Get("Location"))
	}
}
