package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// TestMFAOnAuthorize: once the pool requires MFA, a hosted session that
// signed in without it gets no code: authorize sends the browser to sign
// in again, the user enrols an authenticator app on the hosted page (QR
// code and key), and the code's tokens say "mfa" in amr.
func TestMFAOnAuthorize(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.signedIn() // MFA OFF: a session with amr [pwd]
	if _, err := e.svc.SetPoolMFA(context.Background(), e.pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
		t.Fatal(err)
	}
	v, ch := pkce()
	authURL := e.authURL("client_id", e.pub, "response_type", "code", "redirect_uri", rpCallback,
		"scope", "openid", "state", "s1", "code_challenge", ch, "code_challenge_method", "S256")
	r := b.b.Get(authURL)
	if r.Status != http.StatusFound || !strings.Contains(r.Location(), "/login") {
		t.Fatalf("authorize with a session lacking MFA: %d %s", r.Status, r.Location())
	}
	login := b.b.Get(r.Location())
	page := b.b.Submit(login, "username", userEmail, "password", userPW)
	m := secretRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil || !strings.Contains(page.Body, "<svg") {
		t.Fatalf("enrolment page: %d %s", page.Status, page.Body)
	}
	bad := b.b.Submit(page, "code", "12345x")
	if bad.Status != http.StatusBadRequest || secretRE.FindStringSubmatch(bad.Body)[1] != m[1] {
		t.Fatalf("a malformed code: %d %s", bad.Status, bad.Body)
	}
	code, err := totp.GenerateCode(m[1], e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := b.b.Submit(bad, "code", code)
	if done.Status != http.StatusSeeOther && done.Status != http.StatusFound {
		t.Fatalf("enrolment: %d %s", done.Status, done.Body)
	}
	back := e.authorize(b, done.Location())
	if back.Query().Get("code") == "" {
		t.Fatalf("callback %s", back)
	}
	status, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "client_id": {e.pub}, "code": {back.Query().Get("code")},
		"redirect_uri": {rpCallback}, "code_verifier": {v}}, "", "")
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	amr, _ := jwtClaims(t, body["id_token"].(string))["amr"].([]any)
	if !slices.Contains(amr, any("mfa")) || !slices.Contains(amr, any("pwd")) {
		t.Fatalf("amr %v", amr)
	}

	// A second browser signs in with the app's next code; the code just
	// used is refused (replay) on the way.
	b2 := newBrowser(t)
	r = b2.b.Get(authURL)
	page = b2.b.Submit(b2.b.Get(r.Location()), "username", userEmail, "password", userPW)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `name="challenge" value="SOFTWARE_TOKEN_MFA"`) {
		t.Fatalf("TOTP page: %d %s", page.Status, page.Body)
	}
	replay := b2.b.Submit(page, "code", code)
	if replay.Status != http.StatusBadRequest {
		t.Fatalf("replayed code: %d", replay.Status)
	}
	e.clock.Advance(30 * time.Second)
	next, _ := totp.GenerateCode(m[1], e.clock.Now())
	if ok := b2.b.Submit(replay, "code", next); ok.Status != http.StatusSeeOther && ok.Status != http.StatusFound {
		t.Fatalf("next code: %d %s", ok.Status, ok.Body)
	}
}
