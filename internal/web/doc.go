// Package web serves Gatehouse's server-rendered pages: html/template
// pages embedded in the binary (templates/), one static stylesheet
// (static/), no JavaScript.
//
// # Routes (routes.go lists every one)
//
//	GET  /{pool}/approval/{token}   an approver's confirmation page: the
//	                                applicant's email, company, when and
//	                                from where (IP, user agent), and one
//	                                button. Changes nothing (GET and HEAD:
//	                                mail scanners open links).
//	POST /{pool}/approval/{token}   decides, after the CSRF check; shows
//	                                the result page. A request already
//	                                decided shows who decided and when.
//	GET  /-/static/{file}           the stylesheet
//
// Hosted sign-up and sign-in pages (issue 5) join this table.
//
// The admin console (console_*.go, docs/console.md) lives under
// /{pool}/console: dashboard, registrations, users, companies, groups,
// clients, policy, hooks, audit, emails. Each handler runs through
// Web.console, which requires a hosted session and asks
// auth.Service.ConsoleSignIn for the role; the service checks every
// action again under the returned actor.
//
// # Security
//
// Every page: Content-Security-Policy "default-src 'none'; style-src
// 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
// X-Frame-Options DENY, nosniff, Referrer-Policy no-referrer (link tokens
// are in the path), Cache-Control no-store.
//
// CSRF: double submit, HMAC-bound. A GET sets the cookie
// __Host-gatehouse_csrf (random, Secure, HttpOnly, SameSite=Strict,
// Path=/) and puts HMAC-SHA256(key, cookie | path) in the form. A POST
// must carry both and they must match; a request the browser marks
// Sec-Fetch-Site: cross-site is refused too. The key comes from
// Options.CSRFKey (serve derives it from the master key, so pages survive
// a restart and work across nodes).
//
// Handlers call only auth.Service. Errors map to pages in one function
// (errorPage); all user-facing strings are in strings.go.
package web
