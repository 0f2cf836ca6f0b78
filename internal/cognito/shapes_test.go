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

// TestUserDatesOnCreate: AdminCreateUser answers, and AdminGetUser and
// ListUsers then read, a UserCreateDate equal to UserLastModifiedDate, as
// AWS does for a user nobody has changed yet.
func TestUserDatesOnCreate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("dates")})
	cu := must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID),
		Username: aws.String("bob"), MessageAction: types.MessageActionTypeSuppress}))
	if cu.User.UserCreateDate == nil || !cu.User.UserCreateDate.Equal(*cu.User.UserLastModifiedDate) {
		t.Fatalf("AdminCreateUser: created %v, modified %v", cu.User.UserCreateDate, cu.User.UserLastModifiedDate)
	}
	g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("bob")}))
	if !g.UserCreateDate.Equal(*cu.User.UserCreateDate) || !g.UserLastModifiedDate.Equal(*g.UserCreateDate) {
		t.Fatalf("AdminGetUser: created %v, modified %v; AdminCreateUser said %v", g.UserCreateDate, g.UserLastModifiedDate, cu.User.UserCreateDate)
	}
	must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("cy"), Password: aws.String("Passw0rd!")}))
	g = must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("cy")}))
	if g.UserCreateDate == nil || !g.UserLastModifiedDate.Equal(*g.UserCreateDate) {
		t.Fatalf("after SignUp: created %v, modified %v", g.UserCreateDate, g.UserLastModifiedDate)
	}
}

// TestNewPasswordRequiredParameters: NEW_PASSWORD_REQUIRED's
// ChallengeParameters as AWS sends them (testdata/new_password_required.golden):
// userAttributes a JSON string of the user's attributes without sub, with
// email_verified only once true and a blank value for each required
// attribute still missing; requiredAttributes a JSON list of
// "userAttributes.<name>".
func TestNewPasswordRequiredParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("npr"),
		Schema: []types.SchemaAttributeType{{Name: aws.String("email"), Required: aws.Bool(true), Mutable: aws.Bool(true), AttributeDataType: types.AttributeDataTypeString}}})
	challenge := func(name, username string, attrs ...string) {
		in := &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String(username),
			TemporaryPassword: aws.String("Temp0rary!"), MessageAction: types.MessageActionTypeSuppress}
		for i := 0; i+1 < len(attrs); i += 2 {
			in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
		}
		_, err := e.admin.AdminCreateUser(ctx, in)
		if err != nil {
			tr.add(name+": AdminCreateUser", err, "")
			return
		}
		out, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": "Temp0rary!"}})
		ok := ""
		if err == nil {
			ok = fmt.Sprintf("%s USER_ID_FOR_SRP=%s userAttributes=%s requiredAttributes=%s", out.ChallengeName,
				out.ChallengeParameters["USER_ID_FOR_SRP"], out.ChallengeParameters["userAttributes"], out.ChallengeParameters["requiredAttributes"])
		}
		tr.add(name, err, ok)
	}
	challenge("verified email", "ann", "email", "ann@example.com", "email_verified", "true")
	challenge("unverified email and a name", "bob", "email", "bob@example.com", "name", "Bob")
	// An email-as-username pool: USER_ID_FOR_SRP is the sub.
	emailPool, emailClient := e.newPool("npr-email")
	cu := must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(emailPool),
		Username: aws.String("cy@example.com"), TemporaryPassword: aws.String("Temp0rary!"), MessageAction: types.MessageActionTypeSuppress}))
	out := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(emailClient), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "cy@example.com", "PASSWORD": "Temp0rary!"}}))
	tr.add("email as username", nil, fmt.Sprintf("USER_ID_FOR_SRP is the sub=%t userAttributes=%s requiredAttributes=%s",
		out.ChallengeParameters["USER_ID_FOR_SRP"] == *cu.User.Username, out.ChallengeParameters["userAttributes"], out.ChallengeParameters["requiredAttributes"]))
	tr.check("new_password_required.golden")
}

// TestTokenValidityUnits: a client's TokenValidityUnits are kept and
// answered as given (testdata/token_validity_units.golden), and the
// tokens live that long.
func TestTokenValidityUnits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, _ := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("units")})
	show := func(name string, c *types.UserPoolClientType, err error) {
		ok := ""
		if err == nil {
			u := c.TokenValidityUnits
			ok = fmt.Sprintf("access=%d %s id=%d %s refresh=%d %s", *c.AccessTokenValidity, u.AccessToken, *c.IdTokenValidity, u.IdToken,
				c.RefreshTokenValidity, u.RefreshToken)
		}
		tr.add(name, err, ok)
	}
	flows := []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}
	def, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("default")})
	show("no units: create", def.UserPoolClient, err)

	cr, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("given"),
		ExplicitAuthFlows: flows, AccessTokenValidity: aws.Int32(2), IdTokenValidity: aws.Int32(30), RefreshTokenValidity: 10,
		TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeHours, IdToken: types.TimeUnitsTypeMinutes, RefreshToken: types.TimeUnitsTypeDays}})
	show("hours, minutes, days: create", cr.UserPoolClient, err)
	clientID := cr.UserPoolClient.ClientId
	d, err := e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: clientID})
	show("hours, minutes, days: describe", d.UserPoolClient, err)

	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID),
		Username: aws.String("dee"), MessageAction: types.MessageActionTypeSuppress}))
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID),
		Username: aws.String("dee"), Password: aws.String("Passw0rd!"), Permanent: true}))
	auth := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: clientID,
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "dee", "PASSWORD": "Passw0rd!"}}))
	idc := claimsOf(t, *auth.AuthenticationResult.IdToken)
	tr.add("sign-in", nil, fmt.Sprintf("ExpiresIn=%d id token lifetime=%v s", auth.AuthenticationResult.ExpiresIn, idc["exp"].(float64)-idc["iat"].(float64)))

	up, err := e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: clientID, ClientName: aws.String("given"),
		ExplicitAuthFlows: flows, AccessTokenValidity: aws.Int32(1), IdTokenValidity: aws.Int32(300), RefreshTokenValidity: 48,
		TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeDays, IdToken: types.TimeUnitsTypeSeconds, RefreshToken: types.TimeUnitsTypeHours}})
	show("days, seconds, hours: update", up.UserPoolClient, err)
	up, err = e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: clientID, ClientName: aws.String("given"),
		ExplicitAuthFlows: flows})
	show("update without units or validities", up.UserPoolClient, err)
	_, err = e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: clientID, ClientName: aws.String("given"),
		AccessTokenValidity: aws.Int32(1), TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: "weeks"}})
	show("unknown unit", nil, err)
	tr.check("token_validity_units.golden")
}

// TestAutoVerifiedAttributes: a pool made by CreateUserPool without
// AutoVerifiedAttributes (Cognito's default) sends no code at SignUp and
// reports none; its users stay UNCONFIRMED until an admin confirms them.
// UpdateUserPool with [email] turns codes on (testdata/auto_verify.golden).
func TestAutoVerifiedAttributes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("noverify")})
	describe := func(name string) {
		d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)}))
		tr.add(name, nil, fmt.Sprintf("AutoVerifiedAttributes=%v", d.UserPool.AutoVerifiedAttributes))
	}
	emails := func() int {
		ms, _, err := e.stack.With(t).Svc.ListEmails(ctx, poolID, "", 50, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	signUp := func(name, username string) {
		out, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String(username), Password: aws.String("Passw0rd!"),
			UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(username + "@example.com")}}})
		ok := ""
		if err == nil {
			ok = fmt.Sprintf("confirmed=%t CodeDeliveryDetails=%t emails in the pool=%d", out.UserConfirmed, out.CodeDeliveryDetails != nil, emails())
		}
		tr.add(name, err, ok)
	}
	describe("created without: describe")
	signUp("created without: sign-up", "eve")
	_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "eve", "PASSWORD": "Passw0rd!"}})
	tr.add("created without: sign-in before confirmation", err, "")
	_, err = e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String("eve")})
	tr.add("created without: ResendConfirmationCode", err, "")
	_, err = e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String("nobody")})
	tr.add("created without: ResendConfirmationCode for nobody", err, "")
	must[*cip.AdminConfirmSignUpOutput](t)(e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(poolID), Username: aws.String("eve")}))
	tr.add("created without: sign-in after AdminConfirmSignUp", nil, "tokens="+fmt.Sprint(e.signIn(clientID, "eve", "Passw0rd!").AccessToken != nil))

	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}))
	describe("updated with [email]: describe")
	signUp("updated with [email]: sign-up", "fay")
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID)}))
	describe("updated without: describe")
	tr.check("auto_verify.golden")
}
