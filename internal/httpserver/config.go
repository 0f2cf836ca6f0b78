package httpserver

import (
	"log/slog"
	"net/netip"
	"time"
)

// Config configures a Server and the middleware chain.
// Zero durations and sizes take the defaults below.
type Config struct {
	Addr              string        // listen address, e.g. ":8080"
	ReadHeaderTimeout time.Duration // default 10s
	ReadTimeout       time.Duration // default 30s
	WriteTimeout      time.Duration // default 30s; also the request context deadline
	IdleTimeout       time.Duration // default 120s
	ShutdownTimeout   time.Duration // default 30s; used by ListenAndServe on ctx end
	MaxBodyBytes      int64         // default 1 MiB
	// BodyLimits raise the cap for the paths under a prefix (the import
	// upload of internal/cognito); every other path keeps MaxBodyBytes.
	BodyLimits []BodyLimit
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	// Empty: X-Forwarded-For is ignored and the TCP peer is the client.
	TrustedProxies []netip.Prefix
	Log            *slog.Logger // default slog.Default()
}

// BodyLimit is the body cap of the requests whose path starts with
// PathPrefix.
type BodyLimit struct {
	PathPrefix string
	Max        int64
}

// Defaults.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultMaxBodyBytes      = 1 << 20
)

// withDefaults returns cfg with zero fields filled in.
func (cfg Config) withDefaults() Config {
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return cfg
}
