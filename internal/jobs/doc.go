// Package jobs runs durable background work (email delivery, expiry,
// reminders) from the jobs table of the one Gatehouse database.
//
// # Why not River
//
// River (riverqueue/river) is the obvious library for durable jobs with
// transactional enqueue, but the module proxy available to this project only
// serves its SQLite driver at v0.31.0 while the core is at v0.51.x, and every
// River driver must share one River version. Pinning the whole queue to an old
// release for the sake of the default backend was judged worse than owning a
// small, well-tested outbox: Gatehouse needs a few hundred jobs an hour, not a
// high-throughput queue. So jobs are rows in our own jobs table, written and
// leased by the Store's EnqueueJob / ClaimJobs / CompleteJob / FailJob, which
// work the same way on SQLite and PostgreSQL (and are pinned by the store
// conformance suite).
//
// # Flow
//
//  1. A flow step calls Enqueue with the Querier of its own transaction
//     (Store.InTx), so the job commits or rolls back together with the state
//     change that caused it (transactional outbox). A job enqueued in a
//     rolled-back transaction never exists, so it never runs.
//
//  2. After the commit the caller may call Runner.Notify to wake the poller of
//     this process at once; otherwise the job is picked up within Options.Poll.
//
//  3. Runner polls: ClaimJobs atomically leases up to Batch due jobs
//     (State=running, LockedBy=worker, LockedUntil=now+Lease, Attempts++).
//     No job is leased to two workers at once, across processes.
//
//  4. The job's Handler runs with a context whose deadline is shorter than the
//     lease, so a handler that hangs is cut off before another worker may take
//     the job over.
//
//  5. The handler's result decides the outcome:
//
//     handler result               outcome
//     nil                          CompleteJob (state done)
//     Permanent(err)               FailJob without retry (state dead)
//     error, attempts left         FailJob: pending again at now+Backoff(attempt)
//     error, last attempt          FailJob without retry (state dead)
//     no handler for the kind      FailJob with retry; dead when exhausted
//     panic                        recovered; treated as a retryable error
//     (claimed after the lease of  FailJob without running it (state dead): a
//     its last attempt expired)    job that keeps killing its worker stops
//
// A job of a kind this node has no handler for is retried because a newer
// node in a rolling upgrade may know the kind.
//
// Backoff is exponential with jitter: 10s, 20s, 40s, ... capped at 1h, plus
// up to 25% random extra so that many failures do not retry in lock step.
// A job has MaxAttempts attempts (DefaultMaxAttempts, 8, unless set).
//
// # Idempotency: a job may run more than once
//
// Delivery is at least once. If a node dies (or stalls past its lease) after
// the handler did its work but before CompleteJob committed, the lease
// expires and another worker runs the job again. CompleteJob and FailJob
// only apply while the worker still holds the lease, so a late worker cannot
// overwrite a newer outcome, but it cannot undo the side effects it already
// had either. Handlers must therefore be idempotent: check the state they
// are about to change (for example, the email delivery handler does nothing
// for an email already marked sent) and make their writes compare-and-set.
//
// # Metrics
//
// Registered on the default Prometheus registry:
//
//	gatehouse_jobs_processed_total{kind,result}  result: done, retry, dead, unknown_kind
//	gatehouse_jobs_pending                       pending jobs (from CountJobs, set by the poller)
//	gatehouse_job_seconds{kind}                  handler run time
package jobs
