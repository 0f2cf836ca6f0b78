package auth

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestForgotPasswordFlow(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	old := e.mustSignIn("jo@example.com", goodPW)
	// Some failures before: a reset clears the lock.
	for i := 0; i < DefaultMaxFailures; i++ {
		_, _ = e.signIn("jo@example.com", wrongPW)
	}

	cd, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"})
	if err != nil || cd.Destination != "j***@e***" || cd.DeliveryMedium != "EMAIL" {
		t.Fatalf("ForgotPassword = %+v, %v", cd, err)
	}
	code := e.lastCode("jo@example.com", TemplateForgotPassword)
	confirm := func(code, pw string) error {
		return e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: code, NewPassword: pw})
	}
	// A policy failure does not use up an attempt or the code.
	wantErr(t, confirm(code, "short"), identity.CodeInvalidPassword, "")
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	wantErr(t, confirm(wrong, goodPW2), identity.CodeCodeMismatch, "")
	wantErr(t, confirm("", goodPW2), identity.CodeInvalidParameter, "")
	e.advance(time.Millisecond)
	if err := confirm(code, goodPW2); err != nil {
		t.Fatalf("ConfirmForgotPassword: %v", err)
	}
	wantErr(t, confirm(code, goodPW2), identity.CodeCodeMismatch, "") // single use

	u := e.getUser("jo@example.com")
	if u.Status != identity.StatusConfirmed || u.FailedAttempts != 0 || !u.LockedUntil.IsZero() {
		t.Fatalf("user after reset = %+v", u)
	}
	// Sessions are revoked.
	_, err = e.refresh(old.RefreshToken)
	wantErr(t, err, identity.CodeNotAuthorized, "Refresh Token has been revoked")
	_, err = e.s.GetUser(e.ctx, old.AccessToken)
	wantErr(t, err, identity.CodeNotAuthorized, "Access Token has been revoked")
	// The new password works, the old does not.
	_, err = e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodeNotAuthorized, "Incorrect username or password.")
	e.mustSignIn("jo@example.com", goodPW2)
	if len(e.emailsTo("jo@example.com", TemplatePasswordChanged)) != 1 {
		t.Fatal("no password changed email")
	}
	acts := e.auditActions()
	if !hasAction(acts, "user.forgot_password") || !hasAction(acts, "user.password_reset") {
		t.Fatalf("audit = %v", acts)
	}
}

func TestForgotPasswordResetRequired(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	if err := e.s.AdminResetUserPassword(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err := e.signIn("jo@example.com", goodPW)
	wantErr(t, err, identity.CodePasswordResetRequired, "Password reset required for the user")
	code := e.lastCode("jo@example.com", TemplateForgotPassword)
	if err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: code, NewPassword: goodPW2}); err != nil {
		t.Fatal(err)
	}
	e.mustSignIn("jo@example.com", goodPW2)
}

func TestForgotPasswordCodeExpiry(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.confirmedUser("jo@example.com")
	if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"}); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode("jo@example.com", TemplateForgotPassword)
	e.advance(ForgotCodeTTL)
	err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: code, NewPassword: goodPW2})
	wantErr(t, err, identity.CodeExpiredCode, "")
	e.mustSignIn("jo@example.com", goodPW)
}

func TestForgotPasswordErrors(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.signUp("unverified@example.com", nil)
	e.confirmedUser("disabled@example.com")
	e.setUser("disabled@example.com", func(u *identity.User) { u.Enabled = false })

	_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "nobody@example.com"})
	wantErr(t, err, identity.CodeUserNotFound, "User does not exist.")
	_, err = e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "unverified@example.com"})
	wantErr(t, err, identity.CodeInvalidParameter, "Cannot reset password for the user as there is no registered/verified email or phone_number")
	_, err = e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "disabled@example.com"})
	wantErr(t, err, identity.CodeUserDisabled, "User is disabled.")
	err = e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "nobody@example.com", Code: "123456", NewPassword: goodPW2})
	wantErr(t, err, identity.CodeUserNotFound, "User does not exist.")
	if n := len(e.emailsTo("unverified@example.com", TemplateForgotPassword)); n != 0 {
		t.Fatalf("%d reset emails to an unverified address", n)
	}
}

// With PreventUserExistenceErrors, known and unknown users get the same
// answers from ForgotPassword and ConfirmForgotPassword; nothing is sent to
// an unknown one.
func TestForgotPasswordPreventUserExistence(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	e.confirmedUser("jo@example.com")
	known, err1 := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"})
	unknown, err2 := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jim@example.com"})
	if err1 != nil || err2 != nil || *known != *unknown {
		t.Fatalf("known %+v %v, unknown %+v %v", known, err1, unknown, err2)
	}
	if n := len(e.emailsTo("jim@example.com", TemplateForgotPassword)); n != 0 {
		t.Fatal("email sent to an unknown user")
	}
	code := e.lastCode("jo@example.com", TemplateForgotPassword)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	errKnown := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: wrong, NewPassword: goodPW2})
	errUnknown := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jim@example.com", Code: wrong, NewPassword: goodPW2})
	sameError(t, errKnown, errUnknown)

	// A username pool: the invented destination has the same shape.
	n := userSetup(t, func(in *CreatePoolInput) {
		in.PreventUserExistenceErrors = true
		in.UsernameMode = identity.UsernameWithEmailAlias
	}, nil)
	cd, err := n.s.ForgotPassword(n.ctx, ForgotPasswordInput{Client: n.c(), Username: "ghost"})
	if err != nil || len(cd.Destination) != len("a***@b***") || cd.Destination[1:5] != "***@" {
		t.Fatalf("fake delivery = %+v, %v", cd, err)
	}
	again, _ := n.s.ForgotPassword(n.ctx, ForgotPasswordInput{Client: n.c(), Username: "ghost"})
	if *again != *cd {
		t.Fatal("fake destination is not stable")
	}
}

// An admin-only pool (Cognito's AccountRecoverySetting admin_only) sends
// no reset code on request, to anybody, on every surface; the answer does
// not tell known names from unknown ones. An administrator's reset still
// works.
func TestForgotPasswordAdminOnly(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) {
		in.AccountRecovery = []identity.RecoveryMechanism{{Name: identity.RecoveryAdminOnly, Priority: 1}}
	}, nil)
	e.confirmedUser("jo@example.com")
	for _, name := range []string{"jo@example.com", "nobody@example.com"} {
		_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: name})
		wantErr(t, err, identity.CodeNotAuthorized, "Contact administrator to reset password.")
	}
	if n := len(e.emailsTo("jo@example.com", TemplateForgotPassword)); n != 0 {
		t.Fatalf("%d reset emails in an admin-only pool", n)
	}
	if err := e.s.AdminResetUserPassword(e.ctx, e.pool.ID, "jo@example.com"); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode("jo@example.com", TemplateForgotPassword)
	if err := e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: code, NewPassword: goodPW2}); err != nil {
		t.Fatal(err)
	}
	e.mustSignIn("jo@example.com", goodPW2)
}
