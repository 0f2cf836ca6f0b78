package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/mail"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
	"github.com/gatehouse-id/gatehouse/internal/store"
	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
	"github.com/gatehouse-id/gatehouse/internal/store/postgres"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

func generateMasterKey() string { return token.GenerateMasterKey() }

func loadMasterKey(s string) ([]byte, error) { return token.LoadMasterKey(s) }

// core is the part shared by `serve` and the administration commands: the
// store and the auth service built on it. CLI commands use the very same
// service as the server, so a user created by the CLI is one the server
// sees, with the same validation and audit.
type core struct {
	cfg   Config
	log   *slog.Logger
	store store.Store
	// cache is the store the service uses: pools and app clients cached
	// per node (cluster.go wires its invalidation across nodes).
	cache  *poolcache.Store
	hasher *password.Hasher
	tokens *token.Manager
	outbox *mail.Outbox
	svc    *auth.Service
	node   string // this process among the nodes (cluster.go)
}

// openCore opens the database and builds the service. notify (may be nil)
// is called after an email is queued, to wake the job runner.
func openCore(ctx context.Context, cfg Config, log *slog.Logger, notify func()) (*core, error) {
	key, err := loadMasterKey(cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	var st store.Store
	if cfg.IsPostgres() {
		st, err = postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres %s: %w", redactURL(cfg.DatabaseURL), err)
		}
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		st, err = sqlite.Open(ctx, cfg.SQLitePath())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", cfg.SQLitePath(), err)
		}
	}
	c := &core{cfg: cfg, log: log, store: st, node: nodeID()}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	c.hasher = password.NewHasher(password.Params{
		Memory:  cfg.Password.MemoryKiB,
		Time:    cfg.Password.Time,
		Threads: cfg.Password.Threads,
	}, cfg.Password.HashConcurrency)
	c.tokens = token.NewManager(st, key, time.Now)
	c.cache = poolcache.New(st, cfg.Cluster.PoolCacheTTL.D(), time.Now)
	c.wireCluster()
	secrets, err := secretbox.New(key) // client secrets for SECRET_HASH, SRP secret blocks
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	tpl, err := mail.NewTemplates(cfg.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	c.outbox = mail.NewOutbox(tpl, cfg.SMTP.From, notify)
	hookClient, err := cfg.Hooks.client()
	if err != nil {
		return nil, err
	}
	c.svc, err = auth.New(auth.Config{
		Hooks:   hookClient,
		Store:   c.cache,
		Hasher:  c.hasher,
		Tokens:  c.tokens,
		Mail:    c.outbox,
		BaseURL: cfg.PublicBaseURL(),
		Region:  cfg.Region,
		Now:     time.Now,
		Rand:    rand.Reader,
		Log:     log,
		Secrets: secrets,
	})
	if err != nil {
		return nil, fmt.Errorf("auth service: %w", err)
	}
	ok = true
	return c, nil
}

// Close closes the store.
func (c *core) Close() error {
	if c == nil || c.store == nil {
		return nil
	}
	err := c.store.Close()
	c.store = nil
	return err
}

// resolvePool accepts a pool id or a pool name and returns the pool. A name
// shared by several pools is an error that lists their ids.
func resolvePool(ctx context.Context, svc *auth.Service, ref string) (*identity.Pool, error) {
	if ref == "" {
		return nil, errors.New("--pool is required (a pool id or name; see `gatehouse pools list`)")
	}
	if p, err := svc.GetPool(ctx, ref); err == nil {
		return p, nil
	}
	pools, err := allPools(ctx, svc)
	if err != nil {
		return nil, err
	}
	var found []*identity.Pool
	for _, p := range pools {
		if p.Name == ref {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no pool with id or name %q", ref)
	case 1:
		return found[0], nil
	}
	ids := ""
	for _, p := range found {
		ids += " " + p.ID
	}
	return nil, fmt.Errorf("several pools are named %q; use an id:%s", ref, ids)
}

// allPools lists every pool, following pagination.
func allPools(ctx context.Context, svc *auth.Service) ([]*identity.Pool, error) {
	var out []*identity.Pool
	token := ""
	for {
		ps, next, err := svc.ListPools(ctx, 60, token)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if next == "" || next == token {
			return out, nil
		}
		token = next
	}
}
