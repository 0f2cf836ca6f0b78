package cluster_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-id/gatehouse/internal/cluster"
	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func randID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// node is a listening node whose events (for the test's pool only: other
// tests may share the database) arrive on a channel.
type node struct {
	id        string
	events    chan cluster.Event
	connected chan struct{}
}

func startNode(t *testing.T, dsn, pool string) *node {
	t.Helper()
	n := &node{id: "n-" + randID(), events: make(chan cluster.Event, 16), connected: make(chan struct{}, 16)}
	l := cluster.NewListener(dsn, n.id, func(ev cluster.Event) {
		if ev.Kind == cluster.KindResync || ev.PoolID == pool {
			n.events <- ev
		}
	}, quiet())
	l.MinBackoff = 10 * time.Millisecond
	l.OnConnect = func() { n.connected <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return n
}

// next waits for n's next event, bounded (a bound on a hang, not a speed
// requirement).
func (n *node) next(t *testing.T) cluster.Event {
	t.Helper()
	select {
	case ev := <-n.events:
		return ev
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no event within 30s", n.id)
		return cluster.Event{}
	}
}

func (n *node) waitConnected(t *testing.T) {
	t.Helper()
	select {
	case <-n.connected:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not listening within 30s", n.id)
	}
}

// TestPublishListen: an event published by node A reaches node B, not A
// itself; each (re)connection starts with a resync; a listener whose
// connection is killed (pg_terminate_backend) reconnects by itself and
// receives what is published afterwards.
func TestPublishListen(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pool := "eu-west-1_" + randID()

	a := startNode(t, dsn, pool)
	b := startNode(t, dsn, pool)
	for _, n := range []*node{a, b} {
		n.waitConnected(t)
		if ev := n.next(t); ev.Kind != cluster.KindResync {
			t.Fatalf("%s: first event %+v, want resync", n.id, ev)
		}
	}

	pubA := cluster.NewPublisher(db, a.id, quiet())
	if err := pubA.Publish(t.Context(), cluster.Event{Kind: cluster.KindKeys, PoolID: pool}); err != nil {
		t.Fatal(err)
	}
	ev := b.next(t)
	if ev.Kind != cluster.KindKeys || ev.PoolID != pool || ev.Node != a.id {
		t.Fatalf("B got %+v", ev)
	}
	// A's own event is not delivered to A: the next thing A sees is B's.
	pubB := cluster.NewPublisher(db, b.id, quiet())
	if err := pubB.Publish(t.Context(), cluster.Event{Kind: cluster.KindKeys, PoolID: pool}); err != nil {
		t.Fatal(err)
	}
	if ev := a.next(t); ev.Node != b.id {
		t.Fatalf("A got %+v, want B's event (its own must be skipped)", ev)
	}

	// Kill B's listening connection from the server side.
	res, err := db.ExecContext(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, "gatehouse-listen-"+b.id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("terminated %d backends, want 1", n)
	}
	b.waitConnected(t)
	if ev := b.next(t); ev.Kind != cluster.KindResync {
		t.Fatalf("after reconnecting B got %+v, want resync", ev)
	}
	if err := pubA.Publish(t.Context(), cluster.Event{Kind: cluster.KindKeys, PoolID: pool}); err != nil {
		t.Fatal(err)
	}
	if ev := b.next(t); ev.Kind != cluster.KindKeys || ev.Node != a.id {
		t.Fatalf("after reconnecting B got %+v", ev)
	}
}

// TestPublishDown: publishing to a database that cannot be reached returns
// an error (the caller's change stands; the TTL bounds the lag).
func TestPublishDown(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := cluster.NewPublisher(db, "n", quiet()).Publish(t.Context(), cluster.Event{Kind: cluster.KindKeys, PoolID: "p"}); err == nil {
		t.Fatal("Publish to a closed port succeeded")
	}
}
