package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesWrongMasterKey: a node started with a master key that
// does not open the stored signing keys refuses to start, instead of
// passing /readyz and failing every sign-in.
func TestServeRefusesWrongMasterKey(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	m1, _ := startDev(t, dataDir) // seeds a pool and its signing keys
	must(t, m1.Close())

	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.BaseURL = "http://127.0.0.1"
	cfg.MasterKey = generateMasterKey() // not the dev one
	cfg.Password.MemoryKiB, cfg.Password.Time = 64, 1
	must(t, cfg.Validate())
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.Run(ctx)
	_ = m.Close()
	if err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("Run with the wrong master key: err = %v; want a master key error", err)
	}
}
