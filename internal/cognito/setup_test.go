package cognito_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/testenv"
)

// tinyHash keeps argon2id cheap in tests.
var tinyHash = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	baseURL       = "https://id.example.test"
	goodPassword  = "Correct horse battery staple 42!" // Cognito's default policy: upper, lower, number, symbol
	otherPassword = "A different long passphrase 7!"
	keyID         = "AKIAGATEHOUSETEST01"
	keySecret     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	region        = "eu-west-1"
)

type env struct {
	t   testing.TB
	svc *auth.Service
	db  store.Store
	srv *httptest.Server
	// admin is a client signing with the configured key; public has no
	// credentials at all (public operations are unsigned).
	admin  *cip.Client
	public *cip.Client
	rec    *recorder
	stack  *testenv.Stack
}

// recorder keeps the first successful response body of each operation,
// for the golden files.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &captureWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(cw, r)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if _, ok := rc.bodies[op]; !ok && cw.status == 200 && op != "" {
			rc.bodies[op] = cw.buf.Bytes()
		}
	})
}

type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *captureWriter) WriteHeader(s int) { c.status = s; c.ResponseWriter.WriteHeader(s) }
func (c *captureWriter) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}

type setupOpts struct {
	now        func() time.Time // the Cognito handler's clock (SigV4)
	svcNow     func() time.Time // the service's clock; time.Now when nil
	allowAdmin func(*http.Request) bool
	hash       *password.Params // default tinyHash
	lambdas    map[string]cognito.LambdaTarget
}

// setup wires the real stack (internal/testenv: a real database, argon2id
// (small), token manager, mail outbox, the auth Service, the Cognito
// handler behind httpserver.Wrap on the mux pattern serve.go uses) and
// SDK clients pointed at it.
func setup(t testing.TB, opts ...setupOpts) *env {
	t.Helper()
	var o setupOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	hp := tinyHash
	if o.hash != nil {
		hp = *o.hash
	}
	svcNow := time.Now
	if o.svcNow != nil {
		svcNow = o.svcNow
	}
	rec := &recorder{bodies: map[string][]byte{}}
	s := testenv.New(t, testenv.Options{BaseURL: baseURL, Now: svcNow, Hash: &hp, Surfaces: testenv.Cognito, Wrap: rec.wrap,
		Cognito: cognito.Options{AccessKeys: []cognito.AccessKey{{ID: keyID, Secret: keySecret}},
			AccountID: "123456789012", Now: o.now, AllowAdmin: o.allowAdmin, Lambdas: o.lambdas,
			DomainSuffix: "auth.example.test", DomainTarget: "id.example.test"}})
	e := &env{t: t, svc: s.Svc, db: s.Store, srv: s.Server, rec: rec, stack: s}
	e.admin = e.client(credentials.NewStaticCredentialsProvider(keyID, keySecret, ""))
	e.public = e.client(aws.AnonymousCredentials{})
	return e
}

func (e *env) client(creds aws.CredentialsProvider) *cip.Client {
	return cip.New(cip.Options{
		Region:           region,
		BaseEndpoint:     aws.String(e.srv.URL),
		Credentials:      creds,
		HTTPClient:       e.srv.Client(),
		RetryMaxAttempts: 1,
	})
}

var ctx = context.Background()

// errCode is the exception name the SDK decoded ("" for nil).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

// wantErr asserts err is the exception named code.
func wantErr(t testing.TB, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("error %q (%v), want %s", got, err, code)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// newPool creates an email-as-username pool and a public client allowing
// passwords, admin passwords and refresh, through the Cognito API.
func (e *env) newPool(name string) (poolID, clientID string) {
	e.t.Helper()
	p, err := e.admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:               aws.String(name),
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{
			{Name: aws.String("email"), Required: aws.Bool(true), Mutable: aws.Bool(true), AttributeDataType: types.AttributeDataTypeString},
			{Name: aws.String("company_name"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)},
		},
	})
	if err != nil {
		e.t.Fatalf("CreateUserPool: %v", err)
	}
	c, err := e.admin.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: p.UserPool.Id, ClientName: aws.String(name + "-app"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		e.t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return *p.UserPool.Id, *c.UserPoolClient.ClientId
}

// lastCode returns the 6-digit code in the newest email to addr.
func (e *env) lastCode(poolID, addr string) string {
	e.t.Helper()
	return e.stack.With(e.t).OutboxCode(poolID, addr)
}

// signUpConfirmed signs a user up and confirms it with the emailed code.
func (e *env) signUpConfirmed(poolID, clientID, email string) string {
	e.t.Helper()
	out, err := e.public.SignUp(ctx, &cip.SignUpInput{ClientId: aws.String(clientID), Username: aws.String(email), Password: aws.String(goodPassword)})
	if err != nil {
		e.t.Fatalf("SignUp: %v", err)
	}
	if _, err := e.public.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(clientID), Username: aws.String(email),
		ConfirmationCode: aws.String(e.lastCode(poolID, email))}); err != nil {
		e.t.Fatalf("ConfirmSignUp: %v", err)
	}
	return *out.UserSub
}

// signIn returns the USER_PASSWORD_AUTH tokens.
func (e *env) signIn(clientID, user, pw string) *types.AuthenticationResultType {
	e.t.Helper()
	out, err := e.public.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": pw}})
	if err != nil {
		e.t.Fatalf("InitiateAuth: %v", err)
	}
	if out.AuthenticationResult == nil {
		e.t.Fatalf("no tokens: challenge %s", out.ChallengeName)
	}
	return out.AuthenticationResult
}

// raw posts body to the Cognito endpoint with X-Amz-Target op, unsigned.
func (e *env) raw(op, body string, hdr ...string) (int, http.Header, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// jwtPayload returns the decoded payload of a JWT (not verified).
func jwtPayload(t testing.TB, jwt string) string { t.Helper(); return testenv.Payload(t, jwt) }
