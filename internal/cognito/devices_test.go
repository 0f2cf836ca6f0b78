package cognito_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// device is what a client keeps of a confirmed device, as
// amazon-cognito-identity-js caches it.
type device struct {
	key, groupKey, password string
}

// confirmDevice makes the device's verifier as amazon-cognito-identity-js
// does (generateHashDevice: a random password, a 16-byte salt,
// x = H(salt || H(groupKey || deviceKey || ":" || password))) and sends
// ConfirmDevice with the sign-in's access token.
func (e *env) confirmDevice(t *testing.T, res *types.AuthenticationResultType, name string) (device, *cip.ConfirmDeviceOutput, error) {
	t.Helper()
	m := res.NewDeviceMetadata
	if m == nil || m.DeviceKey == nil || m.DeviceGroupKey == nil {
		t.Fatalf("no NewDeviceMetadata: %+v", res)
	}
	pwBytes := make([]byte, 40)
	saltBytes := make([]byte, 16)
	rand.Read(pwBytes)
	rand.Read(saltBytes)
	d := device{key: *m.DeviceKey, groupKey: *m.DeviceGroupKey, password: base64.StdEncoding.EncodeToString(pwBytes)}
	salt := new(big.Int).SetBytes(saltBytes)
	v := srp.Verifier(d.groupKey, d.key, d.password, salt)
	out, err := e.public.ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: res.AccessToken, DeviceKey: m.DeviceKey,
		DeviceName: aws.String(name), DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{
			PasswordVerifier: aws.String(base64.StdEncoding.EncodeToString(srp.PadBytes(v))),
			Salt:             aws.String(base64.StdEncoding.EncodeToString(srp.PadBytes(salt)))}})
	return d, out, err
}

// deviceSignIn runs USER_SRP_AUTH with DEVICE_KEY, PASSWORD_VERIFIER with
// DEVICE_KEY, then DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER as
// amazon-cognito-identity-js's getDeviceResponse does; devicePassword
// replaces the device's password when not empty (a wrong device secret).
// It returns the last answer.
func (e *env) deviceSignIn(t *testing.T, poolID, clientID, username, pw string, d device, devicePassword string) (*cip.RespondToAuthChallengeOutput, error) {
	t.Helper()
	c, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth,
		AuthParameters: map[string]string{"USERNAME": username, "SRP_A": c.PublicA().Text(16), "DEVICE_KEY": d.key}})
	if err != nil {
		return nil, err
	}
	p := out.ChallengeParameters
	salt, _ := new(big.Int).SetString(p["SALT"], 16)
	B, _ := new(big.Int).SetString(p["SRP_B"], 16)
	userID := p["USER_ID_FOR_SRP"]
	key, err := c.Key(srp.PoolName(poolID), userID, pw, salt, B)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
	ts := time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006")
	res, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypePasswordVerifier, Session: out.Session, ChallengeResponses: map[string]string{
			"USERNAME": userID, "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts, "DEVICE_KEY": d.key,
			"PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(srp.Signature(key, srp.PoolName(poolID), userID, block, ts))}})
	if err != nil {
		return nil, err
	}
	if res.ChallengeName != types.ChallengeNameTypeDeviceSrpAuth {
		t.Fatalf("PASSWORD_VERIFIER with a device: %s, want DEVICE_SRP_AUTH", res.ChallengeName)
	}
	dc, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	res, err = e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeDeviceSrpAuth, Session: res.Session, ChallengeResponses: map[string]string{
			"USERNAME": userID, "DEVICE_KEY": d.key, "SRP_A": dc.PublicA().Text(16)}})
	if err != nil {
		return nil, err
	}
	if res.ChallengeName != types.ChallengeNameTypeDevicePasswordVerifier {
		t.Fatalf("DEVICE_SRP_AUTH: %s, want DEVICE_PASSWORD_VERIFIER", res.ChallengeName)
	}
	p = res.ChallengeParameters
	salt, _ = new(big.Int).SetString(p["SALT"], 16)
	B, _ = new(big.Int).SetString(p["SRP_B"], 16)
	secret := d.password
	if devicePassword != "" {
		secret = devicePassword
	}
	key, err = dc.Key(d.groupKey, d.key, secret, salt, B)
	if err != nil {
		t.Fatal(err)
	}
	block, _ = base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
	ts = time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006")
	return e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeDevicePasswordVerifier, Session: res.Session, ChallengeResponses: map[string]string{
			"USERNAME": userID, "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts, "DEVICE_KEY": d.key,
			"PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(srp.Signature(key, d.groupKey, d.key, block, ts))}})
}

// claim reads a string claim of a JWT (not verified).
func claim(t *testing.T, jwt, name string) string {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(jwtPayload(t, jwt)), &c); err != nil {
		t.Fatal(err)
	}
	s, _ := c[name].(string)
	return s
}

func deviceAttr(d *types.DeviceType, name string) string {
	for _, a := range d.DeviceAttributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// devicePool creates an email-as-username pool that tracks devices as cfg
// says, with optional TOTP, and a client for SRP, passwords and refresh.
func (e *env) devicePool(t *testing.T, name string, cfg *types.DeviceConfigurationType) (poolID, clientID string) {
	t.Helper()
	pool := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name),
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		DeviceConfiguration:    cfg}))
	poolID = *pool.UserPool.Id
	cl := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientName: aws.String(name + "-app"), ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth,
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}))
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID),
		MfaConfiguration: types.UserPoolMfaTypeOptional, SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}))
	return poolID, *cl.UserPoolClient.ClientId
}

// testDevices: DeviceConfiguration on the pool, NewDeviceMetadata,
// ConfirmDevice, the device SRP challenges skipping MFA for a remembered
// device, refresh with DEVICE_KEY, every device operation and its Admin
// form, their exceptions, and the attacks: another user's device, another
// pool's device, a wrong device secret (counted as a failed attempt), a
// forgotten device.
func testDevices(t *testing.T, e *env) {
	poolID, clientID := e.devicePool(t, "devices", &types.DeviceConfigurationType{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true})
	desc := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)}))
	if dc := desc.UserPool.DeviceConfiguration; dc == nil || !dc.ChallengeRequiredOnNewDevice || !dc.DeviceOnlyRememberedOnUserPrompt {
		t.Fatalf("DescribeUserPool DeviceConfiguration: %+v", dc)
	}

	// A first sign-in gets NewDeviceMetadata; its access token carries the key.
	ann := "ann@example.com"
	annSub := e.signUpConfirmed(poolID, clientID, ann)
	first := e.signIn(clientID, ann, goodPassword)
	m := first.NewDeviceMetadata
	if m == nil || !strings.HasPrefix(aws.ToString(m.DeviceKey), region+"_") || aws.ToString(m.DeviceGroupKey) == "" {
		t.Fatalf("NewDeviceMetadata: %+v", m)
	}
	if got := claim(t, *first.AccessToken, "device_key"); got != *m.DeviceKey {
		t.Fatalf("access token device_key %q, want %q", got, *m.DeviceKey)
	}

	// ConfirmDevice: bad input first, then the device (not remembered: the
	// pool remembers on the user's prompt).
	_, err := e.public.ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: first.AccessToken, DeviceKey: m.DeviceKey})
	wantErr(t, err, "InvalidParameterException") // no DeviceSecretVerifierConfig
	_, err = e.public.ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: first.AccessToken, DeviceKey: m.DeviceKey,
		DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{PasswordVerifier: aws.String("not base64!"), Salt: aws.String("AQ==")}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String("no-underscore"),
		DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{PasswordVerifier: aws.String("AQ=="), Salt: aws.String("AQ==")}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.ConfirmDevice(ctx, &cip.ConfirmDeviceInput{AccessToken: aws.String("garbage"), DeviceKey: m.DeviceKey,
		DeviceSecretVerifierConfig: &types.DeviceSecretVerifierConfigType{PasswordVerifier: aws.String("AQ=="), Salt: aws.String("AQ==")}})
	wantErr(t, err, "NotAuthorizedException")
	laptop, conf, err := e.confirmDevice(t, first, "laptop")
	if err != nil || !conf.UserConfirmationNecessary {
		t.Fatalf("ConfirmDevice: %+v %v", conf, err)
	}
	_, _, err = e.confirmDevice(t, first, "again")
	wantErr(t, err, "NotAuthorizedException") // confirmed already

	got := must[*cip.GetDeviceOutput](t)(e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String(laptop.key)}))
	if aws.ToString(got.Device.DeviceKey) != laptop.key || deviceAttr(got.Device, "device_status") != "valid" ||
		deviceAttr(got.Device, "dev:device_remembered_status") != "not_remembered" ||
		deviceAttr(got.Device, "device_name") != "laptop" || deviceAttr(got.Device, "last_ip_used") == "" || got.Device.DeviceCreateDate == nil ||
		got.Device.DeviceLastModifiedDate == nil || got.Device.DeviceLastAuthenticatedDate == nil {
		t.Fatalf("GetDevice: %+v", got.Device)
	}
	_, err = e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: first.AccessToken, DeviceKey: aws.String(laptop.key),
		DeviceRememberedStatus: "forever"})
	wantErr(t, err, "InvalidParameterException")
	must[*cip.UpdateDeviceStatusOutput](t)(e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: first.AccessToken,
		DeviceKey: aws.String(laptop.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered}))
	// The one remembered device; the first successful ListDevices, so the
	// golden file does not depend on the order of random keys.
	if l := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: first.AccessToken})); len(l.Devices) != 1 ||
		aws.ToString(l.Devices[0].DeviceKey) != laptop.key || l.PaginationToken != nil {
		t.Fatalf("ListDevices with one device: %+v", l)
	}
	ag := must[*cip.AdminGetDeviceOutput](t)(e.admin.AdminGetDevice(ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(poolID),
		Username: aws.String(ann), DeviceKey: aws.String(laptop.key)}))
	if deviceAttr(ag.Device, "dev:device_remembered_status") != "remembered" {
		t.Fatalf("AdminGetDevice: %+v", ag.Device)
	}

	// Two more devices.
	phone, _, err := e.confirmDevice(t, e.signIn(clientID, ann, goodPassword), "phone")
	if err != nil {
		t.Fatal(err)
	}
	tablet, _, err := e.confirmDevice(t, e.signIn(clientID, ann, goodPassword), "tablet")
	if err != nil {
		t.Fatal(err)
	}

	// TOTP for ann: a sign-in without the device is asked for it.
	assoc := must[*cip.AssociateSoftwareTokenOutput](t)(e.public.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: first.AccessToken}))
	must[*cip.VerifySoftwareTokenOutput](t)(e.public.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: first.AccessToken,
		UserCode: aws.String(totpAt(t, *assoc.SecretCode, 0))}))
	must[*cip.SetUserMFAPreferenceOutput](t)(e.public.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: first.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}))
	plain := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": ann, "PASSWORD": goodPassword}}))
	if plain.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("sign-in without the device: %s, want SOFTWARE_TOKEN_MFA", plain.ChallengeName)
	}

	// The remembered device signs in with device SRP and skips MFA.
	res, err := e.deviceSignIn(t, poolID, clientID, ann, goodPassword, laptop, "")
	if err != nil {
		t.Fatalf("device sign-in: %v", err)
	}
	if res.AuthenticationResult == nil || res.AuthenticationResult.NewDeviceMetadata != nil {
		t.Fatalf("device sign-in: %s %+v", res.ChallengeName, res.AuthenticationResult)
	}
	devTokens := res.AuthenticationResult
	if claim(t, *devTokens.AccessToken, "device_key") != laptop.key {
		t.Fatal("device sign-in: access token without the device's key")
	}

	// A wrong device secret fails and counts as a failed attempt.
	_, err = e.deviceSignIn(t, poolID, clientID, ann, goodPassword, laptop, "not the device's password")
	wantErr(t, err, "NotAuthorizedException")
	if u, err := e.db.GetUser(ctx, poolID, annSub); err != nil || u.FailedAttempts != 1 {
		t.Fatalf("failed attempts after a wrong device proof: %v %v", u, err)
	}

	// Refresh with the device key; with another key it is refused.
	ref := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": *devTokens.RefreshToken, "DEVICE_KEY": laptop.key}}))
	if claim(t, *ref.AuthenticationResult.AccessToken, "device_key") != laptop.key {
		t.Fatal("refreshed access token without the device's key")
	}
	if ref.AuthenticationResult.RefreshToken != nil {
		t.Fatal("a client made by CreateUserPoolClient rotated a refresh token (its RefreshTokenRotation is DISABLED)")
	}
	// The token still works (no rotation), so only the key refuses it.
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *devTokens.RefreshToken, "DEVICE_KEY": region + "_00000000-0000-4000-8000-000000000000"}})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID),
		RefreshToken: devTokens.RefreshToken, DeviceKey: aws.String(region + "_00000000-0000-4000-8000-000000000000")})
	wantErr(t, err, "NotAuthorizedException")
	gt := must[*cip.GetTokensFromRefreshTokenOutput](t)(e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID),
		RefreshToken: devTokens.RefreshToken, DeviceKey: aws.String(laptop.key)}))
	if claim(t, *gt.AuthenticationResult.AccessToken, "device_key") != laptop.key {
		t.Fatal("GetTokensFromRefreshToken with the device key: access token without it")
	}

	// Not remembered: the device authenticates, then MFA is asked.
	must[*cip.AdminUpdateDeviceStatusOutput](t)(e.admin.AdminUpdateDeviceStatus(ctx, &cip.AdminUpdateDeviceStatusInput{UserPoolId: aws.String(poolID),
		Username: aws.String(ann), DeviceKey: aws.String(laptop.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeNotRemembered}))
	res, err = e.deviceSignIn(t, poolID, clientID, ann, goodPassword, laptop, "")
	if err != nil || res.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("not remembered device: %v %+v", err, res)
	}
	mfa := must[*cip.RespondToAuthChallengeOutput](t)(e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeSoftwareTokenMfa, Session: res.Session,
		ChallengeResponses: map[string]string{"USERNAME": ann, "SOFTWARE_TOKEN_MFA_CODE": totpAt(t, *assoc.SecretCode, 1)}}))
	if mfa.AuthenticationResult == nil || mfa.AuthenticationResult.NewDeviceMetadata != nil ||
		claim(t, *mfa.AuthenticationResult.AccessToken, "device_key") != laptop.key {
		t.Fatalf("MFA after the device: %+v", mfa.AuthenticationResult)
	}

	// ListDevices answers remembered devices only (Cognito's; the phone and
	// the tablet were confirmed not remembered, the laptop is not any
	// more); AdminListDevices answers every device.
	for _, d := range []device{phone, tablet} {
		must[*cip.UpdateDeviceStatusOutput](t)(e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: devTokens.AccessToken,
			DeviceKey: aws.String(d.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered}))
	}
	// The whole list first: the golden file keeps the first answer, and a
	// page of one holds whichever random device key sorts first.
	if all := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken})); len(all.Devices) != 2 || all.PaginationToken != nil {
		t.Fatalf("ListDevices, remembered only, whole list: %+v", all)
	}
	if l := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken, Limit: aws.Int32(1)})); len(l.Devices) != 1 || l.PaginationToken == nil ||
		*l.Devices[0].DeviceKey == laptop.key {
		t.Fatalf("ListDevices, remembered only: %+v", l)
	} else if l2 := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken, Limit: aws.Int32(1),
		PaginationToken: l.PaginationToken})); len(l2.Devices) != 1 || *l2.Devices[0].DeviceKey == laptop.key || *l2.Devices[0].DeviceKey == *l.Devices[0].DeviceKey {
		t.Fatalf("ListDevices, remembered only, page 2: %+v", l2)
	} else if l2.PaginationToken != nil {
		if l3 := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken, Limit: aws.Int32(1),
			PaginationToken: l2.PaginationToken})); len(l3.Devices) != 0 || l3.PaginationToken != nil {
			t.Fatalf("ListDevices, remembered only, page 3: %+v", l3)
		}
	}
	if al := must[*cip.AdminListDevicesOutput](t)(e.admin.AdminListDevices(ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)})); len(al.Devices) != 3 {
		t.Fatalf("AdminListDevices with a device not remembered: %d", len(al.Devices))
	}
	must[*cip.UpdateDeviceStatusOutput](t)(e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: devTokens.AccessToken,
		DeviceKey: aws.String(laptop.key), DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered}))

	// ListDevices: all at once, then page by page.
	if all := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken})); len(all.Devices) != 3 || all.PaginationToken != nil {
		t.Fatalf("ListDevices: %d %v", len(all.Devices), all.PaginationToken)
	}
	_, err = e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken, Limit: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken, PaginationToken: aws.String("!!")})
	wantErr(t, err, "InvalidParameterException")
	seen := map[string]bool{}
	var token *string
	for range 4 {
		page := must[*cip.ListDevicesOutput](t)(e.public.ListDevices(ctx, &cip.ListDevicesInput{AccessToken: devTokens.AccessToken,
			Limit: aws.Int32(2), PaginationToken: token}))
		for _, d := range page.Devices {
			seen[*d.DeviceKey] = true
		}
		if token = page.PaginationToken; token == nil {
			break
		}
	}
	if len(seen) != 3 || !seen[laptop.key] || !seen[phone.key] || !seen[tablet.key] {
		t.Fatalf("ListDevices pages: %v", seen)
	}
	al := must[*cip.AdminListDevicesOutput](t)(e.admin.AdminListDevices(ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)}))
	if len(al.Devices) != 3 || al.PaginationToken != nil {
		t.Fatalf("AdminListDevices: %d %v", len(al.Devices), al.PaginationToken)
	}

	// Another user of the pool cannot read, change, confirm or use ann's devices.
	bob := "bob@example.com"
	e.signUpConfirmed(poolID, clientID, bob)
	bobTokens := e.signIn(clientID, bob, goodPassword)
	_, err = e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: bobTokens.AccessToken, DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.UpdateDeviceStatus(ctx, &cip.UpdateDeviceStatusInput{AccessToken: bobTokens.AccessToken, DeviceKey: aws.String(laptop.key),
		DeviceRememberedStatus: types.DeviceRememberedStatusTypeRemembered})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.ForgetDevice(ctx, &cip.ForgetDeviceInput{AccessToken: bobTokens.AccessToken, DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "NotAuthorizedException")
	stolen := *bobTokens
	stolen.NewDeviceMetadata = &types.NewDeviceMetadataType{DeviceKey: aws.String(laptop.key), DeviceGroupKey: aws.String(laptop.groupKey)}
	_, _, err = e.confirmDevice(t, &stolen, "mine now")
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.admin.AdminGetDevice(ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(poolID), Username: aws.String(bob), DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": bob, "PASSWORD": goodPassword, "DEVICE_KEY": laptop.key}})
	wantErr(t, err, "ResourceNotFoundException")
	if got := must[*cip.GetDeviceOutput](t)(e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: devTokens.AccessToken,
		DeviceKey: aws.String(laptop.key)})); deviceAttr(got.Device, "dev:device_remembered_status") != "remembered" {
		t.Fatalf("ann's device changed: %+v", got.Device)
	}

	// A device key of this pool does nothing in another pool.
	other, otherClient := e.devicePool(t, "other-devices", &types.DeviceConfigurationType{})
	e.signUpConfirmed(other, otherClient, ann)
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(otherClient), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": ann, "PASSWORD": goodPassword, "DEVICE_KEY": laptop.key}})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.AdminGetDevice(ctx, &cip.AdminGetDeviceInput{UserPoolId: aws.String(other), Username: aws.String(ann), DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.AdminForgetDevice(ctx, &cip.AdminForgetDeviceInput{UserPoolId: aws.String(other), Username: aws.String(ann), DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "ResourceNotFoundException")

	// Unknown devices, bad keys, a pool without tracking.
	_, err = e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: devTokens.AccessToken, DeviceKey: aws.String(region + "_00000000-0000-4000-8000-000000000000")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: devTokens.AccessToken, DeviceKey: aws.String("../etc")})
	wantErr(t, err, "InvalidParameterException")
	plainPool, plainClient := e.newPool("untracked")
	e.signUpConfirmed(plainPool, plainClient, ann)
	if res := e.signIn(plainClient, ann, goodPassword); res.NewDeviceMetadata != nil {
		t.Fatal("NewDeviceMetadata in a pool without DeviceConfiguration")
	} else {
		_, _, err = e.confirmDevice(t, &types.AuthenticationResultType{AccessToken: res.AccessToken,
			NewDeviceMetadata: &types.NewDeviceMetadataType{DeviceKey: aws.String(laptop.key), DeviceGroupKey: aws.String("-x")}}, "x")
		wantErr(t, err, "InvalidUserPoolConfigurationException")
	}

	// Forgetting the device ends its sign-ins and its device authentication.
	must[*cip.ForgetDeviceOutput](t)(e.public.ForgetDevice(ctx, &cip.ForgetDeviceInput{AccessToken: first.AccessToken, DeviceKey: aws.String(laptop.key)}))
	_, err = e.public.GetDevice(ctx, &cip.GetDeviceInput{AccessToken: bobTokens.AccessToken, DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": *mfa.AuthenticationResult.RefreshToken, "DEVICE_KEY": laptop.key}})
	wantErr(t, err, "NotAuthorizedException")
	// So is the non-rotating token that refreshed three times above.
	_, err = e.public.GetTokensFromRefreshToken(ctx, &cip.GetTokensFromRefreshTokenInput{ClientId: aws.String(clientID),
		RefreshToken: devTokens.RefreshToken, DeviceKey: aws.String(laptop.key)})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: mfa.AuthenticationResult.AccessToken})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": ann, "PASSWORD": goodPassword, "DEVICE_KEY": laptop.key}})
	wantErr(t, err, "ResourceNotFoundException")
	must[*cip.AdminForgetDeviceOutput](t)(e.admin.AdminForgetDevice(ctx, &cip.AdminForgetDeviceInput{UserPoolId: aws.String(poolID),
		Username: aws.String(ann), DeviceKey: aws.String(phone.key)}))
	left := must[*cip.AdminListDevicesOutput](t)(e.admin.AdminListDevices(ctx, &cip.AdminListDevicesInput{UserPoolId: aws.String(poolID), Username: aws.String(ann)}))
	if len(left.Devices) != 1 || *left.Devices[0].DeviceKey != tablet.key {
		t.Fatalf("after forgetting two devices: %+v", left.Devices)
	}

	// NEW_PASSWORD_REQUIRED's tokens get NewDeviceMetadata too.
	must[*cip.AdminCreateUserOutput](t)(e.admin.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(poolID),
		Username: aws.String("cat@example.com"), TemporaryPassword: aws.String(goodPassword + "x"), MessageAction: types.MessageActionTypeSuppress}))
	np := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "cat@example.com", "PASSWORD": goodPassword + "x"}}))
	npDone := must[*cip.RespondToAuthChallengeOutput](t)(e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: np.ChallengeName, Session: np.Session,
		ChallengeResponses: map[string]string{"USERNAME": "cat@example.com", "NEW_PASSWORD": goodPassword}}))
	if npDone.AuthenticationResult == nil || npDone.AuthenticationResult.NewDeviceMetadata == nil {
		t.Fatalf("NEW_PASSWORD_REQUIRED answer: %+v", npDone.AuthenticationResult)
	}
	if _, _, err := e.confirmDevice(t, npDone.AuthenticationResult, "cat's"); err != nil {
		t.Fatalf("ConfirmDevice after NEW_PASSWORD_REQUIRED: %v", err)
	}

	// UpdateUserPool without DeviceConfiguration turns tracking off (the
	// member takes its default, as every member UpdateUserPool omits).
	must[*cip.UpdateUserPoolOutput](t)(e.admin.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(other),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}))
	if d := must[*cip.DescribeUserPoolOutput](t)(e.admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(other)})); d.UserPool.DeviceConfiguration != nil {
		t.Fatalf("UpdateUserPool without DeviceConfiguration: %+v", d.UserPool.DeviceConfiguration)
	}
}
