package cognito_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// attrNames lists the attributes of a Cognito user as "name=value" (sub
// left out), in the order they came.
func attrNames(as []types.AttributeType) string {
	var out []string
	for _, a := range as {
		if *a.Name == "sub" {
			continue
		}
		out = append(out, *a.Name+"="+aws.ToString(a.Value))
	}
	return strings.Join(out, " ")
}

// TestEmailVerifiedListed: email_verified is listed only once it was set
// (and a changed phone number is no longer verified),
// as AWS lists only the attributes that were set, on every read path
// (AdminCreateUser's answer, AdminGetUser, ListUsers, ListUsersInGroup,
// GetUser, NEW_PASSWORD_REQUIRED's userAttributes) (testdata/email_verified.golden).
func TestEmailVerifiedListed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("listed"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}})
	pool := aws.String(poolID)
	get := func(name string) string {
		g, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String(name)})
		if err != nil {
			return err.Error()
		}
		return attrNames(g.UserAttributes)
	}
	listed := func(name string) string {
		l := must[*cip.ListUsersOutput](t)(e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`username = "` + name + `"`)}))
		if len(l.Users) != 1 {
			return fmt.Sprintf("%d users", len(l.Users))
		}
		return attrNames(l.Users[0].Attributes)
	}

	// SignUp: the address is unverified, and nobody set email_verified.
	must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("signup"), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("signup@example.org")}}}))
	tr.add("SignUp, AdminGetUser", nil, get("signup"))
	tr.add("SignUp, ListUsers", nil, listed("signup"))
	must[*cip.ConfirmSignUpOutput](t)(e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("signup"),
		ConfirmationCode: aws.String(e.lastCode(poolID, "signup@example.org"))}))
	tr.add("ConfirmSignUp, AdminGetUser", nil, get("signup"))
	a := e.signIn(clientID, "signup", goodPassword)
	g := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken}))
	tr.add("ConfirmSignUp, GetUser", nil, attrNames(g.UserAttributes))
	// The user changes the address: the new one is unverified, and says so.
	must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: a.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("signup2@example.org")}}}))
	g = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken}))
	tr.add("UpdateUserAttributes email, GetUser", nil, attrNames(g.UserAttributes))
	// The attack: the user marks the new address verified. Refused, and
	// nothing changes (only a code, an admin or a hook verifies).
	_, err := e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: a.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}})
	tr.add("UpdateUserAttributes email_verified true by the user", err, "")
	g = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken}))
	tr.add("  then GetUser", nil, attrNames(g.UserAttributes))
	// A verified phone number the user changes is no longer verified;
	// removed, it takes its flag with it.
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String("signup"),
		UserAttributes: []types.AttributeType{{Name: aws.String("phone_number"), Value: aws.String("+14325551212")}, {Name: aws.String("phone_number_verified"), Value: aws.String("true")}}}))
	tr.add("AdminUpdateUserAttributes phone_number, phone_number_verified true", nil, get("signup"))
	must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: a.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("phone_number"), Value: aws.String("+14325551213")}}}))
	g = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken}))
	tr.add("UpdateUserAttributes phone_number by the user, GetUser", nil, attrNames(g.UserAttributes))
	must[*cip.DeleteUserAttributesOutput](t)(e.public.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: a.AccessToken, UserAttributeNames: []string{"phone_number"}}))
	g = must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: a.AccessToken}))
	tr.add("DeleteUserAttributes phone_number by the user, GetUser", nil, attrNames(g.UserAttributes))

	// AdminCreateUser with an email and nothing else.
	c := must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("invited"),
		TemporaryPassword: aws.String("Temp0rary!pass"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("invited@example.org")}}}))
	tr.add("AdminCreateUser, its answer", nil, attrNames(c.User.Attributes))
	tr.add("AdminCreateUser, AdminGetUser", nil, get("invited"))
	must[*cip.CreateGroupOutput](t)(e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("staff")}))
	must[*cip.AdminAddUserToGroupOutput](t)(e.admin.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("invited"), GroupName: aws.String("staff")}))
	lg := must[*cip.ListUsersInGroupOutput](t)(e.admin.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String("staff")}))
	tr.add("AdminCreateUser, ListUsersInGroup", nil, attrNames(lg.Users[0].Attributes))
	ch := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: pool, ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "invited", "PASSWORD": "Temp0rary!pass"}}))
	tr.add("AdminCreateUser, NEW_PASSWORD_REQUIRED userAttributes", nil, ch.ChallengeParameters["userAttributes"])

	// An administrator's false is listed; deleting the attribute unlists it.
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String("invited"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("false")}}}))
	tr.add("AdminUpdateUserAttributes email_verified false, AdminGetUser", nil, get("invited"))
	tr.add("AdminUpdateUserAttributes email_verified false, ListUsers", nil, listed("invited"))
	ch = must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: pool, ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "invited", "PASSWORD": "Temp0rary!pass"}}))
	tr.add("email_verified false, NEW_PASSWORD_REQUIRED userAttributes", nil, ch.ChallengeParameters["userAttributes"])
	must[*cip.AdminDeleteUserAttributesOutput](t)(e.admin.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: pool, Username: aws.String("invited"),
		UserAttributeNames: []string{"email_verified"}}))
	tr.add("AdminDeleteUserAttributes email_verified, AdminGetUser", nil, get("invited"))
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String("invited"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}}))
	tr.add("AdminUpdateUserAttributes email_verified true, AdminGetUser", nil, get("invited"))
	// An administrator's new address without email_verified is unverified.
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String("invited"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("moved@example.org")}}}))
	tr.add("AdminUpdateUserAttributes email, AdminGetUser", nil, get("invited"))
	// A user without email lists neither.
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("bare"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Bare")}}}))
	tr.add("no email, AdminGetUser", nil, get("bare"))
	// The ID token carries the claim on the same terms.
	idClaim := func() string {
		tok := e.signIn(clientID, "plain", goodPassword)
		var c map[string]any
		if err := json.Unmarshal([]byte(jwtPayload(t, *tok.IdToken)), &c); err != nil {
			t.Fatal(err)
		}
		v, ok := c["email_verified"]
		return fmt.Sprintf("email=%v email_verified present=%t value=%v", c["email"], ok, v)
	}
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("plain"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("plain@example.org")}}}))
	must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("plain"),
		Password: aws.String(goodPassword), Permanent: true}))
	tr.add("ID token, email_verified never set", nil, idClaim())
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: pool, Username: aws.String("plain"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("false")}}}))
	tr.add("ID token, email_verified set false", nil, idClaim())
	tr.check("email_verified.golden")
}

// TestAccountRecoverySetting: AccountRecoverySetting is kept and
// answered; admin_only refuses ForgotPassword as AWS does, for known and
// unknown names alike, while AdminResetUserPassword still works; settings
// Gatehouse cannot honour or AWS refuses are InvalidParameterException and
// change nothing (testdata/account_recovery.golden).
func TestAccountRecoverySetting(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	recovery := func(ms ...types.RecoveryOptionType) *types.AccountRecoverySettingType {
		return &types.AccountRecoverySettingType{RecoveryMechanisms: ms}
	}
	opt := func(name types.RecoveryOptionNameType, prio int32) types.RecoveryOptionType {
		return types.RecoveryOptionType{Name: name, Priority: aws.Int32(prio)}
	}
	describe := func(poolID string) string {
		d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)}))
		if d.UserPool.AccountRecoverySetting == nil {
			return "AccountRecoverySetting absent"
		}
		var out []string
		for _, m := range d.UserPool.AccountRecoverySetting.RecoveryMechanisms {
			out = append(out, fmt.Sprintf("%s:%d", m.Name, aws.ToInt32(m.Priority)))
		}
		return "AccountRecoverySetting " + strings.Join(out, " ")
	}
	auto := []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("admin-only"), AutoVerifiedAttributes: auto,
		AccountRecoverySetting: recovery(opt(types.RecoveryOptionNameTypeAdminOnly, 1))})
	tr.add("CreateUserPool admin_only, DescribeUserPool", nil, describe(poolID))
	must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("ann"), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("ann@example.org")}}}))
	must[*cip.ConfirmSignUpOutput](t)(e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("ann"),
		ConfirmationCode: aws.String(e.lastCode(poolID, "ann@example.org"))}))
	_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("ann2"), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("ann2@example.org")}}})
	tr.add("SignUp", err, "")
	must[*cip.AdminUpdateUserAttributesOutput](t)(e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(poolID), Username: aws.String("ann2"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}}))
	must[*cip.AdminConfirmSignUpOutput](t)(e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(poolID), Username: aws.String("ann2")}))
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("ann2")})
	tr.add("admin_only: ForgotPassword of a user with a verified email", err, "")
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("nobody")})
	tr.add("admin_only: ForgotPassword of an unknown name", err, "")
	_, err = e.admin.AdminResetUserPassword(ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String("ann2")})
	g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("ann2")}))
	tr.add("admin_only: AdminResetUserPassword", err, "status="+string(g.UserStatus))
	code := e.lastCode(poolID, "ann2@example.org")
	_, err = e.public.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("ann2"),
		ConfirmationCode: aws.String(code), Password: aws.String(otherPassword)})
	tr.add("admin_only: ConfirmForgotPassword with the administrator's reset code", err, "")

	// Refused as AWS refuses them, or because Gatehouse sends no SMS;
	// the pool keeps its setting.
	for _, c := range []struct {
		name string
		in   *types.AccountRecoverySettingType
	}{
		{"admin_only with verified_email", recovery(opt(types.RecoveryOptionNameTypeAdminOnly, 1), opt(types.RecoveryOptionNameTypeVerifiedEmail, 2))},
		{"verified_phone_number alone", recovery(opt(types.RecoveryOptionNameTypeVerifiedPhoneNumber, 1))},
		{"priority 3", recovery(opt(types.RecoveryOptionNameTypeVerifiedEmail, 3))},
		{"the same priority twice", recovery(opt(types.RecoveryOptionNameTypeVerifiedEmail, 1), opt(types.RecoveryOptionNameTypeVerifiedPhoneNumber, 1))},
		{"an unknown mechanism", recovery(opt("carrier_pigeon", 1))},
		{"no mechanism", recovery()},
	} {
		_, err := e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID), AutoVerifiedAttributes: auto, AccountRecoverySetting: c.in})
		tr.add("UpdateUserPool "+c.name, err, "")
	}
	tr.add("after the refusals, DescribeUserPool", nil, describe(poolID))

	// Email first, or after the phone: the code goes to the verified email.
	for _, in := range []*types.AccountRecoverySettingType{
		recovery(opt(types.RecoveryOptionNameTypeVerifiedPhoneNumber, 1), opt(types.RecoveryOptionNameTypeVerifiedEmail, 2)),
		recovery(opt(types.RecoveryOptionNameTypeVerifiedEmail, 1)),
		nil,
	} {
		_, err := e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID), AutoVerifiedAttributes: auto, AccountRecoverySetting: in})
		d := describe(poolID)
		if err == nil {
			f, ferr := e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("ann")})
			if ferr == nil {
				d += fmt.Sprintf(", ForgotPassword: %s %s", f.CodeDeliveryDetails.DeliveryMedium, aws.ToString(f.CodeDeliveryDetails.AttributeName))
			} else {
				tr.add("UpdateUserPool then ForgotPassword", ferr, "")
			}
		}
		tr.add("UpdateUserPool", err, d)
	}
	tr.check("account_recovery.golden")
}

// withBody replaces the JSON body the SDK serialised with body (before
// signing), so that a wrong JSON type reaches the server as a real client
// would send it.
func withBody(body string) func(*cip.Options) {
	return func(o *cip.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Serialize.Add(middleware.SerializeMiddlewareFunc("wrongBody", func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected request %T", in.Request)
				}
				r, err := req.SetStream(strings.NewReader(body))
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				in.Request = r
				return next.HandleSerialize(ctx, in)
			}), middleware.After)
		})
	}
}

// TestSerializationException: a request whose members have the wrong JSON
// type, or that is not JSON, is SerializationException (HTTP 400,
// "__type" and "Message", as AWS's JSON protocol answers), which the AWS
// SDK for Go decodes; nothing is changed (testdata/serialization.golden).
func TestSerializationException(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("serial")})
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("kim"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Kim")}}}))
	js := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	cases := []struct {
		name string
		call func(body string) error
		body string
	}{
		{"ListUsers Limit as a string", func(b string) error {
			_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID)}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Limit":"10"}`, poolID)},
		{"ListUsers Limit as a fraction", func(b string) error {
			_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID)}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Limit":1.5}`, poolID)},
		{"ListUsers UserPoolId as a number", func(b string) error {
			_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID)}, withBody(b))
			return err
		}, `{"UserPoolId":12}`},
		{"AdminGetUser Username as an object", func(b string) error {
			_, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("kim")}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Username":{"S":"kim"}}`, poolID)},
		{"AdminGetUser Username as a list", func(b string) error {
			_, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("kim")}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Username":["kim"]}`, poolID)},
		{"AdminGetUser Username as a boolean", func(b string) error {
			_, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("kim")}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Username":true}`, poolID)},
		{"SignUp UserAttributes as a string", func(b string) error {
			_, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("lee"), Password: aws.String(goodPassword)}, withBody(b))
			return err
		}, js(`{"ClientId":%q,"Username":"lee","Password":%q,"UserAttributes":"x"}`, clientID, goodPassword)},
		{"ForgotPassword ClientMetadata as a list", func(b string) error {
			_, err := e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("kim")}, withBody(b))
			return err
		}, js(`{"ClientId":%q,"Username":"kim","ClientMetadata":["x"]}`, clientID)},
		{"AdminUpdateUserAttributes with one Value a number", func(b string) error {
			_, err := e.admin.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: aws.String(poolID), Username: aws.String("kim"),
				UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Changed")}}}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Username":"kim","UserAttributes":[{"Name":"name","Value":"Changed"},{"Name":"given_name","Value":5}]}`, poolID)},
		{"AdminSetUserPassword Permanent as a string", func(b string) error {
			_, err := e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(poolID), Username: aws.String("kim"), Password: aws.String(goodPassword)}, withBody(b))
			return err
		}, js(`{"UserPoolId":%q,"Username":"kim","Password":%q,"Permanent":"yes"}`, poolID, goodPassword)},
		{"InitiateAuth not JSON", func(b string) error {
			_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth}, withBody(b))
			return err
		}, `{"ClientId": "x", "AuthFlow": `},
		{"InitiateAuth a JSON list", func(b string) error {
			_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth}, withBody(b))
			return err
		}, `["InitiateAuth"]`},
	}
	for _, c := range cases {
		tr.add(c.name, c.call(c.body), "")
	}
	// Nothing was applied: Kim keeps her name and password state, and Lee
	// was not signed up.
	g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("kim")}))
	tr.add("afterwards, kim", nil, attrNames(g.UserAttributes)+" status="+string(g.UserStatus))
	_, err := e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("lee")})
	tr.add("afterwards, lee", err, "")

	// The wire shape: HTTP 400, x-amzn-ErrorType, "__type" and "Message".
	status, hdr, body := e.raw("InitiateAuth", `{"ClientId": 7}`)
	tr.add("raw InitiateAuth ClientId as a number", nil, fmt.Sprintf("HTTP %d x-amzn-ErrorType=%s body=%s", status, hdr.Get("x-amzn-ErrorType"), strings.TrimSpace(body)))
	if status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", status)
	}
	tr.check("serialization.golden")
}

// TestCognitoMessages pins the exception names and messages of common
// refusals against what AWS answers (testdata/messages.golden): bad,
// expired, revoked and foreign access tokens; ListUsers filters, limits
// and AttributesToGet; an unknown client id; a flow the client does not
// allow; a missing required member (sent raw: the SDKs check those
// before sending).
func TestCognitoMessages(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Now())
	e := setup(t, setupOpts{svcNow: clock.Now})
	tr := &transcript{t: t}
	poolID, clientID := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("messages"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}})
	otherPool, otherClient := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("other")})
	srpOnly := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("srp")}))
	srpClient := *srpOnly.UserPoolClient.ClientId
	for _, p := range []struct{ pool, client string }{{poolID, clientID}, {otherPool, otherClient}} {
		must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(p.pool), Username: aws.String("sam"), MessageAction: types.MessageActionTypeSuppress}))
		must[*cip.AdminSetUserPasswordOutput](t)(e.admin.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(p.pool), Username: aws.String("sam"), Password: aws.String(goodPassword), Permanent: true}))
	}
	mine := e.signIn(clientID, "sam", goodPassword)
	foreign := e.signIn(otherClient, "sam", goodPassword)

	// Access tokens.
	getUser := func(name, token string) {
		_, err := e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(token)})
		tr.add("GetUser with "+name, err, "")
	}
	getUser("a malformed token", "not-a-jwt")
	getUser("an ID token", *mine.IdToken)
	getUser("a token with a forged signature", (*mine.AccessToken)[:strings.LastIndex(*mine.AccessToken, ".")+1]+"AAAA")
	b64 := base64.RawURLEncoding.EncodeToString
	getUser("a token of a pool Gatehouse does not have", b64([]byte(`{"alg":"RS256","kid":"k1"}`))+"."+
		b64([]byte(`{"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_nopenope1","token_use":"access","sub":"x","exp":4102444800}`))+"."+b64([]byte("sig")))
	_, err := e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: aws.String("not-a-jwt"), PreviousPassword: aws.String(goodPassword), ProposedPassword: aws.String(otherPassword)})
	tr.add("ChangePassword with a malformed token", err, "")
	// A token of another pool names its own pool and user, as on AWS
	// (the endpoint serves every pool): it reads that user.
	g, err := e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: foreign.AccessToken})
	tr.add("GetUser with another pool's token", err, func() string {
		if g == nil {
			return ""
		}
		return "Username=" + aws.ToString(g.Username)
	}())
	clock.Advance(2 * time.Hour)
	getUser("an expired token", *mine.AccessToken)
	clock.Advance(-2 * time.Hour)
	fresh := e.signIn(clientID, "sam", goodPassword)
	clock.Advance(time.Second)
	must[*cip.GlobalSignOutOutput](t)(e.public.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: fresh.AccessToken}))
	getUser("a token after GlobalSignOut", *fresh.AccessToken)

	// ListUsers.
	for _, f := range []string{`email = "x@example.org`, `custom:foo = "x"`, `nosuch = "x"`, `email_verified = "true"`, `name != "x"`} {
		_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), Filter: aws.String(f)})
		tr.add("ListUsers Filter "+f, err, "")
	}
	for _, l := range []int32{61, -1} {
		_, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), Limit: aws.Int32(l)})
		tr.add(fmt.Sprintf("ListUsers Limit %d", l), err, "")
	}
	l, err := e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), AttributesToGet: []string{"email", "custom:nosuch"}})
	tr.add("ListUsers AttributesToGet with an unknown attribute", err, func() string {
		if l == nil {
			return ""
		}
		return fmt.Sprintf("%d users", len(l.Users))
	}())
	l, err = e.admin.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), AttributesToGet: []string{"email", "name"}})
	tr.add("ListUsers AttributesToGet of known attributes", err, func() string {
		if l == nil {
			return ""
		}
		return fmt.Sprintf("%d users, first: %q", len(l.Users), attrNames(l.Users[0].Attributes))
	}())

	// An unknown client id.
	const nosuch = "nosuchclient0000000000000"
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(nosuch), Username: aws.String("x"), Password: aws.String(goodPassword)})
	tr.add("SignUp with an unknown client", err, "")
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(nosuch), Username: aws.String("sam")})
	tr.add("ForgotPassword with an unknown client", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(nosuch), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth with an unknown client", err, "")
	_, err = e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(nosuch), Username: aws.String("sam"), ConfirmationCode: aws.String("123456")})
	tr.add("ConfirmSignUp with an unknown client", err, "")
	_, err = e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(otherClient),
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("AdminInitiateAuth with another pool's client", err, "")

	// Flows the client does not allow.
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(srpClient), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth USER_PASSWORD_AUTH, client without it", err, "")
	_, err = e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(srpClient),
		AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH, client without it", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: "NO_SUCH_FLOW",
		AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth with an unknown AuthFlow", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "sam"}})
	tr.add("InitiateAuth USER_PASSWORD_AUTH without PASSWORD", err, "")

	// Everyday refusals.
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("sam"), Password: aws.String(goodPassword)})
	tr.add("SignUp of a taken username", err, "")
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("shorty"), Password: aws.String("Sh0rt!")})
	tr.add("SignUp with a short password", err, "")
	must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("pending"), Password: aws.String(goodPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("pending@example.org")}}}))
	_, err = e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("pending"), ConfirmationCode: aws.String("000000")})
	if err == nil {
		_, err = e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("pending"), ConfirmationCode: aws.String("111111")})
	}
	tr.add("ConfirmSignUp with a wrong code", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "pending", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth of an unconfirmed user", err, "")
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("pending")})
	tr.add("ForgotPassword of a user without a verified address", err, "")
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID), Username: aws.String("invitee"),
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("invitee@example.org")},
			{Name: aws.String("email_verified"), Value: aws.String("true")}}}))
	_, err = e.public.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(clientID), Username: aws.String("invitee")})
	tr.add("ForgotPassword of an invited user (FORCE_CHANGE_PASSWORD)", err, "")
	_, err = e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String("sam"), ConfirmationCode: aws.String("123456")})
	tr.add("ConfirmSignUp of a confirmed user", err, "")
	_, err = e.admin.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(poolID), Username: aws.String("sam")})
	tr.add("AdminConfirmSignUp of a confirmed user", err, "")
	_, err = e.public.ResendConfirmationCode(ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(clientID), Username: aws.String("sam")})
	tr.add("ResendConfirmationCode of a confirmed user", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": otherPassword}})
	tr.add("InitiateAuth with a wrong password", err, "")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "nobody", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth of an unknown user", err, "")
	ok := e.signIn(clientID, "sam", goodPassword)
	_, err = e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: ok.AccessToken, PreviousPassword: aws.String(otherPassword), ProposedPassword: aws.String(goodPassword)})
	tr.add("ChangePassword with a wrong previous password", err, "")
	_, err = e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("nobody")})
	tr.add("AdminGetUser of an unknown user", err, "")
	_, err = e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(region + "_nopenope1")})
	tr.add("DescribeUserPool of an unknown pool", err, "")
	_, err = e.admin.GetGroup(ctx, &cip.GetGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String("nosuch")})
	tr.add("GetGroup of an unknown group", err, "")
	must[*cip.CreateGroupOutput](t)(e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String("g")}))
	_, err = e.admin.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String("g")})
	tr.add("CreateGroup of a taken name", err, "")
	must[*cip.AdminDisableUserOutput](t)(e.admin.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(otherPool), Username: aws.String("sam")}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(otherClient), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "sam", "PASSWORD": goodPassword}})
	tr.add("InitiateAuth of a disabled user", err, "")
	closed, closedClient := e.createPool(&cip.CreateUserPoolInput{PoolName: aws.String("closed"),
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true}})
	_ = closed
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(closedClient), Username: aws.String("x"), Password: aws.String(goodPassword)})
	tr.add("SignUp in a pool with AllowAdminCreateUserOnly", err, "")

	// Required members left out (raw: the SDK refuses to send these).
	for _, c := range []struct{ op, body string }{
		{"SignUp", fmt.Sprintf(`{"ClientId":%q,"Password":%q}`, clientID, goodPassword)},
		{"InitiateAuth", fmt.Sprintf(`{"ClientId":%q}`, clientID)},
		{"InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH"}`},
		{"ForgotPassword", fmt.Sprintf(`{"ClientId":%q}`, clientID)},
		{"GetUser", `{}`},
		{"GetUser", `{"AccessToken":null}`},
		{"RespondToAuthChallenge", `{}`},
	} {
		status, _, body := e.raw(c.op, c.body)
		tr.add(fmt.Sprintf("%s %s", c.op, c.body), nil, fmt.Sprintf("HTTP %d %s", status, strings.TrimSpace(body)))
	}
	for i := range tr.lines {
		for _, id := range []string{clientID, srpClient, otherClient} {
			tr.lines[i] = strings.ReplaceAll(tr.lines[i], id, "<client>")
		}
		tr.lines[i] = strings.ReplaceAll(tr.lines[i], poolID, "<pool>")
	}
	tr.check("messages.golden")
}
