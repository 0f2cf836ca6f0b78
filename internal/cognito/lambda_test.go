package cognito_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"errorMessage": "closed for now"})
	}))
	t.Cleanup(hook.Close)
	const arn = "arn:aws:lambda:eu-west-1:123456789012:function:pre-sign-up"
	e := setup(t, setupOpts{lambdas: map[string]cognito.LambdaTarget{arn: {URL: hook.URL, Secret: "a-secret-of-twenty-bytes"}}})
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
