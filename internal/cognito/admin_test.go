package cognito_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestPoolsAndClients covers the pool and app client operations.
func testPoolsAndClients(t *testing.T, e *env) {

	// CreateUserPool maps Cognito's settings; the SigV4 region names the pool.
	cp := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("docs"),
		Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(16), RequireNumbers: true,
			TemporaryPasswordValidityDays: 3}},
		AliasAttributes:        []types.AliasAttributeType{types.AliasAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		AdminCreateUserConfig:  &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		Schema:                 []types.SchemaAttributeType{{Name: aws.String("tier"), AttributeDataType: types.AttributeDataTypeNumber, NumberAttributeConstraints: &types.NumberAttributeConstraintsType{MinValue: aws.String("1"), MaxValue: aws.String("5")}}},
		UserPoolTags:           map[string]string{"ignored": "yes"},
	}))
	p := cp.UserPool
	if !strings.HasPrefix(*p.Id, region+"_") || *p.Arn != "arn:aws:cognito-idp:"+region+":123456789012:userpool/"+*p.Id ||
		*p.Policies.PasswordPolicy.MinimumLength != 16 || !p.Policies.PasswordPolicy.RequireNumbers || !p.AdminCreateUserConfig.AllowAdminCreateUserOnly ||
		len(p.AliasAttributes) != 1 || p.CreationDate == nil || p.CreationDate.IsZero() {
		t.Fatalf("CreateUserPool %+v", p)
	}
	found := false
	for _, s := range p.SchemaAttributes {
		if *s.Name == "custom:tier" && s.AttributeDataType == types.AttributeDataTypeNumber && *s.NumberAttributeConstraints.MaxValue == "5" {
			found = true
		}
	}
	if !found {
		t.Fatal("custom:tier not in SchemaAttributes")
	}
	poolID := p.Id

	// Tags: UserPoolTags at creation, TagResource, UntagResource.
	tags := func() map[string]string {
		t.Helper()
		return must[*cip.ListTagsForResourceOutput](t)(e.admin.ListTagsForResource(ctx, &cip.ListTagsForResourceInput{ResourceArn: p.Arn})).Tags
	}
	if got := tags(); len(got) != 1 || got["ignored"] != "yes" || p.UserPoolTags["ignored"] != "yes" {
		t.Fatalf("tags after CreateUserPool: %v, UserPoolTags %v", got, p.UserPoolTags)
	}
	must[*cip.TagResourceOutput](t)(e.admin.TagResource(ctx, &cip.TagResourceInput{ResourceArn: p.Arn, Tags: map[string]string{"team": "identity", "cost-centre": "42"}}))
	must[*cip.UntagResourceOutput](t)(e.admin.UntagResource(ctx, &cip.UntagResourceInput{ResourceArn: p.Arn, TagKeys: []string{"ignored", "absent"}}))
	if got := tags(); len(got) != 2 || got["team"] != "identity" || got["cost-centre"] != "42" {
		t.Fatalf("tags after TagResource and UntagResource: %v", got)
	}
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	for name, c := range map[string]struct {
		arn  string
		tags map[string]string
		want string
	}{
		"not a user pool":  {"arn:aws:s3:::bucket", map[string]string{"a": "b"}, "InvalidParameterException"},
		"unknown pool":     {"arn:aws:cognito-idp:" + region + ":123456789012:userpool/" + region + "_nopenope1", map[string]string{"a": "b"}, "ResourceNotFoundException"},
		"reserved key":     {*p.Arn, map[string]string{"aws:owner": "x"}, "InvalidParameterException"},
		"bad character":    {*p.Arn, map[string]string{"a<b": "x"}, "InvalidParameterException"},
		"over 50 in total": {*p.Arn, many, "InvalidParameterException"},
	} {
		_, err := e.admin.TagResource(ctx, &cip.TagResourceInput{ResourceArn: aws.String(c.arn), Tags: c.tags})
		if errCode(err) != c.want {
			t.Errorf("TagResource %s: %v, want %s", name, err, c.want)
		}
	}
	if got := tags(); len(got) != 2 {
		t.Fatalf("a refused TagResource changed the tags: %v", got)
	}

	for name, in := range map[string]*cip.CreateUserPoolInput{
		"mfa":           {PoolName: aws.String("x"), MfaConfiguration: types.UserPoolMfaType("SOMETIMES")},
		"phone":         {PoolName: aws.String("x"), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypePhoneNumber}},
		"lambda":        {PoolName: aws.String("x"), LambdaConfig: &types.LambdaConfigType{PreSignUp: aws.String("arn:aws:lambda:x")}},
		"case":          {PoolName: aws.String("x"), UsernameConfiguration: &types.UsernameConfigurationType{CaseSensitive: aws.Bool(true)}},
		"short pw":      {PoolName: aws.String("x"), Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(2)}}},
		"bad attr name": {PoolName: aws.String("x"), Schema: []types.SchemaAttributeType{{Name: aws.String("bad name!"), AttributeDataType: types.AttributeDataTypeString}}},
	} {
		_, err := e.admin.CreateUserPool(ctx, in)
		if errCode(err) != "InvalidParameterException" {
			t.Errorf("%s: %v, want InvalidParameterException", name, err)
		}
	}

	d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: poolID}))
	if *d.UserPool.Name != "docs" || d.UserPool.EstimatedNumberOfUsers != 0 {
		t.Fatalf("DescribeUserPool %+v", d.UserPool)
	}
	_, err := e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("eu-west-1_nope")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("unknown pool: %v", err)
	}

	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: poolID,
		Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(20)}}}))
	d = must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: poolID}))
	// As on AWS, UpdateUserPool sets every member it omits to its default:
	// AdminCreateUserConfig goes back to open sign-up.
	if *d.UserPool.Policies.PasswordPolicy.MinimumLength != 20 || d.UserPool.AdminCreateUserConfig.AllowAdminCreateUserOnly {
		t.Fatalf("after UpdateUserPool %+v %+v", d.UserPool.Policies.PasswordPolicy, d.UserPool.AdminCreateUserConfig)
	}
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: poolID, MfaConfiguration: types.UserPoolMfaTypeOptional}))
	d = must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: poolID}))
	if d.UserPool.MfaConfiguration != types.UserPoolMfaTypeOptional {
		t.Fatalf("MfaConfiguration after UpdateUserPool: %s", d.UserPool.MfaConfiguration)
	}
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: poolID, MfaConfiguration: types.UserPoolMfaTypeOff}))

	must[*cip.AddCustomAttributesOutput](t)(e.admin.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{UserPoolId: poolID,
		CustomAttributes: []types.SchemaAttributeType{{Name: aws.String("company_name"), AttributeDataType: types.AttributeDataTypeString}}}))
	_, err = e.admin.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{UserPoolId: poolID,
		CustomAttributes: []types.SchemaAttributeType{{Name: aws.String("company_name"), AttributeDataType: types.AttributeDataTypeString}}})
	wantErr(t, err, "InvalidParameterException")

	// ListUserPools pages.
	for i := 0; i < 2; i++ {
		must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(fmt.Sprintf("extra%d", i))}))
	}
	if all := must[*cip.ListUserPoolsOutput](t)(e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})); len(all.UserPools) != 3 || all.NextToken != nil {
		t.Fatalf("ListUserPools: %+v", all)
	}
	var names []string
	var next *string
	for pages := 0; ; pages++ {
		lp := must[*cip.ListUserPoolsOutput](t)(e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(2), NextToken: next}))
		for _, p := range lp.UserPools {
			names = append(names, *p.Name)
		}
		if next = lp.NextToken; next == nil || pages > 5 {
			break
		}
	}
	if len(names) != 3 {
		t.Fatalf("ListUserPools: %v", names)
	}
	_, err = e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")

	// App clients.
	cc := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: poolID,
		ClientName: aws.String("web"), GenerateSecret: true, AccessTokenValidity: aws.Int32(30), TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes},
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{"USER_PASSWORD_AUTH", types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}))
	c := cc.UserPoolClient
	if c.ClientSecret == nil || len(*c.ClientSecret) < 40 || *c.AccessTokenValidity != 30 || c.TokenValidityUnits.AccessToken != types.TimeUnitsTypeMinutes ||
		len(c.ExplicitAuthFlows) != 3 || c.ExplicitAuthFlows[0] != types.ExplicitAuthFlowsTypeAllowUserPasswordAuth { // a legacy name keeps SRP (awsverified_test.go)
		t.Fatalf("CreateUserPoolClient %+v", c)
	}
	dc := must[*cip.DescribeUserPoolClientOutput](t)(e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: c.ClientId}))
	if *dc.UserPoolClient.ClientName != "web" || aws.ToString(dc.UserPoolClient.ClientSecret) != *c.ClientSecret {
		t.Fatalf("DescribeUserPoolClient %+v", dc.UserPoolClient)
	}
	uc := must[*cip.UpdateUserPoolClientOutput](t)(e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: poolID, ClientId: c.ClientId,
		ClientName: aws.String("web2"), RefreshTokenValidity: 2, ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth}}))
	if *uc.UserPoolClient.ClientName != "web2" || uc.UserPoolClient.RefreshTokenValidity != 2 || uc.UserPoolClient.TokenValidityUnits.RefreshToken != types.TimeUnitsTypeDays || uc.UserPoolClient.ExplicitAuthFlows[0] != types.ExplicitAuthFlowsTypeAllowUserSrpAuth {
		t.Fatalf("UpdateUserPoolClient %+v", uc.UserPoolClient)
	}
	_, err = e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: poolID, ClientName: aws.String("bad"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{"ALLOW_NOTHING"}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: poolID, ClientName: aws.String("bad"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeImplicit}, CallbackURLs: []string{"https://app.example.com/cb"}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException")
	must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: poolID, ClientName: aws.String("mobile")}))
	lc := must[*cip.ListUserPoolClientsOutput](t)(e.admin.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: poolID, MaxResults: aws.Int32(10)}))
	if len(lc.UserPoolClients) != 2 {
		t.Fatalf("ListUserPoolClients %+v", lc.UserPoolClients)
	}
	must[*cip.DeleteUserPoolClientOutput](t)(e.admin.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: poolID, ClientId: c.ClientId}))
	_, err = e.admin.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: poolID, ClientId: c.ClientId})
	wantErr(t, err, "ResourceNotFoundException")

	// An admin-only pool refuses SignUp.
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: poolID,
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true}}))
	mobile := lc.UserPoolClients[0].ClientId
	if *lc.UserPoolClients[0].ClientName != "mobile" {
		mobile = lc.UserPoolClients[1].ClientId
	}
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: mobile, Username: aws.String("bob"), Password: aws.String(goodPassword)})
	wantErr(t, err, "NotAuthorizedException")

	must[*cip.DeleteUserPoolOutput](t)(e.admin.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: poolID}))
	_, err = e.admin.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: poolID})
	wantErr(t, err, "ResourceNotFoundException")
}

// TestUsersAndGroups covers user administration, ListUsers and groups.
func testUsersAndGroups(t *testing.T, e *env) {
	poolID, clientID := e.newPool("users")
	pid := aws.String(poolID)

	// AdminCreateUser with an invitation email, bad input.
	cu := must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pid, Username: aws.String("carol@example.com"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}, {Name: aws.String("custom:company_name"), Value: aws.String("Acme")}}}))
	if cu.User.UserStatus != types.UserStatusTypeForceChangePassword || !cu.User.Enabled || cu.User.UserCreateDate == nil {
		t.Fatalf("AdminCreateUser %+v", cu.User)
	}
	_, err := e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pid, Username: aws.String("carol@example.com")})
	var uee *types.UsernameExistsException
	if !errors.As(err, &uee) {
		t.Fatalf("duplicate AdminCreateUser: %v", err)
	}
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pid, Username: aws.String("dave@example.com"), DesiredDeliveryMediums: []types.DeliveryMediumType{types.DeliveryMediumTypeSms}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String("eu-west-1_missing"), Username: aws.String("dave@example.com")})
	wantErr(t, err, "ResourceNotFoundException")

	// AdminSetUserPassword permanent makes the user CONFIRMED.
	_, err = e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pid, Username: aws.String("carol@example.com"), Password: aws.String("short"), Permanent: true})
	wantErr(t, err, "InvalidPasswordException")
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pid, Username: aws.String("carol@example.com"), Password: aws.String(goodPassword), Permanent: true}))
	gu := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pid, Username: aws.String("carol@example.com")}))
	if gu.UserStatus != types.UserStatusTypeConfirmed || *gu.Username == "carol@example.com" {
		t.Fatalf("AdminGetUser %s %s", *gu.Username, gu.UserStatus)
	}
	_, err = e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pid, Username: aws.String("nobody@example.com")})
	var unf *types.UserNotFoundException
	if !errors.As(err, &unf) {
		t.Fatalf("unknown user: %v", err)
	}

	// A self sign-up, confirmed by the admin (the articles' approval step).
	e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("erin@example.com"), Password: aws.String(goodPassword)})
	must[*cip.AdminConfirmSignUpOutput](t)(e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))
	_, err = e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: pid, Username: aws.String("nobody@example.com")})
	wantErr(t, err, "UserNotFoundException")
	e.signIn(clientID, "erin@example.com", goodPassword)

	// Disable / enable.
	must[*cip.AdminDisableUserOutput](t)(e.admin.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "erin@example.com", "PASSWORD": goodPassword}})
	var nae *types.NotAuthorizedException
	if !errors.As(err, &nae) || *nae.Message != "User is disabled." {
		t.Fatalf("disabled: %v", err)
	}
	must[*cip.AdminEnableUserOutput](t)(e.admin.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))

	// AdminInitiateAuth with passwords; pool/client mismatch.
	ai := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: pid, ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeAdminNoSrpAuth, AuthParameters: map[string]string{"USERNAME": "erin@example.com", "PASSWORD": goodPassword}}))
	if ai.AuthenticationResult == nil {
		t.Fatal("AdminInitiateAuth: no tokens")
	}
	other, _ := e.newPool("other")
	_, err = e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(other), ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeAdminNoSrpAuth, AuthParameters: map[string]string{"USERNAME": "erin@example.com", "PASSWORD": goodPassword}})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: pid, ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeAdminNoSrpAuth, AuthParameters: map[string]string{"USERNAME": "erin@example.com", "PASSWORD": otherPassword}})
	wantErr(t, err, "NotAuthorizedException")

	// AdminListUserAuthEvents: the sign-ins above, from the audit log.
	ev := must[*cip.AdminListUserAuthEventsOutput](t)(e.admin.AdminListUserAuthEvents(ctx, &cip.AdminListUserAuthEventsInput{UserPoolId: pid,
		Username: aws.String("erin@example.com"), MaxResults: aws.Int32(60)}))
	var pass, fail int
	for _, a := range ev.AuthEvents {
		if a.EventType != types.EventTypeSignIn || a.CreationDate == nil || a.EventId == nil {
			t.Fatalf("auth event %+v", a)
		}
		switch a.EventResponse {
		case types.EventResponseTypePass:
			pass++
		case types.EventResponseTypeFail:
			fail++
		}
	}
	if pass < 2 || fail < 1 {
		t.Fatalf("AdminListUserAuthEvents: %d pass, %d fail in %+v", pass, fail, ev.AuthEvents)
	}
	_, err = e.admin.AdminListUserAuthEvents(ctx, &cip.AdminListUserAuthEventsInput{UserPoolId: pid, Username: aws.String("nobody@example.com")})
	wantErr(t, err, "UserNotFoundException")
	_, err = e.admin.AdminListUserAuthEvents(ctx, &cip.AdminListUserAuthEventsInput{UserPoolId: pid, Username: aws.String("erin@example.com"), MaxResults: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.AdminListUserAuthEvents(ctx, &cip.AdminListUserAuthEventsInput{UserPoolId: pid, Username: aws.String("erin@example.com"), NextToken: aws.String("garbage")})
	wantErr(t, err, "InvalidParameterException")

	// AdminUserGlobalSignOut revokes the refresh token.
	must[*cip.AdminUserGlobalSignOutOutput](t)(e.admin.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *ai.AuthenticationResult.RefreshToken}})
	wantErr(t, err, "NotAuthorizedException")

	// Attributes.
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pid, Username: aws.String("erin@example.com"),
		UserAttributes: []types.AttributeType{{Name: aws.String("given_name"), Value: aws.String("Erin")}, {Name: aws.String("custom:company_name"), Value: aws.String("Acme")}}}))
	_, err = e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pid, Username: aws.String("erin@example.com"),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:unknown"), Value: aws.String("x")}}})
	wantErr(t, err, "InvalidParameterException")
	must[*cip.AdminDeleteUserAttributesOutput](t)(e.admin.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: pid, Username: aws.String("erin@example.com"),
		UserAttributeNames: []string{"given_name"}}))

	// ListUsers: filter syntax, Limit, pagination.
	lu := must[*cip.ListUsersOutput](t)(e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, Filter: aws.String(`email = "erin@example.com"`)}))
	if len(lu.Users) != 1 || lu.Users[0].UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("ListUsers email filter %+v", lu.Users)
	}
	lu = must[*cip.ListUsersOutput](t)(e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, Filter: aws.String(`email ^= "car"`), AttributesToGet: []string{"email"}}))
	if len(lu.Users) != 1 || len(lu.Users[0].Attributes) != 1 || *lu.Users[0].Attributes[0].Name != "email" {
		t.Fatalf("ListUsers prefix + AttributesToGet %+v", lu.Users)
	}
	for _, bad := range []string{`email == "x"`, `nosuch = "x"`, `email = x`} {
		_, err = e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, Filter: aws.String(bad)})
		wantErr(t, err, "InvalidParameterException")
	}
	_, err = e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, Limit: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, PaginationToken: aws.String("garbage")})
	wantErr(t, err, "InvalidParameterException")
	var all []string
	var tokn *string
	for i := 0; i < 5; i++ {
		out := must[*cip.ListUsersOutput](t)(e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pid, Limit: aws.Int32(1), PaginationToken: tokn}))
		for _, u := range out.Users {
			all = append(all, *u.Username)
		}
		if tokn = out.PaginationToken; tokn == nil {
			break
		}
	}
	if len(all) != 2 || all[0] == all[1] {
		t.Fatalf("ListUsers pages %v", all)
	}

	// Groups.
	cg := must[*cip.CreateGroupOutput](t)(e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers"),
		Description: aws.String("company admins"), Precedence: aws.Int32(1)}))
	if *cg.Group.GroupName != "Approvers" || *cg.Group.Precedence != 1 || cg.Group.CreationDate == nil {
		t.Fatalf("CreateGroup %+v", cg.Group)
	}
	_, err = e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")})
	var gee *types.GroupExistsException
	if !errors.As(err, &gee) {
		t.Fatalf("duplicate group: %v", err)
	}
	must[*cip.CreateGroupOutput](t)(e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pid, GroupName: aws.String("Readers")}))
	gg := must[*cip.GetGroupOutput](t)(e.admin.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")}))
	if *gg.Group.Description != "company admins" {
		t.Fatalf("GetGroup %+v", gg.Group)
	}
	_, err = e.admin.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: pid, GroupName: aws.String("Nope")})
	wantErr(t, err, "ResourceNotFoundException")
	ug := must[*cip.UpdateGroupOutput](t)(e.admin.UpdateGroup(ctx, &cip.UpdateGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers"), Precedence: aws.Int32(5)}))
	if *ug.Group.Precedence != 5 || *ug.Group.Description != "company admins" {
		t.Fatalf("UpdateGroup %+v", ug.Group)
	}
	lg := must[*cip.ListGroupsOutput](t)(e.admin.ListGroups(ctx, &cip.ListGroupsInput{UserPoolId: pid}))
	if len(lg.Groups) != 2 {
		t.Fatalf("ListGroups %+v", lg.Groups)
	}
	for _, g := range []string{"Approvers", "Readers"} {
		must[*cip.AdminAddUserToGroupOutput](t)(e.admin.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pid, Username: aws.String("erin@example.com"), GroupName: aws.String(g)}))
	}
	_, err = e.admin.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pid, Username: aws.String("erin@example.com"), GroupName: aws.String("Nope")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pid, Username: aws.String("nobody@example.com"), GroupName: aws.String("Readers")})
	wantErr(t, err, "UserNotFoundException")
	lgu := must[*cip.AdminListGroupsForUserOutput](t)(e.admin.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pid, Username: aws.String("erin@example.com"), Limit: aws.Int32(1)}))
	if len(lgu.Groups) != 1 || lgu.NextToken == nil {
		t.Fatalf("AdminListGroupsForUser page 1 %+v", lgu)
	}
	lgu = must[*cip.AdminListGroupsForUserOutput](t)(e.admin.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pid, Username: aws.String("erin@example.com"), Limit: aws.Int32(1), NextToken: lgu.NextToken}))
	if len(lgu.Groups) != 1 || lgu.NextToken != nil {
		t.Fatalf("AdminListGroupsForUser page 2 %+v", lgu)
	}
	liu := must[*cip.ListUsersInGroupOutput](t)(e.admin.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")}))
	if len(liu.Users) != 1 {
		t.Fatalf("ListUsersInGroup %+v", liu.Users)
	}
	// The token carries the groups.
	tok := e.signIn(clientID, "erin@example.com", goodPassword)
	if !strings.Contains(jwtPayload(t, *tok.AccessToken), `"Approvers"`) {
		t.Fatal("cognito:groups missing from the access token")
	}
	must[*cip.AdminRemoveUserFromGroupOutput](t)(e.admin.AdminRemoveUserFromGroup(ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: pid, Username: aws.String("erin@example.com"), GroupName: aws.String("Approvers")}))
	liu = must[*cip.ListUsersInGroupOutput](t)(e.admin.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")}))
	if len(liu.Users) != 0 {
		t.Fatalf("ListUsersInGroup after removal %+v", liu.Users)
	}
	must[*cip.DeleteGroupOutput](t)(e.admin.DeleteGroup(ctx, &cip.DeleteGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")}))
	_, err = e.admin.DeleteGroup(ctx, &cip.DeleteGroupInput{UserPoolId: pid, GroupName: aws.String("Approvers")})
	wantErr(t, err, "ResourceNotFoundException")

	// AdminResetUserPassword: sign-in then says PasswordResetRequiredException.
	must[*cip.AdminResetUserPasswordOutput](t)(e.admin.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "erin@example.com", "PASSWORD": goodPassword}})
	var prr *types.PasswordResetRequiredException
	if !errors.As(err, &prr) {
		t.Fatalf("after reset: %v", err)
	}

	// AdminDeleteUser.
	must[*cip.AdminDeleteUserOutput](t)(e.admin.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pid, Username: aws.String("erin@example.com")}))
	_, err = e.admin.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pid, Username: aws.String("erin@example.com")})
	wantErr(t, err, "UserNotFoundException")
}
