package auth

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)

	wantErr(t, e.s.ChangePassword(e.ctx, toks.AccessToken, wrongPW, goodPW2), identity.CodeNotAuthorized, "Incorrect username or password.")
	if u := e.getUser("jo@example.com"); u.FailedAttempts != 1 {
		t.Fatalf("failed attempts = %d, want 1 (one wrong previous password)", u.FailedAttempts)
	}
	wantErr(t, e.s.ChangePassword(e.ctx, toks.AccessToken, goodPW, "short"), identity.CodeInvalidPassword, "")
	if u := e.getUser("jo@example.com"); u.FailedAttempts != 1 {
		t.Fatalf("failed attempts = %d after a policy failure, want 1", u.FailedAttempts)
	}
	wantErr(t, e.s.ChangePassword(e.ctx, toks.AccessToken, "", goodPW2), identity.CodeInvalidParameter, "")
	wantErr(t, e.s.ChangePassword(e.ctx, "bogus", goodPW, goodPW2), identity.CodeInvalidToken, "")
	if err := e.s.ChangePassword(e.ctx, toks.AccessToken, goodPW, goodPW2); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if u := e.getUser("jo@example.com"); u.FailedAttempts != 0 {
		t.Fatalf("failed attempts = %d after a change", u.FailedAttempts)
	}
	_, err := e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	e.mustSignIn("jo@example.com", goodPW2)
	// Sessions are kept; the user is told.
	if _, err := e.s.GetUser(e.ctx, toks.AccessToken); err != nil {
		t.Fatalf("session after change: %v", err)
	}
	if len(e.emailsTo("jo@example.com", TemplatePasswordChanged)) != 1 {
		t.Fatal("no password changed email")
	}
	if !hasAction(e.auditActions(), "user.change_password") {
		t.Fatal("not audited")
	}
}

// The previous password is throttled like a sign-in.
func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	for i := 0; i < DefaultMaxFailures; i++ {
		wantErr(t, e.s.ChangePassword(e.ctx, toks.AccessToken, wrongPW, goodPW2), identity.CodeNotAuthorized, "Incorrect username or password.")
	}
	wantErr(t, e.s.ChangePassword(e.ctx, toks.AccessToken, goodPW, goodPW2), identity.CodePasswordAttemptsExceeded, "Password attempts exceeded")
}

func TestUpdateAndVerifyEmail(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{
			{Name: "custom:plan", Type: identity.AttrString, Mutable: true},
			{Name: "custom:tenant", Type: identity.AttrString, Mutable: false},
		}
	}, nil)
	e.confirmedUser("taken@example.com")
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)

	res, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"name": "Jo", "custom:plan": "pro"})
	if err != nil || len(res.CodeDeliveries) != 0 || res.PendingEmail != "" {
		t.Fatalf("UpdateUserAttributes = %v, %v", res, err)
	}
	u := e.getUser("jo@example.com")
	if u.Attributes["name"] != "Jo" || u.Attributes["custom:plan"] != "pro" {
		t.Fatalf("attributes = %v", u.Attributes)
	}
	for _, bad := range []map[string]string{
		{"email_verified": "true"},
		{"custom:tenant": "x"},
		{"custom:nope": "x"},
		{"sub": "x"},
		{"email": "not-an-email"},
	} {
		_, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, bad)
		wantErr(t, err, identity.CodeInvalidParameter, "")
	}
	_, err = e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"email": "TAKEN@example.com"})
	wantErr(t, err, identity.CodeAliasExists, "")

	e.advance(time.Second)
	res, err = e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"email": "new@example.com"})
	if err != nil || len(res.CodeDeliveries) != 1 || res.CodeDeliveries[0].Destination != "n***@e***" || res.PendingEmail != "new@example.com" {
		t.Fatalf("email change = %v, %v", res, err)
	}
	u = e.getUser("jo@example.com") // the username stays; the verified email stays in force (security.md A5)
	if u.Email != "jo@example.com" || !u.EmailVerified || u.PendingEmail != "new@example.com" {
		t.Fatalf("after email change: %s verified=%v pending=%s", u.Email, u.EmailVerified, u.PendingEmail)
	}
	code := e.lastCode("new@example.com", TemplateVerifyEmail)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	wantErr(t, e.s.VerifyUserAttribute(e.ctx, toks.AccessToken, "email", wrong), identity.CodeCodeMismatch, "")
	wantErr(t, e.s.VerifyUserAttribute(e.ctx, toks.AccessToken, "phone_number", code), identity.CodeInvalidParameter, "")
	if err := e.s.VerifyUserAttribute(e.ctx, toks.AccessToken, "email", code); err != nil {
		t.Fatalf("VerifyUserAttribute: %v", err)
	}
	if u := e.getUser("jo@example.com"); !u.EmailVerified || u.Email != "new@example.com" || u.PendingEmail != "" {
		t.Fatalf("email not verified: %+v", u)
	}
	// A fresh code on request.
	cd, err := e.s.GetUserAttributeVerificationCode(e.ctx, toks.AccessToken, "email", RequestMeta{})
	if err != nil || cd.Destination != "n***@e***" || len(e.emailsTo("new@example.com", TemplateVerifyEmail)) != 2 {
		t.Fatalf("GetUserAttributeVerificationCode = %+v, %v", cd, err)
	}
	acts := e.auditActions()
	if !hasAction(acts, "user.update_attributes") || !hasAction(acts, "user.verify_email") {
		t.Fatalf("audit = %v", acts)
	}
}

// A verification code sent to one address does not verify another.
func TestVerifyCodeBoundToAddress(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias }, nil)
	e.signUp("jo", map[string]string{"email": "jo@example.com"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo", Code: e.lastCode("jo@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	toks := e.mustSignIn("jo", goodPW)
	if _, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"email": "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode("a@example.com", TemplateVerifyEmail)
	if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, "jo", map[string]string{"email": "b@example.com", "email_verified": "false"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.s.VerifyUserAttribute(e.ctx, toks.AccessToken, "email", code), identity.CodeCodeMismatch, "")
}

func TestClientWriteAttributes(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, func(in *CreateClientInput) { in.WriteAttributes = []string{"name"} })
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	if _, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"name": "Jo"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"family_name": "Doe"})
	wantErr(t, err, identity.CodeNotAuthorized, "")
	wantErr(t, e.s.DeleteUserAttributes(e.ctx, toks.AccessToken, []string{"family_name"}), identity.CodeNotAuthorized, "")
}

func TestDeleteUserAttributes(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.Schema = []identity.AttributeDef{{Name: "custom:plan", Type: identity.AttrString, Mutable: true}}
	}, nil)
	e.signUp("jo@example.com", map[string]string{"name": "Jo", "custom:plan": "pro", "locale": "en"})
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: e.lastCode("jo@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatal(err)
	}
	toks := e.mustSignIn("jo@example.com", goodPW)
	for _, bad := range [][]string{{"email"}, {"email_verified"}, {"custom:nope"}, {"shoe_size"}, nil} {
		wantErr(t, e.s.DeleteUserAttributes(e.ctx, toks.AccessToken, bad), identity.CodeInvalidParameter, "")
	}
	if err := e.s.DeleteUserAttributes(e.ctx, toks.AccessToken, []string{"name", "custom:plan"}); err != nil {
		t.Fatal(err)
	}
	u := e.getUser("jo@example.com")
	if _, ok := u.Attributes["name"]; ok || u.Attributes["custom:plan"] != "" || u.Attributes["locale"] != "en" || u.Email != "jo@example.com" {
		t.Fatalf("attributes after delete = %v", u.Attributes)
	}
}

func TestGetUserAndDeleteUser(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	toks := e.mustSignIn("jo@example.com", goodPW)
	v, err := e.s.GetUser(e.ctx, toks.AccessToken)
	if err != nil || v.User.Email != "jo@example.com" || v.Groups == nil && len(v.Groups) != 0 {
		t.Fatalf("GetUser = %+v, %v", v, err)
	}
	if err := e.s.DeleteUser(e.ctx, toks.AccessToken); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if n, _ := e.st.CountUsers(e.ctx, e.pool.ID); n != 0 {
		t.Fatalf("users = %d", n)
	}
	_, err = e.s.GetUser(e.ctx, toks.AccessToken)
	wantErr(t, err, identity.CodeUserNotFound, "")
	_, err = e.refresh(toks.RefreshToken)
	wantErr(t, err, identity.CodeNotAuthorized, "")
	if !hasAction(e.auditActions(), "user.delete") {
		t.Fatal("not audited")
	}
	// The address can sign up again.
	e.signUp("jo@example.com", nil)
}

// A verified phone number does not stay verified when the user changes it
// (security.md A10): the stored flag and the ID token say false; removing
// the number removes the flag. The user cannot set it back.
func TestChangedPhoneIsUnverified(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	if err := e.s.AdminUpdateUserAttributes(e.ctx, e.pool.ID, "jo@example.com", map[string]string{"phone_number": "+14325551212", "phone_number_verified": "true"}); err != nil {
		t.Fatal(err)
	}
	toks := e.mustSignIn("jo@example.com", goodPW)
	if _, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"phone_number": "+14325551213"}); err != nil {
		t.Fatal(err)
	}
	if v := e.getUser("jo@example.com").Attributes["phone_number_verified"]; v != "false" {
		t.Fatalf("phone_number_verified after the user's change = %q", v)
	}
	_, err := e.s.UpdateUserAttributes(e.ctx, toks.AccessToken, map[string]string{"phone_number_verified": "true"})
	wantErr(t, err, identity.CodeInvalidParameter, "")
	if id := claimsOf(t, e.mustSignIn("jo@example.com", goodPW).IDToken); id["phone_number_verified"] != false {
		t.Fatalf("ID token phone_number_verified = %v", id["phone_number_verified"])
	}
	if err := e.s.DeleteUserAttributes(e.ctx, toks.AccessToken, []string{"phone_number"}); err != nil {
		t.Fatal(err)
	}
	if v, ok := e.getUser("jo@example.com").Attributes["phone_number_verified"]; ok {
		t.Fatalf("phone_number_verified %q outlived the number", v)
	}
}
