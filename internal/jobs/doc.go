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
// leased by the Store's EnqueueJob / ClaimJobs / CompleteJob / FailJob (and
// changed by admins through DiscardJob / RearmJob / HastenJob), which work
// the same way on SQLite and PostgreSQL (and are pinned by the store
// conformance suite).
//
// # Flow
//
//  1. A flow step calls Enqueue (EnqueueForPool for a pool's job) with the
//     Querier of its own transaction (Store.InTx), so the job commits or
//     rolls back together with the state change that caused it
//     (transactional outbox). A job enqueued in a rolled-back transaction
//     never exists, so it never runs.
//
//  2. After the commit the caller may call Runner.Notify to wake the poller of
//     this process at once; otherwise the job is picked up within Options.Poll.
//
//  3. Runner polls: ClaimJobs atomically leases up to Batch due jobs of the
//     kinds it has handlers for (State=running, LockedBy=worker,
//     LockedUntil=now+Lease, Attempts++). No job is leased to two workers
//     at once, across processes. A kind no handler is registered for is
//     not claimed: it waits, spending no attempts, for a node that knows
//     it (a newer node in a rolling upgrade, a node with a mail server).
//
//  4. The job's Handler runs with a context whose deadline is shorter than the
//     lease, so a handler that hangs is cut off before another worker may take
//     the job over.
//
//  5. The handler's result decides the outcome, written as a
//     compare-and-set on the attempt (id, Attempts, LockedBy, running)
//     together with the job's Follower in one transaction, retried until
//     the lease ends if the database refuses.
//
// # One clock
//
// "now" in every lease and due time is the database's clock, read inside
// the statements (PostgreSQL's now(); on SQLite, whose file is shared only
// by processes of one machine, that machine's clock). A node whose own
// clock runs ahead therefore cannot take over a job whose lease another
// node still holds, and a retry is due at the same instant for every node.
// Options.Now, the node's clock, is used only for log lines.
//
// # States
//
// Every transition is a compare-and-set on the stored state; an outcome
// lands only for the attempt that is still current (Attempts is the
// attempt's number, never reused).
//
//	from     event                                  to         by
//	(none)   Enqueue                                pending    the flow's transaction
//	pending  due (RunAt <= now), kind known         running    ClaimJobs (Attempts++)
//	running  lease expired                          running    ClaimJobs (Attempts++, Lost++,
//	                                                           MaxAttempts++: the lost attempt
//	                                                           is given back)
//	running  handler nil                            done       CompleteJob + follower Succeeded
//	running  error, attempts left                   pending    FailJob, RunAt=now+Backoff;
//	                                                           follower Failed
//	running  Permanent(err), or the last attempt    dead       FailJob; follower Died
//	         failed
//	running  claimed with Lost > MaxLostLeases      dead       not run; follower Died
//	pending  admin Retry                            pending    HastenJob: due now
//	dead     admin Retry                            pending    RearmJob: due now, MaxAttempts =
//	                                                           Attempts+DefaultMaxAttempts;
//	                                                           follower Rearmed
//	pending, admin Discard                          discarded  DiscardJob; follower Discarded; a
//	running,                                                   running attempt can no longer
//	dead                                                       record its outcome
//	done,    anything                               (unchanged)
//	discarded
//
// Final states: done, discarded. Dead waits for an admin (gatehouse jobs
// retry|discard, the native API, the console) and is counted by the
// gatehouse_jobs_dead gauge, read from the table.
//
// A handler's outcome for an attempt that is no longer current (its lease
// expired and another worker took the job, or an admin discarded it) is
// dropped and counted in gatehouse_jobs_unrecorded_total{reason=
// "superseded"}.
//
// # Followers
//
// Rows a job works on follow its state in the same transaction: a package
// registers a Follower for its kind (internal/mail does for email.send:
// the email's delivery state moves with its job). Discard and Retry, the
// admin operations the CLI, the API and the console share, call it too.
//
// Backoff is exponential with jitter: 10s, 20s, 40s, ... capped at 1h, plus
// up to 25% random extra so that many failures do not retry in lock step.
// A job has MaxAttempts attempts (DefaultMaxAttempts, 8, unless set).
//
// # Idempotency: a job may run more than once
//
// Delivery is at least once. If a node dies (or stalls past its lease) after
// the handler did its work but before its outcome committed, the lease
// expires and another worker runs the job again. A late worker cannot
// overwrite a newer outcome, but it cannot undo the side effects it
// already had either. Handlers must therefore be idempotent: check the
// state they are about to change and make their writes compare-and-set
// (the email handler sends only from "sending" owned by its attempt).
//
// # Metrics
//
//	gatehouse_jobs_processed_total{kind,result}    result: done, retry, dead (this process)
//	gatehouse_jobs_unrecorded_total{kind,reason}   reason: superseded, error
//	gatehouse_job_seconds{kind}                    handler run time
//	gatehouse_jobs_pending, _running, _dead        from the table at each scrape (Collector)
package jobs
