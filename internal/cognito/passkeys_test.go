package cognito_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/document"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
	"github.com/gatehouse-id/gatehouse/internal/testenv/softauthn"
)

// docJSON turns a smithy document from the SDK into JSON.
func docJSON(t *testing.T, d document.Interface) []byte {
	t.Helper()
	var v any
	if err := d.UnmarshalSmithyDocument(&v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonDoc wraps JSON as a smithy document for the SDK.
func jsonDoc(t *testing.T, b []byte) document.Interface {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return document.NewLazyDocument(v)
}

// testPasskeys: StartWebAuthnRegistration answers creation options for the
// pool's relying party (the base URL's host), CompleteWebAuthnRegistration
// stores the passkey, ListWebAuthnCredentials pages it, the passkey signs
// in (service path, as the hosted page does), a replayed registration is
// WebAuthnChallengeNotFoundException, one from another origin
// WebAuthnOriginNotAllowedException, a token without the user.admin scope
// or another user's token cannot delete it, and DeleteWebAuthnCredential
// removes it.
func testPasskeys(t *testing.T, e *env) {
	poolID, clientID := e.newPool("passkeys")
	e.signUpConfirmed(poolID, clientID, "ann@example.com")
	e.signUpConfirmed(poolID, clientID, "bob@example.com")
	ann := e.signIn(clientID, "ann@example.com", goodPassword)
	bob := e.signIn(clientID, "bob@example.com", goodPassword)

	st, err := e.public.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: ann.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	opts := docJSON(t, st.CredentialCreationOptions)
	var o struct {
		RP                     struct{ ID string } `json:"rp"`
		AuthenticatorSelection struct {
			ResidentKey, UserVerification string
		} `json:"authenticatorSelection"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.RP.ID != "id.example.test" ||
		o.AuthenticatorSelection.ResidentKey != "required" || o.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("creation options: %s", opts)
	}
	a := softauthn.New(t, baseURL)
	reg := a.Create(opts)
	if _, err := e.public.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: ann.AccessToken,
		Credential: jsonDoc(t, reg)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.public.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: ann.AccessToken,
		Credential: jsonDoc(t, reg)})
	wantErr(t, err, "WebAuthnChallengeNotFoundException")

	st, _ = e.public.StartWebAuthnRegistration(ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: ann.AccessToken})
	evil := softauthn.New(t, "https://evil.example.net")
	_, err = e.public.CompleteWebAuthnRegistration(ctx, &cip.CompleteWebAuthnRegistrationInput{AccessToken: ann.AccessToken,
		Credential: jsonDoc(t, evil.Create(docJSON(t, st.CredentialCreationOptions)))})
	wantErr(t, err, "WebAuthnOriginNotAllowedException")

	l, err := e.public.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: ann.AccessToken})
	if err != nil || len(l.Credentials) != 1 || *l.Credentials[0].CredentialId != a.CredentialID() ||
		*l.Credentials[0].RelyingPartyId != "id.example.test" || l.Credentials[0].AuthenticatorTransports[0] != "internal" {
		t.Fatalf("list: %v %+v", err, l)
	}
	_, err = e.public.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: ann.AccessToken, MaxResults: aws.Int32(21)})
	wantErr(t, err, "InvalidParameterException")
	if l, _ := e.public.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: bob.AccessToken}); len(l.Credentials) != 0 {
		t.Fatalf("bob sees %d passkeys", len(l.Credentials))
	}

	// The passkey signs in (the hosted page's path).
	so, err := e.svc.StartPasskeySignIn(ctx, auth.Client{ID: clientID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.CompletePasskeySignIn(ctx, auth.PasskeySignInInput{Client: auth.Client{ID: clientID}, Credential: a.Get(so)}); err != nil || r.Tokens == nil {
		t.Fatalf("passkey sign-in: %v", err)
	}

	testUserAuth(t, e, poolID, clientID, a)

	_, err = e.public.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: bob.AccessToken, CredentialId: aws.String(a.CredentialID())})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: aws.String("nope"), CredentialId: aws.String(a.CredentialID())})
	wantErr(t, err, "NotAuthorizedException")
	if _, err := e.public.DeleteWebAuthnCredential(ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: ann.AccessToken,
		CredentialId: aws.String(a.CredentialID())}); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.public.ListWebAuthnCredentials(ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: ann.AccessToken}); len(l.Credentials) != 0 {
		t.Fatalf("%d passkeys after delete", len(l.Credentials))
	}
}

// testUserAuth: the choice-based USER_AUTH flow. Without a preference the
// answer is SELECT_CHALLENGE listing PASSWORD, PASSWORD_SRP and, for a
// user with a passkey, WEB_AUTHN; answering PASSWORD (or preferring it
// with the password) signs in; preferring WEB_AUTHN answers the WEB_AUTHN
// challenge, and the passkey's assertion signs in (amr hwk); the client
// must allow ALLOW_USER_AUTH; an unknown user gets the same first answer
// and then "Incorrect username or password.".
func testUserAuth(t *testing.T, e *env, poolID, clientID string, a *softauthn.Authenticator) {
	cid := aws.String(clientID)
	_, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "bob@example.com"}})
	wantErr(t, err, "InvalidParameterException") // ALLOW_USER_AUTH not set yet: "USER_AUTH flow not enabled for this client", as on Cognito
	if _, err := e.admin.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: cid,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}}); err != nil {
		t.Fatal(err)
	}
	sel, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "bob@example.com"}})
	if err != nil || sel.ChallengeName != types.ChallengeNameTypeSelectChallenge || len(sel.AvailableChallenges) != 2 {
		t.Fatalf("bob: %v %+v", err, sel)
	}
	out, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeSelectChallenge,
		Session: sel.Session, ChallengeResponses: map[string]string{"USERNAME": "bob@example.com", "ANSWER": "PASSWORD", "PASSWORD": goodPassword}})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("select PASSWORD: %v", err)
	}
	out2, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "bob@example.com", "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": goodPassword}})
	if err != nil || out2.AuthenticationResult == nil {
		t.Fatalf("preferred PASSWORD: %v", err)
	}

	sel, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "ann@example.com"}})
	if err != nil || len(sel.AvailableChallenges) != 3 || sel.AvailableChallenges[2] != types.ChallengeNameTypeWebAuthn {
		t.Fatalf("ann: %v %+v", err, sel)
	}
	wa, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeSelectChallenge,
		Session: sel.Session, ChallengeResponses: map[string]string{"USERNAME": "ann@example.com", "ANSWER": "WEB_AUTHN"}})
	if err != nil || wa.ChallengeName != types.ChallengeNameTypeWebAuthn || wa.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"] == "" {
		t.Fatalf("select WEB_AUTHN: %v %+v", err, wa)
	}
	done, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeWebAuthn,
		Session: wa.Session, ChallengeResponses: map[string]string{"USERNAME": "ann@example.com",
			"CREDENTIAL": string(a.Get([]byte(wa.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"])))}})
	if err != nil || done.AuthenticationResult == nil {
		t.Fatalf("WEB_AUTHN: %v", err)
	}
	if amr := testenv.Claims(t, *done.AuthenticationResult.IdToken)["amr"]; amr == nil || amr.([]any)[0] != "hwk" {
		t.Fatalf("amr %v", amr)
	}
	pw, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "ann@example.com", "PREFERRED_CHALLENGE": "WEB_AUTHN"}})
	if err != nil || pw.ChallengeName != types.ChallengeNameTypeWebAuthn {
		t.Fatalf("preferred WEB_AUTHN: %v %+v", err, pw)
	}
	// A SELECT_CHALLENGE session does not answer WEB_AUTHN.
	_, err = e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeWebAuthn,
		Session: sel.Session, ChallengeResponses: map[string]string{"USERNAME": "ann@example.com", "CREDENTIAL": "{}"}})
	wantErr(t, err, "NotAuthorizedException")

	sel, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: cid, AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "nobody@example.com"}})
	if err != nil || sel.ChallengeName != types.ChallengeNameTypeSelectChallenge || len(sel.AvailableChallenges) != 2 {
		t.Fatalf("unknown user: %v %+v", err, sel)
	}
	_, err = e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: cid, ChallengeName: types.ChallengeNameTypeSelectChallenge,
		Session: sel.Session, ChallengeResponses: map[string]string{"USERNAME": "nobody@example.com", "ANSWER": "PASSWORD", "PASSWORD": goodPassword}})
	if c := errCode(err); c != "NotAuthorizedException" && c != "UserNotFoundException" {
		t.Fatalf("unknown user's password: %v", err)
	}
}
