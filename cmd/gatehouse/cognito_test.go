package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
)

func TestCognitoConfig(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 40)
	cases := []struct {
		name string
		cc   CognitoConfig
		want string // substring of the Validate error, "" for valid
	}{
		{"none", CognitoConfig{}, ""},
		{"list", CognitoConfig{AccessKeys: []CognitoAccessKey{{ID: "AKIAEXAMPLE00001", Secret: secret}}}, ""},
		{"env pair", CognitoConfig{AccessKeyID: "AKIAEXAMPLE00001", SecretAccessKey: secret, AccountID: "123456789012"}, ""},
		{"short id", CognitoConfig{AccessKeyID: "AKIA", SecretAccessKey: secret}, "access key id must be 16"},
		{"no secret", CognitoConfig{AccessKeyID: "AKIAEXAMPLE00001"}, "GATEHOUSE_ADMIN_ACCESS_KEY_ID"},
		{"short secret", CognitoConfig{AccessKeys: []CognitoAccessKey{{ID: "AKIAEXAMPLE00001", Secret: "short"}}}, "at least 20"},
		{"twice", CognitoConfig{AccessKeys: []CognitoAccessKey{{ID: "AKIAEXAMPLE00001", Secret: secret}}, AccessKeyID: "AKIAEXAMPLE00001", SecretAccessKey: secret}, "listed twice"},
		{"account", CognitoConfig{AccountID: "12"}, "12 digits"},
	}
	for _, tc := range cases {
		cfg := DefaultConfig()
		cfg.DataDir = t.TempDir()
		cfg.MasterKey = testMasterKey
		cfg.Cognito = tc.cc
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	// Environment and secret files.
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	must(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))
	cfg := DefaultConfig()
	env := map[string]string{"GATEHOUSE_ADMIN_ACCESS_KEY_ID": "AKIAEXAMPLE00002", "GATEHOUSE_ADMIN_SECRET_ACCESS_KEY_FILE": file}
	must(t, ApplyEnv(&cfg, func(k string) string { return env[k] }))
	must(t, cfg.ResolveSecrets())
	if ks := cfg.Cognito.keys(); len(ks) != 1 || ks[0].ID != "AKIAEXAMPLE00002" || ks[0].Secret != secret {
		t.Fatalf("keys from env: %+v", ks)
	}
	cfg.Cognito.SecretAccessKey = "also set"
	if err := cfg.ResolveSecrets(); err == nil {
		t.Fatal("secret and file both set: no error")
	}
}

// TestServeCognito: the real server answers the Cognito API on POST /
// with the configured key, refuses unsigned admin calls, and keeps 404 for
// requests to / that are not Cognito calls.
func TestServeCognito(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("k", 40)
	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.MasterKey = testMasterKey
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	cfg.Cognito = CognitoConfig{AccessKeyID: "AKIAEXAMPLE00003", SecretAccessKey: secret}
	m := startNode(t, cfg)
	ctx := context.Background()
	newClient := func(creds aws.CredentialsProvider) *cip.Client {
		return cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), Credentials: creds, RetryMaxAttempts: 1})
	}
	admin := newClient(credentials.NewStaticCredentialsProvider("AKIAEXAMPLE00003", secret, ""))
	p, err := admin.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("served")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*p.UserPool.Id, "us-east-1_") {
		t.Fatalf("pool id %s", *p.UserPool.Id)
	}
	_, err = newClient(aws.AnonymousCredentials{}).ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(5)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned admin call: %v", err)
	}
	for _, r := range []httpResult{
		do(t, "POST", m.URL()+"/", "", map[string]any{}),
		do(t, "GET", m.URL()+"/", "", nil),
		do(t, "POST", m.URL()+"/other", "", map[string]any{}),
	} {
		if r.status != http.StatusNotFound {
			t.Errorf("non-Cognito request to / = %d %s", r.status, r.body)
		}
	}
}

// TestDevCognitoKey: dev mode generates one pair and reads it back.
func TestDevCognitoKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, path, err := devCognitoKey(dir)
	must(t, err)
	k2, _, err := devCognitoKey(dir)
	must(t, err)
	if k1 != k2 || !accessKeyIDPattern.MatchString(k1.ID) || len(k1.Secret) < minAccessKeySecret {
		t.Fatalf("dev keys %+v %+v", k1, k2)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", path, fi.Mode(), err)
	}
	must(t, os.WriteFile(path, []byte("garbage"), 0o600))
	if _, _, err := devCognitoKey(dir); err == nil {
		t.Fatal("garbage file accepted")
	}
}

// TestServeDevCognito: serve --dev writes dev Cognito credentials that sign
// admin calls, and the demo pool is listed.
func TestServeDevCognito(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, _ := startDev(t, dir)
	k, _, err := devCognitoKey(dir)
	must(t, err)
	client := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(m.URL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
	out, err := client.ListUserPools(context.Background(), &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UserPools) == 0 {
		t.Fatal("dev server lists no pools")
	}
}
