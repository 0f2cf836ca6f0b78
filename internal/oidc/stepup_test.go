package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// TestStepUpACRValues: in a pool whose policy asks for no second factor,
// a relying party (coreos/go-oidc + x/oauth2) that sends
// acr_values=urn:gatehouse:acr:mfa gets no code from a password-only
// session: the user signs in again and, having no factor, enrols an
// authenticator app; the ID token says acr urn:gatehouse:acr:mfa and amr
// with mfa. The old single-factor session cookie still gets no code for a
// step-up request (nor does the claims parameter's essential acr), while a
// request without acr_values gets one whose ID token says acr pwd.
// Discovery lists acr_values_supported.
func TestStepUpACRValues(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := gooidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var disc struct {
		ACR []string `json:"acr_values_supported"`
	}
	if err := provider.Claims(&disc); err != nil || !slices.Contains(disc.ACR, auth.ACRMFA) {
		t.Fatalf("acr_values_supported: %v %v", disc.ACR, err)
	}
	conf := oauth2.Config{ClientID: e.conf, ClientSecret: e.confSecret, Endpoint: provider.Endpoint(), RedirectURL: rpCallback,
		Scopes: []string{gooidc.ScopeOpenID}}
	idToken := func(code string) map[string]any {
		t.Helper()
		tok, err := conf.Exchange(ctx, code)
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		idt, err := provider.Verifier(&gooidc.Config{ClientID: e.conf, Now: e.clock.Now}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		var c map[string]any
		_ = idt.Claims(&c)
		return c
	}

	old := e.signedIn() // amr [pwd]
	plain := e.authorize(old, conf.AuthCodeURL("s0"))
	if c := idToken(plain.Query().Get("code")); c["acr"] != auth.ACRPassword {
		t.Fatalf("acr without step-up: %v", c["acr"])
	}

	stepUp := conf.AuthCodeURL("s1", oauth2.SetAuthURLParam("acr_values", auth.ACRMFA))
	r := old.b.Get(stepUp)
	if r.Status != http.StatusFound || !strings.Contains(r.Location(), "/login") || !strings.Contains(r.Location(), "prompt=login") {
		t.Fatalf("step-up with a password-only session: %d %s", r.Status, r.Location())
	}
	essential := conf.AuthCodeURL("s2", oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["`+auth.ACRMFA+`"]}}}`))
	if r := old.b.Get(essential); r.Status != http.StatusFound || !strings.Contains(r.Location(), "/login") {
		t.Fatalf("essential acr with a password-only session: %d %s", r.Status, r.Location())
	}
	if r := old.b.Get(conf.AuthCodeURL("s3", oauth2.SetAuthURLParam("claims", "{not json"))); r.Status == http.StatusOK || r.Status >= 500 {
		t.Fatalf("a malformed claims parameter: %d", r.Status)
	}

	// A fresh browser: the password, then (no factor yet) enrolment.
	b := newBrowser(t)
	r = b.b.Get(stepUp)
	page := b.b.Submit(b.b.Get(r.Location()), "username", userEmail, "password", userPW)
	m := secretRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("step-up enrolment page: %d %s", page.Status, page.Body)
	}
	code, err := totp.GenerateCode(m[1], e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := b.b.Submit(page, "code", code)
	if done.Status != http.StatusSeeOther && done.Status != http.StatusFound {
		t.Fatalf("enrolment: %d %s", done.Status, done.Body)
	}
	back := e.authorize(b, done.Location())
	c := idToken(back.Query().Get("code"))
	amr, _ := c["amr"].([]any)
	if c["acr"] != auth.ACRMFA || !slices.Contains(amr, any("mfa")) {
		t.Fatalf("step-up token: acr %v amr %v", c["acr"], amr)
	}
	// The old cookie still gets no code for a step-up request.
	if r := old.b.Get(stepUp); r.Status != http.StatusFound || !strings.Contains(r.Location(), "/login") {
		t.Fatalf("old session after another browser's step-up: %d %s", r.Status, r.Location())
	}
	// The stepped-up browser does, at once.
	if u, _ := url.Parse(b.b.Get(stepUp).Location()); u == nil || u.Query().Get("code") == "" {
		t.Fatalf("stepped-up session: %v", u)
	}
}
