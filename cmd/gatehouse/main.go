package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{
		stdin:       os.Stdin,
		stdout:      os.Stdout,
		stderr:      os.Stderr,
		getenv:      os.Getenv,
		stopSignals: stop,
		stderrIsTerminal: func() bool {
			return term.IsTerminal(int(os.Stderr.Fd()))
		},
	}
	if err := a.run(ctx, os.Args[1:]); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee)) // the command has reported already
		}
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// exitError asks for a specific exit status (e.g. 2 when an import had
// failures) after its message was printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// app carries the process's streams, environment and global flags, so that
// tests run commands in-process with their own.
type app struct {
	stdin            io.Reader
	stdout, stderr   io.Writer
	getenv           func(string) string
	stderrIsTerminal func() bool
	// stopSignals restores default signal handling (main's NotifyContext).
	stopSignals func()

	// Global flags.
	configPath string
	dev        bool
	dataDir    string
	addr       string
	output     string
	logLevel   string

	root *cobra.Command
}

// run executes the command line args.
func (a *app) run(ctx context.Context, args []string) error {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	return root.ExecuteContext(ctx)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Self-hosted identity and sign-up service",
		Long: `Gatehouse is a self-hosted, multi-tenant identity and sign-up service.

Run "gatehouse serve --dev" to start a development server with demo data, or
see docs/cli.md for every command.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", "", "YAML configuration file (env GATEHOUSE_CONFIG)")
	pf.BoolVar(&a.dev, "dev", false, "development mode: embedded SQLite, generated master key, dev mailbox, demo data (env GATEHOUSE_DEV)")
	pf.StringVar(&a.dataDir, "data-dir", "", "data directory for SQLite and dev files (env GATEHOUSE_DATA_DIR, default ./data)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn, error (env GATEHOUSE_LOG_LEVEL)")
	a.root = root

	root.AddCommand(
		a.serveCommand(),
		a.applyCommand(),
		a.usersCommand(),
		a.groupsCommand(),
		a.clientsCommand(),
		a.poolsCommand(),
		a.keysCommand(),
		a.signingKeysCommand(),
		a.benchCommand(),
		a.versionCommand(),
		a.masterKeyCommand(),
		a.registrationsCommand(), // registrations.go
		a.companiesCommand(),     // registrations.go
		a.backupCommand(),        // backup.go
		a.restoreCommand(),       // backup.go
		a.epochCommand(),         // backup.go
		a.hooksCommand(),         // hooks.go
		a.idpCommand(),           // federation.go
		a.jobsCommand(),          // jobs.go
		a.retentionCommand(),     // maintenance.go
		a.auditCommand(),         // maintenance.go
		a.dbCommand(),            // maintenance.go
		a.devCommand(),           // dev_populate.go
	)
	return root
}

// loadConfig resolves the configuration: defaults, then the YAML file, then
// GATEHOUSE_* variables, then flags; then *_FILE secrets; then Validate. In
// dev mode the master key is loaded from (or generated into) the data dir.
func (a *app) loadConfig(cmd *cobra.Command) (Config, error) {
	cfg, err := a.partialConfig()
	if err != nil {
		return cfg, err
	}
	flags := cmd.Flags()
	if flags.Changed("dev") {
		cfg.Dev = a.dev
	}
	if flags.Changed("data-dir") {
		cfg.DataDir = a.dataDir
	}
	if flags.Changed("addr") {
		cfg.Addr = a.addr
	}
	if a.logLevel != "" {
		cfg.Log.Level = a.logLevel
	}
	if err := cfg.ResolveSecrets(); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if cfg.Dev {
		if _, err := ensureDevMasterKey(&cfg, generateMasterKey); err != nil {
			return cfg, fmt.Errorf("dev master key: %w", err)
		}
	}
	if _, err := loadMasterKey(cfg.MasterKey); err != nil {
		return cfg, fmt.Errorf("master_key: %w", err)
	}
	return cfg, nil
}

// partialConfig is defaults, file and environment, without secrets or
// validation: for commands that only need a few settings of the server's
// configuration (bench).
func (a *app) partialConfig() (Config, error) {
	cfg := DefaultConfig()
	path := a.configPath
	if path == "" {
		path = a.getenv("GATEHOUSE_CONFIG")
	}
	if path != "" {
		if err := LoadConfigFile(&cfg, path); err != nil {
			return cfg, err
		}
	}
	return cfg, ApplyEnv(&cfg, a.getenv)
}

// newLogger builds the process logger from cfg.Log.
func newLogger(w io.Writer, lc LogConfig) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(lc.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if lc.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
