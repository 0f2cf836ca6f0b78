package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-id/gatehouse/internal/loadtest"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionInfo describes this build.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildTime string `json:"build_time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	Go        string `json:"go"`
	Platform  string `json:"platform"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.BuildTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pr, err := a.printer()
			if err != nil {
				return err
			}
			v := buildVersion()
			if pr.json {
				return pr.JSON(v)
			}
			s := "gatehouse " + v.Version
			if v.Commit != "" {
				s += " (" + v.Commit
				if len(v.Commit) > 12 {
					s = "gatehouse " + v.Version + " (" + v.Commit[:12]
				}
				if v.Modified {
					s += "+modified"
				}
				s += ")"
			}
			fmt.Fprintf(a.stdout, "%s %s %s\n", s, v.Go, v.Platform)
			return nil
		},
	}
}

func (a *app) masterKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "keygen",
		Aliases: []string{"master-key"},
		Short:   "Print a new random master key (for GATEHOUSE_MASTER_KEY or a master_key_file)",
		Long: `Print a new random 32-byte master key, base64-encoded. The master key
encrypts the pools' JWT signing keys at rest. Keep it secret and keep it safe:
losing it makes the stored signing keys unreadable (rotate then).

  gatehouse keygen > /etc/gatehouse/master.key && chmod 600 /etc/gatehouse/master.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, generateMasterKey())
			return nil
		},
	}
}

func (a *app) benchCommand() *cobra.Command {
	var o loadtest.Options
	var phases string
	var keyFile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a running Gatehouse on this machine (native and Cognito API)",
		Long: `Drive a running Gatehouse server on this machine through sign-up, sign-in and
refresh phases and report throughput and latency, next to the machine's raw
argon2id hash rate with the server's parameters. Only loopback targets are
accepted.

  gatehouse serve --dev &
  gatehouse bench --admin-key-file data/dev-admin-key --duration 10s

The Cognito surface (issue 17's table; admin phases need a cognito access key):

  gatehouse bench --admin-key-file data/dev-admin-key \
    --phases cognito-refresh,cognito-refresh-static,getuser,admingetuser,listusers

cognito-refresh refreshes on a client that rotates refresh tokens (the
rotation measured); cognito-refresh-static on one with rotation off.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.AdminKey == "" {
				o.AdminKey = a.getenv("GATEHOUSE_ADMIN_KEY")
			}
			if keyFile != "" {
				b, err := readTrimmed(keyFile)
				if err != nil {
					return err
				}
				o.AdminKey = b
			}
			if phases != "" {
				o.Phases = splitList(phases)
			}
			if o.AccessKeyID == "" {
				o.AccessKeyID = a.getenv("GATEHOUSE_ADMIN_ACCESS_KEY_ID")
			}
			if o.SecretAccessKey == "" {
				o.SecretAccessKey = a.getenv("GATEHOUSE_ADMIN_SECRET_ACCESS_KEY")
			}
			// The server's argon2 parameters default to what this
			// configuration (file and GATEHOUSE_* variables) says.
			cfg, err := a.partialConfig()
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if !f.Changed("argon2-memory-kib") {
				o.HashMemoryKiB = cfg.Password.MemoryKiB
			}
			if !f.Changed("argon2-time") {
				o.HashTime = cfg.Password.Time
			}
			if !f.Changed("argon2-threads") {
				o.HashThreads = cfg.Password.Threads
			}
			return loadtest.Run(cmd.Context(), o, a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.BaseURL, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	f.StringVar(&o.AdminKey, "admin-key", "", "admin API key (env GATEHOUSE_ADMIN_KEY); prefer --admin-key-file")
	f.StringVar(&keyFile, "admin-key-file", "", "file holding the admin API key, e.g. data/dev-admin-key")
	f.StringVar(&o.PoolID, "pool", "", "existing pool id to use (default: a fresh bench-* pool, deleted at the end)")
	f.DurationVar(&o.Duration, "duration", loadtest.DefaultDuration, "duration of each phase")
	f.IntVar(&o.Concurrency, "concurrency", 0, "concurrent workers (default 2 x CPUs)")
	f.IntVar(&o.Users, "users", loadtest.DefaultUsers, "users to pre-create for the sign-in and refresh phases")
	f.Uint32Var(&o.HashMemoryKiB, "argon2-memory-kib", loadtest.DefaultHashMemoryKiB, "the server's argon2id memory (KiB), to measure the raw hash rate (default: from the configuration)")
	f.Uint32Var(&o.HashTime, "argon2-time", loadtest.DefaultHashTime, "the server's argon2id iterations (default: from the configuration)")
	f.Uint8Var(&o.HashThreads, "argon2-threads", loadtest.DefaultHashThreads, "the server's argon2id threads (default: from the configuration)")
	f.StringVar(&phases, "phases", "", "comma-separated phases: signup,signin,refresh,cognito-refresh,cognito-refresh-static,getuser,admingetuser,listusers (default signup,signin,refresh)")
	f.StringVar(&o.AccessKeyID, "access-key-id", "", "Cognito access key id for admingetuser and listusers (env GATEHOUSE_ADMIN_ACCESS_KEY_ID)")
	f.StringVar(&o.SecretAccessKey, "secret-access-key", "", "its secret (env GATEHOUSE_ADMIN_SECRET_ACCESS_KEY)")
	f.StringVar(&o.SigningAlg, "signing-alg", "ES256", "signing algorithm of the fresh pool: ES256 or RS256; the report compares with its raw rates")
	return cmd
}

func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
