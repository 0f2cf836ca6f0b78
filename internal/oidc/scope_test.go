package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-id/gatehouse/internal/cognito"
)

// Scopes across the surfaces (docs/security.md T5, T6): a relying party's
// access token obtained through the real code flow with "openid email"
// reads userInfo and nothing else.

// cognitoClient mounts the Cognito API on e's server and returns an
// unsigned AWS SDK client for it (the token-authorised operations carry
// no AWS credentials, as with Cognito).
func (e *env) cognitoClient() *cip.Client {
	e.t.Helper()
	e.mux.Handle(cognito.MountPattern, cognito.New(e.svc, cognito.Options{Log: slog.New(slog.DiscardHandler)}))
	return cip.New(cip.Options{Region: "eu-west-1", BaseEndpoint: aws.String(e.base), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1})
}

// confTokens runs the code flow of the confidential client for scope
// and redeems the code.
func (e *env) confTokens(b *browser, scope string) map[string]any {
	e.t.Helper()
	back := e.authorize(b, e.authURL("client_id", e.conf, "response_type", "code", "redirect_uri", rpCallback,
		"scope", scope, "state", "s1"))
	code := back.Query().Get("code")
	if code == "" {
		e.t.Fatalf("callback %s", back)
	}
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}},
		e.conf, e.confSecret)
	if st != 200 {
		e.t.Fatalf("redeem %d %v", st, body)
	}
	if body["scope"] != scope {
		e.t.Fatalf("granted scope %v, want %q", body["scope"], scope)
	}
	return body
}

// apiCall calls the native API with a bearer token and returns the
// status, the decoded body and the WWW-Authenticate header.
func (e *env) apiCall(method, path, tok, body string) (int, map[string]any, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, res.Header.Get("WWW-Authenticate")
}

// userInfo calls method /<pool>/oauth2/userInfo with a bearer token.
func (e *env) userInfo(method, issuer, tok string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, issuer+"/oauth2/userInfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

const noScope = "Access Token does not have required scopes"

// selfServiceCalls are Cognito's token-authorised operations, each with
// tok, through the AWS SDK.
func selfServiceCalls(c *cip.Client, tok string) map[string]func() error {
	ctx := context.Background()
	t := aws.String(tok)
	return map[string]func() error{
		"GetUser": func() error { _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: t}); return err },
		"UpdateUserAttributes": func() error {
			_, err := c.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: t,
				UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("attacker@evil.example")}}})
			return err
		},
		"DeleteUserAttributes": func() error {
			_, err := c.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: t, UserAttributeNames: []string{"custom:company_name"}})
			return err
		},
		"GetUserAttributeVerificationCode": func() error {
			_, err := c.GetUserAttributeVerificationCode(ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: t, AttributeName: aws.String("email")})
			return err
		},
		"VerifyUserAttribute": func() error {
			_, err := c.VerifyUserAttribute(ctx, &cip.VerifyUserAttributeInput{AccessToken: t, AttributeName: aws.String("email"), Code: aws.String("123456")})
			return err
		},
		"ChangePassword": func() error {
			_, err := c.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: t, PreviousPassword: aws.String(userPW),
				ProposedPassword: aws.String("an attacker's new passphrase 9")})
			return err
		},
		"DeleteUser":    func() error { _, err := c.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: t}); return err },
		"GlobalSignOut": func() error { _, err := c.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: t}); return err },
	}
}

// meRoutes are the native API's /api/v1/me routes with a valid body.
var meRoutes = []struct{ method, path, body string }{
	{"GET", "/api/v1/me", ""},
	{"PATCH", "/api/v1/me/attributes", `{"attributes":{"email":"attacker@evil.example"}}`},
	{"DELETE", "/api/v1/me/attributes", `{"names":["custom:company_name"]}`},
	{"POST", "/api/v1/me/attribute-verification-code", `{"attribute":"email"}`},
	{"POST", "/api/v1/me/verify-attribute", `{"attribute":"email","code":"123456"}`},
	{"POST", "/api/v1/me/password", `{"previous_password":"` + userPW + `","proposed_password":"an attacker's new passphrase 9"}`},
	{"POST", "/api/v1/me/sign-out", ""},
	{"DELETE", "/api/v1/me", ""},
}

// TestNarrowTokenRefusedBySelfService: an "openid email" access token from
// the code flow is refused by every self-service operation on the Cognito
// surface (NotAuthorizedException, Cognito's message) and natively (403
// insufficient_scope), and changes nothing: the takeover — change the
// email to the attacker's, verify it, reset the password — fails at its
// first step. userInfo answers (openid). A token the client was allowed
// and asked aws.cognito.signin.user.admin for is accepted everywhere.
func TestNarrowTokenRefusedBySelfService(t *testing.T) { // security.md T5
	t.Parallel()
	e := setup(t)
	cog := e.cognitoClient()
	b := newBrowser(t)
	narrow := e.confTokens(b, "openid email")["access_token"].(string)
	if sc := jwtClaims(t, narrow)["scope"]; sc != "openid email" {
		t.Fatalf("scope claim %v", sc)
	}

	// The takeover's first step.
	_, err := cog.UpdateUserAttributes(context.Background(), &cip.UpdateUserAttributesInput{AccessToken: aws.String(narrow),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("attacker@evil.example")}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotAuthorizedException" || ae.ErrorMessage() != noScope {
		t.Fatalf("UpdateUserAttributes (takeover step 1): %v", err)
	}

	for name, call := range selfServiceCalls(cog, narrow) {
		err := call()
		if !errors.As(err, &ae) || ae.ErrorCode() != "NotAuthorizedException" || ae.ErrorMessage() != noScope {
			t.Errorf("Cognito %s: %v, want NotAuthorizedException %q", name, err, noScope)
		}
	}
	for _, rt := range meRoutes {
		st, body, www := e.apiCall(rt.method, rt.path, narrow, rt.body)
		if st != 403 || body["code"] != "insufficient_scope" || body["detail"] != noScope ||
			!strings.Contains(www, `error="insufficient_scope"`) || !strings.Contains(www, `scope="aws.cognito.signin.user.admin"`) {
			t.Errorf("native %s %s: %d %v %q, want 403 insufficient_scope", rt.method, rt.path, st, body, www)
		}
	}
	v, err := e.svc.AdminGetUser(context.Background(), e.pool.ID, userEmail)
	if err != nil {
		t.Fatalf("the user is gone: %v", err)
	}
	if v.User.Email != userEmail || !v.User.EmailVerified || v.User.Attributes["custom:company_name"] != "Acme Corporation" {
		t.Fatalf("user changed by a refused token: %+v", v.User)
	}
	if st, ui := e.userInfo("GET", e.issuer, narrow); st != 200 || ui["sub"] != e.sub {
		t.Fatalf("userInfo with openid email: %d %v", st, ui)
	}

	// The scope the client allows, asked for: accepted on both surfaces.
	wide := e.confTokens(b, "openid aws.cognito.signin.user.admin")["access_token"].(string)
	if _, err := cog.GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String(wide)}); err != nil {
		t.Fatalf("Cognito GetUser with the admin scope: %v", err)
	}
	if st, body, _ := e.apiCall("GET", "/api/v1/me", wide, ""); st != 200 {
		t.Fatalf("native GET /me with the admin scope: %d %v", st, body)
	}
}

// TestAdminScopeOnlyWhenAllowedAndAsked: the authorize endpoint grants
// aws.cognito.signin.user.admin only to a client that lists it in its
// OAuth scopes and only when the request asks for it (or asks for nothing,
// Cognito's "every scope of the client"); a client listing no scopes may
// never get it.
func TestAdminScopeOnlyWhenAllowedAndAsked(t *testing.T) { // security.md T6
	t.Parallel()
	e := setup(t)
	b := e.signedIn()
	authz := func(client string, kv ...string) url.Values {
		t.Helper()
		_, ch := pkce()
		q := append([]string{"client_id", client, "response_type", "code", "redirect_uri", rpCallback,
			"code_challenge", ch, "code_challenge_method", "S256"}, kv...)
		back := e.authorize(b, e.authURL(q...))
		return back.Query()
	}
	// The public client does not list the admin scope.
	if q := authz(e.pub, "scope", "openid aws.cognito.signin.user.admin"); q.Get("error") != "invalid_scope" {
		t.Fatalf("admin scope for a client without it: %v", q)
	}
	// A client listing no OAuth scopes gets the OIDC ones it asks for,
	// never the admin scope.
	cl, err := e.svc.GetClient(context.Background(), e.pool.ID, e.pub)
	if err != nil {
		t.Fatal(err)
	}
	cl.OAuthScopes = nil
	if _, err := e.svc.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	if q := authz(e.pub, "scope", "openid email"); q.Get("code") == "" {
		t.Fatalf("openid email for a client without scopes: %v", q)
	}
	if q := authz(e.pub, "scope", "openid aws.cognito.signin.user.admin"); q.Get("error") != "invalid_scope" {
		t.Fatalf("admin scope for a client listing no scopes: %v", q)
	}
}

// TestRefreshKeepsScopeOnTheWire: refreshing an "openid email" sign-in at
// the token endpoint and through Cognito's InitiateAuth
// (REFRESH_TOKEN_AUTH) issues an access token with exactly that scope
// (before, it became aws.cognito.signin.user.admin), and the token
// endpoint says so; the refreshed token is still refused by GetUser.
func TestRefreshKeepsScopeOnTheWire(t *testing.T) { // security.md T6
	t.Parallel()
	e := setup(t)
	cog := e.cognitoClient()
	b := newBrowser(t)
	code, v := e.codeFor(b, e.pub) // scope "openid email"
	st, body, _ := e.tokenReq(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
		"client_id": {e.pub}, "code_verifier": {v}}, "", "")
	if st != 200 || body["scope"] != "openid email" {
		t.Fatalf("redeem %d %v", st, body)
	}
	st, body, _ = e.tokenReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)},
		"client_id": {e.pub}}, "", "")
	if st != 200 || body["scope"] != "openid email" {
		t.Fatalf("token endpoint refresh: %d %v", st, body)
	}
	if sc := jwtClaims(t, body["access_token"].(string))["scope"]; sc != "openid email" {
		t.Fatalf("token endpoint refresh: access token scope %v", sc)
	}

	out, err := cog.InitiateAuth(context.Background(), &cip.InitiateAuthInput{ClientId: aws.String(e.pub),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": body["refresh_token"].(string)}})
	if err != nil {
		t.Fatalf("Cognito refresh: %v", err)
	}
	tok := aws.ToString(out.AuthenticationResult.AccessToken)
	if sc := jwtClaims(t, tok)["scope"]; sc != "openid email" {
		t.Fatalf("Cognito refresh: access token scope %v", sc)
	}
	_, err = cog.GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String(tok)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotAuthorizedException" || ae.ErrorMessage() != noScope {
		t.Fatalf("GetUser with a refreshed openid email token: %v", err)
	}
}
