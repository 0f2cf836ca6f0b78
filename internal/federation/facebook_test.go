package federation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// fakeFacebook is a Graph-compatible endpoint: the OAuth dialog approves
// at once (recording the PKCE challenge), the token endpoint checks the
// client secret, code, redirect_uri and PKCE verifier, and /me checks the
// access token and appsecret_proof.
type fakeFacebook struct {
	srv    *httptest.Server
	id     string
	secret string
	mu     sync.Mutex
	codes  map[string]fbCode
	meHits int
}

type fbCode struct{ challenge, redirect string }

const fbUserID = "10158000000000042"

func newFakeFacebook(t *testing.T) *fakeFacebook {
	f := &fakeFacebook{id: "fb-app", secret: "fb-app-secret", codes: map[string]fbCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dialog/oauth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != f.id || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
			http.Error(w, "bad dialog request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		code := "code-" + q.Get("state")[:8]
		f.codes[code] = fbCode{q.Get("code_challenge"), q.Get("redirect_uri")}
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		c, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		f.mu.Unlock()
		if !ok || r.PostForm.Get("client_id") != f.id || r.PostForm.Get("client_secret") != f.secret ||
			r.PostForm.Get("redirect_uri") != c.redirect || oauth2.S256ChallengeFromVerifier(r.PostForm.Get("code_verifier")) != c.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"message":"Invalid verification code format.","type":"OAuthException","code":100}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "fb-token", "token_type": "bearer", "expires_in": 5183944})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		m := hmac.New(sha256.New, []byte(f.secret))
		m.Write([]byte("fb-token"))
		if q.Get("access_token") != "fb-token" || q.Get("appsecret_proof") != hex.EncodeToString(m.Sum(nil)) || q.Get("fields") != "id,name,email" {
			http.Error(w, `{"error":{"message":"Invalid OAuth access token."}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.meHits++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": fbUserID, "name": "Jane Roe", "email": "jane@fb.example"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestFacebook: sign-in through a local Graph-compatible endpoint: the
// first creates facebook_<id> with the mapped name and an unverified
// email (Facebook does not assert verification), the second finds it.
func TestFacebook(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	fb := newFakeFacebook(t)
	if _, err := e.down.svc.SetIdentityProvider(context.Background(), e.pool.ID, identity.IdentityProvider{Name: "Facebook",
		Type: identity.ProviderFacebook, ClientID: fb.id, AuthURL: fb.srv.URL + "/dialog/oauth", TokenURL: fb.srv.URL + "/oauth/access_token",
		GraphURL: fb.srv.URL, AttributeMapping: map[string]string{"email": "email", "name": "name"}}, fb.secret); err != nil {
		t.Fatal(err)
	}
	walkFB := func() resp {
		b := newBrowser(t)
		next := e.button(e.loginPage(b), "Facebook")
		for i := 0; i < 10; i++ {
			r := b.get(next)
			if r.status != http.StatusFound && r.status != http.StatusSeeOther {
				return r
			}
			next = resolve(r.url, r.header.Get("Location"))
		}
		t.Fatal("too many redirects")
		return resp{}
	}
	r := walkFB()
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("first Facebook sign-in: %d %s %s", r.status, r.url, r.body)
	}
	u := e.user("facebook_" + fbUserID)
	if u.Status != identity.StatusExternalProvider || u.Email != "jane@fb.example" || u.EmailVerified || u.Attributes["name"] != "Jane Roe" {
		t.Fatalf("user %+v", u)
	}
	if r := walkFB(); r.status != http.StatusOK || !strings.Contains(r.body, u.Sub) {
		t.Fatalf("second Facebook sign-in: %d %s", r.status, r.body)
	}
	fb.mu.Lock()
	hits := fb.meHits
	fb.mu.Unlock()
	if n := e.count(); n != 1 || hits != 2 {
		t.Fatalf("%d users, %d /me calls", n, hits)
	}
	// A wrong app secret: the token endpoint refuses, nothing is created.
	if _, err := e.down.svc.SetIdentityProvider(context.Background(), e.pool.ID, identity.IdentityProvider{Name: "Facebook",
		Type: identity.ProviderFacebook, ClientID: fb.id, AuthURL: fb.srv.URL + "/dialog/oauth", TokenURL: fb.srv.URL + "/oauth/access_token",
		GraphURL: fb.srv.URL}, "wrong-secret"); err != nil {
		t.Fatal(err)
	}
	if r := walkFB(); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong app secret: %d %s", r.status, r.body)
	}
}
