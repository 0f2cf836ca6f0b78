package auth

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestSignUpAndConfirm(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	out := e.signUp("Jo@Example.com", map[string]string{"name": "Jo"})
	if out.UserConfirmed || out.UserSub == "" {
		t.Fatalf("SignUp = %+v", out)
	}
	if out.CodeDelivery == nil || *out.CodeDelivery != (CodeDelivery{Destination: "j***@e***", DeliveryMedium: "EMAIL", AttributeName: "email"}) {
		t.Fatalf("CodeDelivery = %+v", out.CodeDelivery)
	}
	u := e.getUser("jo@example.com")
	if u.Sub != out.UserSub || u.Status != identity.StatusUnconfirmed || !u.Enabled || u.EmailVerified ||
		u.Email != "jo@example.com" || u.Attributes["name"] != "Jo" {
		t.Fatalf("user after sign-up = %+v", u)
	}
	if u.PasswordHash == "" || u.PasswordHash == goodPW {
		t.Fatalf("password not hashed: %q", u.PasswordHash)
	}
	code := e.lastCode("jo@example.com", TemplateSignUpCode)

	// Only the hash of the code is stored.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: wrong})
	wantErr(t, err, identity.CodeCodeMismatch, "Invalid verification code provided, please try again.")

	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "JO@example.com", Code: code}); err != nil {
		t.Fatalf("ConfirmSignUp: %v", err)
	}
	u = e.getUser("jo@example.com")
	if u.Status != identity.StatusConfirmed || !u.EmailVerified {
		t.Fatalf("after confirm: status %s verified %v", u.Status, u.EmailVerified)
	}
	err = e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: code})
	wantErr(t, err, identity.CodeNotAuthorized, "User cannot be confirmed. Current status is CONFIRMED")

	acts := e.auditActions()
	if !hasAction(acts, "user.sign_up") || !hasAction(acts, "user.confirm") {
		t.Fatalf("audit = %v", acts)
	}
	e.mustSignIn("jo@example.com", goodPW)
}

func TestSignUpErrors(t *testing.T) {
	t.Parallel()
	emailPool := userSetup(t, nil, nil)
	emailPool.signUp("taken@example.com", nil)
	pue := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	pue.signUp("taken@example.com", nil)
	adminOnly := userSetup(t, func(in *CreatePoolInput) { in.AdminCreateUserOnly = true }, nil)
	namePool := userSetup(t, func(in *CreatePoolInput) {
		in.UsernameMode = identity.UsernameWithEmailAlias
		in.UniqueEmail = true
	}, nil)
	namePool.signUp("alice", map[string]string{"email": "alice@example.com"})

	cases := []struct {
		name  string
		e     *userEnv
		in    SignUpInput
		code  identity.Code
		msg   string
		users int // users in the pool afterwards
	}{
		{"admin only", adminOnly, SignUpInput{Username: "a@example.com", Password: goodPW}, identity.CodeNotAuthorized, "SignUp is not permitted for this user pool.", 0},
		{"username not an email", emailPool, SignUpInput{Username: "bob", Password: goodPW}, identity.CodeInvalidParameter, "", 1},
		{"empty username", emailPool, SignUpInput{Username: " ", Password: goodPW}, identity.CodeInvalidParameter, "", 1},
		{"short password", emailPool, SignUpInput{Username: "b@example.com", Password: "short"}, identity.CodeInvalidPassword, "", 1},
		{"common password", emailPool, SignUpInput{Username: "b@example.com", Password: "passwordpassword"}, identity.CodeInvalidPassword, "", 1},
		{"no password", emailPool, SignUpInput{Username: "b@example.com"}, identity.CodeInvalidParameter, "", 1},
		{"unknown attribute", emailPool, SignUpInput{Username: "b@example.com", Password: goodPW, Attributes: map[string]string{"shoe_size": "9"}}, identity.CodeInvalidParameter, "", 1},
		{"email_verified by user", emailPool, SignUpInput{Username: "b@example.com", Password: goodPW, Attributes: map[string]string{"email_verified": "true"}}, identity.CodeInvalidParameter, "", 1},
		{"email differs from username", emailPool, SignUpInput{Username: "b@example.com", Password: goodPW, Attributes: map[string]string{"email": "c@example.com"}}, identity.CodeInvalidParameter, "", 1},
		{"duplicate", emailPool, SignUpInput{Username: "TAKEN@example.com", Password: goodPW}, identity.CodeUsernameExists, "User already exists", 1},
		{"duplicate, prevent existence errors", pue, SignUpInput{Username: "taken@example.com", Password: goodPW}, identity.CodeUsernameExists, "User already exists", 1},
		{"username pool: no email", namePool, SignUpInput{Username: "bob", Password: goodPW}, identity.CodeInvalidParameter, "", 1},
		{"username pool: email username", namePool, SignUpInput{Username: "bob@example.com", Password: goodPW, Attributes: map[string]string{"email": "bob@example.com"}}, identity.CodeInvalidParameter, "", 1},
		{"username pool: taken username", namePool, SignUpInput{Username: "Alice", Password: goodPW, Attributes: map[string]string{"email": "other@example.com"}}, identity.CodeUsernameExists, "User already exists", 1},
		{"username pool: taken unique email", namePool, SignUpInput{Username: "bob", Password: goodPW, Attributes: map[string]string{"email": "ALICE@example.com"}}, identity.CodeAliasExists, "An account with the given email already exists.", 1},
		{"password contains username", namePool, SignUpInput{Username: "zebracorn", Password: "my-zebracorn-is-lovely", Attributes: map[string]string{"email": "z@example.com"}}, identity.CodeInvalidPassword, "", 1},
		{"unknown client", emailPool, SignUpInput{Client: Client{ID: "nosuchclient"}, Username: "b@example.com", Password: goodPW}, identity.CodeResourceNotFound, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Client.ID == "" {
				in.Client = tc.e.c()
			}
			_, err := tc.e.s.SignUp(tc.e.ctx, in)
			wantErr(t, err, tc.code, tc.msg)
			n, err := tc.e.st.CountUsers(tc.e.ctx, tc.e.pool.ID)
			if err != nil || n != tc.users {
				t.Fatalf("users = %d, %v; want %d", n, err, tc.users)
			}
		})
	}
}

// Twenty parallel sign-ups of one address make exactly one user.
func TestSignUpParallelSameEmail(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		for _, mode := range []identity.UsernameMode{identity.UsernameEmail, identity.UsernameWithEmailAlias} {
			t.Run(string(mode), func(t *testing.T) {
				e := setup(func(in *CreatePoolInput) { in.UsernameMode = mode; in.UniqueEmail = true }, nil)
				const n = 20
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						in := SignUpInput{Client: e.c(), Username: "same@example.com", Password: goodPW}
						if mode == identity.UsernameWithEmailAlias {
							in.Username = "user" + string(rune('a'+i))
							in.Attributes = map[string]string{"email": "same@example.com"}
						}
						_, errs[i] = e.s.SignUp(e.ctx, in)
					}()
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch identity.ErrorCode(err) {
					case "":
						ok++
					case identity.CodeUsernameExists, identity.CodeAliasExists:
					default:
						t.Fatalf("unexpected error: %v", err)
					}
				}
				count, err := e.st.CountUsers(e.ctx, e.pool.ID)
				if ok != 1 || count != 1 || err != nil {
					t.Fatalf("successes = %d, users = %d (%v); want 1 and 1", ok, count, err)
				}
				if got := len(e.emailsTo("same@example.com", TemplateSignUpCode)); got != 1 {
					t.Fatalf("sign-up emails = %d, want 1", got)
				}
			})
		}
	})
}

func TestConfirmSignUpExpiryAndResend(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.signUp("jo@example.com", nil)
	old := e.lastCode("jo@example.com", TemplateSignUpCode)
	e.advance(SignUpCodeTTL)
	err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: old})
	wantErr(t, err, identity.CodeExpiredCode, "")

	cd, err := e.s.ResendConfirmationCode(e.ctx, e.c(), "jo@example.com", RequestMeta{})
	if err != nil || cd.Destination != "j***@e***" {
		t.Fatalf("Resend = %+v, %v", cd, err)
	}
	if n := len(e.emailsTo("jo@example.com", TemplateSignUpCode)); n != 2 {
		t.Fatalf("sign-up emails = %d, want 2", n)
	}
	fresh := e.lastCode("jo@example.com", TemplateSignUpCode)
	if fresh != old {
		err = e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: old})
		wantErr(t, err, identity.CodeCodeMismatch, "")
	}
	e.advance(SignUpCodeTTL - time.Millisecond)
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: fresh}); err != nil {
		t.Fatalf("ConfirmSignUp with the fresh code just before expiry: %v", err)
	}
	_, err = e.s.ResendConfirmationCode(e.ctx, e.c(), "jo@example.com", RequestMeta{})
	wantErr(t, err, identity.CodeInvalidParameter, "User is already confirmed.")
}

func TestConfirmSignUpAttemptsExhausted(t *testing.T) {
	t.Parallel()
	e := userSetup(t, nil, nil)
	e.signUp("jo@example.com", nil)
	code := e.lastCode("jo@example.com", TemplateSignUpCode)
	wrong := "123456"
	if wrong == code {
		wrong = "654321"
	}
	for i := 0; i < MaxCodeAttempts; i++ {
		err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: wrong})
		wantErr(t, err, identity.CodeCodeMismatch, "")
	}
	err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: code})
	wantErr(t, err, identity.CodeTooManyFailedAttempts, "")
	if u := e.getUser("jo@example.com"); u.Status != identity.StatusUnconfirmed {
		t.Fatalf("status = %s", u.Status)
	}
	// A new code starts a new count.
	if _, err := e.s.ResendConfirmationCode(e.ctx, e.c(), "jo@example.com", RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: e.lastCode("jo@example.com", TemplateSignUpCode)}); err != nil {
		t.Fatalf("ConfirmSignUp after resend: %v", err)
	}
}

// Concurrent confirmations with the right code: the code is consumed once.
func TestConfirmSignUpCodeSingleUse(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, setup func(func(*CreatePoolInput), func(*CreateClientInput)) *userEnv) {
		e := setup(nil, nil)
		e.signUp("jo@example.com", nil)
		code := e.lastCode("jo@example.com", TemplateSignUpCode)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: code})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("successes = %d, want 1 (%v)", ok, errs)
		}
	})
}

// A code is bound to the address it was sent to.
func TestConfirmSignUpCodeBoundToEmail(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias }, nil)
	e.signUp("jo", map[string]string{"email": "jo@example.com"})
	code := e.lastCode("jo@example.com", TemplateSignUpCode)
	e.setUser("jo", func(u *identity.User) { u.Email = "other@example.com" })
	err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo", Code: code})
	wantErr(t, err, identity.CodeCodeMismatch, "")
}

func TestConfirmSignUpAliasExists(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.UsernameMode = identity.UsernameWithEmailAlias }, nil)
	e.signUp("first", map[string]string{"email": "shared@example.com"})
	e.signUp("second", map[string]string{"email": "shared@example.com"})
	codes := e.emailsTo("shared@example.com", TemplateSignUpCode) // newest first
	first, second := codeRE.FindString(codes[1].Text), codeRE.FindString(codes[0].Text)
	if err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "first", Code: first}); err != nil {
		t.Fatal(err)
	}
	err := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "second", Code: second})
	wantErr(t, err, identity.CodeAliasExists, "")
	if u := e.getUser("second"); u.Status != identity.StatusUnconfirmed {
		t.Fatalf("second user status = %s", u.Status)
	}
}

func TestConfirmAndResendUnknownUser(t *testing.T) {
	t.Parallel()
	plain := userSetup(t, nil, nil)
	err := plain.s.ConfirmSignUp(plain.ctx, ConfirmSignUpInput{Client: plain.c(), Username: "nobody@example.com", Code: "123456"})
	wantErr(t, err, identity.CodeUserNotFound, "User does not exist.")
	_, err = plain.s.ResendConfirmationCode(plain.ctx, plain.c(), "nobody@example.com", RequestMeta{})
	wantErr(t, err, identity.CodeUserNotFound, "User does not exist.")

	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	e.signUp("known@example.com", nil)
	code := e.lastCode("known@example.com", TemplateSignUpCode)
	wrong := "999999"
	if code == wrong {
		wrong = "888888"
	}
	errKnown := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "known@example.com", Code: wrong})
	errUnknown := e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "unknown@example.com", Code: wrong})
	sameError(t, errKnown, errUnknown)

	before := len(e.emailsTo("unknown@example.com", TemplateSignUpCode))
	cdKnown, err1 := e.s.ResendConfirmationCode(e.ctx, e.c(), "known@example.com", RequestMeta{})
	cdUnknown, err2 := e.s.ResendConfirmationCode(e.ctx, e.c(), "kite@example.com", RequestMeta{})
	if err1 != nil || err2 != nil || *cdKnown != *cdUnknown {
		t.Fatalf("resend known = %+v %v, unknown = %+v %v", cdKnown, err1, cdUnknown, err2)
	}
	if after := len(e.emailsTo("unknown@example.com", TemplateSignUpCode)); after != before {
		t.Fatal("an email was sent for an unknown user")
	}
}

// sameError fails unless a and b have the same code and message.
func sameError(t *testing.T, a, b error) {
	t.Helper()
	if a == nil || b == nil || identity.ErrorCode(a) != identity.ErrorCode(b) || identity.ErrorMessage(a) != identity.ErrorMessage(b) {
		t.Fatalf("answers differ: %v vs %v", a, b)
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		SignUpCodeTTL: "24 hours", ForgotCodeTTL: "1 hour", 10 * time.Minute: "10 minutes", time.Minute: "1 minute", 90 * time.Minute: "90 minutes",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
