// Package poolcache keeps, per node, a short-lived copy of pools and app
// clients in front of a store.Store, so that the hash-free hot paths
// (refresh, GetUser, every access-token check) do not read and decode the
// pool's settings and the client's configuration on every request.
//
// Correctness with several nodes on one PostgreSQL:
//
//   - A write through this Store (UpdatePool, DeletePool, UpdateClient,
//     DeleteClient, directly or inside InTx) drops the entries on this node
//     as soon as the write has committed, and reports the change through
//     the OnChange hook; cmd/gatehouse publishes it with internal/cluster
//     (LISTEN/NOTIFY), and the other nodes call Invalidate at once.
//   - Every entry also expires after the TTL (5 s by default): the bound
//     when a notification is lost (the listener reconnecting drops every
//     entry, see cluster.KindResync) or when the change was written by a
//     process that does not notify (the CLI on the same SQLite file).
//   - A read that raced an invalidation is not cached (a generation counter),
//     so an old row read before a commit cannot outlive the commit's
//     invalidation.
//   - Not-found answers are never cached: a client created on another node
//     is found at once.
//   - Reads inside a transaction (InTx) always go to the database: writes
//     never build on a cached copy.
//   - Callers get a deep copy: they may modify it without touching the cache.
//
// Nothing a revocation depends on is cached here: users (enabled,
// tokens_valid_after), refresh tokens and revoked origins are read per
// request. A deleted app client, or a pool's changed token validity, is
// seen by every node at the next request after the notification, and at
// the latest after the TTL.
package poolcache
