package oidc_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestGoOIDCRelyingParty: github.com/coreos/go-oidc/v3 with
// golang.org/x/oauth2, as any Go web app would use them: discovery, the
// code flow with PKCE S256 through the hosted sign-in page, the ID token
// verified against jwks_uri (with nonce), userinfo, and refresh.
func TestGoOIDCRelyingParty(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := gooidc.ClientContext(context.Background(), http.DefaultClient)
	ctx = gooidc.InsecureIssuerURLContext(ctx, e.issuer) // no-op: the issuer already equals the URL
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if provider.Endpoint().AuthURL != e.issuer+"/oauth2/authorize" || provider.Endpoint().TokenURL != e.issuer+"/oauth2/token" {
		t.Fatalf("endpoints %+v", provider.Endpoint())
	}
	conf := oauth2.Config{ClientID: e.conf, ClientSecret: e.confSecret, Endpoint: provider.Endpoint(), RedirectURL: rpCallback,
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile"}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-456"))

	b := newBrowser(t)
	back := e.authorize(b, authURL)
	if got := back.Scheme + "://" + back.Host + back.Path; got != rpCallback {
		t.Fatalf("redirected to %s", back)
	}
	if back.Query().Get("state") != "state-123" || back.Query().Get("code") == "" {
		t.Fatalf("callback query %v", back.Query())
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	var claims struct {
		Nonce    string   `json:"nonce"`
		Email    string   `json:"email"`
		Company  string   `json:"custom:company_name"`
		Groups   []string `json:"cognito:groups"`
		TokenUse string   `json:"token_use"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Nonce != "nonce-456" || claims.Email != userEmail || claims.Company != "Acme Corporation" ||
		len(claims.Groups) != 1 || claims.Groups[0] != "acme" || claims.TokenUse != "id" || idt.Subject != e.sub {
		t.Fatalf("id token claims %+v sub %s", claims, idt.Subject)
	}
	if s := jwtClaims(t, tok.AccessToken)["scope"]; s != "openid email profile" {
		t.Fatalf("access token scope %v", s)
	}

	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uc map[string]any
	_ = ui.Claims(&uc)
	if ui.Subject != e.sub || ui.Email != userEmail || uc["custom:company_name"] != "Acme Corporation" {
		t.Fatalf("userinfo %+v %v", ui, uc)
	}

	// Refresh: an expired token makes the token source refresh.
	tok.Expiry = e.clock.Now().Add(-time.Minute)
	e.clock.Advance(2 * time.Second)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	rid, _ := fresh.Extra("id_token").(string)
	if _, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now}).Verify(ctx, rid); err != nil {
		t.Fatalf("verify refreshed id token: %v", err)
	}
	// The old refresh token is spent: reuse revokes the family.
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a rotated refresh token was accepted again")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
		t.Fatal("the family survived a reuse")
	}
}
