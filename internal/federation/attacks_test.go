package federation_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// rewriteUpstreamAuthorize returns a walk hook that changes one parameter
// of the request sent to the upstream's /oauth2/authorize.
func (e *env) rewriteUpstreamAuthorize(param, value string) func(string) string {
	return func(u string) string {
		if !strings.HasPrefix(u, e.up.base+"/") || !strings.Contains(u, "/oauth2/authorize") {
			return u
		}
		pu, _ := url.Parse(u)
		q := pu.Query()
		if q.Get("client_id") != e.upClient || q.Get(param) == "" {
			return u // not the downstream's request (already rewritten, or the sign-in's return_to)
		}
		q.Set(param, value)
		pu.RawQuery = q.Encode()
		return pu.String()
	}
}

// rewriteCallback changes a parameter of the upstream's redirect to the
// downstream's /oauth2/idpresponse.
func (e *env) rewriteCallback(param, value string) func(string) string {
	return func(u string) string {
		if !strings.Contains(u, "/oauth2/idpresponse") {
			return u
		}
		pu, _ := url.Parse(u)
		q := pu.Query()
		q.Set(param, value)
		pu.RawQuery = q.Encode()
		return pu.String()
	}
}

// TestTamperingRefused: a changed state, a nonce swapped before the
// upstream saw it, a PKCE challenge swapped, a callback replayed, a
// callback in a browser that did not start the attempt (login CSRF), and
// an upstream error: every one ends on the sign-in page with an error,
// without a session or a user.
func TestTamperingRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	_, challenge := pkcePair()
	cases := []struct {
		name   string
		hook   func(string) string
		status int
	}{
		{"state changed", e.rewriteCallback("state", "forged-state"), http.StatusBadRequest},
		{"state removed", e.rewriteCallback("state", ""), http.StatusBadRequest},
		{"nonce swapped", e.rewriteUpstreamAuthorize("nonce", "attacker-nonce"), http.StatusUnauthorized},
		{"pkce challenge swapped", e.rewriteUpstreamAuthorize("code_challenge", challenge), http.StatusUnauthorized},
		{"code forged", e.rewriteCallback("code", "forged-code"), http.StatusUnauthorized},
		{"upstream error", e.rewriteCallback("error", "access_denied"), http.StatusUnauthorized},
	}
	for _, c := range cases {
		b := newBrowser(t)
		r := e.signIn(b, "corp", c.hook)
		if r.status != c.status || !strings.Contains(r.body, "did not complete") && !strings.Contains(r.body, "did not confirm") {
			t.Errorf("%s: %d at %s: %s", c.name, r.status, r.url, r.body)
			continue
		}
		if acc := b.get(e.downIssuer + "/account?client_id=" + e.app); acc.status != http.StatusFound {
			t.Errorf("%s: a session exists: %d", c.name, acc.status)
		}
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d users after refused callbacks", n)
	}

	// Replay: the callback URL of a completed sign-in, again in the same
	// browser (its cookie is gone) and in another browser (login CSRF).
	var callback string
	b := newBrowser(t)
	r := e.signIn(b, "corp", func(u string) string {
		if strings.Contains(u, "/oauth2/idpresponse") {
			callback = u
		}
		return u
	})
	if r.status != http.StatusOK || callback == "" {
		t.Fatalf("honest sign-in: %d %s", r.status, r.url)
	}
	if rr := b.get(callback); rr.status != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", rr.status)
	}
	other := newBrowser(t)
	e.loginPage(other)
	if rr := other.get(callback); rr.status != http.StatusBadRequest {
		t.Fatalf("callback in another browser: %d", rr.status)
	}
	if acc := other.get(e.downIssuer + "/account?client_id=" + e.app); acc.status != http.StatusFound {
		t.Fatalf("login CSRF gave the other browser a session: %d", acc.status)
	}
}

// TestWrongAudienceAndIssuer: an upstream ID token for another client
// (aud) is refused; a provider whose configured issuer differs from the
// discovered one is refused at the start.
func TestWrongAudienceAndIssuer(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	// A second upstream client with the same callback; the downstream
	// provider "other" authenticates as it but claims to be the first
	// client: the upstream refuses the code (client mismatch), and any ID
	// token would carry the wrong aud.
	uc, err := e.up.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.upPool.ID, Name: "other", GenerateSecret: true,
		AuthFlows: []string{identity.FlowRefreshToken}, CallbackURLs: []string{e.down.svc.FederationCallbackURL(e.pool)},
		OAuthFlows: []string{"code"}, OAuthScopes: []string{"openid", "email"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.down.svc.SetIdentityProvider(ctx, e.pool.ID, identity.IdentityProvider{Name: "other", Type: identity.ProviderOIDC,
		Issuer: e.up.svc.Issuer(e.upPool), ClientID: uc.Client.ID}, e.upSecret); err != nil {
		t.Fatal(err)
	}
	r := e.signIn(newBrowser(t), "other", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %d %s", r.status, r.body)
	}
	// Issuer mismatch: discovery at a URL whose document names another issuer.
	if _, err := e.down.svc.SetIdentityProvider(ctx, e.pool.ID, identity.IdentityProvider{Name: "bad-iss", Type: identity.ProviderOIDC,
		Issuer: e.up.base + "/" + e.upPool.ID + "/", ClientID: e.upClient}, e.upSecret); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	rr := b.get(e.button(e.loginPage(b), "bad-iss"))
	if rr.status == http.StatusFound {
		t.Fatalf("issuer mismatch went upstream: %s", rr.header.Get("Location"))
	}
	if n := e.count(); n != 0 {
		t.Fatalf("%d users", n)
	}
}

// TestTakeover (attack test 8): an attacker pre-registers the victim's
// email with a password and never verifies it. The victim then signs in
// with the provider: no link, no access to the attacker's account, and
// the unverified account cannot take over the federated one.
func TestTakeover(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	const attackerPW = "attacker chosen password 99"
	out, err := e.down.svc.SignUp(ctx, auth.SignUpInput{Client: auth.Client{ID: e.app}, Username: janeEmail, Password: attackerPW})
	if err != nil {
		t.Fatal(err)
	}
	attacker := out.UserSub

	b := newBrowser(t)
	r := e.signIn(b, "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("victim's sign-in: %d %s %s", r.status, r.url, r.body)
	}
	if strings.Contains(r.body, attacker) {
		t.Fatal("the victim landed in the attacker's account")
	}
	fed := e.user("corp_" + e.janeSub)
	if fed.Sub == attacker || fed.Status != identity.StatusExternalProvider || !fed.EmailVerified {
		t.Fatalf("federated user %+v", fed)
	}
	if links, _ := e.down.st.ListLinkedIdentities(ctx, e.pool.ID, attacker); len(links) != 0 {
		t.Fatalf("the attacker's account was linked: %+v", links)
	}
	// The attacker's account stays unconfirmed and unusable.
	att := e.user(janeEmail)
	if att.Sub != attacker || att.Status != identity.StatusUnconfirmed || att.EmailVerified {
		t.Fatalf("attacker's account changed: %+v", att)
	}
	_, err = e.down.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: e.app}, Flow: auth.AuthUserPassword,
		Username: janeEmail, Password: attackerPW})
	if identity.ErrorCode(err) != identity.CodeUserNotConfirmed {
		t.Fatalf("attacker's sign-in: %v", err)
	}
	// Even confirmed by an admin (email still unverified), the attacker's
	// account is not offered for linking and the victim keeps her own.
	if err := e.down.svc.AdminConfirmSignUp(ctx, e.pool.ID, janeEmail); err != nil {
		t.Fatal(err)
	}
	r = e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, fed.Sub) || strings.Contains(r.body, attacker) {
		t.Fatalf("victim's second sign-in: %d %s", r.status, r.body)
	}
	res, err := e.down.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: e.app}, Flow: auth.AuthUserPassword,
		Username: janeEmail, Password: attackerPW})
	if err != nil {
		t.Fatal(err)
	}
	if sub := jwtClaims(t, res.Tokens.IDToken)["sub"]; sub != attacker {
		t.Fatalf("the attacker's password opened %v", sub)
	}
	if _, ok := jwtClaims(t, res.Tokens.IDToken)["identities"]; ok {
		t.Fatal("the attacker's token carries the victim's identity")
	}
	if n := e.count(); n != 2 {
		t.Fatalf("%d users", n)
	}
}

// localPW is the password of localJane's account.
const localPW = "the local account password 7"

// localJane creates a confirmed local account for janeEmail, email
// verified, with localPW, and returns its sub.
func localJane(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	v, err := e.down.svc.AdminCreateUser(ctx, auth.AdminCreateUserInput{PoolID: e.pool.ID, Username: janeEmail, MessageAction: "SUPPRESS",
		Attributes: map[string]string{"email": janeEmail, "email_verified": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.down.svc.AdminSetUserPassword(ctx, e.pool.ID, janeEmail, localPW, true); err != nil {
		t.Fatal(err)
	}
	return v.User.Sub
}

// TestLinkNeedsPassword: a local account with a verified email is linked
// only after its password is entered in the same flow; a wrong password
// links nothing; the ticket cannot be replayed for another identity.
func TestLinkNeedsPassword(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	local := localJane(t, e)

	b := newBrowser(t)
	page := e.signIn(b, "corp", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="ticket"`) || !strings.Contains(page.body, "Link") {
		t.Fatalf("expected the link page: %d %s", page.status, page.body)
	}
	if links, _ := e.down.st.ListLinkedIdentities(ctx, e.pool.ID, local); len(links) != 0 {
		t.Fatal("linked before the password")
	}
	wrong := b.submit(page, "password", "not the password at all")
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", wrong.status, wrong.body)
	}
	if links, _ := e.down.st.ListLinkedIdentities(ctx, e.pool.ID, local); len(links) != 0 {
		t.Fatal("linked after a wrong password")
	}
	// A forged ticket is refused.
	forged := b.submit(page, "password", localPW, "ticket", "AAAA"+strings.Repeat("x", 60))
	if forged.status != http.StatusUnauthorized {
		t.Fatalf("forged ticket: %d", forged.status)
	}
	ok := b.submit(page, "password", localPW)
	if ok.status != http.StatusSeeOther {
		t.Fatalf("right password: %d %s", ok.status, ok.body)
	}
	acc := b.get(resolve(ok.url, ok.header.Get("Location")))
	if !strings.Contains(acc.body, local) {
		t.Fatalf("not signed in to the local account: %s", acc.body)
	}
	links, _ := e.down.st.ListLinkedIdentities(ctx, e.pool.ID, local)
	if len(links) != 1 || links[0].Subject != e.janeSub {
		t.Fatalf("links %+v", links)
	}
	// Next time the provider opens the local account directly.
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, local) {
		t.Fatalf("second federated sign-in: %d %s", r.status, r.body)
	}
	if n := e.count(); n != 1 {
		t.Fatalf("%d users", n)
	}
}

// TestLinkAtSignInRespectsTheLimit: a local account that already holds
// auth.MaxLinkedIdentities links gets no sixth through the sign-in link
// page, even with the right password.
func TestLinkAtSignInRespectsTheLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{})
	ctx := context.Background()
	local := localJane(t, e)
	for i := 0; i < auth.MaxLinkedIdentities; i++ {
		if _, err := e.down.svc.AdminLinkProviderForUser(ctx, auth.LinkProviderInput{PoolID: e.pool.ID, Username: janeEmail,
			Provider: "corp", Subject: fmt.Sprintf("other-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	page := e.signIn(b, "corp", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="ticket"`) {
		t.Fatalf("expected the link page: %d %s", page.status, page.body)
	}
	res := b.submit(page, "password", localPW)
	if res.status < 400 || res.status >= 500 {
		t.Fatalf("sixth link: %d %s", res.status, res.body)
	}
	links, _ := e.down.st.ListLinkedIdentities(ctx, e.pool.ID, local)
	if len(links) != auth.MaxLinkedIdentities {
		t.Fatalf("%d links, want %d", len(links), auth.MaxLinkedIdentities)
	}
	for _, l := range links {
		if l.Subject == e.janeSub {
			t.Fatal("the sixth identity was linked")
		}
	}
}
