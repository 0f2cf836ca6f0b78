package token

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/store/storetest"
)

func TestCheckMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t)
	if err := e.m.CheckMasterKey(ctx); err != nil {
		t.Fatalf("right key: %v", err)
	}
	other, err := LoadMasterKey(GenerateMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := NewManager(e.st, other, e.clk.Now).CheckMasterKey(ctx); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("wrong key: err = %v; want ErrWrongMasterKey", err)
	}
	// A fresh database has nothing to open: any key passes.
	if err := NewManager(storetest.OpenSQLite(t), other, e.clk.Now).CheckMasterKey(ctx); err != nil {
		t.Fatalf("empty database: %v", err)
	}
}
