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
// Hosted sign-up and sign-in pages (hosted*.go, docs/hosted-pages.md);
// the second column is the same page at Cognito's bare path on the pool's
// own domain (hosted_domain.go: the Host picks the pool, else 404):
//
//	GET|POST /{pool}/signup            /signup                  sign up
//	GET  /{pool}/signup/companies      /signup/companies        company type-ahead (JSON)
//	GET|POST /{pool}/confirm           /confirmUser             the emailed code
//	POST /{pool}/confirm/resend        /confirmUser/resend      a new code
//	GET  /{pool}/pending               /pending                 waiting for approval
//	GET|POST /{pool}/login             /login                   sign in; Cognito's
//	                                                            ?response_type=&redirect_uri=
//	                                                            go on to /oauth2/authorize
//	POST /{pool}/new-password          /new-password            NEW_PASSWORD_REQUIRED
//	GET|POST /{pool}/forgot            /forgotPassword          email a reset code
//	GET|POST /{pool}/reset             /confirmForgotPassword   code + new password
//	GET  /{pool}/account               /account                 signed-in landing page
//	GET|POST /{pool}/signout           /signout                 sign out (POST)
//	GET  /{pool}/theme.css             /theme.css               the pool's theme
//	GET  /{pool}/federation/{provider}                          federated sign-in
//	POST /{pool}/federation/continue                            (federation.go; on a pool
//	                                                            domain it runs on the issuer)
//
// A page served on a bare path links, posts and redirects to bare paths
// only; the Host never goes into a link.
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
// 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
// (the hosted pages: script, style and connect 'self', the logo's origin
// for images, no form-action; hosted.go setPageCSP),
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
