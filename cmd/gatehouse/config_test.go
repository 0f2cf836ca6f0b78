package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 32 zero bytes, base64
	valid := func() Config {
		c := DefaultConfig()
		c.MasterKey = key
		return c
	}
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantErr string // "" = valid
	}{
		{"defaults with a master key", func(c *Config) {}, ""},
		{"dev without master key", func(c *Config) { c.MasterKey = ""; c.Dev = true }, ""},
		{"postgres url", func(c *Config) { c.DatabaseURL = "postgres://u:p@db:5432/gh?sslmode=require" }, ""},
		{"postgresql url", func(c *Config) { c.DatabaseURL = "postgresql://db/gh" }, ""},
		{"smtp complete", func(c *Config) {
			c.SMTP.Host, c.SMTP.Username, c.SMTP.Password = "smtp.example.com", "u", "p"
		}, ""},
		{"trusted proxies", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1"} }, ""},
		{"base url", func(c *Config) { c.BaseURL = "https://id.example.com/auth" }, ""},
		{"port zero", func(c *Config) { c.Addr = "127.0.0.1:0" }, ""},

		{"missing master key", func(c *Config) { c.MasterKey = "" }, "master_key: required outside dev mode"},
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, `addr "localhost": want host:port`},
		{"addr bad port", func(c *Config) { c.Addr = "localhost:http80" }, "port must be 0..65535"},
		{"mysql url", func(c *Config) { c.DatabaseURL = "mysql://u:secret@db/gh" }, "database_url: must start with postgres://"},
		{"database url password redacted", func(c *Config) { c.DatabaseURL = "mysql://u:secret@db/gh" }, "xxxxx"},
		{"dev with postgres", func(c *Config) { c.Dev = true; c.DatabaseURL = "postgres://db/gh" }, "dev: --dev uses the embedded SQLite"},
		{"no data dir for sqlite", func(c *Config) { c.DataDir = "" }, "data_dir: required"},
		{"relative base url", func(c *Config) { c.BaseURL = "id.example.com" }, "base_url"},
		{"base url with query", func(c *Config) { c.BaseURL = "https://id.example.com/?x=1" }, "must not have a query"},
		{"bad region", func(c *Config) { c.Region = "US East" }, "region"},
		{"smtp bad port", func(c *Config) { c.SMTP.Host = "smtp.example.com"; c.SMTP.Port = 70000 }, "smtp.port 70000"},
		{"smtp bad tls", func(c *Config) { c.SMTP.TLS = "ssl" }, `smtp.tls "ssl"`},
		{"smtp username without password", func(c *Config) { c.SMTP.Host = "h"; c.SMTP.Username = "u" }, "smtp.password: required"},
		{"smtp without from", func(c *Config) { c.SMTP.Host = "h"; c.SMTP.From = "" }, "smtp.from: required"},
		{"argon2 zero threads", func(c *Config) { c.Password.Threads = 0 }, "argon2_threads"},
		{"argon2 zero time", func(c *Config) { c.Password.Time = 0 }, "argon2_time"},
		{"argon2 tiny memory", func(c *Config) { c.Password.Threads = 4; c.Password.MemoryKiB = 16 }, "argon2_memory_kib 16"},
		{"argon2 huge memory", func(c *Config) { c.Password.MemoryKiB = 8 << 20 }, "4 GiB"},
		{"negative hash concurrency", func(c *Config) { c.Password.HashConcurrency = -1 }, "hash_concurrency"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `log.level "verbose"`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `log.format "xml"`},
		{"trusted proxy garbage", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/33"} }, "http.trusted_proxies"},
		{"admin allow_from garbage", func(c *Config) { c.Admin.AllowFrom = []string{"everyone"} }, "admin.allow_from"},
		{"negative timeout", func(c *Config) { c.HTTP.ReadTimeout = Duration(-time.Second) }, "timeouts must not be negative"},
		{"jobs concurrency", func(c *Config) { c.Jobs.Concurrency = 0 }, "jobs.concurrency 0"},
		{"cognito lambda", func(c *Config) {
			c.Cognito.Lambdas = []CognitoLambda{{ARN: "arn:aws:lambda:eu-west-1:123456789012:function:f", URL: "https://hooks.example.com/f", Secret: "0123456789abcdef"}}
		}, ""},
		{"cognito lambda without arn", func(c *Config) {
			c.Cognito.Lambdas = []CognitoLambda{{ARN: "f", URL: "https://hooks.example.com/f", Secret: "0123456789abcdef"}}
		}, `cognito.lambdas[0]: arn "f"`},
		{"cognito lambda bad url", func(c *Config) {
			c.Cognito.Lambdas = []CognitoLambda{{ARN: "arn:aws:lambda:x", URL: "ftp://x", Secret: "0123456789abcdef"}}
		}, `cognito.lambdas[0]: url "ftp://x"`},
		{"cognito lambda short secret", func(c *Config) {
			c.Cognito.Lambdas = []CognitoLambda{{ARN: "arn:aws:lambda:x", URL: "https://x.example", Secret: "short"}}
		}, "cognito.lambdas[0]: the webhook secret must be 16 to 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret@") {
				t.Fatalf("error leaks a password: %q", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Addr = "nope"
	c.Log.Format = "xml"
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"addr", "log.format", "master_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoadConfigFileEnvAndSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	keyFile := filepath.Join(dir, "master.key")
	pwFile := filepath.Join(dir, "smtp.pw")
	must(t, os.WriteFile(file, []byte(`
addr: 0.0.0.0:9000
data_dir: /var/lib/gatehouse
base_url: https://id.example.com
master_key_file: `+keyFile+`
smtp:
  host: smtp.example.com
  port: 465
  tls: tls
  username: mailer
  password_file: `+pwFile+`
  timeout: 45s
password:
  argon2_memory_kib: 65536
  argon2_time: 3
http:
  trusted_proxies: [10.0.0.0/8]
  shutdown_timeout: 1m
`), 0o600))
	must(t, os.WriteFile(keyFile, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600))
	must(t, os.WriteFile(pwFile, []byte("s3cret\n"), 0o600))

	c := DefaultConfig()
	must(t, LoadConfigFile(&c, file))
	env := map[string]string{
		"GATEHOUSE_ADDR":              "127.0.0.1:9100", // env beats file
		"GATEHOUSE_LOG_FORMAT":        "json",
		"GATEHOUSE_ARGON2_THREADS":    "2",
		"GATEHOUSE_TRUSTED_PROXIES":   "10.1.0.0/16, 10.2.0.0/16",
		"GATEHOUSE_JOBS_CONCURRENCY":  "8",
		"GATEHOUSE_SMTP_FROM":         "Example <id@example.com>",
		"GATEHOUSE_DATABASE_URL_FILE": "",
	}
	must(t, ApplyEnv(&c, func(k string) string { return env[k] }))
	must(t, c.ResolveSecrets())
	must(t, c.Validate())

	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", c.Addr, "127.0.0.1:9100"},
		{"data_dir", c.DataDir, "/var/lib/gatehouse"},
		{"master key from file", c.MasterKey, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"smtp password from file", c.SMTP.Password, "s3cret"},
		{"smtp port", c.SMTP.Port, 465},
		{"smtp timeout", c.SMTP.Timeout.D(), 45 * time.Second},
		{"smtp from", c.SMTP.From, "Example <id@example.com>"},
		{"argon2 memory", c.Password.MemoryKiB, uint32(65536)},
		{"argon2 threads from env", c.Password.Threads, uint8(2)},
		{"log format", c.Log.Format, "json"},
		{"trusted proxies replaced by env", strings.Join(c.HTTP.TrustedProxies, ","), "10.1.0.0/16,10.2.0.0/16"},
		{"shutdown timeout", c.HTTP.ShutdownTimeout.D(), time.Minute},
		{"jobs concurrency", c.Jobs.Concurrency, 8},
		{"sqlite path", c.SQLitePath(), "/var/lib/gatehouse/gatehouse.db"},
		{"public base url", c.PublicBaseURL(), "https://id.example.com"},
		{"is postgres", c.IsPostgres(), false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr string
	}{
		{"unknown key", "adress: 1.2.3.4:80\n", nil, "field adress not found"},
		{"bad duration", "http:\n  read_timeout: soon\n", nil, `invalid duration "soon"`},
		{"env not an int", "", map[string]string{"GATEHOUSE_SMTP_PORT": "twenty-five"}, "GATEHOUSE_SMTP_PORT"},
		{"env not a bool", "", map[string]string{"GATEHOUSE_DEV": "maybe"}, "GATEHOUSE_DEV"},
		{"env threads overflow", "", map[string]string{"GATEHOUSE_ARGON2_THREADS": "300"}, "GATEHOUSE_ARGON2_THREADS"},
		{"value and file", "master_key: abc\nmaster_key_file: /nonexistent\n", nil, "set either the value or the file"},
		{"missing secret file", "", map[string]string{"GATEHOUSE_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "smtp.password_file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, "c"+string(rune('a'+i))+".yaml")
			must(t, os.WriteFile(path, []byte(tt.yaml), 0o600))
			c := DefaultConfig()
			err := LoadConfigFile(&c, path)
			if err == nil {
				err = ApplyEnv(&c, func(k string) string { return tt.env[k] })
			}
			if err == nil {
				err = c.ResolveSecrets()
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"0d", 0, true},
		{"d", 0, false},
		{"-1d", 0, false},
		{"1w", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got.D() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got.D(), err, tt.want, tt.ok)
		}
	}
}

func TestDevMasterKeyCreatedOnceWith0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := DefaultConfig()
	c.DataDir = filepath.Join(dir, "data")
	n := 0
	gen := func() string { n++; return "KEY" + string(rune('0'+n)) }
	created, err := ensureDevMasterKey(&c, gen)
	must(t, err)
	if !created || c.MasterKey != "KEY1" {
		t.Fatalf("first start: created=%v key=%q", created, c.MasterKey)
	}
	fi, err := os.Stat(c.MasterKeyPath())
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode = %v, want 0600", fi.Mode().Perm())
	}
	c2 := DefaultConfig()
	c2.DataDir = c.DataDir
	created, err = ensureDevMasterKey(&c2, gen)
	must(t, err)
	if created || c2.MasterKey != "KEY1" {
		t.Fatalf("restart: created=%v key=%q, want the first key", created, c2.MasterKey)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
