package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store/sqlite"
)

func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.CreatePool(ctx, &identity.Pool{ID: "eu-west-1_bak", Name: "backup me", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "copy of backup.db")
	if err := sqlite.Backup(ctx, db, dest); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	// Writes after the backup are not in it.
	if err := db.CreatePool(ctx, &identity.Pool{ID: "eu-west-1_late", Name: "later"}); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Backup(ctx, db, dest); err == nil {
		t.Error("Backup over an existing file: no error")
	}
	restored, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer restored.Close()
	p, err := restored.GetPool(ctx, "eu-west-1_bak")
	if err != nil || p.Name != "backup me" {
		t.Fatalf("pool in backup: %+v, %v", p, err)
	}
	if _, err := restored.GetPool(ctx, "eu-west-1_late"); err == nil {
		t.Error("backup holds a pool created after it")
	}
	// Readers are query_only again after the backup; writes go on through
	// the writer.
	if err := db.CreatePool(ctx, &identity.Pool{ID: "eu-west-1_after", Name: "after"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ { // every reader connection
		if _, err := db.ReadDB().ExecContext(ctx, `DELETE FROM pools`); err == nil {
			t.Fatal("reader accepted a write after Backup")
		}
	}
}
