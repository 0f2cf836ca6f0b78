package cognito_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/uuid"
)

// claimsOf decodes a token's payload (not verified).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(jwtPayload(t, jwt)), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// claimNames lists c's claim names, sorted.
func claimNames(c map[string]any) string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestTokenClaimShapes: a USER_PASSWORD_AUTH sign-in and a refresh in a
// pool made by CreateUserPool carry Cognito's claim names (the ID token's
// and the access token's, testdata/token_claims.golden); event_id is a
// UUID shared by the ID and access token of one issue and new at each
// refresh, while origin_jti stays the sign-in's.
func TestTokenClaimShapes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("claims")})
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID),
		Username: aws.String("ann"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("ann@example.com")},
			{Name: aws.String("email_verified"), Value: aws.String("true")}}}))
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID),
		Username: aws.String("ann"), Password: aws.String("Passw0rd!"), Permanent: true}))

	tok := e.signIn(clientID, "ann", "Passw0rd!")
	id, access := claimsOf(t, *tok.IdToken), claimsOf(t, *tok.AccessToken)
	tr.add("sign-in id token", nil, claimNames(id))
	tr.add("sign-in access token", nil, claimNames(access))
	ev, _ := id["event_id"].(string)
	if _, err := uuid.Parse(ev); err != nil || access["event_id"] != ev {
		t.Fatalf("event_id: id %v, access %v", id["event_id"], access["event_id"])
	}
	if id["origin_jti"] == nil || id["origin_jti"] != access["origin_jti"] {
		t.Fatalf("origin_jti: id %v, access %v", id["origin_jti"], access["origin_jti"])
	}

	ref := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken}}))
	rid, raccess := claimsOf(t, *ref.AuthenticationResult.IdToken), claimsOf(t, *ref.AuthenticationResult.AccessToken)
	tr.add("refresh id token", nil, claimNames(rid))
	tr.add("refresh access token", nil, claimNames(raccess))
	tr.add("refresh event_id", nil, fmt.Sprintf("same in both=%t new=%t origin_jti kept=%t",
		rid["event_id"] == raccess["event_id"], rid["event_id"] != ev, rid["origin_jti"] == id["origin_jti"]))
	tr.check("token_claims.golden")
}
