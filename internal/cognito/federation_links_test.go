package cognito_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func cognitoUser(name string) *types.ProviderUserIdentifierType {
	return &types.ProviderUserIdentifierType{ProviderName: aws.String("Cognito"), ProviderAttributeValue: aws.String(name)}
}

func upstream(provider, subject string) *types.ProviderUserIdentifierType {
	return &types.ProviderUserIdentifierType{ProviderName: aws.String(provider), ProviderAttributeName: aws.String("Cognito_Subject"),
		ProviderAttributeValue: aws.String(subject)}
}

// testFederationLinks: AdminLinkProviderForUser and
// AdminDisableProviderForUser through the AWS SDK: a link to a native
// user (which then shows in its ID token's identities claim), the
// refusals (never to a second user, never from or to a federated user,
// only by Cognito_Subject, unknown provider, user or pool, unsigned), the
// limit of five, and unlinking (a federated user's own identity disables
// that user).
func testFederationLinks(t *testing.T, e *env) {
	pid, cid := e.newPool("links")
	if _, err := e.svc.SetIdentityProvider(ctx, pid, identity.IdentityProvider{Name: "Google", Type: identity.ProviderGoogle,
		ClientID: "123.apps.googleusercontent.com"}, "s3cret"); err != nil {
		t.Fatal(err)
	}
	e.signUpConfirmed(pid, cid, "ann@example.com")
	e.signUpConfirmed(pid, cid, "bob@example.com")
	// A federated user, as its first sign-in creates it.
	now := time.Now()
	fed := &identity.User{PoolID: pid, Sub: "0d6f3b52-7f0e-4d55-9a3e-2b1c4d5e6f70", Username: "google_g-fed",
		Status: identity.StatusExternalProvider, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := e.db.CreateUser(ctx, fed, false); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateLinkedIdentity(ctx, &identity.LinkedIdentity{PoolID: pid, ProviderName: "Google", ProviderType: "Google",
		Subject: "g-fed", Issuer: identity.GoogleIssuer, UserSub: fed.Sub, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	must[*cip.AdminLinkProviderForUserOutput](t)(e.admin.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{
		UserPoolId: aws.String(pid), DestinationUser: cognitoUser("ann@example.com"), SourceUser: upstream("Google", "g-1")}))
	links, err := e.svc.AdminListLinkedIdentities(ctx, pid, "ann@example.com")
	if err != nil || len(links) != 1 || links[0].Subject != "g-1" || links[0].ProviderType != "Google" || links[0].Issuer != identity.GoogleIssuer {
		t.Fatalf("links %+v %v", links, err)
	}
	// Linking the same again is fine.
	must[*cip.AdminLinkProviderForUserOutput](t)(e.admin.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{
		UserPoolId: aws.String(pid), DestinationUser: cognitoUser("ann@example.com"), SourceUser: upstream("Google", "g-1")}))
	// Ann's ID token now carries the identities claim.
	var claims struct {
		Identities string `json:"identities"`
	}
	signedIn := e.signIn(cid, "ann@example.com", goodPassword)
	if err := json.Unmarshal([]byte(jwtPayload(t, *signedIn.IdToken)), &claims); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(claims.Identities, `"userId":"g-1"`) || !strings.Contains(claims.Identities, `"providerName":"Google"`) {
		t.Fatalf("identities claim %q", claims.Identities)
	}
	// A refresh's ID token carries the same claim (read with the
	// refresh's session, not separately).
	refreshed := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(cid),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": *signedIn.RefreshToken}}))
	var again struct {
		Identities string `json:"identities"`
	}
	if err := json.Unmarshal([]byte(jwtPayload(t, *refreshed.AuthenticationResult.IdToken)), &again); err != nil {
		t.Fatal(err)
	}
	if again.Identities != claims.Identities {
		t.Fatalf("refreshed identities claim %q, want %q", again.Identities, claims.Identities)
	}

	for name, c := range map[string]struct {
		in   *cip.AdminLinkProviderForUserInput
		want string
	}{
		"to a second user":      {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Google", "g-1")}, "InvalidParameterException"},
		"a federated user's":    {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Google", "g-fed")}, "InvalidParameterException"},
		"to a federated user":   {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("google_g-fed"), SourceUser: upstream("Google", "g-2")}, "InvalidParameterException"},
		"federated destination": {&cip.AdminLinkProviderForUserInput{DestinationUser: upstream("Google", "g-fed"), SourceUser: upstream("Google", "g-2")}, "InvalidParameterException"},
		"native source":         {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Cognito", "ann@example.com")}, "InvalidParameterException"},
		"by email":              {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: &types.ProviderUserIdentifierType{ProviderName: aws.String("Google"), ProviderAttributeName: aws.String("email"), ProviderAttributeValue: aws.String("bob@gmail.com")}}, "InvalidParameterException"},
		"unknown provider":      {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Facebook", "f-1")}, "InvalidParameterException"},
		"bad subject":           {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Google", "g 2")}, "InvalidParameterException"},
		"unknown user":          {&cip.AdminLinkProviderForUserInput{DestinationUser: cognitoUser("cy@example.com"), SourceUser: upstream("Google", "g-2")}, "UserNotFoundException"},
	} {
		c.in.UserPoolId = aws.String(pid)
		_, err := e.admin.AdminLinkProviderForUser(ctx, c.in)
		if errCode(err) != c.want {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
	}
	// Bodies the SDK would not send: members missing or null.
	for _, body := range []string{
		`{"UserPoolId":"` + pid + `","DestinationUser":{"ProviderName":"Cognito","ProviderAttributeValue":"bob@example.com"}}`,
		`{"UserPoolId":"` + pid + `","DestinationUser":null,"SourceUser":{"ProviderName":"Google","ProviderAttributeName":"Cognito_Subject","ProviderAttributeValue":"g-2"}}`,
		`{"UserPoolId":"` + pid + `","DestinationUser":{"ProviderName":"Cognito"},"SourceUser":{"ProviderName":"Google","ProviderAttributeName":"Cognito_Subject","ProviderAttributeValue":"g-2"}}`,
		`{"UserPoolId":"` + pid + `","DestinationUser":{"ProviderName":"Cognito","ProviderAttributeValue":"bob@example.com"},"SourceUser":{"ProviderName":"Google","ProviderAttributeName":"Cognito_Subject"}}`,
	} {
		st, hdr, b := e.signed("AdminLinkProviderForUser", body, keyID, keySecret, "cognito-idp", time.Now(), nil)
		if ae := decodeErr(t, st, hdr, b); ae.Type != "InvalidParameterException" {
			t.Errorf("%s: %+v", body, ae)
		}
	}
	// Strings where the users' structures belong: AWS cannot read it.
	body := `{"UserPoolId":"` + pid + `","DestinationUser":"bob@example.com","SourceUser":"g-2"}`
	st, hdr, b := e.signed("AdminLinkProviderForUser", body, keyID, keySecret, "cognito-idp", time.Now(), nil)
	if ae := decodeErr(t, st, hdr, b); ae.Type != "SerializationException" {
		t.Errorf("%s: %+v", body, ae)
	}
	st, hdr, b = e.signed("AdminDisableProviderForUser", `{"UserPoolId":"`+pid+`"}`, keyID, keySecret, "cognito-idp", time.Now(), nil)
	if ae := decodeErr(t, st, hdr, b); ae.Type != "InvalidParameterException" {
		t.Errorf("no User: %+v", ae)
	}
	_, err = e.admin.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: aws.String(region + "_nopenope1"),
		DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Google", "g-2")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.public.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: aws.String(pid),
		DestinationUser: cognitoUser("bob@example.com"), SourceUser: upstream("Google", "g-2")})
	wantErr(t, err, "MissingAuthenticationTokenException")
	if l, err := e.svc.AdminListLinkedIdentities(ctx, pid, "bob@example.com"); err != nil || len(l) != 0 {
		t.Fatalf("refused links wrote %+v %v", l, err)
	}
	if l, _ := e.db.GetLinkedIdentity(ctx, pid, "Google", "g-1"); l == nil || l.UserSub == fed.Sub {
		t.Fatalf("g-1 moved: %+v", l)
	}

	// Five links per user.
	for _, s := range []string{"g-2", "g-3", "g-4", "g-5"} {
		must[*cip.AdminLinkProviderForUserOutput](t)(e.admin.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{
			UserPoolId: aws.String(pid), DestinationUser: cognitoUser("ann@example.com"), SourceUser: upstream("Google", s)}))
	}
	_, err = e.admin.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: aws.String(pid),
		DestinationUser: cognitoUser("ann@example.com"), SourceUser: upstream("Google", "g-6")})
	wantErr(t, err, "LimitExceededException")

	// Unlink: the link goes.
	must[*cip.AdminDisableProviderForUserOutput](t)(e.admin.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{
		UserPoolId: aws.String(pid), User: upstream("Google", "g-1")}))
	if l, _ := e.db.GetLinkedIdentity(ctx, pid, "Google", "g-1"); l != nil {
		t.Fatalf("g-1 still linked: %+v", l)
	}
	_, err = e.admin.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(pid), User: upstream("Google", "g-1")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(pid), User: upstream("Cognito", "ann@example.com")})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(pid),
		User: &types.ProviderUserIdentifierType{ProviderName: aws.String("Google"), ProviderAttributeName: aws.String("email"), ProviderAttributeValue: aws.String("g-2")}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.public.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(pid), User: upstream("Google", "g-2")})
	wantErr(t, err, "MissingAuthenticationTokenException")
	if l, _ := e.db.GetLinkedIdentity(ctx, pid, "Google", "g-2"); l == nil {
		t.Fatal("a refused unlink removed g-2")
	}
	// A federated user's own identity: the user is disabled.
	must[*cip.AdminDisableProviderForUserOutput](t)(e.admin.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{
		UserPoolId: aws.String(pid), User: upstream("Google", "g-fed")}))
	g := must[*cip.AdminGetUserOutput](t)(e.admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pid), Username: aws.String("google_g-fed")}))
	if g.Enabled || g.UserStatus != types.UserStatusTypeExternalProvider {
		t.Fatalf("federated user after AdminDisableProviderForUser: enabled %v status %s", g.Enabled, g.UserStatus)
	}
}
