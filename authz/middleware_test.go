package authz_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/authz"
)

// whoami answers the caller's sub, or "anonymous".
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := authz.FromContext(r.Context())
	if !ok {
		w.Write([]byte("anonymous"))
		return
	}
	w.Write([]byte(id.Sub + "@" + id.Company))
})

func serve(h http.Handler, method, path, bearer string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *authz.Config) { c.TokenUse = authz.TokenUseID })
	h := (&authz.Middleware{Auth: e.v, Policy: article003(), Realm: "docs"}).Wrap(whoami)
	good := e.token(e.idClaims())

	w := serve(h, "GET", "/companies/Acme/documents", good)
	if w.Code != 200 || w.Body.String() != "user-1@Acme" {
		t.Fatalf("member: %d %s", w.Code, w.Body)
	}
	w = serve(h, "GET", "/companies/Acme/documents", "")
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="docs"` {
		t.Fatalf("no token: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	w = serve(h, "GET", "/companies/Acme/documents", "x.y.z")
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := serve(h, "GET", "/companies/Globex/documents", good); w.Code != 403 {
		t.Fatalf("other company: %d", w.Code)
	}
	if w := serve(h, "DELETE", "/companies/Acme/documents/1", good); w.Code != 403 {
		t.Fatalf("manager deletes: %d", w.Code)
	}
	if w := serve(h, "GET", "/healthz", ""); w.Code != 200 || w.Body.String() != "anonymous" {
		t.Fatalf("public: %d %s", w.Code, w.Body)
	}
	if w := serve(h, "GET", "/unknown", good); w.Code != 403 {
		t.Fatalf("no rule: %d", w.Code)
	}
	// Other schemes and several headers are invalid tokens.
	r := httptest.NewRequest("GET", "/companies/Acme/documents", nil)
	r.Header.Add("Authorization", "Basic "+good)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("basic: %d", w.Code)
	}
	r.Header.Set("Authorization", "Bearer "+good)
	r.Header.Add("Authorization", "Bearer "+good)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("two headers: %d", w.Code)
	}
}

func TestMiddlewareRefusesAttacks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	h := (&authz.Middleware{Auth: e.v, Policy: article003()}).Wrap(whoami)
	all := attacks(t, e)
	all["1 MB Authorization header"] = strings.Repeat("a", 1<<20)
	for name, raw := range all {
		if raw == "" {
			continue
		}
		if w := serve(h, "GET", "/me", raw); w.Code != 401 {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	if w := serve(h, "GET", "/me", e.token(e.accessClaims())); w.Code != 200 {
		t.Fatalf("good token: %d", w.Code)
	}
}

type panicky struct{}

func (panicky) Authenticate(*http.Request) (*authz.Identity, error) { panic("boom") }

type failing struct{}

func (failing) Authenticate(*http.Request) (*authz.Identity, error) {
	return nil, errors.New("database is down")
}

type nobody struct{}

func (nobody) Authenticate(*http.Request) (*authz.Identity, error) { return nil, nil }

func TestMiddlewareFailsClosed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setJWKS([]byte("down"))
	for name, mw := range map[string]*authz.Middleware{
		"jwks down":   {Auth: e.v, Policy: article003()},
		"panic":       {Auth: panicky{}, Policy: article003()},
		"error":       {Auth: failing{}, Policy: article003()},
		"no identity": {Auth: nobody{}, Policy: article003()},
		"no policy":   {Auth: e.v},
	} {
		w := serve(mw.Wrap(whoami), "GET", "/me", e.token(e.accessClaims()))
		if w.Code != 503 {
			t.Errorf("%s: %d, want 503", name, w.Code)
		}
	}
}

func TestProxyHeaders(t *testing.T) {
	t.Parallel()
	h := (&authz.Middleware{Auth: authz.ProxyHeaders{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, Policy: article003()}).Wrap(whoami)
	req := func(remote string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/companies/Acme/documents", nil)
		r.RemoteAddr = remote
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	member := map[string]string{authz.HeaderSub: "s1", authz.HeaderGroups: "Users, Other", authz.HeaderCompany: "Acme"}
	if w := req("127.0.0.1:5000", member); w.Code != 200 || w.Body.String() != "s1@Acme" {
		t.Fatalf("trusted proxy: %d %s", w.Code, w.Body)
	}
	if w := req("10.0.0.1:5000", member); w.Code != 401 {
		t.Fatalf("untrusted peer: %d", w.Code)
	}
	if w := req("127.0.0.1:5000", nil); w.Code != 401 {
		t.Fatalf("no headers: %d", w.Code)
	}
	member[authz.HeaderCompany] = "Globex"
	if w := req("127.0.0.1:5000", member); w.Code != 403 {
		t.Fatalf("other company: %d", w.Code)
	}
}
