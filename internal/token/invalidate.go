package token

// Cross-node invalidation. Each node caches a pool's keys for the cache
// TTL; when one node changes them (Rotate, or EnsureKey adding a key), it
// reports the change through the OnKeysChanged hook, the wiring
// (cmd/gatehouse, internal/cluster) tells the other nodes, and they call
// Invalidate, so they use the new keys at once instead of after the TTL.
// The TTL stays as the bound when a notification is lost.

// Invalidate drops the cached keys (and opened private keys) of poolID, or
// of every pool when poolID is "", so the next use reads them from the
// database. Safe for concurrent use.
func (m *Manager) Invalidate(poolID string) {
	if poolID != "" {
		m.invalidate(poolID)
		return
	}
	m.mu.Lock()
	clear(m.pools)
	clear(m.signers)
	m.mu.Unlock()
}

// OnKeysChanged registers f, called with the pool id after this Manager
// committed a change to that pool's keys (Rotate; EnsureKey when it
// inserted a key). f runs synchronously on the caller's goroutine and
// must not block for long. Call it before use; nil removes the hook.
func (m *Manager) OnKeysChanged(f func(poolID string)) {
	m.mu.Lock()
	m.changed = f
	m.mu.Unlock()
}

func (m *Manager) keysChanged(poolID string) {
	m.mu.Lock()
	f := m.changed
	m.mu.Unlock()
	if f != nil {
		f(poolID)
	}
}
