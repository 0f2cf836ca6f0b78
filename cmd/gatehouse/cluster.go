package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/cluster"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-id/gatehouse/internal/token"
)

// ClusterConfig tunes what several nodes sharing one PostgreSQL database
// do to stay in step (internal/cluster).
type ClusterConfig struct {
	// KeyCacheTTL is how long a node trusts its cached copy of a pool's
	// signing keys (default 30s). Changes made on another node arrive at
	// once through LISTEN/NOTIFY on PostgreSQL; the TTL is the bound when
	// a notification is lost. 0 disables the cache (every sign and verify
	// reads the keys).
	KeyCacheTTL Duration `yaml:"key_cache_ttl"`
}

const (
	defaultKeyCacheTTL = token.DefaultCacheTTL
	maxKeyCacheTTL     = 24 * time.Hour
)

// The cluster checks join the others in Validate.
func init() { checks = append(checks, checkCluster) }

func checkCluster(c *Config) string {
	if d := c.Cluster.KeyCacheTTL.D(); d < 0 || d > maxKeyCacheTTL {
		return "cluster.key_cache_ttl: must be between 0s (no cache) and 24h"
	}
	return ""
}

// nodeID names this process among the nodes sharing the database: in
// change notifications and, for the listener, in pg_stat_activity.
func nodeID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(3))
}

// wireCluster sets the key cache TTL and, on PostgreSQL, makes every change
// of signing keys made through this process (server or CLI) a notification
// to the other nodes.
func (c *core) wireCluster() {
	c.tokens.SetCacheTTL(c.cfg.Cluster.KeyCacheTTL.D())
	db, ok := c.store.(*sqlstore.DB)
	if !ok || c.store.Backend() != "postgres" {
		return
	}
	pub := cluster.NewPublisher(db.WriteDB(), c.node, c.log)
	c.tokens.OnKeysChanged(func(poolID string) {
		_ = pub.Publish(context.Background(), cluster.Event{Kind: cluster.KindKeys, PoolID: poolID})
	})
}

// startListener runs, on PostgreSQL, the Listener that applies the other
// nodes' changes to this node's caches, until ctx ends.
func (m *Main) startListener(ctx context.Context) {
	if !m.Config.IsPostgres() {
		return
	}
	tokens := m.core.tokens
	l := cluster.NewListener(m.Config.DatabaseURL, m.core.node, func(ev cluster.Event) {
		applyEvent(tokens, ev)
	}, m.Log)
	go func() { _ = l.Run(ctx) }()
}

// applyEvent drops what ev says is stale.
func applyEvent(tokens *token.Manager, ev cluster.Event) {
	switch ev.Kind {
	case cluster.KindKeys:
		if ev.PoolID != "" {
			tokens.Invalidate(ev.PoolID)
		}
	case cluster.KindResync:
		tokens.Invalidate("")
	}
}
