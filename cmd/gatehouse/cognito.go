package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/cognito"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
)

// CognitoConfig configures the Cognito-compatible API on POST / (see
// docs/cognito.md). Its admin operations (every Admin*, pool, client, group
// and ListUsers call) need AWS Signature Version 4 with one of these access
// key pairs; the public operations need none.
type CognitoConfig struct {
	// AccountID goes into pool ARNs (arn:aws:cognito-idp:<region>:<account>:userpool/<id>).
	// Default 000000000000.
	AccountID string `yaml:"account_id"`
	// AccessKeys lists the key pairs allowed to sign admin calls.
	AccessKeys []CognitoAccessKey `yaml:"access_keys"`
	// AccessKeyID / SecretAccessKey add one more pair, usually from
	// GATEHOUSE_ADMIN_ACCESS_KEY_ID and GATEHOUSE_ADMIN_SECRET_ACCESS_KEY
	// (or _FILE).
	AccessKeyID         string `yaml:"access_key_id"`
	SecretAccessKey     string `yaml:"secret_access_key"`
	SecretAccessKeyFile string `yaml:"secret_access_key_file"`
	// Lambdas maps Lambda function ARNs that CreateUserPool/UpdateUserPool
	// name in LambdaConfig to the webhooks that stand for them.
	Lambdas []CognitoLambda `yaml:"lambdas"`
	// DomainSuffix turns CreateUserPoolDomain's prefix domains into hosts:
	// <prefix>.<domain_suffix>. Default: base_url's host.
	DomainSuffix string `yaml:"domain_suffix"`
}

// CognitoLambda is one Lambda ARN and its webhook (URL and signing
// secret, 16 to 256 bytes, or its file).
type CognitoLambda struct {
	ARN        string `yaml:"arn"`
	URL        string `yaml:"url"`
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// CognitoAccessKey is one access key pair; the secret may come from a file.
type CognitoAccessKey struct {
	ID         string `yaml:"id"`
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

var (
	accessKeyIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
)

// minAccessKeySecret is the shortest secret accepted (AWS's are 40).
const minAccessKeySecret = 20

func init() {
	checks = append(checks, checkCognito)
	envVars = append(envVars,
		envVar{"GATEHOUSE_ADMIN_ACCESS_KEY_ID", envString(func(c *Config) *string { return &c.Cognito.AccessKeyID })},
		envVar{"GATEHOUSE_ADMIN_SECRET_ACCESS_KEY", envString(func(c *Config) *string { return &c.Cognito.SecretAccessKey })},
		envVar{"GATEHOUSE_ADMIN_SECRET_ACCESS_KEY_FILE", envString(func(c *Config) *string { return &c.Cognito.SecretAccessKeyFile })},
		envVar{"GATEHOUSE_COGNITO_ACCOUNT_ID", envString(func(c *Config) *string { return &c.Cognito.AccountID })},
	)
}

// resolveSecrets reads the secret files of the access keys (called by
// Config.ResolveSecrets). Setting both a secret and its file is an error.
func (cc *CognitoConfig) resolveSecrets() error {
	var errs []error
	read := func(name string, value *string, file string) {
		if file == "" {
			return
		}
		if *value != "" {
			errs = append(errs, fmt.Errorf("%s: set either the secret or its file, not both", name))
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_file: %w", name, err))
			return
		}
		if *value = strings.TrimSpace(string(b)); *value == "" {
			errs = append(errs, fmt.Errorf("%s_file: %s is empty", name, file))
		}
	}
	read("cognito.secret_access_key", &cc.SecretAccessKey, cc.SecretAccessKeyFile)
	for i := range cc.AccessKeys {
		read(fmt.Sprintf("cognito.access_keys[%d].secret", i), &cc.AccessKeys[i].Secret, cc.AccessKeys[i].SecretFile)
	}
	for i := range cc.Lambdas {
		read(fmt.Sprintf("cognito.lambdas[%d].secret", i), &cc.Lambdas[i].Secret, cc.Lambdas[i].SecretFile)
	}
	return errors.Join(errs...)
}

// keys returns every configured pair (the list, then the env pair).
func (cc CognitoConfig) keys() []cognito.AccessKey {
	var out []cognito.AccessKey
	for _, k := range cc.AccessKeys {
		out = append(out, cognito.AccessKey{ID: k.ID, Secret: k.Secret})
	}
	if cc.AccessKeyID != "" || cc.SecretAccessKey != "" {
		out = append(out, cognito.AccessKey{ID: cc.AccessKeyID, Secret: cc.SecretAccessKey})
	}
	return out
}

func checkCognito(c *Config) string {
	cc := c.Cognito
	if cc.AccountID != "" && !accountIDPattern.MatchString(cc.AccountID) {
		return fmt.Sprintf("cognito.account_id %q: want 12 digits", cc.AccountID)
	}
	seen := map[string]bool{}
	for i, k := range cc.keys() {
		name := fmt.Sprintf("cognito.access_keys[%d]", i)
		if i == len(cc.AccessKeys) {
			name = "cognito.access_key_id (GATEHOUSE_ADMIN_ACCESS_KEY_ID)"
		}
		if !accessKeyIDPattern.MatchString(k.ID) {
			return fmt.Sprintf("%s: the access key id must be 16 to 128 letters and digits", name)
		}
		if len(k.Secret) < minAccessKeySecret {
			return fmt.Sprintf("%s: the secret access key must be at least %d characters (set it, or its _FILE)", name, minAccessKeySecret)
		}
		if seen[k.ID] {
			return fmt.Sprintf("%s: access key id %s is listed twice", name, k.ID)
		}
		seen[k.ID] = true
	}
	if d := cc.DomainSuffix; d != "" && (strings.ContainsAny(d, "/:@ ") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".")) {
		return fmt.Sprintf("cognito.domain_suffix %q: want a host name such as auth.example.com", d)
	}
	arns := map[string]bool{}
	for i, l := range cc.Lambdas {
		name := fmt.Sprintf("cognito.lambdas[%d]", i)
		switch {
		case !strings.HasPrefix(l.ARN, "arn:"):
			return fmt.Sprintf("%s: arn %q: want a Lambda function ARN (arn:aws:lambda:...)", name, l.ARN)
		case arns[l.ARN]:
			return fmt.Sprintf("%s: arn %s is listed twice", name, l.ARN)
		case hooks.ValidateURL(l.URL) != nil:
			return fmt.Sprintf("%s: url %q: want the webhook's http(s) URL", name, l.URL)
		case len(l.Secret) < 16 || len(l.Secret) > 256:
			return fmt.Sprintf("%s: the webhook secret must be 16 to 256 bytes (set it, or its _file)", name)
		}
		arns[l.ARN] = true
	}
	return ""
}

// mountCognito serves the Cognito-compatible API on POST / (and CORS
// preflights on OPTIONS /). Other requests to / still answer 404.
// admin.allow_from applies to its signed operations too.
//
// In dev mode without any configured pair, a dev pair is generated once
// into <data_dir>/dev-cognito-credentials (AWS_ACCESS_KEY_ID=...,
// AWS_SECRET_ACCESS_KEY=... lines, ready for `set -a; . file`).
func mountCognito(mux *http.ServeMux, svc *auth.Service, cfg Config, log *slog.Logger) {
	keys := cfg.Cognito.keys()
	if cfg.Dev && len(keys) == 0 {
		k, path, err := devCognitoKey(cfg.DataDir)
		if err != nil {
			log.Warn("no dev Cognito access key: admin calls on the Cognito API are refused", "err", err)
		} else {
			keys = append(keys, k)
			log.Info("dev Cognito admin credentials (SigV4)", "file", path, "access_key_id", k.ID)
		}
	}
	opts := cognito.Options{
		AccessKeys:   keys,
		AccountID:    cfg.Cognito.AccountID,
		Log:          log,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Now:          time.Now,
		Lambdas:      map[string]cognito.LambdaTarget{},
		DomainSuffix: cfg.Cognito.DomainSuffix,
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		opts.DomainTarget = u.Hostname()
		if opts.DomainSuffix == "" {
			opts.DomainSuffix = u.Hostname()
		}
	}
	for _, l := range cfg.Cognito.Lambdas {
		opts.Lambdas[l.ARN] = cognito.LambdaTarget{URL: l.URL, Secret: l.Secret}
	}
	if len(cfg.Admin.AllowFrom) > 0 {
		allowed := ParsePrefixes(cfg.Admin.AllowFrom)
		opts.AllowAdmin = func(r *http.Request) bool {
			ip, err := netip.ParseAddr(httpserver.RemoteIP(r))
			if err != nil {
				return false
			}
			ip = ip.Unmap()
			for _, p := range allowed {
				if p.Contains(ip) {
					return true
				}
			}
			return false
		}
	}
	h := cognito.New(svc, opts)
	mux.Handle(cognito.MountPattern, h)
	mux.HandleFunc(cognito.UploadPattern, h.Upload)
}

// devCognitoFile holds dev mode's generated access key pair.
const devCognitoFile = "dev-cognito-credentials"

// devCognitoKey reads the dev access key pair from dataDir, generating it
// on first use (mode 0600).
func devCognitoKey(dataDir string) (cognito.AccessKey, string, error) {
	path := filepath.Join(dataDir, devCognitoFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		id, secret := make([]byte, 8), make([]byte, 24)
		if _, err := rand.Read(id); err != nil {
			return cognito.AccessKey{}, "", err
		}
		if _, err := rand.Read(secret); err != nil {
			return cognito.AccessKey{}, "", err
		}
		k := cognito.AccessKey{ID: "AKIADEV" + strings.ToUpper(hex.EncodeToString(id)), Secret: base64.RawURLEncoding.EncodeToString(secret)}
		data := "AWS_ACCESS_KEY_ID=" + k.ID + "\nAWS_SECRET_ACCESS_KEY=" + k.Secret + "\n"
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			return cognito.AccessKey{}, "", err
		}
		return k, path, nil
	}
	if err != nil {
		return cognito.AccessKey{}, "", err
	}
	var k cognito.AccessKey
	for _, line := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch name {
		case "AWS_ACCESS_KEY_ID":
			k.ID = value
		case "AWS_SECRET_ACCESS_KEY":
			k.Secret = value
		}
	}
	if k.ID == "" || len(k.Secret) < minAccessKeySecret {
		return cognito.AccessKey{}, "", fmt.Errorf("%s: want AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY lines", path)
	}
	return k, path, nil
}
