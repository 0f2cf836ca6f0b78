// Package approval is the registration approval workflow's state machine
// and its building blocks: the transition table, the single-use link
// tokens, the job kinds and payloads, and the email template names. The
// flows that drive it (sign-up, email verification, decisions, expiry,
// reminders) live in internal/auth (registrations.go), which owns the
// store transactions; this package has no side effects.
//
// # States
//
// One request per self sign-up in a pool whose sign-up policy has
// approval. Every transition is a compare-and-set on the stored state
// (store.TransitionRegistration) and commits in one transaction with the
// jobs and emails it causes and its audit event.
//
//	from                   event            to                   effects (same transaction)
//	(none)                 sign-up          awaiting_verification user UNCONFIRMED; expiry job (RunAt=expires_at)
//	awaiting_verification  email verified   pending              per approver: approve+deny tokens, approval email;
//	                                                             reminder job (RunAt=verified+reminder)
//	awaiting_verification  email verified,  approved             user activated (CONFIRMED, company + default
//	                       auto-approve                          groups); "approved" email to the applicant
//	awaiting_verification  unknown company  no_approver          user removed (or disabled); "denied" email with
//	                       / no approver                         the reason (or, with on_no_approver=admins:
//	                                                             pending, the pool's admins are the approvers)
//	pending                approve          approved             user activated; tokens used; "approved" email
//	pending                deny             denied               user removed or disabled; tokens used; email
//	awaiting_verification  expiry job       expired              user removed or disabled; email if verified
//	pending                expiry job       expired              idem
//	pending                reminder job     pending              reminder email per approver (once each)
//	final state            anything         (unchanged)          a later click shows who decided and when
//
// Final states: approved, denied, expired, no_approver.
//
// # Links and tokens
//
// Each approver gets an approve link and a deny link, each with its own
// 256-bit random token; only SHA-256 of the token is stored, bound to the
// request, the approver's address and the action, with the request's
// expiry. Links are built from the pool's base URL (or the server's),
// never from request headers: <base>/<pool>/approval/<token>. A GET shows
// a confirmation page and changes nothing (mail scanners open links); only
// a POST carrying the page's CSRF token decides. The first decision wins
// (compare-and-set from pending); every token of the request is then
// marked used.
//
// # Durability
//
// Expiry is a job written in the sign-up transaction, the reminder one
// written when the approvers are first asked, each with RunAt at its
// deadline, so they fire after a restart even when the
// server was down at the deadline. Their handlers re-read the request
// and do nothing unless its state still allows the transition, so a job
// that runs twice is harmless. Emails are outbox emails (internal/mail):
// at least once, with a Message-ID stable across retries; each (request,
// recipient, kind) is enqueued at most once (store.RecordNotice).
package approval
