// Package testenv is the one in-process test stack of Gatehouse's surface
// tests: a real store (SQLite, or PostgreSQL in a fresh schema), the real
// auth.Service, the job runner delivering mail to a real SMTP server
// (internal/mail/mailtest), and the HTTP surfaces (native API, hosted
// pages, OIDC, Cognito, forward-auth, ops) behind the real middleware on
// a loopback listener, with an injected clock. Tests only.
//
// It follows River's testBundle + setup(t): New(t, Options) builds a
// Stack (the bundle) and each package keeps a small setup(t) that asks
// for its pool, policy, companies, hooks and surfaces and names what its
// tests read. A new surface test needs a few lines:
//
//	func TestSignUpEmailsACode(t *testing.T) {
//		t.Parallel()
//		s := testenv.New(t, testenv.Options{SMTP: true,
//			Pool:    &auth.CreatePoolInput{Name: "app", UsernameMode: identity.UsernameEmail},
//			Clients: []auth.CreateClientInput{{Name: "web", AuthFlows: []string{identity.FlowUserPassword}}}})
//		r := s.Browser().Fill(s.Page("signup?client_id="+s.Client(0).ID), url.Values{
//			"email": {"ann@example.org"}, "password": {testenv.Password}})
//		if r.Status != http.StatusSeeOther || s.Mail("ann@example.org").Code() == "" {
//			t.Fatalf("sign-up: %d %s", r.Status, r.Body)
//		}
//	}
//
// The helpers read what a person would: Mail returns the next message the
// SMTP server received (Code, Link), Browser is a cookie jar that submits
// forms with their hidden fields and CSRF token (Submit, Fill),
// HostedSignIn signs a user in on the hosted page, SignIn through the
// service; Drain runs due jobs and Clock.Advance moves time.
//
// Both databases: a package whose TestMain calls Main runs its tests on
// SQLite, then again on PostgreSQL when GATEHOUSE_TEST_POSTGRES is set
// (the store suite's switch; required under CI=true or
// GATEHOUSE_TEST_ALL=1), every stack in its own schema. Options.DB or
// Options.Store pin one database for a test that needs it.
package testenv
