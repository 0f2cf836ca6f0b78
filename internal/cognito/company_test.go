package cognito_test

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

const companyAttr = "custom:company_name"

// errMessage is the message of the exception the SDK decoded.
func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func (e *env) groupsOf(poolID, user string) []string {
	e.t.Helper()
	out := must[*cip.AdminListGroupsForUserOutput](e.t)(e.admin.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{
		UserPoolId: aws.String(poolID), Username: aws.String(user)}))
	var names []string
	for _, g := range out.Groups {
		names = append(names, *g.GroupName)
	}
	sort.Strings(names)
	return names
}

// idClaim refreshes (keeping the rotated refresh token in *refreshToken)
// and returns claim of the new ID token.
func (e *env) idClaim(clientID string, refreshToken *string, claim string) any {
	e.t.Helper()
	out := must[*cip.InitiateAuthOutput](e.t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": *refreshToken}}))
	if out.AuthenticationResult.RefreshToken != nil {
		*refreshToken = *out.AuthenticationResult.RefreshToken
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(jwtPayload(e.t, *out.AuthenticationResult.IdToken)), &c); err != nil {
		e.t.Fatal(err)
	}
	return c[claim]
}

func attrOf(list []types.AttributeType, name string) string {
	for _, a := range list {
		if *a.Name == name {
			return *a.Value
		}
	}
	return ""
}

// TestCompanyThroughCognito: through the AWS SDK, an invited Globex member
// is in Globex's group; UpdateUserAttributes and DeleteUserAttributes of
// the company attribute answer NotAuthorizedException naming it; no app
// client may list it in WriteAttributes; AdminUpdateUserAttributes moves
// the member and the group. security.md A1, A3, A4
func TestCompanyThroughCognito(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("companies")
	for _, name := range []string{"Acme", "Globex"} {
		if _, err := e.svc.CreateCompany(ctx, &identity.Company{PoolID: poolID, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("w"),
		WriteAttributes: []string{"name", companyAttr}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
		WriteAttributes: []string{companyAttr}})
	wantErr(t, err, "InvalidParameterException")

	const gil = "gil@globex.example"
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(gil),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{
			{Name: aws.String(companyAttr), Value: aws.String("Globex")}, {Name: aws.String("email_verified"), Value: aws.String("true")}}}))
	if g := e.groupsOf(poolID, gil); strings.Join(g, ",") != "Globex" {
		t.Fatalf("invited member's groups %v", g)
	}
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID),
		Username: aws.String(gil), Password: aws.String(goodPassword), Permanent: true}))
	tok := e.signIn(clientID, gil, goodPassword)

	const msg = "A client attempted to write unauthorized attribute " + companyAttr + "."
	_, err = e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String(companyAttr), Value: aws.String("Acme")}}})
	wantErr(t, err, "NotAuthorizedException")
	if m := errMessage(err); m != msg {
		t.Fatalf("message %q", m)
	}
	_, err = e.public.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: tok.AccessToken, UserAttributeNames: []string{companyAttr}})
	wantErr(t, err, "NotAuthorizedException")
	gu := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}))
	if c := attrOf(gu.UserAttributes, companyAttr); c != "Globex" {
		t.Fatalf("company after the attempts %q", c)
	}
	if c := e.idClaim(clientID, tok.RefreshToken, companyAttr); c != "Globex" {
		t.Fatalf("ID token company %v", c)
	}

	// A pool admin moves gil: attribute and group together.
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
		UserPoolId: aws.String(poolID), Username: aws.String(gil),
		UserAttributes: []types.AttributeType{{Name: aws.String(companyAttr), Value: aws.String("acme")}}}))
	if g := e.groupsOf(poolID, gil); strings.Join(g, ",") != "Acme" {
		t.Fatalf("groups after the move %v", g)
	}
	if c := e.idClaim(clientID, tok.RefreshToken, companyAttr); c != "Acme" {
		t.Fatalf("ID token company after the move %v", c)
	}
}

// TestControlCharactersThroughCognito: InvalidParameterException, nothing
// written. security.md A6
func TestControlCharactersThroughCognito(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("ctl")
	_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("eve@example.com"), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Eve\r\nBcc: all@example.com")}}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("eve@example.com"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Eve\x00")}}})
	wantErr(t, err, "InvalidParameterException")
	e.signUpConfirmed(poolID, clientID, "jo@example.com")
	tok := e.signIn(clientID, "jo@example.com", goodPassword)
	_, err = e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Jo\nDoe")}}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(poolID), Username: aws.String("jo@example.com"),
		UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Jo\tDoe")}}})
	wantErr(t, err, "InvalidParameterException")
	gu := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}))
	if n := attrOf(gu.UserAttributes, "name"); n != "" {
		t.Fatalf("name %q", n)
	}
}

// TestPendingEmailThroughCognito: a pool made with
// AttributesRequireVerificationBeforeUpdate [email] keeps the verified
// address until VerifyUserAttribute; a pool made without it (Cognito's
// default) takes the new one at once, unverified. security.md A5
func TestPendingEmailThroughCognito(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("keep"),
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}}))
	if a := p.UserPool.UserAttributeUpdateSettings; a == nil || len(a.AttributesRequireVerificationBeforeUpdate) != 1 {
		t.Fatalf("CreateUserPool answer %+v", a)
	}
	keep := *p.UserPool.Id
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(keep),
		ClientName: aws.String("app"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}))
	kc := *c.UserPoolClient.ClientId
	e.signUpConfirmed(keep, kc, "jo@example.com")
	tok := e.signIn(kc, "jo@example.com", goodPassword)
	uu := must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("jo2@example.com")}}}))
	if len(uu.CodeDeliveryDetailsList) != 1 || *uu.CodeDeliveryDetailsList[0].Destination != "j***@e***" {
		t.Fatalf("UpdateUserAttributes %+v", uu.CodeDeliveryDetailsList)
	}
	gu := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}))
	if attrOf(gu.UserAttributes, "email") != "jo@example.com" || attrOf(gu.UserAttributes, "email_verified") != "true" {
		t.Fatalf("GetUser while pending %+v", gu.UserAttributes)
	}
	if em := e.idClaim(kc, tok.RefreshToken, "email"); em != "jo@example.com" {
		t.Fatalf("ID token email while pending %v", em)
	}
	must[*cip.VerifyUserAttributeOutput](t)(e.public.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: tok.AccessToken,
		AttributeName: aws.String("email"), Code: aws.String(e.lastCode(keep, "jo2@example.com"))}))
	gu = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}))
	if attrOf(gu.UserAttributes, "email") != "jo2@example.com" || attrOf(gu.UserAttributes, "email_verified") != "true" {
		t.Fatalf("GetUser after verifying %+v", gu.UserAttributes)
	}

	// Without the setting: at once, unverified; DescribeUserPool says so,
	// and UpdateUserPool can turn it on.
	now, nc := e.newPool("now")
	d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(now)}))
	if a := d.UserPool.UserAttributeUpdateSettings; a == nil || len(a.AttributesRequireVerificationBeforeUpdate) != 0 {
		t.Fatalf("DescribeUserPool %+v", a)
	}
	e.signUpConfirmed(now, nc, "kim@example.com")
	tok = e.signIn(nc, "kim@example.com", goodPassword)
	must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: tok.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("kim2@example.com")}}}))
	gu = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken}))
	if attrOf(gu.UserAttributes, "email") != "kim2@example.com" || attrOf(gu.UserAttributes, "email_verified") != "false" {
		t.Fatalf("GetUser without the setting %+v", gu.UserAttributes)
	}
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(now),
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}}))
	d = must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(now)}))
	if a := d.UserPool.UserAttributeUpdateSettings; a == nil || len(a.AttributesRequireVerificationBeforeUpdate) != 1 {
		t.Fatalf("DescribeUserPool after UpdateUserPool %+v", a)
	}
	_, err := e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(now),
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{
			AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypePhoneNumber}}})
	wantErr(t, err, "InvalidParameterException")
}
