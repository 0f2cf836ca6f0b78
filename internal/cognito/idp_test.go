package cognito_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// testIdentityProviders walks the identity provider operations over the
// pool's federation settings, with the bad input Cognito refuses.
func testIdentityProviders(t *testing.T, e *env) {
	poolID, _ := e.newPool("idps")
	pid := aws.String(poolID)
	google := must[*cip.CreateIdentityProviderOutput](t)(e.admin.CreateIdentityProvider(ctx, &cip.CreateIdentityProviderInput{
		UserPoolId: pid, ProviderName: aws.String("Google"), ProviderType: types.IdentityProviderTypeTypeGoogle,
		ProviderDetails:  map[string]string{"client_id": "google-client", "client_secret": "google-secret", "authorize_scopes": "openid email profile"},
		AttributeMapping: map[string]string{"email": "email", "username": "sub"},
	})).IdentityProvider
	if google.ProviderDetails["client_secret"] != "" || google.ProviderDetails["client_id"] != "google-client" || google.AttributeMapping["email"] != "email" {
		t.Fatalf("CreateIdentityProvider %+v", google)
	}
	must[*cip.CreateIdentityProviderOutput](t)(e.admin.CreateIdentityProvider(ctx, &cip.CreateIdentityProviderInput{
		UserPoolId: pid, ProviderName: aws.String("corp"), ProviderType: types.IdentityProviderTypeTypeOidc,
		ProviderDetails: map[string]string{"client_id": "corp-client", "client_secret": "corp-secret", "oidc_issuer": "https://login.corp.example",
			"authorize_scopes": "openid email", "attributes_request_method": "GET"},
		IdpIdentifiers: []string{"corp.example"},
	}))
	d := must[*cip.DescribeIdentityProviderOutput](t)(e.admin.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("corp")}))
	if d.IdentityProvider.ProviderDetails["oidc_issuer"] != "https://login.corp.example" || d.IdentityProvider.ProviderType != types.IdentityProviderTypeTypeOidc {
		t.Fatalf("DescribeIdentityProvider %+v", d.IdentityProvider)
	}
	byID := must[*cip.GetIdentityProviderByIdentifierOutput](t)(e.admin.GetIdentityProviderByIdentifier(ctx, &cip.GetIdentityProviderByIdentifierInput{UserPoolId: pid, IdpIdentifier: aws.String("corp.example")}))
	if *byID.IdentityProvider.ProviderName != "corp" {
		t.Fatalf("GetIdentityProviderByIdentifier %+v", byID.IdentityProvider)
	}
	u := must[*cip.UpdateIdentityProviderOutput](t)(e.admin.UpdateIdentityProvider(ctx, &cip.UpdateIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("corp"),
		AttributeMapping: map[string]string{"name": "name"}}))
	if u.IdentityProvider.ProviderDetails["client_id"] != "corp-client" || u.IdentityProvider.AttributeMapping["name"] != "name" {
		t.Fatalf("UpdateIdentityProvider kept the details? %+v", u.IdentityProvider)
	}
	l := must[*cip.ListIdentityProvidersOutput](t)(e.admin.ListIdentityProviders(ctx, &cip.ListIdentityProvidersInput{UserPoolId: pid, MaxResults: aws.Int32(1)}))
	if len(l.Providers) != 1 || l.NextToken == nil {
		t.Fatalf("ListIdentityProviders page 1: %+v", l)
	}
	l = must[*cip.ListIdentityProvidersOutput](t)(e.admin.ListIdentityProviders(ctx, &cip.ListIdentityProvidersInput{UserPoolId: pid, MaxResults: aws.Int32(1), NextToken: l.NextToken}))
	if len(l.Providers) != 1 || *l.Providers[0].ProviderName != "corp" || l.NextToken != nil {
		t.Fatalf("ListIdentityProviders page 2: %+v", l)
	}

	bad := func(name, want string, in *cip.CreateIdentityProviderInput) {
		t.Helper()
		if in.UserPoolId == nil {
			in.UserPoolId = pid
		}
		if in.ProviderName == nil {
			in.ProviderName = aws.String("other")
		}
		if in.ProviderType == "" {
			in.ProviderType = types.IdentityProviderTypeTypeOidc
		}
		_, err := e.admin.CreateIdentityProvider(ctx, in)
		if errCode(err) != want {
			t.Errorf("CreateIdentityProvider %s: %v, want %s", name, err, want)
		}
	}
	oidc := func() map[string]string {
		return map[string]string{"client_id": "c", "client_secret": "s", "oidc_issuer": "https://idp.example", "authorize_scopes": "openid"}
	}
	bad("taken name", "DuplicateProviderException", &cip.CreateIdentityProviderInput{ProviderName: aws.String("Google"), ProviderType: types.IdentityProviderTypeTypeGoogle,
		ProviderDetails: map[string]string{"client_id": "x", "client_secret": "y", "authorize_scopes": "openid"}})
	bad("SAML", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderType: types.IdentityProviderTypeTypeSaml, ProviderDetails: map[string]string{"MetadataURL": "https://idp.example/md"}})
	bad("unknown detail", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: map[string]string{"client_id": "c", "oidc_issuer": "https://idp.example", "jwks_uri": "https://idp.example/jwks"}})
	bad("no issuer", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: map[string]string{"client_id": "c"}})
	bad("http issuer", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: map[string]string{"client_id": "c", "oidc_issuer": "http://idp.example"}})
	bad("username not sub", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: oidc(), AttributeMapping: map[string]string{"username": "email"}})
	bad("email_verified mapping", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: oidc(), AttributeMapping: map[string]string{"email_verified": "email_verified"}})
	bad("identifier taken", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderDetails: oidc(), IdpIdentifiers: []string{"corp.example"}})
	bad("reserved name", "InvalidParameterException", &cip.CreateIdentityProviderInput{ProviderName: aws.String("Cognito"), ProviderDetails: oidc()})
	bad("unknown pool", "ResourceNotFoundException", &cip.CreateIdentityProviderInput{UserPoolId: aws.String(region + "_nopenope1"), ProviderDetails: oidc()})

	_, err := e.admin.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.UpdateIdentityProvider(ctx, &cip.UpdateIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("nope"), ProviderDetails: oidc()})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.UpdateIdentityProvider(ctx, &cip.UpdateIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("corp"), ProviderDetails: map[string]string{"client_id": "c"}})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.admin.GetIdentityProviderByIdentifier(ctx, &cip.GetIdentityProviderByIdentifierInput{UserPoolId: pid, IdpIdentifier: aws.String("nope.example")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.admin.ListIdentityProviders(ctx, &cip.ListIdentityProvidersInput{UserPoolId: pid, MaxResults: aws.Int32(10), NextToken: aws.String("x")})
	wantErr(t, err, "InvalidParameterException")

	must[*cip.DeleteIdentityProviderOutput](t)(e.admin.DeleteIdentityProvider(ctx, &cip.DeleteIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("Google")}))
	_, err = e.admin.DeleteIdentityProvider(ctx, &cip.DeleteIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("Google")})
	wantErr(t, err, "ResourceNotFoundException")
	// The Google provider's secret went with it: a new one needs its own.
	_, err = e.admin.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pid, ProviderName: aws.String("Google")})
	wantErr(t, err, "ResourceNotFoundException")
}
