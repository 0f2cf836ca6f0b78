package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

var benchSeq atomic.Int64

// BenchRefreshRotation measures the refresh-token rotation transaction the
// auth service runs on every refresh: in one InTx, MarkRefreshTokenUsed on
// the presented token and InsertRefreshToken for its successor. With
// parallel, b.RunParallel drives many independent chains at once (the
// database ceiling for refreshes per second); otherwise one chain runs
// serially (the latency of one refresh).
func BenchRefreshRotation(b *testing.B, s store.Store, parallel bool) {
	ctx := context.Background()
	pool := fmt.Sprintf("eu-west-1_bench%d", benchSeq.Add(1))
	if err := s.CreatePool(ctx, &identity.Pool{ID: pool, Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	u := newUser(pool, "bench")
	if err := s.CreateUser(ctx, u, false); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	chain := func() func() error {
		fam := fmt.Sprintf("%s-fam%d", pool, benchSeq.Add(1))
		parent := fam + "-0"
		if err := s.InsertRefreshToken(ctx, &identity.RefreshToken{Hash: parent, PoolID: pool, UserSub: u.Sub,
			FamilyID: fam, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		i := 0
		return func() error {
			i++
			child := fmt.Sprintf("%s-%d", fam, i)
			err := s.InTx(ctx, func(q store.Querier) error {
				ok, err := q.MarkRefreshTokenUsed(ctx, parent, child, now)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("token %s already used", parent)
				}
				return q.InsertRefreshToken(ctx, &identity.RefreshToken{Hash: child, PoolID: pool, UserSub: u.Sub,
					FamilyID: fam, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
			})
			parent = child
			return err
		}
	}
	b.ReportAllocs()
	if !parallel {
		rotate := chain()
		b.ResetTimer()
		for b.Loop() {
			if err := rotate(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(8) // 8 x GOMAXPROCS concurrent clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rotate := chain()
		for pb.Next() {
			if err := rotate(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
