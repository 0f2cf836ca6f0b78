package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	hookSecret = "ghs_cognitomigrate-test-secret"
	keyID      = "AKIAGATEHOUSEOLDPOOL1"
	keySecret  = "old-pool-admin-secret-0123456789abcdef"
	region     = "eu-west-1"
	oldPW      = "the password of the old pool 42"
)

var tinyHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// A user of the old pool (a second Gatehouse, reached through its Cognito
// API with the AWS SDK) signs in to the new pool with the old password
// through the AWS SDK, and arrives with it; a wrong password, or a name the
// old pool does not know, answers as Cognito does and migrates nobody; a
// user who forgot the password arrives RESET_REQUIRED with a code sent.
func TestMigrateFromAnotherCognito(t *testing.T) {
	t.Parallel()
	old := testenv.New(t, testenv.Options{Hash: &tinyHash, Surfaces: testenv.Cognito,
		Cognito: cognito.Options{AccessKeys: []cognito.AccessKey{{ID: keyID, Secret: keySecret}}},
		Pool:    &auth.CreatePoolInput{Name: "old", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowRefreshToken}}},
		Users: []testenv.User{
			{Username: "ann@example.com", Password: oldPW, Attributes: map[string]string{"name": "Ann Old", "email_verified": "true"}},
			{Username: "bob@example.com", Password: oldPW, Attributes: map[string]string{"email_verified": "true"}},
		}})
	m := &Migrator{Secret: hookSecret, Old: NewOld(old.URL, region, old.Pool.ID, old.Clients[0].ID, "", keyID, keySecret, old.Server.Client())}
	hook := httptest.NewServer(m)
	t.Cleanup(hook.Close)

	s := testenv.New(t, testenv.Options{Hash: &tinyHash, Surfaces: testenv.Cognito, SMTP: true,
		Pool:    &auth.CreatePoolInput{Name: "new", UsernameMode: identity.UsernameEmail},
		Clients: []auth.CreateClientInput{{Name: "app", AuthFlows: []string{identity.FlowUserPassword, identity.FlowUserSRP, identity.FlowRefreshToken}}},
		Hooks:   &identity.HookSettings{UserMigration: &identity.Hook{URL: hook.URL, Secret: hookSecret}}})
	c := cip.New(cip.Options{Region: region, BaseEndpoint: aws.String(s.URL), Credentials: aws.AnonymousCredentials{}, HTTPClient: s.Server.Client()})
	ctx := context.Background()
	signIn := func(user, pw string) (*cip.InitiateAuthOutput, error) {
		return c.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(s.Clients[0].ID),
			AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw}})
	}
	wantAPIError := func(err error, code, msg string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
			t.Fatalf("got %v, want %s %q", err, code, msg)
		}
	}

	migrating := "Exception migrating user in app client " + s.Clients[0].ID
	_, err := signIn("ann@example.com", "not the password of the old pool")
	wantAPIError(err, "UserNotFoundException", migrating)
	_, err = signIn("zed@example.com", oldPW)
	wantAPIError(err, "UserNotFoundException", migrating)
	if n, _ := s.Store.CountUsers(ctx, s.Pool.ID); n != 0 {
		t.Fatalf("%d users after failed migrations", n)
	}

	out, err := signIn("ann@example.com", oldPW)
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("migrating sign-in: %v", err)
	}
	me, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: out.AuthenticationResult.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range me.UserAttributes {
		got[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if got["name"] != "Ann Old" || got["email"] != "ann@example.com" || got["email_verified"] != "true" || got["sub"] == old.Subs["ann@example.com"] {
		t.Fatalf("migrated attributes %v", got)
	}
	u, err := s.Store.GetUserByUsername(ctx, s.Pool.ID, "ann@example.com")
	if err != nil || u.Status != identity.StatusConfirmed || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.SRPVerifier == "" {
		t.Fatalf("migrated user %+v, %v", u, err)
	}

	// Forgot password: admin read on the old pool, RESET_REQUIRED here.
	fp, err := c.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: aws.String(s.Clients[0].ID), Username: aws.String("bob@example.com")})
	if err != nil || fp.CodeDeliveryDetails == nil {
		t.Fatalf("ForgotPassword: %v", err)
	}
	code := s.Mail("bob@example.com").Code()
	if _, err := c.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(s.Clients[0].ID),
		Username: aws.String("bob@example.com"), ConfirmationCode: aws.String(code), Password: aws.String(testenv.Password)}); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn("bob@example.com", testenv.Password); err != nil {
		t.Fatal(err)
	}
}
