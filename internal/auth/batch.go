package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Batches: several service calls in one transaction, for `gatehouse apply`
// (a file either applies whole or changes nothing, and its dry run runs the
// very same calls, then rolls them back).

// ErrRolledBack is what Batch returns for a dry run that went through:
// every call succeeded and nothing was kept.
var ErrRolledBack = errors.New("auth: batch rolled back (dry run)")

// txStore is a store.Store over one open transaction: InTx runs its
// function in that transaction (no transaction of its own), reads see the
// batch's own writes.
type txStore struct {
	store.Querier
	backend string
}

func (t txStore) InTx(_ context.Context, fn func(q store.Querier) error) error { return fn(t.Querier) }
func (t txStore) Ping(context.Context) error                                   { return nil }
func (t txStore) Backend() string                                              { return t.backend }
func (t txStore) Close() error                                                 { return nil }

// batch is the state of a batch a Service runs in.
type batch struct {
	// afterCommit runs once the batch committed, in order: the work that
	// cannot join the transaction (a new pool's signing keys, which the
	// key manager writes through its own store); outer is the Service
	// Batch was called on, whose store is usable again.
	afterCommit []func(ctx context.Context, outer *Service) error
}

// Batch runs fn with a Service whose every change — and every read — goes
// through one transaction: committed when fn returns nil, rolled back when
// it returns an error. With dryRun, the transaction is rolled back even
// when fn succeeds, and Batch returns ErrRolledBack: a dry run makes the
// same checks as the real run, and keeps nothing.
//
// fn may run more than once (PostgreSQL retries a transaction that lost a
// serialization race), so it must not have effects outside the Service it
// is given, or must reset them at its start. A call that fails inside fn
// fails the batch: fn returns its error. Work that cannot be done in the
// transaction (a new pool's signing keys) runs after the commit; if it
// fails, the pools it was for are deleted, as CreatePool does.
func (s *Service) Batch(ctx context.Context, dryRun bool, fn func(svc *Service) error) error {
	var b *batch
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		b = &batch{}
		cfg := s.cfg
		cfg.Store = txStore{Querier: q, backend: s.cfg.Store.Backend()}
		child := &Service{cfg: cfg, batch: b}
		child.codePurge.what, child.codePurge.every = s.codePurge.what, s.codePurge.every
		child.originPurge.what, child.originPurge.every = s.originPurge.what, s.originPurge.every
		child.refreshPurge.what, child.refreshPurge.every = s.refreshPurge.what, s.refreshPurge.every
		if err := fn(child); err != nil {
			return err
		}
		if dryRun {
			return ErrRolledBack
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range b.afterCommit {
		if err := f(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("after the batch committed: %w", errors.Join(errs...))
	}
	return nil
}
