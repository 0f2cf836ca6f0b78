package cognito_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/pquerna/otp/totp"
)

// totpAt is an authenticator app's code for secret, steps periods of 30 s
// from now (computed by pquerna/otp, not by Gatehouse). A test uses step 0
// to enrol and step 1 to sign in: both are within the ±1 step the server
// accepts, and a step is accepted once.
func totpAt(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func amrOf(t *testing.T, idToken string) []string {
	t.Helper()
	tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		t.Fatal(err)
	}
	return c.AMR
}

// testMFA: the pool's MFA configuration, TOTP enrolment with an access
// token (AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference)
// and at sign-in (MFA_SETUP with a session), the SOFTWARE_TOKEN_MFA and
// EMAIL_OTP challenges on InitiateAuth and AdminInitiateAuth, the MFA
// fields of GetUser and AdminGetUser, and Cognito's exceptions.
func testMFA(t *testing.T, e *env) {
	poolID, clientID := e.newPool("mfa")
	cfg := must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID),
		MfaConfiguration: types.UserPoolMfaTypeOptional, SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}))
	if cfg.MfaConfiguration != types.UserPoolMfaTypeOptional || !cfg.SoftwareTokenMfaConfiguration.Enabled {
		t.Fatalf("SetUserPoolMfaConfig: %+v", cfg)
	}
	got := must[*cip.GetUserPoolMfaConfigOutput](t)(e.admin.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID)}))
	if got.MfaConfiguration != types.UserPoolMfaTypeOptional || got.EmailMfaConfiguration != nil {
		t.Fatalf("GetUserPoolMfaConfig: %+v", got)
	}
	_, err := e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID),
		SmsMfaConfiguration: &types.SmsMfaConfigType{SmsAuthenticationMessage: aws.String("{####}")}})
	wantErr(t, err, "InvalidParameterException")

	// Enrolment with an access token.
	e.signUpConfirmed(poolID, clientID, "ann@example.com")
	pw := map[string]string{"USERNAME": "ann@example.com", "PASSWORD": goodPassword}
	first := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: pw}))
	access := first.AuthenticationResult.AccessToken
	assoc := must[*cip.AssociateSoftwareTokenOutput](t)(e.public.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{AccessToken: access}))
	secret := *assoc.SecretCode
	bad := "000000"
	if totpAt(t, secret, 0) == bad {
		bad = "111111"
	}
	_, err = e.public.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: access, UserCode: aws.String(bad)})
	wantErr(t, err, "EnableSoftwareTokenMFAException")
	v := must[*cip.VerifySoftwareTokenOutput](t)(e.public.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{AccessToken: access,
		UserCode: aws.String(totpAt(t, secret, 0)), FriendlyDeviceName: aws.String("phone")}))
	if v.Status != types.VerifySoftwareTokenResponseTypeSuccess {
		t.Fatalf("VerifySoftwareToken: %+v", v)
	}
	_, err = e.public.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: access,
		EmailMfaSettings: &types.EmailMfaSettingsType{Enabled: true}})
	wantErr(t, err, "InvalidParameterException") // the pool allows no email codes
	must[*cip.SetUserMFAPreferenceOutput](t)(e.public.SetUserMFAPreference(ctx, &cip.SetUserMFAPreferenceInput{AccessToken: access,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}))
	u := must[*cip.GetUserOutput](t)(e.public.GetUser(ctx, &cip.GetUserInput{AccessToken: access}))
	if len(u.UserMFASettingList) != 1 || u.UserMFASettingList[0] != "SOFTWARE_TOKEN_MFA" || aws.ToString(u.PreferredMfaSetting) != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("GetUser MFA: %v %v", u.UserMFASettingList, u.PreferredMfaSetting)
	}

	// Sign-in: SOFTWARE_TOKEN_MFA, a wrong code, the right one, a replay.
	out := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: pw}))
	if out.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa || out.AuthenticationResult != nil {
		t.Fatalf("InitiateAuth: %s %+v", out.ChallengeName, out.AuthenticationResult)
	}
	answer := func(session *string, code string) (*cip.RespondToAuthChallengeOutput, error) {
		return e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
			ChallengeName: types.ChallengeNameTypeSoftwareTokenMfa, Session: session,
			ChallengeResponses: map[string]string{"USERNAME": "ann@example.com", "SOFTWARE_TOKEN_MFA_CODE": code}})
	}
	_, err = answer(out.Session, bad)
	wantErr(t, err, "CodeMismatchException")
	code := totpAt(t, secret, 1)
	res := must[*cip.RespondToAuthChallengeOutput](t)(answer(out.Session, code))
	if amr := amrOf(t, *res.AuthenticationResult.IdToken); strings.Join(amr, " ") != "pwd otp mfa" {
		t.Fatalf("amr %v", amr)
	}
	out = must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: pw}))
	_, err = answer(out.Session, code)
	wantErr(t, err, "CodeMismatchException") // replay

	// MFA ON: a user without a factor enrols at sign-in (AdminInitiateAuth,
	// MFA_SETUP with sessions, no access token).
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID),
		MfaConfiguration: types.UserPoolMfaTypeOn}))
	e.signUpConfirmed(poolID, clientID, "bob@example.com")
	bobPW := map[string]string{"USERNAME": "bob@example.com", "PASSWORD": goodPassword}
	aout := must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: bobPW}))
	if aout.ChallengeName != types.ChallengeNameTypeMfaSetup || aout.AuthenticationResult != nil {
		t.Fatalf("AdminInitiateAuth: %s", aout.ChallengeName)
	}
	_, err = e.admin.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeMfaSetup, Session: aout.Session, ChallengeResponses: map[string]string{"USERNAME": "bob@example.com"}})
	wantErr(t, err, "NotAuthorizedException") // nothing enrolled yet
	bassoc := must[*cip.AssociateSoftwareTokenOutput](t)(e.public.AssociateSoftwareToken(ctx, &cip.AssociateSoftwareTokenInput{Session: aout.Session}))
	bv := must[*cip.VerifySoftwareTokenOutput](t)(e.public.VerifySoftwareToken(ctx, &cip.VerifySoftwareTokenInput{Session: bassoc.Session,
		UserCode: aws.String(totpAt(t, *bassoc.SecretCode, 0))}))
	ares := must[*cip.AdminRespondToAuthChallengeOutput](t)(e.admin.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
		UserPoolId: aws.String(poolID), ClientId: aws.String(clientID), ChallengeName: types.ChallengeNameTypeMfaSetup, Session: bv.Session,
		ChallengeResponses: map[string]string{"USERNAME": "bob@example.com"}}))
	if ares.AuthenticationResult == nil {
		t.Fatal("MFA_SETUP gave no tokens")
	}
	au := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("bob@example.com")}))
	if len(au.UserMFASettingList) != 1 || aws.ToString(au.PreferredMfaSetting) != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("AdminGetUser MFA: %v %v", au.UserMFASettingList, au.PreferredMfaSetting)
	}
	must[*cip.AdminSetUserMFAPreferenceOutput](t)(e.admin.AdminSetUserMFAPreference(ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: aws.String(poolID),
		Username: aws.String("bob@example.com"), SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}))
	aout = must[*cip.AdminInitiateAuthOutput](t)(e.admin.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID),
		ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: bobPW}))
	if aout.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("AdminInitiateAuth after enrolment: %s", aout.ChallengeName)
	}

	// Email codes: a user whose verified email is the factor.
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(poolID),
		MfaConfiguration: types.UserPoolMfaTypeOn, EmailMfaConfiguration: &types.EmailMfaConfigType{}}))
	e.signUpConfirmed(poolID, clientID, "cy@example.com")
	out = must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID),
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "cy@example.com", "PASSWORD": goodPassword}}))
	if out.ChallengeName != types.ChallengeNameTypeEmailOtp || out.ChallengeParameters["CODE_DELIVERY_DELIVERY_MEDIUM"] != "EMAIL" {
		t.Fatalf("email challenge: %s %v", out.ChallengeName, out.ChallengeParameters)
	}
	eres := must[*cip.RespondToAuthChallengeOutput](t)(e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: types.ChallengeNameTypeEmailOtp, Session: out.Session,
		ChallengeResponses: map[string]string{"USERNAME": "cy@example.com", "EMAIL_OTP_CODE": e.lastCode(poolID, "cy@example.com")}}))
	if eres.AuthenticationResult == nil {
		t.Fatal("EMAIL_OTP gave no tokens")
	}
}
