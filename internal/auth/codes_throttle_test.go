package auth

import (
	"fmt"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// codeFlow drives one code purpose for a user: ask for a code, submit one.
type codeFlow struct {
	name   string
	setup  func(e *userEnv) // creates jo@example.com in the state the flow needs
	ask    func(e *userEnv) error
	submit func(e *userEnv, code string) error
	tpl    string
	// resume, if set, runs after the clock moved past a window (a new
	// access token: the old one expired).
	resume func(e *userEnv)
}

func codeFlows() []codeFlow {
	var access string
	return []codeFlow{
		{
			name:  "forgot password",
			setup: func(e *userEnv) { e.confirmedUser("jo@example.com") },
			ask: func(e *userEnv) error {
				_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: "jo@example.com"})
				return err
			},
			submit: func(e *userEnv, code string) error {
				return e.s.ConfirmForgotPassword(e.ctx, ConfirmForgotPasswordInput{Client: e.c(), Username: "jo@example.com", Code: code, NewPassword: goodPW2})
			},
			tpl: TemplateForgotPassword,
		},
		{
			name:  "confirm sign-up",
			setup: func(e *userEnv) { e.signUp("jo@example.com", nil) },
			ask: func(e *userEnv) error {
				_, err := e.s.ResendConfirmationCode(e.ctx, e.c(), "jo@example.com", RequestMeta{})
				return err
			},
			submit: func(e *userEnv, code string) error {
				return e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: "jo@example.com", Code: code})
			},
			tpl: TemplateSignUpCode,
		},
		{
			name: "verify email",
			setup: func(e *userEnv) {
				e.confirmedUser("jo@example.com")
				access = e.mustSignIn("jo@example.com", goodPW).AccessToken
			},
			ask: func(e *userEnv) error {
				_, err := e.s.GetUserAttributeVerificationCode(e.ctx, access, "email", RequestMeta{})
				return err
			},
			submit: func(e *userEnv, code string) error {
				return e.s.VerifyUserAttribute(e.ctx, access, "email", code)
			},
			tpl:    TemplateVerifyEmail,
			resume: func(e *userEnv) { access = e.mustSignIn("jo@example.com", goodPW).AccessToken },
		},
	}
}

// "Ask for a code, guess five times, ask again" is stopped after
// CodeFailureLimit wrong guesses in the window, whatever codes were sent
// meanwhile; even the right code is refused until the window ends, then
// it works (security.md L3).
func TestCodeGuessesCountedAcrossCodes(t *testing.T) {
	t.Parallel()
	for _, f := range codeFlows() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := userSetup(t, nil, nil)
			f.setup(e)
			wrong, limited := 0, false
			for round := 0; round < 5 && !limited; round++ {
				if err := f.ask(e); err != nil {
					t.Fatalf("round %d: ask for a code: %v", round, err)
				}
				code := e.lastCode("jo@example.com", f.tpl)
				guess := "000000"
				if guess == code {
					guess = "111111"
				}
				for range MaxCodeAttempts {
					err := f.submit(e, guess)
					if identity.ErrorCode(err) == identity.CodeLimitExceeded {
						wantErr(t, err, identity.CodeLimitExceeded, "Attempt limit exceeded, please try after some time.")
						if identity.RetryAfter(err) <= 0 || identity.RetryAfter(err) > CodeFailureWindow {
							t.Fatalf("RetryAfter = %v", identity.RetryAfter(err))
						}
						limited = true
						break
					}
					wantErr(t, err, identity.CodeCodeMismatch, "")
					wrong++
				}
			}
			if !limited || wrong != CodeFailureLimit {
				t.Fatalf("%d wrong guesses compared before the limit (limited: %v), want %d", wrong, limited, CodeFailureLimit)
			}
			if err := f.ask(e); err != nil {
				t.Fatalf("ask for a code: %v", err)
			}
			code := e.lastCode("jo@example.com", f.tpl)
			wantErr(t, f.submit(e, code), identity.CodeLimitExceeded, "")
			e.advance(CodeFailureWindow)
			if f.resume != nil {
				f.resume(e)
			}
			if err := f.ask(e); err != nil {
				t.Fatalf("ask for a code after the window: %v", err)
			}
			if err := f.submit(e, e.lastCode("jo@example.com", f.tpl)); err != nil {
				t.Fatalf("the right code after the window: %v", err)
			}
		})
	}
}

// Codes sent per user and purpose are limited on every request path, and
// one user's limit does not touch another's (security.md L4).
func TestCodeIssueThrottledPerUser(t *testing.T) {
	t.Parallel()
	for _, f := range codeFlows() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			e := userSetup(t, nil, nil)
			f.setup(e)
			for i := range CodeIssueLimit {
				if err := f.ask(e); err != nil {
					t.Fatalf("code %d: %v", i+1, err)
				}
			}
			sent := len(e.emailsTo("jo@example.com", f.tpl))
			err := f.ask(e)
			wantErr(t, err, identity.CodeLimitExceeded, "Attempt limit exceeded, please try after some time.")
			if identity.RetryAfter(err) <= 0 {
				t.Error("no RetryAfter")
			}
			if n := len(e.emailsTo("jo@example.com", f.tpl)); n != sent {
				t.Fatalf("a refused request sent an email (%d, then %d)", sent, n)
			}
			e.advance(CodeIssueWindow)
			if f.resume != nil {
				f.resume(e)
			}
			if err := f.ask(e); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

// Code requests from one client address are limited across users, IPv6
// by /64; another address is not affected (security.md L5).
func TestCodeIssueThrottledPerAddress(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	forgot := func(user, ip string) error {
		_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: user, Meta: RequestMeta{IP: ip}})
		return err
	}
	for i := range IssueIPBurst {
		if err := forgot(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("2001:db8:7:7::%x", i+1)); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	err := forgot("another@example.com", "2001:db8:7:7:ffff::1")
	wantErr(t, err, identity.CodeLimitExceeded, "Attempt limit exceeded, please try after some time.")
	if identity.RetryAfter(err) <= 0 {
		t.Error("no RetryAfter")
	}
	if err := forgot("another@example.com", "2001:db8:7:8::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	if _, err := e.s.ResendConfirmationCode(e.ctx, e.c(), "x@example.com", RequestMeta{IP: "2001:db8:7:7::1"}); identity.ErrorCode(err) != identity.CodeLimitExceeded {
		t.Fatalf("resend from the limited address: %v", err)
	}
	e.advance(IssueIPEvery)
	if err := forgot("another@example.com", "2001:db8:7:7::1"); err != nil {
		t.Fatalf("after a refill: %v", err)
	}
}

// With PreventUserExistenceErrors the code throttles answer alike for an
// unknown name and a real user, and resend-code answers alike for
// confirmed, unconfirmed and unknown users (security.md L9, L10, L11).
func TestCodeThrottlesSameForUnknownNames(t *testing.T) {
	t.Parallel()
	e := userSetup(t, func(in *CreatePoolInput) { in.PreventUserExistenceErrors = true }, nil)
	e.confirmedUser("known@example.com")
	e.signUp("new@example.com", nil)

	// ResendConfirmationCode: the same kind of answer for each, the same
	// limit, and a code only for the unconfirmed user.
	resend := func(name string) (*CodeDelivery, error) {
		return e.s.ResendConfirmationCode(e.ctx, e.c(), name, RequestMeta{})
	}
	for _, name := range []string{"known@example.com", "new@example.com", "nobody@example.com"} {
		for i := range CodeIssueLimit {
			cd, err := resend(name)
			if err != nil || cd.DeliveryMedium != "EMAIL" || cd.AttributeName != "email" || cd.Destination != maskEmail(name) {
				t.Fatalf("%s resend %d = %+v, %v", name, i+1, cd, err)
			}
		}
		_, err := resend(name)
		wantErr(t, err, identity.CodeLimitExceeded, "Attempt limit exceeded, please try after some time.")
	}
	if n := len(e.emailsTo("known@example.com", TemplateSignUpCode)); n != 1 {
		t.Fatalf("a confirmed user got %d sign-up code emails, want only the first", n)
	}
	if n := len(e.emailsTo("new@example.com", TemplateSignUpCode)); n != 1+CodeIssueLimit {
		t.Fatalf("the unconfirmed user got %d codes, want %d", n, 1+CodeIssueLimit)
	}

	// ForgotPassword: a disabled user answers as an unknown name.
	e.setUser("known@example.com", func(u *identity.User) { u.Enabled = false })
	for _, name := range []string{"known@example.com", "nobody@example.com"} {
		for range CodeIssueLimit {
			if _, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: name}); err != nil {
				t.Fatalf("forgot %s: %v", name, err)
			}
		}
		_, err := e.s.ForgotPassword(e.ctx, ForgotPasswordInput{Client: e.c(), Username: name})
		wantErr(t, err, identity.CodeLimitExceeded, "")
	}

	// Wrong codes: an unknown name is limited after as many guesses as a
	// real user.
	confirm := func(name string) error {
		return e.s.ConfirmSignUp(e.ctx, ConfirmSignUpInput{Client: e.c(), Username: name, Code: "000000"})
	}
	for _, name := range []string{"new@example.com", "nobody@example.com"} {
		for i := range CodeFailureLimit {
			wantErr(t, confirm(name), identity.CodeCodeMismatch, "Invalid verification code provided, please try again.")
			_ = i
		}
		wantErr(t, confirm(name), identity.CodeLimitExceeded, "Attempt limit exceeded, please try after some time.")
	}
}
