package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/cluster"
	"github.com/gatehouse-id/gatehouse/internal/store/poolcache"
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
	// PoolCacheTTL is how long a node trusts its cached copy of a pool's
	// settings and of an app client (default 5s, internal/store/poolcache).
	// Changes made through any node (or the CLI) on PostgreSQL reach the
	// others at once through LISTEN/NOTIFY; the TTL is the bound when a
	// notification is lost, or on SQLite when the CLI changes the file
	// under a running server. 0 disables the cache.
	PoolCacheTTL Duration `yaml:"pool_cache_ttl"`
}

const (
	defaultKeyCacheTTL  = token.DefaultCacheTTL
	maxKeyCacheTTL      = 24 * time.Hour
	defaultPoolCacheTTL = poolcache.DefaultTTL
	// A revocation (a deleted client) must not wait on a lost notification
	// for long: the pool cache's bound is a minute at most.
	maxPoolCacheTTL = time.Minute
)

// The cluster checks join the others in Validate.
func init() { checks = append(checks, checkCluster) }

func checkCluster(c *Config) string {
	if d := c.Cluster.KeyCacheTTL.D(); d < 0 || d > maxKeyCacheTTL {
		return "cluster.key_cache_ttl: must be between 0s (no cache) and 24h"
	}
	if d := c.Cluster.PoolCacheTTL.D(); d < 0 || d > maxPoolCacheTTL {
		return "cluster.pool_cache_ttl: must be between 0s (no cache) and 1m"
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
	c.cache.OnChange(func(ch poolcache.Change) {
		kind := cluster.KindPool
		if ch.Kind == poolcache.KindClient {
			kind = cluster.KindClient
		}
		_ = pub.Publish(context.Background(), cluster.Event{Kind: kind, PoolID: ch.PoolID, ClientID: ch.ClientID})
	})
}

// startListener runs, on PostgreSQL, the Listener that applies the other
// nodes' changes to this node's caches, until ctx ends.
func (m *Main) startListener(ctx context.Context) {
	if !m.Config.IsPostgres() {
		return
	}
	tokens, cache := m.core.tokens, m.core.cache
	l := cluster.NewListener(m.Config.DatabaseURL, m.core.node, func(ev cluster.Event) {
		applyEvent(tokens, cache, ev)
	}, m.Log)
	go func() { _ = l.Run(ctx) }()
}

// applyEvent drops what ev says is stale.
func applyEvent(tokens *token.Manager, cache *poolcache.Store, ev cluster.Event) {
	switch ev.Kind {
	case cluster.KindKeys:
		if ev.PoolID != "" {
			tokens.Invalidate(ev.PoolID)
		}
	case cluster.KindPool:
		if ev.PoolID != "" {
			cache.Invalidate(poolcache.Change{Kind: poolcache.KindPool, PoolID: ev.PoolID})
		}
	case cluster.KindClient:
		if ev.ClientID != "" {
			cache.Invalidate(poolcache.Change{Kind: poolcache.KindClient, PoolID: ev.PoolID, ClientID: ev.ClientID})
		}
	case cluster.KindResync:
		tokens.Invalidate("")
		cache.Invalidate(poolcache.Change{})
	}
}
