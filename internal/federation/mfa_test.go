package federation_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestFederatedSignInRequiresMFA: a downstream pool with MFA ON gives a
// federated user no session before their own factor (the enrolment page),
// even when the upstream sign-in used a second factor, unless the pool
// trusts the upstream's amr; then Jane's upstream TOTP sign-in counts.
func TestFederatedSignInRequiresMFA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t, setupOpts{})
	if _, err := e.down.svc.SetPoolMFA(ctx, e.pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
		t.Fatal(err)
	}
	r := e.signIn(newBrowser(t), "corp", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.url, e.down.base) || !strings.Contains(r.body, `name="challenge" value="MFA_SETUP"`) {
		t.Fatalf("federated sign-in with MFA ON ended at %s: %d %s", r.url, r.status, r.body)
	}

	// Jane enrols an app upstream; the upstream pool asks for it.
	uc, err := e.up.svc.CreateClient(ctx, auth.CreateClientInput{PoolID: e.upPool.ID, Name: "direct", AuthFlows: []string{identity.FlowUserPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.up.svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: uc.Client.ID}, Flow: auth.AuthUserPassword,
		Username: janeEmail, Password: janePW})
	if err != nil || res.Tokens == nil {
		t.Fatalf("upstream sign-in: %+v %v", res, err)
	}
	setup, err := e.up.svc.AssociateSoftwareToken(ctx, auth.MFAAuth{AccessToken: res.Tokens.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(setup.SecretCode, e.up.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := e.up.svc.VerifySoftwareToken(ctx, auth.VerifyTOTPInput{MFAAuth: auth.MFAAuth{AccessToken: res.Tokens.AccessToken}, Code: code()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.up.svc.SetPoolMFA(ctx, e.upPool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOn}); err != nil {
		t.Fatal(err)
	}
	signInWithUpstreamTOTP := func() resp {
		e.up.clock.Advance(30 * time.Second)
		b := newBrowser(t)
		next := e.button(e.loginPage(b), "corp")
		var r resp
		for range 20 { // to the upstream's sign-in page
			if r = b.get(next); r.status != http.StatusFound && r.status != http.StatusSeeOther {
				break
			}
			next = resolve(r.url, r.header.Get("Location"))
		}
		r = b.submit(r, "username", janeEmail, "password", janePW)
		if r.status != http.StatusOK || !strings.HasPrefix(r.url, e.up.base) || !strings.Contains(r.body, `value="SOFTWARE_TOKEN_MFA"`) {
			t.Fatalf("upstream TOTP page: %s %d %s", r.url, r.status, r.body)
		}
		done := b.submit(r, "code", code())
		if done.status != http.StatusSeeOther && done.status != http.StatusFound {
			t.Fatalf("upstream TOTP answer: %d %s", done.status, done.body)
		}
		return e.walk(b, resolve(done.url, done.header.Get("Location")), nil)
	}
	// Not trusted: the upstream's mfa does not count.
	if r := signInWithUpstreamTOTP(); !strings.Contains(r.body, `name="challenge" value="MFA_SETUP"`) {
		t.Fatalf("untrusted upstream MFA counted: %s %d %s", r.url, r.status, r.body)
	}
	if _, err := e.down.svc.SetPoolMFA(ctx, e.pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOn, TrustUpstreamMFA: true}); err != nil {
		t.Fatal(err)
	}
	if r := signInWithUpstreamTOTP(); r.status != http.StatusOK || !strings.Contains(r.url, "/account") {
		t.Fatalf("trusted upstream MFA: %s %d %s", r.url, r.status, r.body)
	}
}
