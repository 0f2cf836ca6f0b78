// Package cluster tells the other Gatehouse nodes sharing one PostgreSQL
// database that something they cache has changed, through PostgreSQL's
// LISTEN/NOTIFY.
//
// What is cached per node, and how a change reaches the other nodes:
//
//	state                         cached?                    a change on one node is seen by all
//	pool settings, app clients    no (read per request)      at once (next request)
//	users: disabled, deleted,     no (read per request; an   at once
//	  signed out, password        access token is checked
//	                              against the user's row)
//	refresh tokens, codes         no (compare-and-set rows)  at once
//	throttling, lockout counters  no (atomic row updates)    at once
//	signing keys (internal/token) yes, DefaultCacheTTL 30 s  at once through a notification;
//	                                                         at most the TTL if one is lost
//
// Flow for signing keys: token.Manager.Rotate (API, CLI or any node)
// commits, then calls its OnKeysChanged hook; the wiring (cmd/gatehouse)
// publishes Event{Kind: KindKeys, PoolID} with Publisher.Publish, which is
// `SELECT pg_notify('gatehouse_changes', <json>)`. Every serving node runs
// a Listener: one dedicated connection (outside the store's pool) that
// LISTENs on the channel and calls the handler for each event, which calls
// token.Manager.Invalidate(poolID). A node ignores its own events (it
// invalidated already).
//
// Notifications are not durable: one sent while a node's listening
// connection is down is lost. So a Listener that (re)connects delivers
// Event{Kind: KindResync} first, on which the handler drops every cache;
// while it is disconnected it retries with backoff (100 ms doubling to
// 5 s), and the cache TTL bounds staleness in the meantime. A failed
// Publish is logged, not returned to the caller: the change is committed
// and the TTL still bounds how long other nodes may lag.
//
// SQLite serves one node and needs none of this: serve wires the
// Listener only on PostgreSQL.
package cluster
