package cognito

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestExceptionFor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err     error
		status  int
		typ     string
		message string
	}{
		{identity.Errorf(identity.CodeInvalidParameter, "bad"), 400, "InvalidParameterException", "bad"},
		{identity.Errorf(identity.CodeUserDisabled, "whatever"), 400, "NotAuthorizedException", "User is disabled."},
		{identity.Errorf(identity.CodeResourceNotFound, "no pool"), 400, "ResourceNotFoundException", "no pool"},
		{identity.Errorf(identity.CodeGroupExists, "g"), 400, "GroupExistsException", "g"},
		{identity.Errorf(identity.CodeInvalidToken, "t"), 400, "NotAuthorizedException", "t"},
		{identity.Errorf(identity.CodeInsufficientScope, "Access Token does not have required scopes"), 400, "NotAuthorizedException", "Access Token does not have required scopes"},
		{identity.Errorf(identity.CodeUserLambdaValidation, "PreSignUp failed with error no."), 400, "UserLambdaValidationException", "PreSignUp failed with error no."},
		{identity.Errorf(identity.CodeUnsupported, "u"), 400, "UnsupportedOperationException", "u"},
		{identity.Errorf(identity.CodeUserNotConfirmed, "c"), 400, "UserNotConfirmedException", "c"},
		{identity.Errorf(identity.CodeApprovalPending, "waiting"), 400, "UserNotConfirmedException", "waiting"},
		{identity.Errorf(identity.CodePasswordResetRequired, "r"), 400, "PasswordResetRequiredException", "r"},
		{identity.Errorf(identity.CodeTooManyFailedAttempts, "f"), 400, "TooManyFailedAttemptsException", "f"},
		{identity.Errorf(identity.CodeInternal, "secret detail"), 500, "InternalErrorException", "An internal error occurred."},
		{identity.Errorf("brand_new_code", "x"), 500, "InternalErrorException", "An internal error occurred."},
		{errors.New("db exploded at 10.0.0.1"), 500, "InternalErrorException", "An internal error occurred."},
		{fmt.Errorf("wrapped: %w", identity.Errorf(identity.CodeAliasExists, "a")), 400, "AliasExistsException", "a"},
		{&unknownOperationError{op: "Foo"}, 400, "UnknownOperationException", "Operation Foo is not supported by Gatehouse."},
		{errUnknownKey(), 400, "UnrecognizedClientException", "The security token included in the request is invalid."},
	}
	for _, tc := range cases {
		ex := exceptionFor(tc.err)
		if ex.Status != tc.status || ex.Type != tc.typ || ex.Message != tc.message {
			t.Errorf("%v: got %+v", tc.err, ex)
		}
	}
	// Every code the domain defines maps to a named exception.
	for _, c := range []identity.Code{identity.CodeInvalidParameter, identity.CodeInvalidPassword, identity.CodeUsernameExists,
		identity.CodeAliasExists, identity.CodeUserNotFound, identity.CodeNotAuthorized, identity.CodeUserDisabled,
		identity.CodeUserNotConfirmed, identity.CodeApprovalPending, identity.CodePasswordResetRequired, identity.CodeCodeMismatch, identity.CodeExpiredCode,
		identity.CodeTooManyFailedAttempts, identity.CodeTooManyRequests, identity.CodeLimitExceeded, identity.CodeResourceNotFound,
		identity.CodeGroupExists, identity.CodeConflict, identity.CodeInvalidUserPoolConfig, identity.CodeUserLambdaValidation,
		identity.CodeCodeDeliveryFailure, identity.CodeUnsupported, identity.CodeForbidden, identity.CodeUnauthenticated,
		identity.CodeInvalidToken, identity.CodePayloadTooLarge, identity.CodeUnexpectedLambda, identity.CodeInvalidLambdaResponse,
		identity.CodeInsufficientScope} {
		if ex := exceptionFor(identity.Errorf(c, "m")); ex.Status >= 500 || !strings.HasSuffix(ex.Type, "Exception") {
			t.Errorf("%s -> %+v", c, ex)
		}
	}
}

// TestVerifySigV4AgainstSDKSigner checks the canonical request against the
// SDK's signer on paths and queries that need encoding.
func TestVerifySigV4AgainstSDKSigner(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 1, 37, 29, 0, time.UTC)
	keys := map[string]string{"AKID": "secret/with+chars"}
	for _, target := range []string{
		"http://gatehouse.test/",
		"http://gatehouse.test:8080/",
		"http://gatehouse.test/a%20b/c",
		"http://gatehouse.test/?b=2&a=1&a=0&x=%2F%20y",
		"http://gatehouse.test/some/path/?empty=",
	} {
		body := []byte(`{"x":1}`)
		req, _ := http.NewRequest("POST", target, strings.NewReader(string(body)))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ListUsers")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Add("X-Custom", "  a   b  ")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: keys["AKID"]},
			req, hex.EncodeToString(sum[:]), "cognito-idp", "ap-southeast-2", now); err != nil {
			t.Fatal(err)
		}
		sr, serr := verifySigV4(req, body, keys, now)
		if serr != nil {
			t.Errorf("%s: %v", target, serr)
			continue
		}
		if sr.Region != "ap-southeast-2" || sr.AccessKeyID != "AKID" {
			t.Errorf("%s: %+v", target, sr)
		}
		// The same request with one more byte of body fails.
		if _, serr := verifySigV4(req, append(body, ' '), keys, now); serr == nil || serr.Type != "InvalidSignatureException" {
			t.Errorf("%s: body change accepted: %v", target, serr)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	good := "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("ab", 32)
	pa, err := parseAuthorization(good)
	if err != nil || pa.keyID != "AKID" || pa.region != "us-east-1" || len(pa.signedHeaders) != 3 {
		t.Fatalf("good: %+v %v", pa, err)
	}
	for _, tc := range []struct{ h, want string }{
		{"Bearer x", "IncompleteSignatureException"},
		{"AWS4-HMAC-SHA256", "IncompleteSignatureException"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/cognito-idp/aws4_request", "IncompleteSignatureException"},
		{strings.Replace(good, "host;x-amz-date", "x-amz-date;host", 1), "IncompleteSignatureException"},
		{strings.Replace(good, "host;", "Host;", 1), "IncompleteSignatureException"},
		{strings.Replace(good, "AKID/", "AK ID!/", 1), "UnrecognizedClientException"},
		{strings.Replace(good, "Signature=ab", "Signature=zz", 1), "InvalidSignatureException"},
		{strings.Replace(good, "/aws4_request", "", 1), "IncompleteSignatureException"},
		{good + ", Extra=1", "IncompleteSignatureException"},
	} {
		if _, err := parseAuthorization(tc.h); err == nil || err.Type != tc.want {
			t.Errorf("%q: %v, want %s", tc.h, err, tc.want)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	f.Add("AWS4-HMAC-SHA256 ,,,=,")
	f.Fuzz(func(t *testing.T, h string) {
		pa, err := parseAuthorization(h)
		if (pa == nil) == (err == nil) {
			t.Fatalf("%q: %v %v", h, pa, err)
		}
	})
}

// TestAbandonedRequestIsNotAnError checks that a client hanging up while
// an operation runs is a debug line and 499, not an ERROR and a 500,
// while the same error on a live request stays an internal error.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	h := New(nil, Options{Log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	h.writeError(rec, httptest.NewRequest("POST", "/", nil).WithContext(ctx), "GetUser", fmt.Errorf("get user: %w", context.Canceled))
	if rec.Code != 499 || logged.Len() != 0 {
		t.Fatalf("abandoned: status %d, log %q", rec.Code, logged.String())
	}
	rec = httptest.NewRecorder()
	h.writeError(rec, httptest.NewRequest("POST", "/", nil), "GetUser", fmt.Errorf("get user: %w", context.Canceled))
	if rec.Code != 500 || !strings.Contains(logged.String(), "level=ERROR") {
		t.Fatalf("live request with a cancelled inner call: status %d, log %q", rec.Code, logged.String())
	}
}
