package cognito_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// signed builds a request for op signed by the AWS SDK's own SigV4 signer
// at time at; tamper may change the request after signing.
func (e *env) signed(op, body, id, secret, service string, at time.Time, tamper func(*http.Request)) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		e.t.Fatal(err)
	}
	if tamper != nil {
		tamper(req)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, res.Header, b.String()
}

type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func decodeErr(t *testing.T, status int, hdr http.Header, body string) awsError {
	t.Helper()
	var ae awsError
	if err := json.Unmarshal([]byte(body), &ae); err != nil {
		t.Fatalf("%d %s: %v", status, body, err)
	}
	if status != 400 || hdr.Get("x-amzn-ErrorType") != ae.Type || hdr.Get("Content-Type") != "application/x-amz-json-1.1" || ae.Message == "" {
		t.Fatalf("bad error response %d %v %s", status, hdr, body)
	}
	return ae
}

func TestSigV4(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 1, 37, 29, 0, time.UTC)
	e := setup(t, setupOpts{now: func() time.Time { return now }})
	body := `{"PoolName":"signed"}`

	// The real signer's signature is accepted, also 4 minutes off.
	for _, at := range []time.Time{now, now.Add(-4 * time.Minute), now.Add(4 * time.Minute)} {
		if st, _, b := e.signed("CreateUserPool", body, keyID, keySecret, "cognito-idp", at, nil); st != 200 {
			t.Fatalf("signed at %v: %d %s", at, st, b)
		}
	}

	cases := []struct {
		name, op, body, id, secret, service string
		at                                  time.Time
		tamper                              func(*http.Request)
		want                                string
	}{
		{"unsigned", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) { r.Header.Del("Authorization") }, "MissingAuthenticationTokenException"},
		{"wrong secret", "CreateUserPool", body, keyID, keySecret + "x", "cognito-idp", now, nil, "InvalidSignatureException"},
		{"unknown key", "CreateUserPool", body, "AKIAUNKNOWN", keySecret, "cognito-idp", now, nil, "UnrecognizedClientException"},
		{"skewed past", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now.Add(-6 * time.Minute), nil, "InvalidSignatureException"},
		{"skewed future", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now.Add(6 * time.Minute), nil, "InvalidSignatureException"},
		{"wrong service", "CreateUserPool", body, keyID, keySecret, "s3", now, nil, "IncompleteSignatureException"},
		{"tampered body", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			nb := `{"PoolName":"evil!!"}` // same length
			r.Body = io.NopCloser(strings.NewReader(nb))
		}, "InvalidSignatureException"},
		{"content hash mismatch", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}, "InvalidSignatureException"},
		{"operation swapped", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.DeleteUserPool")
		}, "InvalidSignatureException"},
		{"date changed", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Add(time.Second).Format("20060102T150405Z"))
		}, "InvalidSignatureException"},
		{"target not signed", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", strings.Replace(a, ";x-amz-target", "", 1))
		}, "IncompleteSignatureException"},
		{"other algorithm", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			r.Header.Set("Authorization", "AWS3 foo")
		}, "IncompleteSignatureException"},
		{"malformed credential", "CreateUserPool", body, keyID, keySecret, "cognito-idp", now, func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=00")
		}, "IncompleteSignatureException"},
	}
	for _, tc := range cases {
		st, hdr, b := e.signed(tc.op, tc.body, tc.id, tc.secret, tc.service, tc.at, tc.tamper)
		if ae := decodeErr(t, st, hdr, b); ae.Type != tc.want {
			t.Errorf("%s: %s %q, want %s", tc.name, ae.Type, ae.Message, tc.want)
		}
	}
	if _, _, b := e.signed("CreateUserPool", body, keyID, keySecret, "cognito-idp", now.Add(-6*time.Minute), nil); !strings.Contains(b, "Signature expired") {
		t.Errorf("skew message: %s", b)
	}
	// Validation happens after authentication: a signed bad request.
	st, hdr, b := e.signed("CreateUserPool", `{}`, keyID, keySecret, "cognito-idp", now, nil)
	if ae := decodeErr(t, st, hdr, b); ae.Type != "InvalidParameterException" {
		t.Errorf("no PoolName: %s", b)
	}
}

// TestSigV4SDK: the SDK client without credentials cannot call admin
// operations; with the wrong secret it gets InvalidSignatureException;
// public operations need no credentials.
func TestSigV4SDK(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, err := e.public.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
	wantErr(t, err, "MissingAuthenticationTokenException")
	wrong := e.client(credentials.NewStaticCredentialsProvider(keyID, "not-the-secret", ""))
	_, err = wrong.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
	wantErr(t, err, "InvalidSignatureException")
	unknown := e.client(credentials.NewStaticCredentialsProvider("AKIANOBODY", keySecret, ""))
	_, err = unknown.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String("x"), Username: aws.String("y")})
	wantErr(t, err, "UnrecognizedClientException")
	// A signed client may call public operations too (the SDK does not sign them).
	_, clientID := e.newPool("sdk")
	_, err = e.admin.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String("x@example.com"), Password: aws.String(goodPassword)})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProtocol: routing, content types, unknown operations, CORS, request ids.
func TestProtocol(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if st, _, _ := e.raw("", `{}`); st != 404 {
		t.Fatalf("no X-Amz-Target: %d", st)
	}
	for _, m := range []string{"GET", "PUT", "DELETE", "OPTIONS"} {
		req, _ := http.NewRequest(m, e.srv.URL+"/", nil)
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.SignUp")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("%s / = %d, want 404", m, res.StatusCode)
		}
	}
	st, hdr, b := e.raw("CreateManagedLoginBranding", `{}`)
	ae := decodeErr(t, st, hdr, b)
	if ae.Type != "UnknownOperationException" || !strings.Contains(ae.Message, "CreateManagedLoginBranding is not supported by Gatehouse") {
		t.Fatalf("unknown op: %s", b)
	}
	if hdr.Get("x-amzn-RequestId") == "" {
		t.Fatal("no x-amzn-RequestId")
	}
	st, hdr, b = e.raw("", `{}`, "X-Amz-Target", "SomethingElse.SignUp")
	if decodeErr(t, st, hdr, b).Type != "UnknownOperationException" {
		t.Fatalf("foreign target: %s", b)
	}
	// Not JSON, or a member of the wrong type: SerializationException,
	// as AWS's JSON protocol answers (messages: TestSerializationException).
	st, hdr, b = e.raw("SignUp", `{"ClientId": 5`)
	if ae := decodeErr(t, st, hdr, b); ae.Type != "SerializationException" {
		t.Fatalf("bad JSON: %s", b)
	}
	st, hdr, b = e.raw("SignUp", `{"ClientId": 5}`)
	if ae := decodeErr(t, st, hdr, b); ae.Type != "SerializationException" || !strings.Contains(ae.Message, "can not be converted to an String") {
		t.Fatalf("wrong type: %s", b)
	}
	st, hdr, b = e.raw("SignUp", `{}`, "Content-Type", "text/plain")
	if ae := decodeErr(t, st, hdr, b); ae.Type != "InvalidParameterException" {
		t.Fatalf("text/plain: %s", b)
	}
	st, hdr, b = e.raw("SignUp", `{"ClientId":"nope","Username":"a@example.com","Password":"x"}`, "Content-Type", "application/json")
	if ae := decodeErr(t, st, hdr, b); ae.Type != "ResourceNotFoundException" {
		t.Fatalf("application/json: %s", b)
	}
	// Bodies over the cap: 413 (from the server's middleware or the handler).
	st, _, b = e.raw("SignUp", `{"ClientId":"`+strings.Repeat("a", 2<<20)+`"}`)
	if st != 413 {
		t.Fatalf("huge body: %d %.200s", st, b)
	}
	// CORS preflight, as browsers send before Amplify's calls.
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "x-amz-target") {
		t.Fatalf("preflight %d %v", res.StatusCode, res.Header)
	}
}

// TestAllowAdmin: with admin.allow_from refusing the caller, signed
// operations answer AccessDeniedException before the signature is checked;
// public ones still work.
func TestAllowAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t, setupOpts{allowAdmin: func(*http.Request) bool { return false }})
	_, err := e.admin.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
	wantErr(t, err, "AccessDeniedException")
	_, err = e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String("nope"), Username: aws.String("x@example.com"), Password: aws.String(goodPassword)})
	wantErr(t, err, "ResourceNotFoundException")
}
