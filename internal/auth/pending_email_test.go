package auth

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestPendingEmailChange: with Gatehouse's default, a user's new email is
// pending until its code is confirmed; the verified address stays in force
// (tokens, sign-in, password recovery), and the answer says what is
// pending. security.md A5
func TestPendingEmailChange(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.confirmedUser("jo@example.com")
		e.confirmedUser("kim@example.com")
		tok := e.mustSignIn("jo@example.com", goodPW)

		// Another user's address cannot even be pending.
		_, err := e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"email": "kim@example.com"})
		wantErr(t, err, identity.CodeAliasExists, "")

		res, err := e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"email": "Jo.New@example.com", "name": "Jo"})
		if err != nil {
			t.Fatal(err)
		}
		if res.PendingEmail != "jo.new@example.com" || len(res.CodeDeliveries) != 1 || res.CodeDeliveries[0].Destination != "j***@e***" {
			t.Fatalf("answer %+v", res)
		}
		u := e.getUser("jo@example.com")
		if u.Email != "jo@example.com" || !u.EmailVerified || u.PendingEmail != "jo.new@example.com" || u.Attributes["name"] != "Jo" {
			t.Fatalf("user while pending %+v", u)
		}
		if v, err := e.s.GetUser(e.ctx, tok.AccessToken); err != nil || v.User.PendingEmail != "jo.new@example.com" {
			t.Fatalf("GetUser while pending %+v %v", v, err)
		}
		// The tokens keep the verified address.
		r, err := e.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if c := claimsOf(t, r.Tokens.IDToken); c["email"] != "jo@example.com" || c["email_verified"] != true {
			t.Fatalf("ID token while pending: %v %v", c["email"], c["email_verified"])
		}
		// Recovery goes to the address in force, not the pending one.
		if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"}); err != nil {
			t.Fatal(err)
		}
		if len(e.emailsTo("jo@example.com", TemplateForgotPassword)) != 1 || len(e.emailsTo("jo.new@example.com", TemplateForgotPassword)) != 0 {
			t.Fatal("the reset code went to the pending address")
		}
		// A code for the old address does not confirm the new one.
		if _, err := e.s.GetUserAttributeVerificationCode(e.ctx, tok.AccessToken, "email", RequestMeta{}); err != nil {
			t.Fatal(err)
		}
		if n := len(e.emailsTo("jo.new@example.com", TemplateVerifyEmail)); n != 2 {
			t.Fatalf("%d verification emails to the pending address", n)
		}
		if len(e.emailsTo("jo@example.com", TemplateVerifyEmail)) != 0 {
			t.Fatal("a verification code went to the address in force")
		}
		wantErr(t, e.s.VerifyUserAttribute(e.ctx, tok.AccessToken, "email", "000000"), identity.CodeCodeMismatch, "")
		if err := e.s.VerifyUserAttribute(e.ctx, tok.AccessToken, "email", e.lastCode("jo.new@example.com", TemplateVerifyEmail)); err != nil {
			t.Fatal(err)
		}
		u = e.getUser("jo@example.com") // the username of an email pool stays
		if u.Email != "jo.new@example.com" || !u.EmailVerified || u.PendingEmail != "" {
			t.Fatalf("user after confirming %+v", u)
		}
		r, err = e.refresh(r.Tokens.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if c := claimsOf(t, r.Tokens.IDToken); c["email"] != "jo.new@example.com" || c["email_verified"] != true {
			t.Fatalf("ID token after confirming: %v %v", c["email"], c["email_verified"])
		}
	})
}

// TestEmailUpdateWithoutVerification: a pool that turned the setting off
// (Cognito's default for CreateUserPool) takes the new email at once,
// unverified, as Cognito does. security.md A5
func TestEmailUpdateWithoutVerification(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.EmailUpdateWithoutVerification = true }, nil)
	if !e.pool.Settings.UserAttributeUpdate.EmailWithoutVerification {
		t.Fatalf("setting not stored: %+v", e.pool.Settings.UserAttributeUpdate)
	}
	e.confirmedUser("jo@example.com")
	tok := e.mustSignIn("jo@example.com", goodPW)
	res, err := e.s.UpdateUserAttributes(e.ctx, tok.AccessToken, map[string]string{"email": "jo.new@example.com"})
	if err != nil || res.PendingEmail != "" || len(res.CodeDeliveries) != 1 {
		t.Fatalf("answer %+v %v", res, err)
	}
	u := e.getUser("jo@example.com")
	if u.Email != "jo.new@example.com" || u.EmailVerified || u.PendingEmail != "" {
		t.Fatalf("user %+v", u)
	}
}
