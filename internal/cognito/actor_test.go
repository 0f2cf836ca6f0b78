package cognito_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// TestUserTokenCallsAuditedAsUser (issue 16): an operation on the caller's
// own account with an access token (ConfirmDevice, UpdateDeviceStatus,
// ForgetDevice, ChangePassword, UpdateUserAttributes) and a completed
// sign-in are audited as the token's user, "user:<sub>" via "cognito",
// from the caller's address — not as "system". A sign-in with a wrong
// password proves no one and stays "system"; Bob's token naming Ann's
// device changes nothing and records nothing as Ann's.
func TestUserTokenCallsAuditedAsUser(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.devicePool(t, "actors", &types.DeviceConfigurationType{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true})
	ann := "user:" + e.signUpConfirmed(poolID, clientID, "ann@example.com")
	bob := "user:" + e.signUpConfirmed(poolID, clientID, "bob@example.com")
	first := e.signIn(clientID, "ann@example.com", goodPassword)
	laptop, _, err := e.confirmDevice(t, first, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	must[*cip.UpdateDeviceStatusOutput](t)(e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: first.AccessToken,
		DeviceKey: aws.String(laptop.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered}))
	bobTok := e.signIn(clientID, "bob@example.com", goodPassword)
	_, err = e.public.ForgetDevice(ctx, &cip.ForgetDeviceInput{AccessToken: bobTok.AccessToken, DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "NotAuthorizedException") // as AWS: "Device does not belong to the user."
	must[*cip.UpdateUserAttributesOutput](t)(e.public.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: first.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("name"), Value: aws.String("Ann")}}}))
	must[*cip.ForgetDeviceOutput](t)(e.public.ForgetDevice(ctx, &cip.ForgetDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String(laptop.key)}))
	second := e.signIn(clientID, "ann@example.com", goodPassword)
	must[*cip.ChangePasswordOutput](t)(e.public.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: second.AccessToken,
		PreviousPassword: aws.String(goodPassword), ProposedPassword: aws.String(goodPassword + "x")}))
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "ann@example.com", "PASSWORD": "not ann's password"}})
	wantErr(t, err, "NotAuthorizedException")

	evs, _, err := e.svc.Audit(ctx, auth.AuditQuery{PoolID: poolID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"user.sign_in": ann, "user.device_confirmed": ann, "user.device_status": ann, "user.update_attributes": ann,
		"user.device_forgotten": ann, "user.change_password": ann, "user.sign_in_failed": "system"}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Via != identity.ViaCognito || ev.Subject != ann {
			if ev.Actor == ann {
				t.Errorf("%s on %s recorded as ann's", ev.Action, ev.Subject)
			}
			continue
		}
		if ev.Actor == bob {
			t.Errorf("%s on ann recorded as bob's", ev.Action)
		}
		w, ok := want[ev.Action]
		if !ok {
			continue
		}
		seen[ev.Action] = true
		if ev.Actor != w || (w != "system" && ev.IP == "") {
			t.Errorf("%s: actor %q from %q, want %q", ev.Action, ev.Actor, ev.IP, w)
		}
	}
	for a := range want {
		if !seen[a] {
			t.Errorf("no %s event via cognito", a)
		}
	}
	if t.Failed() {
		for _, ev := range evs {
			t.Logf("%s %s %s %s %s", ev.Action, ev.Subject, ev.Actor, ev.Via, ev.IP)
		}
	}
}
