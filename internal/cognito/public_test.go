package cognito_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestPublicFlows walks every unsigned operation through the SDK with the
// error names real clients switch on.
func testPublicFlows(t *testing.T, e *env) {
	poolID, clientID := e.newPool("public")
	cid := aws.String(clientID)
	email := "ann@example.com"

	// SignUp: bad input, then success with a custom attribute.
	_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: cid, Username: aws.String(email), Password: aws.String("short")})
	var ipe *types.InvalidPasswordException
	if !errors.As(err, &ipe) {
		t.Fatalf("short password: %v, want *types.InvalidPasswordException", err)
	}
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: cid, Username: aws.String("not an email"), Password: aws.String(goodPassword)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String("nosuchclient"), Username: aws.String(email), Password: aws.String(goodPassword)})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: cid, Username: aws.String(email), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:nope"), Value: aws.String("x")}}})
	wantErr(t, err, "InvalidParameterException")
	su, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: cid, Username: aws.String(email), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:company_name"), Value: aws.String("Acme")}}})
	if err != nil {
		t.Fatal(err)
	}
	if su.UserConfirmed || su.UserSub == nil || su.CodeDeliveryDetails == nil || su.CodeDeliveryDetails.DeliveryMedium != types.DeliveryMediumTypeEmail ||
		*su.CodeDeliveryDetails.Destination != "a***@e***" {
		t.Fatalf("SignUp output %+v %+v", su, su.CodeDeliveryDetails)
	}
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: cid, Username: aws.String(email), Password: aws.String(goodPassword)})
	var uee *types.UsernameExistsException
	if !errors.As(err, &uee) {
		t.Fatalf("second SignUp: %v, want *types.UsernameExistsException", err)
	}

	// Before confirmation: InitiateAuth says UserNotConfirmedException.
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}})
	var unc *types.UserNotConfirmedException
	if !errors.As(err, &unc) {
		t.Fatalf("unconfirmed sign-in: %v", err)
	}

	// ResendConfirmationCode, wrong code, right code, confirmed twice.
	rc := must[*cip.ResendConfirmationCodeOutput](t)(e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: cid, Username: aws.String(email)}))
	if rc.CodeDeliveryDetails == nil || rc.CodeDeliveryDetails.AttributeName == nil || *rc.CodeDeliveryDetails.AttributeName != "email" {
		t.Fatalf("resend: %+v", rc.CodeDeliveryDetails)
	}
	code := e.lastCode(poolID, email)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: cid, Username: aws.String(email), ConfirmationCode: aws.String(wrong)})
	var cme *types.CodeMismatchException
	if !errors.As(err, &cme) {
		t.Fatalf("wrong code: %v", err)
	}
	must[*cip.ConfirmSignUpOutput](t)(e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: cid, Username: aws.String(email), ConfirmationCode: aws.String(code)}))
	_, err = e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: cid, Username: aws.String(email)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: cid, Username: aws.String("nobody@example.com")})
	wantErr(t, err, "UserNotFoundException")

	// InitiateAuth: wrong password, unknown user, unknown flow, SRP without the client allowing it.
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": otherPassword}})
	var nae *types.NotAuthorizedException
	if !errors.As(err, &nae) || !strings.Contains(*nae.Message, "Incorrect username or password") {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "nobody@example.com", "PASSWORD": goodPassword}})
	wantErr(t, err, "UserNotFoundException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeCustomAuth,
		AuthParameters: map[string]string{"USERNAME": email}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeAdminNoSrpAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": email, "SRP_A": "abcd"}})
	wantErr(t, err, "InvalidParameterException") // this client does not allow SRP (AWS: "USER_SRP_AUTH flow not enabled for this client")

	tok := e.signIn(clientID, email, goodPassword)
	if *tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || tok.RefreshToken == nil || tok.IdToken == nil {
		t.Fatalf("tokens %+v", tok)
	}

	// REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken.
	ref := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken}}))
	if ref.AuthenticationResult == nil || ref.AuthenticationResult.AccessToken == nil {
		t.Fatalf("refresh: %+v", ref)
	}
	rt := *tok.RefreshToken
	if ref.AuthenticationResult.RefreshToken != nil {
		rt = *ref.AuthenticationResult.RefreshToken
	}
	gt := must[*cip.GetTokensFromRefreshTokenOutput](t)(e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: cid, RefreshToken: aws.String(rt)}))
	if gt.AuthenticationResult == nil || gt.AuthenticationResult.IdToken == nil {
		t.Fatalf("GetTokensFromRefreshToken: %+v", gt)
	}
	_, err = e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: cid, RefreshToken: aws.String("garbage")})
	wantErr(t, err, "NotAuthorizedException")
	access := aws.String(*gt.AuthenticationResult.AccessToken)

	// The company named at SignUp is only a request: nobody approved it in
	// this open pool, so an admin sets it (security.md A2).
	if p := jwtPayload(t, *gt.AuthenticationResult.IdToken); strings.Contains(p, "custom:company_name") {
		t.Fatalf("the sign-up's company reached the ID token: %s", p)
	}
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(poolID),
		Username: aws.String(email), UserAttributes: []types.AttributeType{{Name: aws.String("custom:company_name"), Value: aws.String("Acme")}}}))

	// GetUser: the username of an email pool is the sub; attributes as strings.
	gu := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: access}))
	attrs := map[string]string{}
	for _, a := range gu.UserAttributes {
		attrs[*a.Name] = *a.Value
	}
	if *gu.Username != *su.UserSub || attrs["email"] != email || attrs["email_verified"] != "true" || attrs["custom:company_name"] != "Acme" || attrs["sub"] != *su.UserSub {
		t.Fatalf("GetUser %s %v", *gu.Username, attrs)
	}
	_, err = e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("not.a.token")})
	wantErr(t, err, "NotAuthorizedException")

	// UpdateUserAttributes (a new email needs verification), the code, VerifyUserAttribute.
	uu := must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: access,
		UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Ann")}, {Name: aws.String("email"), Value: aws.String("ann2@example.com")}}}))
	if len(uu.CodeDeliveryDetailsList) != 1 {
		t.Fatalf("UpdateUserAttributes deliveries %+v", uu.CodeDeliveryDetailsList)
	}
	_, err = e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: access,
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:undeclared"), Value: aws.String("x")}}})
	wantErr(t, err, "InvalidParameterException")
	must[*cip.GetUserAttributeVerificationCodeOutput](t)(e.public.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: access, AttributeName: aws.String("email")}))
	_, err = e.public.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: access, AttributeName: aws.String("phone_number")})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: access, AttributeName: aws.String("email"), Code: aws.String("999999x")})
	if errCode(err) != "CodeMismatchException" && errCode(err) != "InvalidParameterException" {
		t.Fatalf("bad verify code: %v", err)
	}
	must[*cip.VerifyUserAttributeOutput](t)(e.public.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: access, AttributeName: aws.String("email"),
		Code: aws.String(e.lastCode(poolID, "ann2@example.com"))}))
	must[*cip.DeleteUserAttributesOutput](t)(e.public.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: access, UserAttributeNames: []string{"name"}}))

	// ChangePassword: wrong previous, too short, then right.
	_, err = e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: access, PreviousPassword: aws.String(otherPassword), ProposedPassword: aws.String(otherPassword + "x")})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: access, PreviousPassword: aws.String(goodPassword), ProposedPassword: aws.String("short")})
	wantErr(t, err, "InvalidPasswordException")
	must[*cip.ChangePasswordOutput](t)(e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: access, PreviousPassword: aws.String(goodPassword), ProposedPassword: aws.String(otherPassword)}))

	// ForgotPassword + ConfirmForgotPassword: the username stays the
	// address signed up with; the code goes to the verified new address.
	fp := must[*cip.ForgotPasswordOutput](t)(e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: cid, Username: aws.String(email)}))
	if fp.CodeDeliveryDetails == nil {
		t.Fatal("ForgotPassword: no CodeDeliveryDetails")
	}
	_, err = e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: cid, Username: aws.String(email), ConfirmationCode: aws.String("000000x"), Password: aws.String(goodPassword)})
	if c := errCode(err); c != "CodeMismatchException" && c != "InvalidParameterException" {
		t.Fatalf("bad reset code: %v", err)
	}
	must[*cip.ConfirmForgotPasswordOutput](t)(e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: cid, Username: aws.String(email),
		ConfirmationCode: aws.String(e.lastCode(poolID, "ann2@example.com")), Password: aws.String(goodPassword)}))
	tok = e.signIn(clientID, email, goodPassword)

	// RevokeToken, then the refresh token no longer works.
	must[*cip.RevokeTokenOutput](t)(e.public.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: cid, Token: tok.RefreshToken}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeRefreshToken,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *tok.RefreshToken}})
	wantErr(t, err, "NotAuthorizedException")

	// GlobalSignOut: the access token stops working.
	tok = e.signIn(clientID, email, goodPassword)
	must[*cip.GlobalSignOutOutput](t)(e.public.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: tok.AccessToken}))
	_, err = e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
	wantErr(t, err, "NotAuthorizedException")

	// DeleteUser.
	tok = e.signIn(clientID, email, goodPassword)
	must[*cip.DeleteUserOutput](t)(e.public.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: tok.AccessToken}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}})
	wantErr(t, err, "UserNotFoundException")
}

// TestNewPasswordChallenge: AdminCreateUser, then the user signs in with
// the temporary password, gets NEW_PASSWORD_REQUIRED and answers it; the
// admin twin does the same with AdminInitiateAuth.
func testNewPasswordChallenge(t *testing.T, e *env) {
	poolID, clientID := e.newPool("challenge")
	for i, admin := range []bool{false, true} {
		email := []string{"temp@example.com", "temp2@example.com"}[i]
		temp := "Provisional passphrase 123456!"
		must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(email),
			TemporaryPassword: aws.String(temp), MessageAction: types.MessageActionTypeSuppress}))
		params := map[string]string{"USERNAME": email, "PASSWORD": temp}
		var name types.ChallengeNameType
		var session *string
		var chParams map[string]string
		if admin {
			out := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
				AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: params}))
			name, session, chParams = out.ChallengeName, out.Session, out.ChallengeParameters
		} else {
			out := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
				AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params}))
			name, session, chParams = out.ChallengeName, out.Session, out.ChallengeParameters
		}
		if name != types.ChallengeNameTypeNewPasswordRequired || session == nil || chParams["USER_ID_FOR_SRP"] == "" {
			t.Fatalf("challenge %s %v %v", name, session, chParams)
		}
		responses := map[string]string{"USERNAME": email, "NEW_PASSWORD": goodPassword}
		var res *types.AuthenticationResultType
		if admin {
			_, err := e.admin.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
				ChallengeName: name, Session: aws.String("bogus"), ChallengeResponses: responses})
			wantErr(t, err, "NotAuthorizedException")
			out := must[*cip.AdminRespondToAuthChallengeOutput](t)(e.admin.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{UserPoolId: aws.String(poolID),
				ClientId: aws.String(clientID), ChallengeName: name, Session: session, ChallengeResponses: responses}))
			res = out.AuthenticationResult
		} else {
			_, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID), ChallengeName: name, Session: session,
				ChallengeResponses: map[string]string{"USERNAME": email, "NEW_PASSWORD": "short"}})
			wantErr(t, err, "InvalidPasswordException")
			out := must[*cip.RespondToAuthChallengeOutput](t)(e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
				ChallengeName: name, Session: session, ChallengeResponses: responses}))
			res = out.AuthenticationResult
		}
		if res == nil || res.AccessToken == nil {
			t.Fatalf("no tokens after the challenge")
		}
		e.signIn(clientID, email, goodPassword)
	}
	// PASSWORD_VERIFIER without a session is refused by the service.
	_, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypeSmsMfa,
		ChallengeResponses: map[string]string{"USERNAME": "x"}})
	wantErr(t, err, "InvalidParameterException")
}
