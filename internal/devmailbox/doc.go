// Package devmailbox serves the development mailbox: a page listing every
// email in the outbox, newest first, with the codes, temporary passwords
// and links of each one pulled out of its text body and shown prominently,
// so a developer can sign up and confirm without a real mail server.
//
// Routes (mounted by `gatehouse serve --dev` only; never in production,
// since the page shows every user's codes):
//
//	GET /dev/mailbox        HTML page (html/template, auto-escaped; email
//	                        HTML bodies are never rendered, only text)
//	GET /dev/mailbox.json   the same as JSON
//
// Both accept ?pool=<pool id> to show one pool, ?to=<address> to show one
// recipient and ?limit=N (default 100, at most 500).
//
// The page reads the shared outbox through auth.Service.ListEmails, so with
// several servers sharing one database it shows every node's emails.
package devmailbox
