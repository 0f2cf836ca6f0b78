package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The Cognito surface (JSON 1.1 on POST /, operation in X-Amz-Target), as
// the AWS SDKs call it: the public operations unsigned, the admin ones
// signed with AWS Signature Version 4 (the SDK's own signer) by the access
// key pair in Options.

const (
	cognitoTargetPrefix = "AWSCognitoIdentityProviderService."
	// benchRegion is the region in the SigV4 credential scope.
	benchRegion = "us-east-1"
)

// cognito calls operation op with body in and decodes the answer into out
// (nil: discard). sign adds a SigV4 signature with the options' key pair.
func (c *apiClient) cognito(ctx context.Context, op string, sign bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", cognitoTargetPrefix+op)
	if sign {
		if c.accessKeyID == "" {
			return errors.New("loadtest: admin Cognito operations need --access-key-id and --secret-access-key")
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: c.accessKeyID, SecretAccessKey: c.secretAccessKey}
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "cognito-idp", benchRegion, time.Now()); err != nil {
			return err
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(b, &e)
		return &httpError{Status: resp.StatusCode, Code: e.Type, Body: snippet(b)}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func newSigner() *v4.Signer { return v4.NewSigner() }

type cognitoAuthResult struct {
	AuthenticationResult *struct {
		AccessToken  string `json:"AccessToken"`
		IDToken      string `json:"IdToken"`
		RefreshToken string `json:"RefreshToken"`
	} `json:"AuthenticationResult"`
}

// cognitoRefreshWorker chains InitiateAuth REFRESH_TOKEN_AUTH on a client
// that rotates refresh tokens (each answer's RefreshToken is the next
// request's input).
func cognitoRefreshWorker(ctx context.Context, c *apiClient, clientID, user, pw, token string, rec *recorder) {
	chainRefresh(ctx, c, clientID, user, pw, token, rec, func(token string) (string, error) {
		var out cognitoAuthResult
		in := map[string]any{"ClientId": clientID, "AuthFlow": "REFRESH_TOKEN_AUTH",
			"AuthParameters": map[string]string{"REFRESH_TOKEN": token}}
		if err := c.cognito(ctx, "InitiateAuth", false, in, &out); err != nil {
			return "", err
		}
		if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == "" {
			return "", errors.New("InitiateAuth answered 200 without tokens")
		}
		if out.AuthenticationResult.RefreshToken == "" {
			// This phase measures rotation; a server whose client does
			// not rotate would be measured doing less.
			return "", errors.New("InitiateAuth did not rotate the refresh token (the phase measures rotation)")
		}
		return out.AuthenticationResult.RefreshToken, nil
	})
}

// repeatWorker sends one request until the phase ends.
func repeatWorker(ctx context.Context, rec *recorder, call func() error) {
	for ctx.Err() == nil {
		_ = timed(ctx, rec, call)
	}
}

// cognitoPhase returns the work of a Cognito phase; tokens[w] is worker w's
// sign-in.
func cognitoPhase(name string, c *apiClient, pool, clientID string, users []string, pw string, tokens []*tokensResponse) func(ctx context.Context, w int, rec *recorder) {
	return func(ctx context.Context, w int, rec *recorder) {
		switch name {
		case PhaseCognitoRefresh:
			cognitoRefreshWorker(ctx, c, clientID, users[w%len(users)], pw, tokens[w].RefreshToken, rec)
		case PhaseCognitoRefreshStatic:
			in := map[string]any{"ClientId": clientID, "AuthFlow": "REFRESH_TOKEN_AUTH",
				"AuthParameters": map[string]string{"REFRESH_TOKEN": tokens[w].RefreshToken}}
			repeatWorker(ctx, rec, func() error {
				var out cognitoAuthResult
				if err := c.cognito(ctx, "InitiateAuth", false, in, &out); err != nil {
					return err
				}
				if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == "" {
					return errors.New("InitiateAuth answered 200 without tokens")
				}
				if out.AuthenticationResult.RefreshToken != "" {
					return errors.New("InitiateAuth rotated a refresh token of a client with rotation off")
				}
				return nil
			})
		case PhaseGetUser:
			in := map[string]string{"AccessToken": tokens[w].AccessToken}
			repeatWorker(ctx, rec, func() error { return c.cognito(ctx, "GetUser", false, in, nil) })
		case PhaseAdminGetUser:
			n := w
			repeatWorker(ctx, rec, func() error {
				n++
				in := map[string]string{"UserPoolId": pool, "Username": users[n%len(users)]}
				return c.cognito(ctx, "AdminGetUser", true, in, nil)
			})
		case PhaseListUsers:
			in := map[string]any{"UserPoolId": pool, "Limit": 60}
			repeatWorker(ctx, rec, func() error { return c.cognito(ctx, "ListUsers", true, in, nil) })
		}
	}
}
