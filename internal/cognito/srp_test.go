package cognito_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/srp"
)

// srpSignIn runs USER_SRP_AUTH then PASSWORD_VERIFIER through the SDK, as
// amazon-cognito-identity-js does, with secretHash added when non-empty.
// It returns the second step's error, or the tokens.
func (e *env) srpSignIn(t *testing.T, poolID, clientID, username, pw string, secretHash func(user string) string) (*types.AuthenticationResultType, error) {
	t.Helper()
	c, err := srp.NewClient(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"USERNAME": username, "SRP_A": c.PublicA().Text(16)}
	if secretHash != nil {
		params["SECRET_HASH"] = secretHash(username)
	}
	out, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth, AuthParameters: params})
	if err != nil {
		return nil, err
	}
	p := out.ChallengeParameters
	if out.ChallengeName != types.ChallengeNameTypePasswordVerifier || p["SALT"] == "" || p["SRP_B"] == "" || p["SECRET_BLOCK"] == "" || p["USER_ID_FOR_SRP"] == "" {
		t.Fatalf("USER_SRP_AUTH answer %s %v", out.ChallengeName, p)
	}
	salt, _ := new(big.Int).SetString(p["SALT"], 16)
	B, _ := new(big.Int).SetString(p["SRP_B"], 16)
	userID := p["USER_ID_FOR_SRP"]
	key, err := c.Key(srp.PoolName(poolID), userID, pw, salt, B)
	if err != nil {
		t.Fatal(err)
	}
	block, err := base64.StdEncoding.DecodeString(p["SECRET_BLOCK"])
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006") // as amazon-cognito-identity-js writes it
	sig := srp.Signature(key, srp.PoolName(poolID), userID, block, ts)
	resp := map[string]string{"USERNAME": userID, "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts,
		"PASSWORD_CLAIM_SIGNATURE": base64.StdEncoding.EncodeToString(sig)}
	if secretHash != nil {
		resp["SECRET_HASH"] = secretHash(userID)
	}
	res, err := e.public.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(clientID),
		ChallengeName: out.ChallengeName, Session: out.Session, ChallengeResponses: resp})
	if err != nil {
		return nil, err
	}
	return res.AuthenticationResult, nil
}

// TestSRPAndSecretHash: SRP sign-in through the Cognito API (the adapter
// passes SRP_A and the PASSWORD_VERIFIER responses to the service
// untouched), and SECRET_HASH for a client with a secret.
func TestSRPAndSecretHash(t *testing.T) {
	t.Parallel()
	e := setup(t)
	pool := must[*cip.CreateUserPoolOutput](t)(e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("srp"),
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}}))
	poolID := *pool.UserPool.Id
	// No ExplicitAuthFlows: Cognito's default, SRP + refresh.
	pub := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("spa")}))
	conf := must[*cip.CreateUserPoolClientOutput](t)(e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID),
		ClientName: aws.String("backend"), GenerateSecret: true,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowUserPasswordAuth}}))
	pubID, confID, secret := *pub.UserPoolClient.ClientId, *conf.UserPoolClient.ClientId, *conf.UserPoolClient.ClientSecret
	hash := func(user string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(user + confID))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}

	email := "srp@example.com"
	e.signUpConfirmed(poolID, pubID, email)
	tok, err := e.srpSignIn(t, poolID, pubID, email, goodPassword, nil)
	if err != nil || tok == nil || tok.AccessToken == nil {
		t.Fatalf("SRP sign-in: %v", err)
	}
	_, err = e.srpSignIn(t, poolID, pubID, email, otherPassword, nil)
	wantErr(t, err, "NotAuthorizedException")
	// The SPA client does not allow USER_PASSWORD_AUTH (Cognito's default flows).
	_, err = e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(pubID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword}})
	wantErr(t, err, "InvalidParameterException") // the flow is not enabled for the client, as on AWS

	// SECRET_HASH: SRP and password sign-in with the confidential client.
	if _, err := e.srpSignIn(t, poolID, confID, email, goodPassword, hash); err != nil {
		t.Fatalf("SRP with SECRET_HASH: %v", err)
	}
	_, err = e.srpSignIn(t, poolID, confID, email, goodPassword, nil)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.srpSignIn(t, poolID, confID, email, goodPassword, func(string) string { return base64.StdEncoding.EncodeToString(make([]byte, 32)) })
	wantErr(t, err, "NotAuthorizedException")
	pw := must[*cip.InitiateAuthOutput](t)(e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(confID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": goodPassword, "SECRET_HASH": hash(email)}}))
	if pw.AuthenticationResult == nil {
		t.Fatal("password sign-in with SECRET_HASH: no tokens")
	}
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(confID), Username: aws.String("x@example.com"), Password: aws.String(goodPassword)})
	wantErr(t, err, "NotAuthorizedException")
	must[*cip.SignUpOutput](t)(e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(confID), Username: aws.String("x@example.com"),
		Password: aws.String(goodPassword), SecretHash: aws.String(hash("x@example.com"))}))
}
