package cognito_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// wantException asserts err is the exception code with exactly message.
func wantException(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Fatalf("error %v, want %s %q", err, code, message)
	}
}

// The lockout keeps Cognito's exception and exact message, with the wait
// in Retry-After; code throttles answer LimitExceededException with
// Cognito's message (security.md L2, L3, L4).
func TestThrottlesThroughSDK(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("throttles")
	p, err := e.db.GetPool(ctx, poolID)
	if err != nil {
		t.Fatal(err)
	}
	p.LockoutDuration = time.Hour
	if err := e.db.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	cid := aws.String(clientID)
	e.signUpConfirmed(poolID, clientID, "jo@example.com")
	signIn := func(pw string) error {
		_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "jo@example.com", "PASSWORD": pw}})
		return err
	}
	for range auth.DefaultMaxFailures {
		wantException(t, signIn(otherPassword), "NotAuthorizedException", "Incorrect username or password.")
	}
	wantException(t, signIn(goodPassword), "NotAuthorizedException", "Password attempts exceeded")
	status, hdr, _ := e.raw("InitiateAuth", `{"ClientId":"`+clientID+`","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"jo@example.com","PASSWORD":"x"}}`)
	if secs, _ := strconv.Atoi(hdr.Get("Retry-After")); status != 400 || secs < 3500 || secs > 3600 {
		t.Fatalf("locked: HTTP %d, Retry-After %q; want 400 and about an hour", status, hdr.Get("Retry-After"))
	}

	// Ask for a reset code, guess; ask again, guess: stopped after the
	// window's limit of wrong guesses, and the asking after its own.
	forgot := func() error {
		_, err := e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: cid, Username: aws.String("jo@example.com")})
		return err
	}
	wrong := 0
	for round := 0; round < 3; round++ {
		if err := forgot(); err != nil {
			t.Fatalf("ForgotPassword %d: %v", round+1, err)
		}
		guess := "000000"
		if e.lastCode(poolID, "jo@example.com") == guess {
			guess = "111111"
		}
		for range 5 {
			_, err := e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: cid, Username: aws.String("jo@example.com"),
				ConfirmationCode: aws.String(guess), Password: aws.String(otherPassword)})
			if errCode(err) == "LimitExceededException" {
				wantException(t, err, "LimitExceededException", "Attempt limit exceeded, please try after some time.")
				round = 3
				break
			}
			wantErr(t, err, "CodeMismatchException")
			wrong++
		}
	}
	if wrong != auth.CodeFailureLimit {
		t.Fatalf("%d wrong codes compared, want %d", wrong, auth.CodeFailureLimit)
	}
	for i := 3; i < auth.CodeIssueLimit; i++ {
		if err := forgot(); err != nil {
			t.Fatalf("ForgotPassword %d: %v", i+1, err)
		}
	}
	wantException(t, forgot(), "LimitExceededException", "Attempt limit exceeded, please try after some time.")
}

// With PreventUserExistenceErrors, ResendConfirmationCode answers alike
// for a confirmed, an unconfirmed and an unknown user (security.md L10).
func TestResendConfirmationCodeHidesUsers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("resend")
	p, err := e.db.GetPool(ctx, poolID)
	if err != nil {
		t.Fatal(err)
	}
	p.PreventUserExistenceErrors = true
	if err := e.db.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	e.signUpConfirmed(poolID, clientID, "known@example.com")
	if _, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("new@example.com"), Password: aws.String(goodPassword)}); err != nil {
		t.Fatal(err)
	}
	var shapes []string
	for _, name := range []string{"known@example.com", "new@example.com", "nobody@example.com"} {
		out, err := e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := out.CodeDeliveryDetails
		shapes = append(shapes, aws.ToString(d.AttributeName)+"|"+string(d.DeliveryMedium)+"|"+strings.Repeat("x", len(aws.ToString(d.Destination))))
	}
	if shapes[0] != shapes[1] || shapes[1] != shapes[2] {
		t.Fatalf("answers differ: %v", shapes)
	}
}
