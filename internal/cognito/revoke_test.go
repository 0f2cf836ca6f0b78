package cognito_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// TestRevokeTokenRevokesAccessTokens: as on Cognito, RevokeToken revokes
// the access tokens issued from the refresh token's sign-in (at sign-in and
// by refreshes), through the real SDK: GetUser, UpdateUserAttributes,
// ChangePassword and GlobalSignOut then answer NotAuthorizedException
// "Access Token has been revoked". Another sign-in of the same user keeps
// working, and a RevokeToken by another app client revokes nothing.
func TestRevokeTokenRevokesAccessTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("revoke")
	cid := aws.String(clientID)
	email := "rita@example.com"
	e.signUpConfirmed(poolID, clientID, email)

	a := e.signIn(clientID, email, goodPassword)
	b := e.signIn(clientID, email, goodPassword)
	ref := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid,
		AuthFlow: types.AuthFlowTypeRefreshToken, AuthParameters: map[string]string{"REFRESH_TOKEN": *a.RefreshToken}}))
	if ref.AuthenticationResult == nil || ref.AuthenticationResult.AccessToken == nil {
		t.Fatalf("refresh: %+v", ref)
	}
	a2 := ref.AuthenticationResult
	current := a.RefreshToken
	if a2.RefreshToken != nil {
		current = a2.RefreshToken // Gatehouse rotates refresh tokens
	}
	for _, tok := range []*string{a.AccessToken, a2.AccessToken, b.AccessToken} {
		must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok}))
	}

	// Another app client of the pool: refused, and nothing is revoked.
	other, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("other"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.public.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: other.UserPoolClient.ClientId, Token: current})
	if errCode(err) == "" {
		t.Fatal("RevokeToken by another client succeeded")
	}
	must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a2.AccessToken}))

	must[*cip.RevokeTokenOutput](t)(e.public.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: cid, Token: current}))

	revoked := func(what string, err error) {
		t.Helper()
		var nae *types.NotAuthorizedException
		if !errors.As(err, &nae) {
			t.Fatalf("%s: %v, want *types.NotAuthorizedException", what, err)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorMessage() != "Access Token has been revoked" {
			t.Fatalf("%s: message %v, want %q", what, err, "Access Token has been revoked")
		}
	}
	for name, tok := range map[string]*string{"sign-in": a.AccessToken, "refreshed": a2.AccessToken} {
		_, err := e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok})
		revoked("GetUser "+name, err)
		_, err = e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok,
			UserAttributes: []types.AttributeType{{Name: aws.String("custom:company_name"), Value: aws.String("Evil")}}})
		revoked("UpdateUserAttributes "+name, err)
		_, err = e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: tok,
			PreviousPassword: aws.String(goodPassword), ProposedPassword: aws.String(otherPassword)})
		revoked("ChangePassword "+name, err)
		_, err = e.public.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: tok})
		revoked("GlobalSignOut "+name, err)
	}
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeRefreshToken,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *current}})
	wantErr(t, err, "NotAuthorizedException")

	// The other sign-in is untouched: its access token and its refresh.
	u := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: b.AccessToken}))
	for _, at := range u.UserAttributes {
		if *at.Name == "custom:company_name" && *at.Value == "Evil" {
			t.Fatal("a revoked token changed an attribute")
		}
	}
	must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid,
		AuthFlow: types.AuthFlowTypeRefreshToken, AuthParameters: map[string]string{"REFRESH_TOKEN": *b.RefreshToken}}))
	// The password was not changed by the revoked tokens.
	e.signIn(clientID, email, goodPassword)
}
