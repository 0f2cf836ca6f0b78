package cognito_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// TestEmailOTPFirstFactor: with the AWS SDK for Go v2, USER_AUTH's
// passwordless email code. Not in the pool's AllowedFirstAuthFactors:
// InvalidParameterException and SELECT_CHALLENGE does not list it. Once
// allowed (UpdateUserPool's SignInPolicy, shown by DescribeUserPool):
// PREFERRED_CHALLENGE EMAIL_OTP mails a code, EMAIL_OTP_CODE signs in
// with amr ["otp"]; the code works once (replay: CodeMismatchException); a
// code of one user does not answer another's challenge; an unknown user
// gets the same challenge and CodeMismatchException; guessing locks the
// account. The service's clock stands still, so the lockout cannot run
// out while a loaded machine runs the guesses.
func TestEmailOTPFirstFactor(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{svcNow: testenv.NewClock(time.Now()).Now})
	poolID, clientID := e.newPool("email-otp")
	e.signUpConfirmed(poolID, clientID, "ann@example.com")
	e.signUpConfirmed(poolID, clientID, "bob@example.com")
	cid := aws.String(clientID)
	if _, err := e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: cid,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}); err != nil {
		t.Fatal(err)
	}
	start := func(user string) (*cip.InitiateAuthOutput, error) {
		return e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
			AuthParameters: map[string]string{"USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP"}})
	}
	answer := func(ch *cip.InitiateAuthOutput, user, code string) (*cip.RespondToAuthChallengeOutput, error) {
		return e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeEmailOtp,
			Session: ch.Session, ChallengeResponses: map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code}})
	}

	_, err := start("ann@example.com")
	wantErr(t, err, "InvalidParameterException") // not an allowed first factor
	sel, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "ann@example.com"}})
	if err != nil || len(sel.AvailableChallenges) != 2 {
		t.Fatalf("default challenges: %v %+v", err, sel)
	}

	_, err = e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Policies: &types.UserPoolPolicyType{SignInPolicy: &types.SignInPolicyType{
			AllowedFirstAuthFactors: []types.AuthFactorType{types.AuthFactorTypeEmailOtp}}}})
	wantErr(t, err, "InvalidParameterException") // PASSWORD must stay
	if _, err := e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Policies: &types.UserPoolPolicyType{SignInPolicy: &types.SignInPolicyType{
			AllowedFirstAuthFactors: []types.AuthFactorType{types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp}}}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil || d.UserPool.Policies.SignInPolicy == nil || len(d.UserPool.Policies.SignInPolicy.AllowedFirstAuthFactors) != 2 {
		t.Fatalf("DescribeUserPool: %v %+v", err, d.UserPool.Policies)
	}

	ch, err := start("ann@example.com")
	if err != nil || ch.ChallengeName != types.ChallengeNameTypeEmailOtp || ch.ChallengeParameters["CODE_DELIVERY_DESTINATION"] == "" {
		t.Fatalf("EMAIL_OTP: %v %+v", err, ch)
	}
	code := e.lastCode(poolID, "ann@example.com")
	out, err := answer(ch, "ann@example.com", code)
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("code: %v", err)
	}
	if amr, _ := testenv.Claims(t, *out.AuthenticationResult.IdToken)["amr"].([]any); len(amr) != 1 || amr[0] != "otp" {
		t.Fatalf("amr %v", amr)
	}
	// Replayed, on the same session or a new one: refused.
	_, err = answer(ch, "ann@example.com", code)
	wantErr(t, err, "CodeMismatchException")
	bobCh, err := start("bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	annCh, err := start("ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// Bob's code answers Bob's challenge only.
	_, err = answer(annCh, "ann@example.com", e.lastCode(poolID, "bob@example.com"))
	wantErr(t, err, "CodeMismatchException")
	if out, err := answer(bobCh, "bob@example.com", e.lastCode(poolID, "bob@example.com")); err != nil || out.AuthenticationResult == nil {
		t.Fatalf("bob: %v", err)
	}
	// An unknown user: the same challenge, then a mismatch.
	nc, err := start("nobody@example.com")
	if err != nil || nc.ChallengeName != types.ChallengeNameTypeEmailOtp || nc.ChallengeParameters["CODE_DELIVERY_DESTINATION"] == "" {
		t.Fatalf("unknown user: %v %+v", err, nc)
	}
	_, err = answer(nc, "nobody@example.com", "123456")
	wantErr(t, err, "CodeMismatchException")
	// Guessing Ann's code: a counted failure each time, then locked.
	locked := false
	for i := 0; i < 8 && !locked; i++ {
		g, err := start("ann@example.com")
		if err != nil {
			if errCode(err) == "NotAuthorizedException" {
				locked = true
				break
			}
			t.Fatal(err)
		}
		_, err = answer(g, "ann@example.com", "000000")
		switch errCode(err) {
		case "CodeMismatchException":
		case "NotAuthorizedException":
			locked = true
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	good, err := start("ann@example.com")
	if err == nil {
		_, err = answer(good, "ann@example.com", e.lastCode(poolID, "ann@example.com"))
	}
	if !locked || err == nil {
		t.Fatalf("the right code after repeated guesses: %v (locked %v)", err, locked)
	}
	t.Logf("after the guesses: %v", err)
}
