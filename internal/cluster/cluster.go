package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Channel is the PostgreSQL notification channel.
const Channel = "gatehouse_changes"

// Kind says what changed.
type Kind string

const (
	// KindKeys: a pool's signing keys changed (PoolID).
	KindKeys Kind = "keys"
	// KindPool: a pool's settings changed or it was deleted (PoolID).
	KindPool Kind = "pool"
	// KindClient: an app client changed or was deleted (ClientID, PoolID).
	KindClient Kind = "client"
	// KindResync is delivered by a Listener itself after it (re)connected:
	// events may have been missed, so every cache should be dropped.
	KindResync Kind = "resync"
)

// Event is one change notification.
type Event struct {
	Kind     Kind   `json:"kind"`
	PoolID   string `json:"pool_id,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// Node is the publisher's node id (set by Publish).
	Node string `json:"node"`
}

// maxPayload is PostgreSQL's limit on a notification payload (8000 bytes),
// with room to spare.
const maxPayload = 7900

var (
	received = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_cluster_events_received_total",
		Help: "Change notifications received from other nodes, by kind.",
	}, []string{"kind"})
	published = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_cluster_events_published_total",
		Help: "Change notifications published, by result (ok, error).",
	}, []string{"result"})
	connected = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "gatehouse_cluster_listener_connected",
		Help: "1 while the node's LISTEN connection is up; while 0, cached signing keys may lag by up to their TTL.",
	})
	reconnects = promauto.NewCounter(prometheus.CounterOpts{
		Name: "gatehouse_cluster_listener_connects_total",
		Help: "Times the LISTEN connection was (re)established.",
	})
)

// Publisher sends events through the store's connection pool.
type Publisher struct {
	db   *sql.DB
	node string
	log  *slog.Logger
}

// NewPublisher returns a Publisher sending on db (a PostgreSQL pool) as
// node. log may be nil.
func NewPublisher(db *sql.DB, node string, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.Default()
	}
	return &Publisher{db: db, node: node, log: log}
}

// Publish sends ev to every listening node (ev.Node is set to the
// publisher's). It returns the database's error, if any, after logging
// it; callers whose change is already committed may ignore it, the cache
// TTL still bounds the lag.
func (p *Publisher) Publish(ctx context.Context, ev Event) error {
	ev.Node = p.node
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if len(b) > maxPayload {
		return fmt.Errorf("cluster: event too large (%d bytes)", len(b))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err = p.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, string(b))
	if err != nil {
		published.WithLabelValues("error").Inc()
		p.log.Warn("cluster: publish failed; other nodes catch up within the cache TTL", "kind", ev.Kind, "pool", ev.PoolID, "err", err)
		return fmt.Errorf("cluster: publish: %w", err)
	}
	published.WithLabelValues("ok").Inc()
	return nil
}

// Listener receives events on a dedicated connection.
type Listener struct {
	dsn    string
	node   string
	handle func(Event)
	log    *slog.Logger
	// Backoff between connection attempts.
	MinBackoff, MaxBackoff time.Duration
	// OnConnect, if set, is called after each successful LISTEN (tests).
	OnConnect func()
}

// NewListener returns a Listener for the database at dsn that calls handle
// for every event published by another node, and with KindResync after
// every (re)connection. handle runs on the Listener's goroutine, one event
// at a time; it must not block for long. log may be nil.
func NewListener(dsn, node string, handle func(Event), log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{dsn: dsn, node: node, handle: handle, log: log,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// Run listens until ctx is done, reconnecting with backoff whenever the
// connection fails, and returns ctx's error.
func (l *Listener) Run(ctx context.Context) error {
	backoff := l.MinBackoff
	for {
		err := l.listen(ctx)
		connected.Set(0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, errListened):
			backoff = l.MinBackoff // it worked until now: retry soon
			l.log.Warn("cluster: LISTEN connection lost; reconnecting (cached signing keys may lag by up to their TTL meanwhile)", "err", err)
		case backoff == l.MinBackoff:
			l.log.Warn("cluster: cannot LISTEN; retrying with backoff", "err", err)
		default:
			l.log.Debug("cluster: cannot LISTEN; retrying", "err", err, "backoff", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, l.MaxBackoff)
	}
}

// errListened wraps an error that ended a connection that had been
// listening (as opposed to one that could not connect at all).
var errListened = errors.New("listening connection ended")

func (l *Listener) listen(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(l.dsn)
	if err != nil {
		return err
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	// Named, so an operator sees it in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = "gatehouse-listen-" + l.node
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return err
	}
	connected.Set(1)
	reconnects.Inc()
	l.log.Info("cluster: listening for changes from other nodes", "channel", Channel)
	if l.OnConnect != nil {
		l.OnConnect()
	}
	// Whatever was published while we were not listening is lost.
	l.handle(Event{Kind: KindResync})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("%w: %w", errListened, err)
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil || ev.Kind == "" {
			l.log.Warn("cluster: ignoring a malformed notification", "payload_bytes", len(n.Payload))
			continue
		}
		if ev.Node == l.node {
			continue // our own: already applied locally
		}
		received.WithLabelValues(string(ev.Kind)).Inc()
		l.handle(ev)
	}
}
