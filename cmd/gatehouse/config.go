package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything the binary is configured with. It is read from a YAML
// file (--config), then environment variables (GATEHOUSE_*), then flags, in
// that order of increasing precedence. Secrets may also come from files
// (master_key_file, smtp.password_file, database_url_file or the matching
// GATEHOUSE_*_FILE variables). Config lives in cmd/ only: the packages it
// wires receive plain values, never this struct.
type Config struct {
	// Dev runs with an embedded SQLite database, a generated master key kept
	// in the data dir, mail delivered only to the dev mailbox, and demo data.
	Dev bool `yaml:"dev"`
	// Addr is the listen address (host:port).
	Addr string `yaml:"addr"`
	// DataDir holds the SQLite database and, in dev mode, master.key and
	// dev-admin-key.
	DataDir string `yaml:"data_dir"`
	// DatabaseURL: a postgres:// or postgresql:// URL selects PostgreSQL;
	// empty selects SQLite at <data_dir>/gatehouse.db.
	DatabaseURL     string `yaml:"database_url"`
	DatabaseURLFile string `yaml:"database_url_file"`
	// BaseURL is the public URL used in emailed links and token issuers.
	// Default: http://<addr>.
	BaseURL string `yaml:"base_url"`
	// Region is the default region of new pool ids.
	Region string `yaml:"region"`
	// MasterKey encrypts signing keys at rest (see `gatehouse version` docs
	// and docs/configuration.md for its format).
	MasterKey     string `yaml:"master_key"`
	MasterKeyFile string `yaml:"master_key_file"`
	// TemplatesDir optionally overrides the built-in email templates.
	TemplatesDir string `yaml:"templates_dir"`

	SMTP     SMTPConfig     `yaml:"smtp"`
	Password PasswordConfig `yaml:"password"`
	Log      LogConfig      `yaml:"log"`
	HTTP     HTTPConfig     `yaml:"http"`
	Jobs     JobsConfig     `yaml:"jobs"`
	// Retention: how often serve prunes old rows (maintenance.go).
	Retention RetentionConfig `yaml:"retention"`
	Admin     AdminConfig     `yaml:"admin"`
	// ForwardAuth configures the forward-auth endpoint (forwardauth.go).
	ForwardAuth ForwardAuthConfig `yaml:"forward_auth"`
	// Cluster tunes nodes sharing one PostgreSQL database (cluster.go).
	Cluster ClusterConfig `yaml:"cluster"`
	// Cognito configures the Cognito-compatible API on POST / (cognito.go).
	Cognito CognitoConfig `yaml:"cognito"`
	// Hooks is the webhooks' outbound network policy (hooks_config.go).
	Hooks HooksConfig `yaml:"hooks"`
}

// SMTPConfig configures outgoing mail. Without a host (and outside dev mode)
// emails stay queued in the outbox until an SMTP server is configured.
type SMTPConfig struct {
	Host         string   `yaml:"host"`
	Port         int      `yaml:"port"`
	Username     string   `yaml:"username"`
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	From         string   `yaml:"from"`
	TLS          string   `yaml:"tls"` // "starttls" (default), "tls" (implicit), "none"
	Timeout      Duration `yaml:"timeout"`
	HELO         string   `yaml:"helo"`
}

// PasswordConfig holds the argon2id cost and the hashing concurrency bound.
type PasswordConfig struct {
	MemoryKiB       uint32 `yaml:"argon2_memory_kib"`
	Time            uint32 `yaml:"argon2_time"`
	Threads         uint8  `yaml:"argon2_threads"`
	HashConcurrency int    `yaml:"hash_concurrency"`
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// HTTPConfig tunes the HTTP server.
type HTTPConfig struct {
	// TrustedProxies are CIDRs (or single IPs) whose X-Forwarded-For is
	// believed for the client IP. Never used to build links.
	TrustedProxies  []string `yaml:"trusted_proxies"`
	ReadTimeout     Duration `yaml:"read_timeout"`
	WriteTimeout    Duration `yaml:"write_timeout"`
	IdleTimeout     Duration `yaml:"idle_timeout"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes    int64    `yaml:"max_body_bytes"`
}

// JobsConfig tunes the background job runner.
type JobsConfig struct {
	Concurrency int      `yaml:"concurrency"`
	Poll        Duration `yaml:"poll"`
	Lease       Duration `yaml:"lease"`
	Batch       int      `yaml:"batch"`
}

// RetentionConfig schedules the pruning of rows past each pool's
// retention (internal/retention) inside serve.
type RetentionConfig struct {
	// Interval between runs; default 1h; 0 turns scheduled runs off
	// (run "gatehouse retention run" from cron instead).
	Interval Duration `yaml:"interval"`
}

// AdminConfig restricts where the admin API (/api/v1/pools...) may be
// called from. The admin API keys themselves live in the database (created
// with `gatehouse keys create`, shown once, stored hashed), so that every
// node sharing the database accepts the same keys and revocation is
// immediate everywhere.
type AdminConfig struct {
	// AllowFrom, when non-empty, lists the CIDRs (or single IPs) the admin
	// API accepts calls from (the client IP as computed with
	// http.trusted_proxies); others get 403 before the key is checked.
	AllowFrom []string `yaml:"allow_from"`
}

// Duration is a time.Duration that reads "90s", "15m", "1h30m" and also
// whole days, "30d".
type Duration time.Duration

// ParseDuration parses a Go duration or a number of days ("30d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (examples: 30s, 15m, 1h, 30d)", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Defaults.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultDataDir = "./data"
	DefaultRegion  = "us-east-1"
)

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:    DefaultAddr,
		DataDir: DefaultDataDir,
		Region:  DefaultRegion,
		SMTP: SMTPConfig{
			Port:    587,
			TLS:     "starttls",
			From:    "Gatehouse <no-reply@localhost>",
			Timeout: Duration(30 * time.Second),
		},
		// OWASP's argon2id minimum (19 MiB, t=2, p=1).
		Password: PasswordConfig{MemoryKiB: 19456, Time: 2, Threads: 1, HashConcurrency: 0},
		Log:      LogConfig{Level: "info", Format: "text"},
		HTTP: HTTPConfig{
			ReadTimeout:     Duration(15 * time.Second),
			WriteTimeout:    Duration(30 * time.Second),
			IdleTimeout:     Duration(120 * time.Second),
			ShutdownTimeout: Duration(20 * time.Second),
			MaxBodyBytes:    1 << 20,
		},
		Jobs:        JobsConfig{Concurrency: 4, Poll: Duration(time.Second), Lease: Duration(time.Minute), Batch: 16},
		Retention:   RetentionConfig{Interval: Duration(time.Hour)},
		ForwardAuth: ForwardAuthConfig{CacheTTL: Duration(defaultForwardAuthCacheTTL), CacheSize: defaultForwardAuthCacheSize},
		Cluster:     ClusterConfig{KeyCacheTTL: Duration(defaultKeyCacheTTL), PoolCacheTTL: Duration(defaultPoolCacheTTL)},
	}
}

// LoadConfigFile decodes a YAML file over cfg. Unknown keys are errors, so a
// typo does not silently fall back to a default.
func LoadConfigFile(cfg *Config, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// envVar describes one environment variable: its name and how it applies.
type envVar struct {
	Name  string
	Apply func(c *Config, v string) error
}

func envString(dst func(c *Config) *string) func(c *Config, v string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func envInt(name string, dst func(c *Config) *int) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not an integer", name, v)
		}
		*dst(c) = n
		return nil
	}
}

func envUint(name string, bits int, set func(c *Config, n uint64)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, bits)
		if err != nil {
			return fmt.Errorf("%s: %q is not a non-negative integer below 2^%d", name, v, bits)
		}
		set(c, n)
		return nil
	}
}

func envDuration(name string, dst func(c *Config) *Duration) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*dst(c) = d
		return nil
	}
}

func envBool(name string, dst func(c *Config) *bool) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not a boolean (true/false)", name, v)
		}
		*dst(c) = b
		return nil
	}
}

func envList(dst func(c *Config) *[]string) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		*dst(c) = splitList(v)
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// envVars lists every environment variable Gatehouse reads (documented in
// docs/configuration.md; keep the two in step).
var envVars = []envVar{
	{"GATEHOUSE_DEV", envBool("GATEHOUSE_DEV", func(c *Config) *bool { return &c.Dev })},
	{"GATEHOUSE_ADDR", envString(func(c *Config) *string { return &c.Addr })},
	{"GATEHOUSE_DATA_DIR", envString(func(c *Config) *string { return &c.DataDir })},
	{"GATEHOUSE_DATABASE_URL", envString(func(c *Config) *string { return &c.DatabaseURL })},
	{"GATEHOUSE_DATABASE_URL_FILE", envString(func(c *Config) *string { return &c.DatabaseURLFile })},
	{"GATEHOUSE_BASE_URL", envString(func(c *Config) *string { return &c.BaseURL })},
	{"GATEHOUSE_REGION", envString(func(c *Config) *string { return &c.Region })},
	{"GATEHOUSE_MASTER_KEY", envString(func(c *Config) *string { return &c.MasterKey })},
	{"GATEHOUSE_MASTER_KEY_FILE", envString(func(c *Config) *string { return &c.MasterKeyFile })},
	{"GATEHOUSE_TEMPLATES_DIR", envString(func(c *Config) *string { return &c.TemplatesDir })},
	{"GATEHOUSE_SMTP_HOST", envString(func(c *Config) *string { return &c.SMTP.Host })},
	{"GATEHOUSE_SMTP_PORT", envInt("GATEHOUSE_SMTP_PORT", func(c *Config) *int { return &c.SMTP.Port })},
	{"GATEHOUSE_SMTP_USERNAME", envString(func(c *Config) *string { return &c.SMTP.Username })},
	{"GATEHOUSE_SMTP_PASSWORD", envString(func(c *Config) *string { return &c.SMTP.Password })},
	{"GATEHOUSE_SMTP_PASSWORD_FILE", envString(func(c *Config) *string { return &c.SMTP.PasswordFile })},
	{"GATEHOUSE_SMTP_FROM", envString(func(c *Config) *string { return &c.SMTP.From })},
	{"GATEHOUSE_SMTP_TLS", envString(func(c *Config) *string { return &c.SMTP.TLS })},
	{"GATEHOUSE_RETENTION_INTERVAL", envDuration("GATEHOUSE_RETENTION_INTERVAL", func(c *Config) *Duration { return &c.Retention.Interval })},
	{"GATEHOUSE_SMTP_TIMEOUT", envDuration("GATEHOUSE_SMTP_TIMEOUT", func(c *Config) *Duration { return &c.SMTP.Timeout })},
	{"GATEHOUSE_SMTP_HELO", envString(func(c *Config) *string { return &c.SMTP.HELO })},
	{"GATEHOUSE_ARGON2_MEMORY_KIB", envUint("GATEHOUSE_ARGON2_MEMORY_KIB", 32, func(c *Config, n uint64) { c.Password.MemoryKiB = uint32(n) })},
	{"GATEHOUSE_ARGON2_TIME", envUint("GATEHOUSE_ARGON2_TIME", 32, func(c *Config, n uint64) { c.Password.Time = uint32(n) })},
	{"GATEHOUSE_ARGON2_THREADS", envUint("GATEHOUSE_ARGON2_THREADS", 8, func(c *Config, n uint64) { c.Password.Threads = uint8(n) })},
	{"GATEHOUSE_HASH_CONCURRENCY", envInt("GATEHOUSE_HASH_CONCURRENCY", func(c *Config) *int { return &c.Password.HashConcurrency })},
	{"GATEHOUSE_LOG_LEVEL", envString(func(c *Config) *string { return &c.Log.Level })},
	{"GATEHOUSE_LOG_FORMAT", envString(func(c *Config) *string { return &c.Log.Format })},
	{"GATEHOUSE_TRUSTED_PROXIES", envList(func(c *Config) *[]string { return &c.HTTP.TrustedProxies })},
	{"GATEHOUSE_SHUTDOWN_TIMEOUT", envDuration("GATEHOUSE_SHUTDOWN_TIMEOUT", func(c *Config) *Duration { return &c.HTTP.ShutdownTimeout })},
	{"GATEHOUSE_JOBS_CONCURRENCY", envInt("GATEHOUSE_JOBS_CONCURRENCY", func(c *Config) *int { return &c.Jobs.Concurrency })},
	{"GATEHOUSE_KEY_CACHE_TTL", envDuration("GATEHOUSE_KEY_CACHE_TTL", func(c *Config) *Duration { return &c.Cluster.KeyCacheTTL })},
	{"GATEHOUSE_POOL_CACHE_TTL", envDuration("GATEHOUSE_POOL_CACHE_TTL", func(c *Config) *Duration { return &c.Cluster.PoolCacheTTL })},
	{"GATEHOUSE_ADMIN_ALLOW_FROM", envList(func(c *Config) *[]string { return &c.Admin.AllowFrom })},
}

// ApplyEnv applies the GATEHOUSE_* variables that getenv returns non-empty.
func ApplyEnv(cfg *Config, getenv func(string) string) error {
	var errs []error
	for _, e := range envVars {
		if v := getenv(e.Name); v != "" {
			if err := e.Apply(cfg, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ResolveSecrets reads the *_file settings into their values. Setting both a
// value and its file is an error (which one wins would be a guess).
func (c *Config) ResolveSecrets() error {
	var errs []error
	read := func(name string, value *string, file string) {
		if file == "" {
			return
		}
		if *value != "" {
			errs = append(errs, fmt.Errorf("%s: set either the value or the file, not both", name))
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_file: %w", name, err))
			return
		}
		*value = strings.TrimSpace(string(b))
		if *value == "" {
			errs = append(errs, fmt.Errorf("%s_file: %s is empty", name, file))
		}
	}
	read("master_key", &c.MasterKey, c.MasterKeyFile)
	read("database_url", &c.DatabaseURL, c.DatabaseURLFile)
	read("smtp.password", &c.SMTP.Password, c.SMTP.PasswordFile)
	if err := c.Cognito.resolveSecrets(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether DatabaseURL selects PostgreSQL.
func (c *Config) IsPostgres() bool {
	u := strings.ToLower(c.DatabaseURL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// SQLitePath is the SQLite database file used when DatabaseURL is empty.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "gatehouse.db") }

// MasterKeyPath is where dev mode keeps its generated master key.
func (c *Config) MasterKeyPath() string { return filepath.Join(c.DataDir, "master.key") }

// PublicBaseURL is BaseURL, or http://<addr> when unset, without a trailing
// slash.
func (c *Config) PublicBaseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		return "http://" + net.JoinHostPort("localhost", port)
	}
	return "http://" + c.Addr
}

// check is one validation rule: it returns a problem, or "".
type check func(c *Config) string

// checks are the rules Validate applies, each with a message that names the
// setting and says what is expected.
var checks = []check{
	func(c *Config) string {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return fmt.Sprintf("addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr)
		}
		_ = host
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Sprintf("addr %q: port must be 0..65535", c.Addr)
		}
		return ""
	},
	func(c *Config) string {
		if c.DatabaseURL == "" && c.DataDir == "" {
			return "data_dir: required when database_url is empty (SQLite lives there)"
		}
		return ""
	},
	func(c *Config) string {
		if c.DatabaseURL != "" && !c.IsPostgres() {
			return fmt.Sprintf("database_url: must start with postgres:// or postgresql:// (got %q); leave it empty for SQLite in data_dir", redactURL(c.DatabaseURL))
		}
		return ""
	},
	func(c *Config) string {
		if c.Dev && c.IsPostgres() {
			return "dev: --dev uses the embedded SQLite database; unset database_url (GATEHOUSE_DATABASE_URL) or drop --dev"
		}
		return ""
	},
	func(c *Config) string {
		if c.BaseURL == "" {
			return ""
		}
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("base_url %q: want an absolute http(s) URL, e.g. https://id.example.com", c.BaseURL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Sprintf("base_url %q: must not have a query or fragment", c.BaseURL)
		}
		return ""
	},
	func(c *Config) string {
		if !regionRE(c.Region) {
			return fmt.Sprintf("region %q: want a region name like us-east-1 (lowercase letters, digits, dashes)", c.Region)
		}
		return ""
	},
	func(c *Config) string {
		if c.MasterKey == "" && !c.Dev {
			return "master_key: required outside dev mode; set GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE (generate one with `gatehouse keygen`), or run with --dev"
		}
		return ""
	},
	func(c *Config) string {
		if c.SMTP.Host == "" {
			return ""
		}
		if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
			return fmt.Sprintf("smtp.port %d: must be 1..65535", c.SMTP.Port)
		}
		return ""
	},
	func(c *Config) string {
		switch c.SMTP.TLS {
		case "starttls", "tls", "none":
			return ""
		}
		return fmt.Sprintf("smtp.tls %q: want starttls, tls or none", c.SMTP.TLS)
	},
	func(c *Config) string {
		if c.SMTP.Host != "" && c.SMTP.From == "" {
			return "smtp.from: required when smtp.host is set"
		}
		if c.SMTP.Username != "" && c.SMTP.Password == "" {
			return "smtp.password: required when smtp.username is set (or smtp.password_file / GATEHOUSE_SMTP_PASSWORD_FILE)"
		}
		return ""
	},
	func(c *Config) string {
		if c.SMTP.Timeout < 0 {
			return "smtp.timeout: must not be negative"
		}
		return ""
	},
	func(c *Config) string {
		if c.Retention.Interval < 0 || (c.Retention.Interval > 0 && c.Retention.Interval.D() < time.Minute) {
			return "retention.interval: 0 (off) or at least 1m"
		}
		return ""
	},
	func(c *Config) string {
		p := c.Password
		switch {
		case p.Threads < 1:
			return "password.argon2_threads: must be at least 1"
		case p.Time < 1:
			return "password.argon2_time: must be at least 1"
		case p.MemoryKiB < 8*uint32(p.Threads):
			return fmt.Sprintf("password.argon2_memory_kib %d: must be at least 8 x argon2_threads (%d)", p.MemoryKiB, 8*uint32(p.Threads))
		case p.MemoryKiB > 4<<20:
			return fmt.Sprintf("password.argon2_memory_kib %d: more than 4 GiB per hash is surely a mistake", p.MemoryKiB)
		case p.HashConcurrency < 0:
			return "password.hash_concurrency: must not be negative (0 = number of CPUs)"
		}
		return ""
	},
	func(c *Config) string {
		switch strings.ToLower(c.Log.Level) {
		case "debug", "info", "warn", "warning", "error":
			return ""
		}
		return fmt.Sprintf("log.level %q: want debug, info, warn or error", c.Log.Level)
	},
	func(c *Config) string {
		switch c.Log.Format {
		case "text", "json":
			return ""
		}
		return fmt.Sprintf("log.format %q: want text or json", c.Log.Format)
	},
	func(c *Config) string { return checkCIDRs("http.trusted_proxies", c.HTTP.TrustedProxies) },
	func(c *Config) string { return checkCIDRs("admin.allow_from", c.Admin.AllowFrom) },
	func(c *Config) string {
		h := c.HTTP
		if h.ReadTimeout < 0 || h.WriteTimeout < 0 || h.IdleTimeout < 0 || h.ShutdownTimeout < 0 {
			return "http: timeouts must not be negative"
		}
		if h.MaxBodyBytes < 0 {
			return "http.max_body_bytes: must not be negative"
		}
		return ""
	},
	func(c *Config) string {
		j := c.Jobs
		if j.Concurrency < 1 {
			return fmt.Sprintf("jobs.concurrency %d: must be at least 1", j.Concurrency)
		}
		if j.Poll < 0 || j.Lease < 0 || j.Batch < 0 {
			return "jobs: poll, lease and batch must not be negative"
		}
		return ""
	},
}

// Validate reports every problem in c at once, one per line.
func (c *Config) Validate() error {
	var errs []error
	for _, ch := range checks {
		if msg := ch(c); msg != "" {
			errs = append(errs, errors.New(msg))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
}

type joined []error

func (j joined) Error() string {
	s := make([]string, len(j))
	for i, e := range j {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n  ")
}

func (j joined) Unwrap() []error { return j }

func joinIndented(errs []error) error { return joined(errs) }

func checkCIDRs(name string, list []string) string {
	for _, s := range list {
		if _, err := netip.ParsePrefix(s); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		return fmt.Sprintf("%s: %q is neither a CIDR (10.0.0.0/8) nor an IP address", name, s)
	}
	return ""
}

// ParsePrefixes turns CIDRs and single addresses into prefixes; call after
// Validate.
func ParsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func regionRE(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// ensureDevMasterKey loads <data_dir>/master.key or, on first start,
// generates one and writes it with mode 0600. Only dev mode does this.
func ensureDevMasterKey(c *Config, generate func() string) (created bool, err error) {
	if c.MasterKey != "" {
		return false, nil
	}
	path := c.MasterKeyPath()
	b, err := os.ReadFile(path)
	if err == nil {
		c.MasterKey = strings.TrimSpace(string(b))
		if c.MasterKey == "" {
			return false, fmt.Errorf("%s is empty; delete it to generate a new key (existing signing keys become unreadable)", path)
		}
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, err
	}
	key := generate()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	c.MasterKey = key
	return true, nil
}

// randomHex is used for names that only need to be unique.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
