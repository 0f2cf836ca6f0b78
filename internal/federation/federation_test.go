package federation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestFirstAndSecondSignIn: the button on the hosted sign-in page takes
// Jane to the upstream Gatehouse and back; the first sign-in creates
// corp_<sub> (EXTERNAL_PROVIDER, verified email, mapped name; the mapped
// company is only a request, which no approval decided in this open pool:
// security.md A2) and a session; the second, in a fresh browser, finds the
// same user.
func TestFirstAndSecondSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") || !strings.Contains(r.body, janeEmail) {
		t.Fatalf("first sign-in ended at %s: %d %s", r.url, r.status, r.body)
	}
	u := e.user("corp_" + e.janeSub)
	if u.Status != identity.StatusExternalProvider || !u.EmailVerified || u.Email != janeEmail || u.PasswordHash != "" ||
		u.Attributes["name"] != "Jane Roe" || u.Attributes["custom:company_name"] != "" {
		t.Fatalf("created user %+v", u)
	}
	links, err := e.down.st.ListLinkedIdentities(context.Background(), e.pool.ID, u.Sub)
	if err != nil || len(links) != 1 || links[0].Subject != e.janeSub || links[0].Issuer != e.up.svc.Issuer(e.upPool) {
		t.Fatalf("links %+v %v", links, err)
	}
	// The upstream changes Jane's name: the second sign-in brings it.
	if err := e.up.svc.AdminUpdateUserAttributes(context.Background(), e.upPool.ID, janeEmail,
		map[string]string{"name": "Jane Doe-Roe"}); err != nil {
		t.Fatal(err)
	}
	r = e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") || !strings.Contains(r.body, u.Sub) {
		t.Fatalf("second sign-in ended at %s: %d %s", r.url, r.status, r.body)
	}
	if cur := e.user("corp_" + e.janeSub); cur.Attributes["name"] != "Jane Doe-Roe" || cur.Sub != u.Sub {
		t.Fatalf("after the second sign-in %+v", cur)
	}
	if n := e.count(); n != 1 {
		t.Fatalf("%d users after two sign-ins", n)
	}
	// A federated user has no password to sign in with.
	_, err = e.down.svc.InitiateAuth(context.Background(), auth.InitiateAuthInput{Client: auth.Client{ID: e.app},
		Flow: auth.AuthUserPassword, Username: "corp_" + e.janeSub, Password: janePW})
	if identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("password sign-in of a federated user: %v", err)
	}
}

// TestIdentityProviderParamAndIdentitiesClaim: a go-oidc relying party of
// the downstream sends identity_provider=corp to /oauth2/authorize; the
// browser goes straight to the upstream, and the downstream ID token
// carries Cognito's identities claim.
func TestIdentityProviderParamAndIdentitiesClaim(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, e.downIssuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: e.rp, ClientSecret: e.rpSec, Endpoint: provider.Endpoint(), RedirectURL: appCB,
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-1"),
		oauth2.SetAuthURLParam("identity_provider", "corp"))
	b := newBrowser(t)
	first := b.get(authURL)
	if loc := first.header.Get("Location"); !strings.Contains(loc, "/federation/corp?") {
		t.Fatalf("identity_provider=corp did not go to the provider: %d %s", first.status, loc)
	}
	r := e.walk(b, authURL, nil)
	back, err := url.Parse(r.url)
	if err != nil || !strings.HasPrefix(r.url, appCB) || back.Query().Get("state") != "st-1" || back.Query().Get("code") == "" {
		t.Fatalf("ended at %s (%d %s)", r.url, r.status, r.body)
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: e.rp, Now: e.down.clock.Now}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Identities string `json:"identities"`
		Username   string `json:"cognito:username"`
		Email      string `json:"email"`
		Nonce      string `json:"nonce"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	var ids []map[string]any
	if err := json.Unmarshal([]byte(claims.Identities), &ids); err != nil || len(ids) != 1 {
		t.Fatalf("identities claim %q: %v", claims.Identities, err)
	}
	id := ids[0]
	if id["userId"] != e.janeSub || id["providerName"] != "corp" || id["providerType"] != "OIDC" ||
		id["issuer"] != e.up.svc.Issuer(e.upPool) || id["primary"] != "true" || id["dateCreated"] == "" {
		t.Fatalf("identity %v", id)
	}
	if claims.Email != janeEmail || claims.Nonce != "n-1" {
		t.Fatalf("claims %+v", claims)
	}
	// identity_provider naming no provider of the pool: an error page, no redirect upstream.
	bad := conf.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("identity_provider", "nope"))
	r = e.walk(newBrowser(t), bad, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("unknown identity_provider: %d %s", r.status, r.body)
	}
}
