package cognito_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

// TestWebAuthnConfiguration: with the AWS SDK for Go v2,
// SetUserPoolMfaConfig's WebAuthnConfiguration. Unset, GetUserPoolMfaConfig
// shows Gatehouse's defaults (UserVerification required, no RelyingPartyId,
// MULTI_FACTOR_WITH_USER_VERIFICATION). Bad values are
// InvalidParameterException and change nothing: a UserVerification outside
// required|preferred, a RelyingPartyId that is not the pool's host nor a
// parent of it (another site, a public suffix, upper case), SINGLE_FACTOR.
// Set to the base URL's parent domain and preferred: the registration
// options name that RP ID and preferred UV, the stored passkey has that RP
// ID and signs in; a passkey without user verification registers and signs
// in as one factor (amr without mfa), and is refused once the pool's MFA is
// ON, while the verifying passkey still signs in; back to required, a
// non-verifying authenticator cannot register.
func TestWebAuthnConfiguration(t *testing.T) {
	t.Parallel()
	e := setup(t)
	poolID, clientID := e.newPool("webauthn-config")
	e.signUpConfirmed(poolID, clientID, "ann@example.com")
	pid := aws.String(poolID)
	get := func() *types.WebAuthnConfigurationType {
		t.Helper()
		out := must[*cip.GetUserPoolMfaConfigOutput](t)(e.admin.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: pid}))
		if out.WebAuthnConfiguration == nil {
			t.Fatal("GetUserPoolMfaConfig without WebAuthnConfiguration")
		}
		return out.WebAuthnConfiguration
	}
	if w := get(); w.RelyingPartyId != nil || w.UserVerification != types.UserVerificationTypeRequired ||
		w.FactorConfiguration != types.WebAuthnFactorConfigurationTypeMultiFactorWithUserVerification {
		t.Fatalf("default: %+v", w)
	}
	set := func(w *types.WebAuthnConfigurationType) error {
		_, err := e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pid, WebAuthnConfiguration: w})
		return err
	}
	for _, bad := range []*types.WebAuthnConfigurationType{
		{UserVerification: "sometimes"},
		{RelyingPartyId: aws.String("evil.example.net")},
		{RelyingPartyId: aws.String("other-id.example.test")},
		{RelyingPartyId: aws.String("test")}, // a public suffix
		{RelyingPartyId: aws.String("Example.Test")},
		{RelyingPartyId: aws.String("example.test/")},
		{RelyingPartyId: aws.String("example.test"), FactorConfiguration: types.WebAuthnFactorConfigurationTypeSingleFactor},
	} {
		wantErr(t, set(bad), "InvalidParameterException")
		if w := get(); w.RelyingPartyId != nil || w.UserVerification != types.UserVerificationTypeRequired {
			t.Fatalf("after refused %+v: %+v", bad, w)
		}
	}

	if err := set(&types.WebAuthnConfigurationType{RelyingPartyId: aws.String("example.test"), UserVerification: types.UserVerificationTypePreferred}); err != nil {
		t.Fatal(err)
	}
	// Left out, the setting stays.
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pid,
		MfaConfiguration: types.UserPoolMfaTypeOff}))
	if w := get(); aws.ToString(w.RelyingPartyId) != "example.test" || w.UserVerification != types.UserVerificationTypePreferred {
		t.Fatalf("after set: %+v", w)
	}

	ann := e.signIn(clientID, "ann@example.com", goodPassword)
	register := func(a *softauthn.Authenticator, wantUV string) error {
		st, err := e.public.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: ann.AccessToken})
		if err != nil {
			t.Fatal(err)
		}
		opts := docJSON(t, st.CredentialCreationOptions)
		var o struct {
			RP                     struct{ ID string }               `json:"rp"`
			AuthenticatorSelection struct{ UserVerification string } `json:"authenticatorSelection"`
		}
		if err := json.Unmarshal(opts, &o); err != nil || o.RP.ID != "example.test" || o.AuthenticatorSelection.UserVerification != wantUV {
			t.Fatalf("creation options: %s", opts)
		}
		_, err = e.public.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: ann.AccessToken,
			Credential: jsonDoc(t, a.Create(opts))})
		return err
	}
	signIn := func(a *softauthn.Authenticator) ([]string, error) {
		so, err := e.svc.StartPasskeySignIn(ctx, auth.Client{ID: clientID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(so) || !slices.Contains([]string{`"preferred"`, `"required"`}, string(mustField(t, so, "userVerification"))) {
			t.Fatalf("request options: %s", so)
		}
		r, err := e.svc.CompletePasskeySignIn(ctx, auth.PasskeySignInInput{Client: auth.Client{ID: clientID}, Credential: a.Get(so)})
		if err != nil {
			return nil, err
		}
		return amrOf(t, r.Tokens.IDToken), nil
	}

	uv := softauthn.New(t, baseURL)
	if err := register(uv, "preferred"); err != nil {
		t.Fatal(err)
	}
	noUV := softauthn.New(t, baseURL)
	noUV.NoUV = true
	if err := register(noUV, "preferred"); err != nil {
		t.Fatalf("preferred: a passkey without UV registers: %v", err)
	}
	l := must[*cip.ListWebAuthnCredentialsOutput](t)(e.public.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: ann.AccessToken}))
	if len(l.Credentials) != 2 || aws.ToString(l.Credentials[0].RelyingPartyId) != "example.test" {
		t.Fatalf("list: %+v", l.Credentials)
	}
	if amr, err := signIn(uv); err != nil || !slices.Contains(amr, "mfa") {
		t.Fatalf("UV passkey: %v %v", amr, err)
	}
	if amr, err := signIn(noUV); err != nil || slices.Contains(amr, "mfa") || !slices.Contains(amr, "hwk") {
		t.Fatalf("passkey without UV, MFA off: %v %v", amr, err)
	}

	// MFA ON: the passkey without UV is one factor, so it is refused; the
	// verifying one is multi-factor and still signs in.
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pid,
		MfaConfiguration: types.UserPoolMfaTypeOn, SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true}}))
	if _, err := signIn(noUV); identity.ErrorCode(err) != identity.CodeNotAuthorized || !strings.Contains(identity.ErrorMessage(err), "did not verify") {
		t.Fatalf("a passkey without UV in a pool with MFA ON: %v", err)
	}
	if amr, err := signIn(uv); err != nil || !slices.Contains(amr, "mfa") {
		t.Fatalf("UV passkey, MFA ON: %v %v", amr, err)
	}

	// Back to required: an authenticator without UV cannot register nor sign in.
	if err := set(&types.WebAuthnConfigurationType{RelyingPartyId: aws.String("example.test"), UserVerification: types.UserVerificationTypeRequired}); err != nil {
		t.Fatal(err)
	}
	must[*cip.SetUserPoolMfaConfigOutput](t)(e.admin.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: pid,
		MfaConfiguration: types.UserPoolMfaTypeOff}))
	other := softauthn.New(t, baseURL)
	other.NoUV = true
	wantErr(t, register(other, "required"), "WebAuthnCredentialNotSupportedException")
	if _, err := signIn(noUV); identity.ErrorCode(err) != identity.CodeNotAuthorized {
		t.Fatalf("a passkey without UV with UV required: %v", err)
	}
}

// mustField returns the raw JSON of a top-level member of b.
func mustField(t *testing.T, b []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}
