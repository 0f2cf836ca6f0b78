package forwardauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/authz"
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/forwardauth/forwardauthtest"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestStepUpRequiresMFA: a rule with RequireMFA refuses a token whose
// sign-in used the password alone with 401 and RFC 9470's
// insufficient_user_authentication, and lets the same user through once
// they signed in with their authenticator app.
func TestStepUpRequiresMFA(t *testing.T) {
	t.Parallel()
	g := forwardauthtest.Start(t, forwardauthtest.Options{Rules: []authz.Rule{
		{Path: "/reports/", Groups: []string{"Users"}},
		{Path: "/admin/", Groups: []string{"Users"}, RequireMFA: true},
	}})
	ctx := context.Background()
	alice := g.User(t, "alice@acme.test", "Acme", "Users")
	if res := g.Check(t, "GET", "/reports/1", alice.Access); res.StatusCode != 200 {
		t.Fatalf("password-only token on a plain rule: %d", res.StatusCode)
	}
	res := g.Check(t, "GET", "/admin/users", alice.Access)
	if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
		t.Fatalf("password-only token on a step-up rule: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}

	setup, err := g.Svc.AssociateSoftwareToken(ctx, auth.MFAAuth{AccessToken: alice.Access})
	if err != nil {
		t.Fatal(err)
	}
	code := func(steps int) string {
		c, err := totp.GenerateCode(setup.SecretCode, time.Now().Add(time.Duration(steps)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := g.Svc.VerifySoftwareToken(ctx, auth.VerifyTOTPInput{MFAAuth: auth.MFAAuth{AccessToken: alice.Access}, Code: code(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Svc.SetPoolMFA(ctx, g.Pool.ID, auth.PoolMFAConfig{Configuration: identity.MFAOptional}); err != nil {
		t.Fatal(err)
	}
	if err := g.Svc.SetUserMFAPreference(ctx, alice.Access, auth.MFAPreference{SoftwareToken: &auth.FactorPreference{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	r, err := g.Svc.InitiateAuth(ctx, auth.InitiateAuthInput{Client: auth.Client{ID: g.ClientID}, Flow: auth.AuthUserPassword,
		Username: alice.Email, Password: forwardauthtest.Password})
	if err != nil || r.Challenge == nil || r.Challenge.Name != auth.ChallengeSoftwareTokenMFA {
		t.Fatalf("sign-in: %+v %v", r, err)
	}
	r, err = g.Svc.RespondToAuthChallenge(ctx, auth.RespondInput{Client: auth.Client{ID: g.ClientID}, ChallengeName: r.Challenge.Name,
		Session: r.Challenge.Session, Responses: map[string]string{"SOFTWARE_TOKEN_MFA_CODE": code(1)}})
	if err != nil || r.Tokens == nil {
		t.Fatalf("TOTP answer: %+v %v", r, err)
	}
	if res := g.Check(t, "GET", "/admin/users", r.Tokens.AccessToken); res.StatusCode != 200 {
		t.Fatalf("token with mfa on a step-up rule: %d", res.StatusCode)
	}
}
