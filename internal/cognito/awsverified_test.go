package cognito_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/uuid"

	"github.com/gatehouse-id/gatehouse/internal/auth"
)

// TestAWSVerifiedBehaviours pins, through the AWS SDK for Go, what the
// AWS-verified tests of moto (test/python/test_moto_verified.py) showed
// Gatehouse did differently from AWS, with the refusals around each
// (testdata/aws_verified.golden): DescribeUserPoolClient and
// UpdateUserPoolClient answer the client secret; a client given legacy
// ExplicitAuthFlows names keeps SRP and refresh; AdminCreateUser of a
// user with no address creates it and sends nothing; email_verified
// takes "True"; a refresh's SECRET_HASH is checked against the refresh
// token's user (username or sub) without USERNAME.
func TestAWSVerifiedBehaviours(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	p := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("verified")}))
	poolID := p.UserPool.Id

	// The client secret, as AWS answers it to the administrator.
	c := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: poolID, ClientName: aws.String("secret"), GenerateSecret: true,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	}))
	clientID, secret := *c.UserPoolClient.ClientId, aws.ToString(c.UserPoolClient.ClientSecret)
	d, err := e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: aws.String(clientID)})
	if err == nil {
		tr.add("DescribeUserPoolClient with a secret", nil, fmt.Sprintf("secret shown=%t same=%t", d.UserPoolClient.ClientSecret != nil, aws.ToString(d.UserPoolClient.ClientSecret) == secret))
	} else {
		tr.add("DescribeUserPoolClient with a secret", err, "")
	}
	u, err := e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: poolID, ClientId: aws.String(clientID), ClientName: aws.String("renamed"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err == nil {
		tr.add("UpdateUserPoolClient with a secret", nil, fmt.Sprintf("same=%t", aws.ToString(u.UserPoolClient.ClientSecret) == secret))
	} else {
		tr.add("UpdateUserPoolClient with a secret", err, "")
	}
	pub := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: poolID, ClientName: aws.String("public"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{"USER_PASSWORD_AUTH"}}))
	d, err = e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: pub.UserPoolClient.ClientId})
	if err == nil {
		flows := d.UserPoolClient.ExplicitAuthFlows
		slices.Sort(flows)
		tr.add("legacy USER_PASSWORD_AUTH client", nil, fmt.Sprintf("secret shown=%t flows=%v", d.UserPoolClient.ClientSecret != nil, flows))
	} else {
		tr.add("legacy USER_PASSWORD_AUTH client", err, "")
	}
	_, err = e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: aws.String("nosuchclient0000000000000")})
	tr.add("DescribeUserPoolClient of an unknown client", err, "")

	// AdminCreateUser without an address to invite.
	name := uuid.NewString()
	cu, err := e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: poolID, Username: aws.String(name), TemporaryPassword: aws.String("P2$Sword")})
	if err == nil {
		tr.add("AdminCreateUser with no address and no MessageAction", nil, "status="+string(cu.User.UserStatus))
	} else {
		tr.add("AdminCreateUser with no address and no MessageAction", err, "")
	}
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: poolID, Username: aws.String(uuid.NewString()),
		UserAttributes: []types.AttributeType{{Name: aws.String("phone_number"), Value: aws.String("+14325551212")}}})
	tr.add("AdminCreateUser with only a phone number and no MessageAction", err, "")

	// email_verified in AWS's spellings.
	for _, v := range []string{"True", "FALSE", "yes"} {
		n := uuid.NewString()
		_, err := e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: poolID, Username: aws.String(n), MessageAction: types.MessageActionTypeSuppress,
			UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("v@example.org")}, {Name: aws.String("email_verified"), Value: aws.String(v)}}})
		ok := ""
		if err == nil {
			g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: poolID, Username: aws.String(n)}))
			for _, a := range g.UserAttributes {
				if *a.Name == "email_verified" {
					ok = "email_verified=" + *a.Value
				}
			}
		}
		tr.add("email_verified "+v, err, ok)
	}

	// A refresh's SECRET_HASH, without USERNAME.
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: poolID, Username: aws.String(name),
		Password: aws.String("P2$Sword2"), Permanent: true}))
	a := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: poolID, ClientId: aws.String(clientID),
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": "P2$Sword2", "SECRET_HASH": auth.SecretHash(secret, name, clientID)}}))
	sub := ""
	g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: poolID, Username: aws.String(name)}))
	for _, at := range g.UserAttributes {
		if *at.Name == "sub" {
			sub = *at.Value
		}
	}
	rt := *a.AuthenticationResult.RefreshToken
	for _, c := range []struct{ name, hash string }{
		{"refresh with a SECRET_HASH of another user", auth.SecretHash(secret, "someone-else", clientID)},
		{"refresh with a SECRET_HASH of a wrong secret", auth.SecretHash("wrong", name, clientID)},
		{"refresh with a SECRET_HASH of the username", auth.SecretHash(secret, name, clientID)},
		{"refresh with a SECRET_HASH of the sub", auth.SecretHash(secret, sub, clientID)},
	} {
		r, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": rt, "SECRET_HASH": c.hash}})
		ok := ""
		if err == nil {
			// The client was made by CreateUserPoolClient without
			// RefreshTokenRotation: DISABLED, as on AWS, so the same
			// refresh token serves every attempt.
			ok = fmt.Sprintf("tokens=%t rotated=%t", r.AuthenticationResult.AccessToken != nil, r.AuthenticationResult.RefreshToken != nil)
		}
		tr.add(c.name, err, ok)
	}
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": rt}})
	tr.add("refresh without SECRET_HASH", err, "")
	// A wrong password is listed as a failed sign-in, as AWS lists it.
	_, err = e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: poolID, ClientId: aws.String(clientID),
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": "Wrong$Passw0rd", "SECRET_HASH": auth.SecretHash(secret, name, clientID)}})
	tr.add("sign-in with a wrong password", err, "")
	ev := must[*cip.AdminListUserAuthEventsOutput](t)(e.admin.AdminListUserAuthEvents(ctx, &cip.AdminListUserAuthEventsInput{UserPoolId: poolID, Username: aws.String(name), MaxResults: aws.Int32(10)}))
	var evs []string
	for _, x := range ev.AuthEvents {
		evs = append(evs, string(x.EventType)+"/"+string(x.EventResponse))
	}
	tr.add("AdminListUserAuthEvents", nil, strings.Join(evs, " "))

	// Partial StringAttributeConstraints read back as given (moto's
	// test_create_user_pool_attribute_partial_schema shows AWS's shape).
	sp, err := e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("partial"), Schema: []types.SchemaAttributeType{
		{Name: aws.String("string_no_min"), AttributeDataType: types.AttributeDataTypeString, StringAttributeConstraints: &types.StringAttributeConstraintsType{MaxLength: aws.String("10")}},
		{Name: aws.String("string_no_max"), AttributeDataType: types.AttributeDataTypeString, StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("10")}},
		{Name: aws.String("string_both"), AttributeDataType: types.AttributeDataTypeString, StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("1"), MaxLength: aws.String("5")}},
	}})
	if err != nil {
		tr.add("partial StringAttributeConstraints", err, "")
	} else {
		dp := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: sp.UserPool.Id}))
		for _, a := range dp.UserPool.SchemaAttributes {
			if c := a.StringAttributeConstraints; strings.HasPrefix(*a.Name, "custom:") && c != nil {
				tr.add("constraints of "+*a.Name, nil, fmt.Sprintf("MinLength=%s MaxLength=%s", aws.ToString(c.MinLength), aws.ToString(c.MaxLength)))
			}
		}
	}
	_, err = e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bad"), Schema: []types.SchemaAttributeType{
		{Name: aws.String("s"), AttributeDataType: types.AttributeDataTypeString, StringAttributeConstraints: &types.StringAttributeConstraintsType{MaxLength: aws.String("ten")}}}})
	tr.add("StringAttributeConstraints MaxLength not a number", err, "")

	// email marked Required in the schema: stored, shown, enforced.
	rp := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("email-required"),
		Schema: []types.SchemaAttributeType{{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeString, Required: aws.Bool(true), Mutable: aws.Bool(true)}}}))
	for _, a := range rp.UserPool.SchemaAttributes {
		if *a.Name == "email" {
			tr.add("email Required in the schema", nil, fmt.Sprintf("Required=%t", aws.ToBool(a.Required)))
		}
	}
	rc := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: rp.UserPool.Id, ClientName: aws.String("app")}))
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: rc.UserPoolClient.ClientId, Username: aws.String(uuid.NewString()), Password: aws.String("P2$Sword")})
	tr.add("SignUp without the required email", err, "")
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: rc.UserPoolClient.ClientId, Username: aws.String(uuid.NewString()), Password: aws.String("P2$Sword"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("r@example.org")}}})
	tr.add("SignUp with the required email", err, "")
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: rp.UserPool.Id, Username: aws.String(uuid.NewString()), MessageAction: types.MessageActionTypeSuppress})
	tr.add("AdminCreateUser without the required email", err, "")

	// ForceAliasCreation in a pool where the verified email is an alias.
	ap := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("alias"),
		AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail}}))
	verifiedUser := func(name string, force bool) error {
		_, err := e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: ap.UserPool.Id, Username: aws.String(name), MessageAction: types.MessageActionTypeSuppress,
			ForceAliasCreation: force, UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("shared@example.org")}, {Name: aws.String("email_verified"), Value: aws.String("true")}}})
		return err
	}
	emailVerified := func(name string) string {
		g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: ap.UserPool.Id, Username: aws.String(name)}))
		for _, a := range g.UserAttributes {
			if *a.Name == "email_verified" {
				return *a.Value
			}
		}
		return "absent"
	}
	tr.add("alias: first user with a verified email", verifiedUser("first", false), "")
	tr.add("alias: second user with that email, no ForceAliasCreation", verifiedUser("second", false), "")
	err = verifiedUser("third", true)
	tr.add("alias: third user with that email and ForceAliasCreation", err, "first email_verified="+emailVerified("first")+" third email_verified="+emailVerified("third"))

	for i := range tr.lines {
		tr.lines[i] = strings.ReplaceAll(tr.lines[i], clientID, "<client>")
	}
	tr.check("aws_verified.golden")
}
