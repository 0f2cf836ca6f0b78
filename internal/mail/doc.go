// Package mail renders, stores and delivers Gatehouse's emails.
//
// # Flow
//
//  1. A flow step calls Outbox.Enqueue with its transaction's Querier: the
//     template is rendered (Templates.Render), the address validated, the
//     email inserted into the outbox table (status queued) and an
//     "email.send" job enqueued (jobs.Enqueue) in that same transaction. If
//     the transaction rolls back, neither exists.
//
//  2. After commit the caller calls Outbox.Notify to wake the job runner;
//     otherwise the runner finds the job at its next poll.
//
//  3. The runner calls DeliveryHandler, which loads the email and, unless it
//     was already sent, hands it to a Sender.
//
//  4. The outcome is written on the email and decides the job's fate:
//
//     sender result              email status   job
//     nil                        sent           done
//     temporary error (4xx, net) retrying       pending, retried with backoff
//     permanent error (5xx)      dead           dead
//     temporary, last attempt    dead           dead
//
// Delivery is at least once: if a node dies after the relay accepted the
// message but before "sent" was recorded, the job runs again and the email
// is sent twice. Its Message-ID is stable across attempts so receivers can
// drop the duplicate.
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
//	gatehouse_emails_sent_total
//	gatehouse_emails_failed_total{reason}  temporary, permanent, exhausted
//
// Package mailtest runs a real SMTP server in tests.
package mail
