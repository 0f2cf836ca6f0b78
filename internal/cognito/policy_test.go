package cognito_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestApprovalThroughCognito: in a pool with the approval workflow, SignUp
// with custom:company_name starts it; after ConfirmSignUp the user stays
// UNCONFIRMED and InitiateAuth answers UserNotConfirmedException until the
// request is approved.
func TestApprovalThroughCognito(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("approval")
	p, err := e.svc.GetPool(ctx, poolID)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.SignUp.Approval = &identity.ApprovalPolicy{OnNoApprover: identity.NoApproverAdmins, PoolAdmins: []string{"admin@example.com"}}
	if _, err := e.svc.UpdatePool(ctx, p); err != nil {
		t.Fatal(err)
	}
	email := "applicant@example.com"
	su := must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String(email), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:company_name"), Value: aws.String("Acme")}}}))
	if su.UserConfirmed {
		t.Fatal("UserConfirmed before approval")
	}
	must[*cip.ConfirmSignUpOutput](t)(e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String(email),
		ConfirmationCode: aws.String(e.lastCode(poolID, email))}))
	signIn := func() error {
		_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}})
		return err
	}
	var unc *types.UserNotConfirmedException
	if err := signIn(); !errors.As(err, &unc) {
		t.Fatalf("sign-in before approval: %v", err)
	} else if !strings.Contains(aws.ToString(unc.Message), "waiting for approval") {
		// Cognito's exception, but the message says why (issue 12).
		t.Fatalf("sign-in before approval: message %q does not say approval is pending", aws.ToString(unc.Message))
	}
	gu := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(email)}))
	if gu.UserStatus != types.UserStatusTypeUnconfirmed {
		t.Fatalf("status before approval %s", gu.UserStatus)
	}
	reqs, _, err := e.svc.ListRegistrations(ctx, poolID, auth.RegistrationFilter{}, 10, "")
	if err != nil || len(reqs) != 1 {
		t.Fatalf("registrations %v %v", reqs, err)
	}
	if _, err := e.svc.DecideRegistration(ctx, poolID, reqs[0].ID, identity.DecisionApprove, "ok", auth.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	if err := signIn(); err != nil {
		t.Fatalf("sign-in after approval: %v", err)
	}
}

// TestHookRejection: a pre_sign_up hook's rejection reaches the SDK as
// UserLambdaValidationException in Cognito's message form.
func TestHookRejection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("hooks")
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"errorMessage": "Sign-ups from this domain are closed"})
	}))
	t.Cleanup(hook.Close)
	if _, _, err := e.svc.PutHook(ctx, poolID, identity.HookTrigger("pre_sign_up"), auth.HookInput{URL: hook.URL}); err != nil {
		t.Fatal(err)
	}
	_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("x@example.com"), Password: aws.String(goodPassword)})
	var lve *types.UserLambdaValidationException
	if !errors.As(err, &lve) || *lve.Message != "PreSignUp failed with error Sign-ups from this domain are closed." {
		t.Fatalf("hook rejection: %v", err)
	}
}
