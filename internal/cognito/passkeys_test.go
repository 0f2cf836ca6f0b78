package cognito_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/document"

	"github.com/gatehouse-id/gatehouse/internal/auth"
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
