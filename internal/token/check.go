package token

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// ErrWrongMasterKey: the stored signing keys were sealed under another
// master key.
var ErrWrongMasterKey = errors.New("token: the master key does not open the stored signing keys (wrong or rotated master key?)")

// CheckMasterKey opens the active signing key of the first pool (by id) that
// has one, so a node started with the wrong master key refuses to start
// instead of answering every sign-in with an internal error. A database
// without pools or keys passes.
func (m *Manager) CheckMasterKey(ctx context.Context) error {
	token := ""
	for {
		pools, next, err := m.st.ListPools(ctx, store.Page{Limit: 100, Token: token})
		if err != nil {
			return fmt.Errorf("token: check master key: %w", err)
		}
		for _, p := range pools {
			ks, err := m.load(ctx, m.st, p.ID, m.clock())
			if err != nil {
				return fmt.Errorf("token: check master key: %w", err)
			}
			if k := firstInState(ks, identity.KeyActive); k != nil {
				if _, err := m.privateKey(k); err != nil {
					return fmt.Errorf("%w: pool %s key %s: %v", ErrWrongMasterKey, p.ID, k.rec.KID, err)
				}
				return nil
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}
