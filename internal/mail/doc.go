// Package mail renders, stores and delivers Gatehouse's emails.
//
// # Flow
//
//  1. A flow step calls Outbox.Enqueue with its transaction's Querier: the
//     template is rendered (Templates.Render), the address validated, the
//     email inserted into the outbox table (status queued) and its one
//     "email.send" job enqueued (jobs.EnqueueForPool) and linked to it
//     (Email.JobID) in that same transaction. If the transaction rolls
//     back, neither exists.
//
//  2. After commit the caller calls Outbox.Notify to wake the job runner;
//     otherwise the runner finds the job at its next poll. A node without
//     a mail server registers no handler for email.send and claims no
//     such job: emails wait, queued and with no attempt spent, until a
//     node with one runs (docs/operations.md).
//
//  3. The runner calls DeliveryHandler, which moves the email to sending
//     for its attempt and hands it to a Sender; the outcome is written by
//     the job's follower in the transaction that records the job's outcome.
//
// # Delivery states
//
// One state machine; every transition is a compare-and-set
// (store.StartEmailDelivery, store.TransitionEmail) and moves with the
// email's job (jobs.Follow), so the email row and its job always agree.
// "Attempt n" is the job's attempt number (Job.Attempts), never reused: an
// outcome lands only over the attempt that moved the email to sending
// (Email.JobAttempt).
//
//	from                      event                                  to         job
//	(none)                    Outbox.Enqueue                         queued     pending
//	queued, retrying          attempt n starts, holding its lease    sending(n) running(n)
//	sending(m), m < n         attempt n took the expired lease over  sending(n) running(n)
//	sending(n)                relay accepted (attempt n)             sent       done
//	sending(n)                temporary failure, attempts left       retrying   pending
//	sending(n)                permanent failure (5xx), or last       dead       dead
//	                          attempt failed
//	queued, retrying,         the job died unrun (lost its lease     dead       dead
//	sending                   jobs.MaxLostLeases times in a row)
//	queued, retrying,         admin Discard (a send in flight is     discarded  discarded
//	sending, dead             abandoned: its SMTP connection closed)
//	discarded (was            the relay had accepted before the      sent       discarded
//	sending(n))               abandon took effect (attempt n)
//	dead                      admin Retry (one email, or all dead    queued     pending (re-armed,
//	                          emails of a pool)                                 new budget)
//	retrying                  admin Retry                            retrying   pending, due now
//	queued, sending, sent,    admin Retry                            (conflict)
//	discarded
//	sent, discarded           anything else                          (unchanged)
//
// A send happens only from sending owned by the running attempt, so two
// attempts in one process never both send, and a Retry never creates a
// second job. Across processes delivery stays at least once: if a node
// dies after the relay accepted the message but before "sent" was
// recorded (or stalls past its lease), the next attempt sends it again,
// with the same Message-ID, so receivers can drop the duplicate. A failure
// to record "sent" is retried until the lease ends (jobs.Runner).
//
// An attempt in flight re-reads its email every WatchEvery: if an admin
// discarded it, the send is abandoned; the sender closes the SMTP
// connection, so the relay never gets the end of the message.
//
// # Senders
//
// SMTPSender delivers through a relay with go-mail, STARTTLS mandatory by
// default, implicit TLS, or no TLS to a loopback relay only. DevSender
// delivers nothing: the dev mailbox page reads the outbox table.
//
// # Templates
//
// Built-in templates (templates/<name>.subject, .txt, .html, embedded) can
// be overridden per file from a directory: <dir>/<poolID>/<name>.<ext> for
// one pool, <dir>/<name>.<ext> for all. Subject and text use text/template,
// HTML uses html/template. A missing required built-in or an override that
// does not parse stops startup. Emails are short and plain: no tracking,
// no remote images, no links other than the ones passed in the data (built
// from the pool's configured base URL, never from request headers).
//
// Data keys: Code, Username, PoolName, ExpiresIn ("24 hours"),
// TemporaryPassword, SignInURL, plus any extra key the caller passes.
//
// # Metrics
//
//	gatehouse_emails_sent_total            this process
//	gatehouse_emails_failed_total{reason}  temporary, permanent, exhausted (this process)
//	gatehouse_emails{status}               queued, sending, retrying, dead: from the table
//	                                       at each scrape (Collector)
//
// Package mailtest runs a real SMTP server in tests.
package mail
