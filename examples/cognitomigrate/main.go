// Command cognitomigrate is a user_migration hook (docs/migration.md) that
// moves users lazily from a Cognito user pool — AWS's, or any
// Cognito-compatible endpoint such as another Gatehouse — into a Gatehouse
// pool, with the AWS SDK for Go:
//
//   - UserMigration_Authentication: the user's name and password are tried
//     on the old pool with InitiateAuth USER_PASSWORD_AUTH; if they sign
//     in, GetUser with the access token they got reads their attributes,
//     which the hook answers with finalUserStatus CONFIRMED. A wrong
//     password, an unknown user or any other refusal is answered 400, so
//     Gatehouse answers "Exception migrating user in app client ...".
//   - UserMigration_ForgotPassword: with admin credentials
//     (OLD_ACCESS_KEY_ID, OLD_SECRET_ACCESS_KEY) AdminGetUser reads the
//     user, answered RESET_REQUIRED; without them it is refused.
//
// Each delivery's Standard Webhooks signature is verified first.
//
//	HOOK_SECRET=... OLD_ENDPOINT=https://cognito-idp.eu-west-1.amazonaws.com \
//	OLD_REGION=eu-west-1 OLD_POOL_ID=eu-west-1_abc OLD_CLIENT_ID=... \
//	cognitomigrate -addr 127.0.0.1:9001
//
// The old app client must allow ALLOW_USER_PASSWORD_AUTH (SRP cannot hand
// the password on) and must have no secret, or set OLD_CLIENT_SECRET.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
)

// Old is the pool users come from.
type Old struct {
	Client       *cip.Client // unsigned calls (InitiateAuth, GetUser)
	Admin        *cip.Client // signed calls (AdminGetUser); nil: none
	PoolID       string
	ClientID     string
	ClientSecret string // "" for a public client
}

// Migrator answers user_migration deliveries.
type Migrator struct {
	Secret string
	Old    Old
	// Now is the clock for signature checks (time.Now when nil).
	Now func() time.Time
}

// event is the part of Cognito's migrate-user event the hook reads.
type event struct {
	TriggerSource string `json:"triggerSource"`
	UserName      string `json:"userName"`
	Request       struct {
		Password string `json:"password"`
	} `json:"request"`
}

type response struct {
	UserAttributes  map[string]string `json:"userAttributes"`
	FinalUserStatus string            `json:"finalUserStatus"`
	MessageAction   string            `json:"messageAction"`
}

func (m *Migrator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := hooks.VerifySignature(m.Secret, r.Header, body, now, 0); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var raw map[string]any
	var ev event
	if json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &ev) != nil {
		reject(w, "bad event")
		return
	}
	resp, err := m.migrate(r.Context(), ev)
	if err != nil {
		reject(w, err.Error())
		return
	}
	raw["response"] = resp
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(raw)
}

// reject answers as a failing Lambda does.
func reject(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": "Error", "errorMessage": msg})
}

var errUnknown = errors.New("bad username or password")

func (m *Migrator) migrate(ctx context.Context, ev event) (*response, error) {
	switch ev.TriggerSource {
	case hooks.SourceUserMigrationAuthentication:
		params := map[string]string{"USERNAME": ev.UserName, "PASSWORD": ev.Request.Password}
		if m.Old.ClientSecret != "" {
			params["SECRET_HASH"] = secretHash(ev.UserName, m.Old.ClientID, m.Old.ClientSecret)
		}
		out, err := m.Old.Client.InitiateAuth(ctx, &cip.InitiateAuthInput{
			AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(m.Old.ClientID), AuthParameters: params})
		if err != nil || out.AuthenticationResult == nil {
			// A challenge (new password, MFA) is not a finished sign-in.
			return nil, errUnknown
		}
		u, err := m.Old.Client.GetUser(ctx, &cip.GetUserInput{AccessToken: out.AuthenticationResult.AccessToken})
		if err != nil {
			return nil, errUnknown
		}
		return &response{UserAttributes: attrs(u.UserAttributes), FinalUserStatus: "CONFIRMED", MessageAction: "SUPPRESS"}, nil
	case hooks.SourceUserMigrationForgotPassword:
		if m.Old.Admin == nil {
			return nil, errors.New("password reset of users not yet migrated is not available")
		}
		u, err := m.Old.Admin.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(m.Old.PoolID), Username: aws.String(ev.UserName)})
		if err != nil || !u.Enabled {
			return nil, errUnknown
		}
		return &response{UserAttributes: attrs(u.UserAttributes), FinalUserStatus: "RESET_REQUIRED", MessageAction: "SUPPRESS"}, nil
	}
	return nil, errors.New("not a user migration event")
}

// attrs keeps the attributes the new pool should receive: everything but
// sub (the new pool gives its own) and, as with any sign-up, what the new
// pool's policy decides (Gatehouse refuses what it does not know).
func attrs(in []types.AttributeType) map[string]string {
	out := map[string]string{}
	for _, a := range in {
		name := aws.ToString(a.Name)
		if name == "sub" {
			continue
		}
		out[name] = aws.ToString(a.Value)
	}
	return out
}

// secretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username+clientID)).
func secretHash(username, clientID, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// NewOld builds the SDK clients for endpoint (a Cognito-compatible base
// URL) in region; keyID and secret sign the admin calls ("" for none).
func NewOld(endpoint, region, poolID, clientID, clientSecret, keyID, secret string, hc *http.Client) Old {
	mk := func(creds aws.CredentialsProvider) *cip.Client {
		return cip.New(cip.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds, HTTPClient: hc})
	}
	o := Old{Client: mk(aws.AnonymousCredentials{}), PoolID: poolID, ClientID: clientID, ClientSecret: clientSecret}
	if keyID != "" {
		o.Admin = mk(credentials.NewStaticCredentialsProvider(keyID, secret, ""))
	}
	return o
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()
	m := &Migrator{Secret: os.Getenv("HOOK_SECRET"), Old: NewOld(os.Getenv("OLD_ENDPOINT"), os.Getenv("OLD_REGION"),
		os.Getenv("OLD_POOL_ID"), os.Getenv("OLD_CLIENT_ID"), os.Getenv("OLD_CLIENT_SECRET"),
		os.Getenv("OLD_ACCESS_KEY_ID"), os.Getenv("OLD_SECRET_ACCESS_KEY"), http.DefaultClient)}
	if m.Secret == "" || m.Old.ClientID == "" {
		log.Fatal("HOOK_SECRET and OLD_CLIENT_ID are required")
	}
	srv := &http.Server{Addr: *addr, Handler: m, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("user_migration hook on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
