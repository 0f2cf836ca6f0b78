// Package cluster holds the multi-process fault test of a Gatehouse
// cluster (cluster_test.go): three `gatehouse serve` processes, built from
// this tree, share one private PostgreSQL instance (initdb into a temporary
// directory, its own port on 127.0.0.1) and one test SMTP server, while a
// mixed load runs against all of them and the test SIGKILLs and restarts
// nodes and crash-restarts PostgreSQL (pg_ctl stop -m immediate). Then it
// checks the invariants the cluster must keep:
//
//   - every accepted sign-up is in the database exactly once and got its
//     code by email (at least once; duplicates are counted and reported);
//   - every confirmation the test saw accepted is applied (CONFIRMED);
//   - approval sign-ups (a company with two approvers): when both
//     approvers use their links at once on two nodes (approve and deny),
//     exactly one decision is recorded and applied, the applicant gets
//     that outcome's email only; a request left pending gets one reminder
//     per approver (one outbox row, whichever node ran the job);
//   - no refresh token is redeemed twice, even when the same token is sent
//     to two nodes at once;
//   - wrong passwords spread over the three nodes get no more password
//     checks than the pool's max_failed_attempts;
//   - every job ends done (none dead, none left running), and
//   - while PostgreSQL is down, the API answers 503 unavailable, never 500,
//     and /readyz answers 503 on every node; once it is back every node is
//     ready again by itself;
//   - afterwards, a key rotation on one node reaches the others through
//     LISTEN/NOTIFY (their key cache TTL is set to an hour), and disabling
//     a user or signing one out on one node is enforced by the others on
//     the next request.
//
// The test needs PostgreSQL's server binaries (initdb, pg_ctl under
// /usr/lib/postgresql/*/bin, or GATEHOUSE_TEST_PG_BIN); without them it
// skips, except under CI=true or GATEHOUSE_TEST_ALL=1, where it fails.
// Run as root, it runs PostgreSQL as the postgres user (runuser).
// Everything listens on loopback only; the load runs for a bounded time.
package cluster
