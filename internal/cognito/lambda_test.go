package cognito_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/cognito"
)

// TestLambdaConfig: LambdaConfig's triggers become the pool's webhooks (an
// ARN mapped in the configuration, or an HTTPS URL in its place) and are
// called with the Lambda event; triggers Gatehouse cannot honour are
// refused with the reason; UpdateUserPool without LambdaConfig removes
// them, as on AWS (testdata/lambda.golden).
func TestLambdaConfig(t *testing.T) {
	t.Parallel()
	hook, _ := lambdaHook(t, func(map[string]any) (any, string) { return nil, "closed for now" })
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:pre-sign-up"
	e := setup(t, setupOpts{lambdas: map[string]cognito.LambdaTarget{arn: {URL: hook, Secret: "a-secret-of-twenty-bytes"}}})
	tr := &transcript{t: t}
	describe := func(name string, id *string) {
		d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: id}))
		b, _ := json.Marshal(d.UserPool.LambdaConfig)
		tr.add(name, nil, string(b))
	}

	for _, c := range []struct {
		name string
		lc   *types.LambdaConfigType
	}{
		{"refused PreAuthentication", &types.LambdaConfigType{PreAuthentication: aws.String(arn)}},
		{"refused unmapped ARN", &types.LambdaConfigType{PreSignUp: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:other")}},
		{"refused CustomEmailSender", &types.LambdaConfigType{CustomEmailSender: &types.CustomEmailLambdaVersionConfigType{LambdaArn: aws.String(arn), LambdaVersion: types.CustomEmailSenderLambdaVersionTypeV10}}},
		{"refused V3_0 events", &types.LambdaConfigType{PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String(arn), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV30}}},
		{"refused http URL", &types.LambdaConfigType{PreSignUp: aws.String("http://hooks.example.test/pre")}},
		{"refused InboundFederation", &types.LambdaConfigType{InboundFederation: &types.InboundFederationLambdaType{LambdaArn: aws.String(arn), LambdaVersion: types.InboundFederationLambdaVersionTypeV10}}},
	} {
		_, err := e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("refused"), LambdaConfig: c.lc})
		if err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		tr.add(c.name, err, "")
	}
	ps := must[*cip.ListUserPoolsOutput](t)(e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}))
	if len(ps.UserPools) != 0 {
		t.Fatalf("a refused CreateUserPool left a pool: %+v", ps.UserPools)
	}

	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("hooks"),
		LambdaConfig: &types.LambdaConfigType{
			PreSignUp:                aws.String(arn),
			PostConfirmation:         aws.String("https://hooks.example.test/post-confirmation"),
			UserMigration:            aws.String("https://hooks.example.test/migrate"),
			PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: aws.String("https://hooks.example.test/tokens"), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV20},
		}})).UserPool
	describe("created", p.Id)
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: p.Id, ClientName: aws.String("app")}))
	signUp := func(name, username string) {
		_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: c.UserPoolClient.ClientId, Username: aws.String(username), Password: aws.String(goodPassword)})
		tr.add(name, err, "")
	}
	signUp("SignUp calls the mapped PreSignUp webhook", "ann")

	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: p.Id}))
	describe("after UpdateUserPool without LambdaConfig", p.Id)
	signUp("SignUp without the trigger", "ann")
	tr.check("lambda.golden")
}

// TestAdminInitiateAuthMigrationMetadata: AdminInitiateAuth passes its
// ClientMetadata to the UserMigration trigger, as InitiateAuth does and
// as Cognito documents for both.
func TestAdminInitiateAuthMigrationMetadata(t *testing.T) {
	t.Parallel()
	hook, got := lambdaHook(t, func(ev map[string]any) (any, string) {
		req, _ := ev["request"].(map[string]any)
		if req["password"] != "Legacy$Passw0rd" {
			return nil, "Bad password"
		}
		return map[string]any{"userAttributes": map[string]string{"name": "Old Timer", "email": "old@example.org", "email_verified": "true"}, "finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}, ""
	})
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:migrate"
	e := setup(t, setupOpts{lambdas: map[string]cognito.LambdaTarget{arn: {URL: hook, Secret: "a-secret-of-twenty-bytes"}}})
	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("migrating"),
		LambdaConfig: &types.LambdaConfigType{UserMigration: aws.String(arn)}})).UserPool
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: p.Id, ClientName: aws.String("app"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}}))
	signIn := func(pw string) error {
		_, err := e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: p.Id, ClientId: c.UserPoolClient.ClientId,
			AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "legacy-user", "PASSWORD": pw},
			ClientMetadata: map[string]string{"app": "v1"}})
		return err
	}
	wantErr(t, signIn("Wrong$Passw0rd"), "UserNotFoundException")
	if err := signIn("Legacy$Passw0rd"); err != nil {
		t.Fatalf("migrating AdminInitiateAuth: %v", err)
	}
	for range 2 {
		ev := <-got
		req, _ := ev["request"].(map[string]any)
		md, _ := req["clientMetadata"].(map[string]any)
		if ev["triggerSource"] != "UserMigration_Authentication" || md["app"] != "v1" {
			t.Fatalf("event %v", ev)
		}
	}
	u := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: p.Id, Username: aws.String("legacy-user")}))
	if u.UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("migrated user %+v", u)
	}
}

// TestUserMigrationWithoutEmail: in a pool of plain usernames, a
// UserMigration answer without an email creates the user CONFIRMED and
// signs it in, sending nothing, as Cognito does; RESET_REQUIRED, which
// needs an address for the code, is refused (testdata/migration.golden).
func TestUserMigrationWithoutEmail(t *testing.T) {
	t.Parallel()
	answers := map[string]map[string]any{
		"nomail":       {"userAttributes": map[string]string{"name": "No Mail"}, "finalUserStatus": "CONFIRMED"},
		"nomail-quiet": {"userAttributes": map[string]string{"name": "Quiet"}, "messageAction": "SUPPRESS"},
		"nomail-reset": {"userAttributes": map[string]string{"name": "Reset"}, "finalUserStatus": "RESET_REQUIRED"},
		"unverified":   {"userAttributes": map[string]string{"email": "unverified@example.org"}, "finalUserStatus": "CONFIRMED"},
	}
	hook, _ := lambdaHook(t, func(ev map[string]any) (any, string) {
		name, _ := ev["userName"].(string)
		if a, ok := answers[name]; ok {
			return a, ""
		}
		return nil, "unknown user"
	})
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:migrate"
	e := setup(t, setupOpts{lambdas: map[string]cognito.LambdaTarget{arn: {URL: hook, Secret: "a-secret-of-twenty-bytes"}}})
	tr := &transcript{t: t}
	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("plain-migrating"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		LambdaConfig:           &types.LambdaConfigType{UserMigration: aws.String(arn)}})).UserPool
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: p.Id, ClientName: aws.String("app"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth}}))
	clientID := *c.UserPoolClient.ClientId
	for _, name := range []string{"nomail", "nomail-quiet", "nomail-reset", "unverified"} {
		out, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": "Legacy$Passw0rd"}})
		ok := ""
		if err == nil {
			ok = fmt.Sprintf("tokens=%t", out.AuthenticationResult != nil)
		}
		tr.add("InitiateAuth "+name, err, ok)
		g, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: p.Id, Username: aws.String(name)})
		ok = ""
		if err == nil {
			ok = "status=" + string(g.UserStatus) + " " + attrNames(g.UserAttributes)
		}
		tr.add("  AdminGetUser "+name, err, ok)
	}
	_, err := e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("nomail-quiet2")})
	tr.add("ForgotPassword of an unknown name the hook does not know", err, "")
	answers["nomail-forgot"] = map[string]any{"userAttributes": map[string]string{"name": "Forgot"}}
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("nomail-forgot")})
	tr.add("ForgotPassword migrating a user without an email", err, "")
	counts, err := e.db.CountEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	tr.add("emails queued (the unverified address's sign-up code only)", nil, fmt.Sprint(n))
	for i := range tr.lines {
		tr.lines[i] = strings.ReplaceAll(tr.lines[i], clientID, "<client>")
	}
	tr.check("migration.golden")
}

// TestPreSignUpValidationData: SignUp's and AdminCreateUser's
// ClientMetadata and ValidationData reach the PreSignUp trigger's event,
// as Cognito documents; a rejection of them refuses the sign-up.
func TestPreSignUpValidationData(t *testing.T) {
	t.Parallel()
	hook, got := lambdaHook(t, func(ev map[string]any) (any, string) {
		req, _ := ev["request"].(map[string]any)
		if vd, _ := req["validationData"].(map[string]any); vd["invite"] != "abc" {
			return nil, "no invitation"
		}
		return map[string]any{}, ""
	})
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:presignup"
	e := setup(t, setupOpts{lambdas: map[string]cognito.LambdaTarget{arn: {URL: hook, Secret: "a-secret-of-twenty-bytes"}}})
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("validated"),
		LambdaConfig: &types.LambdaConfigType{PreSignUp: aws.String(arn)}})
	invite := []types.AttributeType{{Name: aws.String("invite"), Value: aws.String("abc")}}
	_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("uninvited"), Password: aws.String(goodPassword)})
	wantErr(t, err, "UserLambdaValidationException")
	<-got
	if _, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("invited"), Password: aws.String(goodPassword),
		ValidationData: invite, ClientMetadata: map[string]string{"app": "v2"}}); err != nil {
		t.Fatalf("SignUp with the invitation: %v", err)
	}
	ev := <-got
	req, _ := ev["request"].(map[string]any)
	md, _ := req["clientMetadata"].(map[string]any)
	if ev["triggerSource"] != "PreSignUp_SignUp" || md["app"] != "v2" {
		t.Fatalf("event %v", ev)
	}
	if _, err := e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("made"),
		MessageAction: types.MessageActionTypeSuppress, ValidationData: invite, ClientMetadata: map[string]string{"app": "admin"}}); err != nil {
		t.Fatalf("AdminCreateUser with the invitation: %v", err)
	}
	ev = <-got
	req, _ = ev["request"].(map[string]any)
	md, _ = req["clientMetadata"].(map[string]any)
	if ev["triggerSource"] != "PreSignUp_AdminCreateUser" || md["app"] != "admin" {
		t.Fatalf("event %v", ev)
	}
}

// lambdaHook stands in for a Lambda function over HTTP: every event it
// gets is sent on got (buffered; events beyond its room are not kept),
// then answered as Lambda answers: the event with answer's response, or,
// when answer returns an error message, a 400 with errorMessage (a
// function's error). It returns the function's URL.
func lambdaHook(t *testing.T, answer func(ev map[string]any) (response any, errorMessage string)) (url string, got chan map[string]any) {
	got = make(chan map[string]any, 64)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		select {
		case got <- ev:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		resp, msg := answer(ev)
		if msg != "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"errorMessage": msg})
			return
		}
		ev["response"] = resp
		json.NewEncoder(w).Encode(ev)
	}))
	t.Cleanup(hook.Close)
	return hook.URL, got
}
