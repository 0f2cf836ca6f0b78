package web

import "net/http"

// route is one entry of the pages' route table.
type route struct {
	pattern string
	h       http.HandlerFunc
}

// routes lists every route of the pages (see doc.go). GET patterns also
// answer HEAD.
func (w *Web) routes() []route {
	return []route{
		{"GET /{pool}/approval/{token}", w.approvalShow},
		{"POST /{pool}/approval/{token}", w.approvalDecide},
		{"GET /-/static/{file}", w.static},
		{"GET /{pool}/saml/{id}/metadata", w.samlMetadata},
		{"POST /{pool}/saml/{id}/acs", w.samlACS},
		{"POST /{pool}/saml/{id}/acs/continue", w.samlContinue},

		// Hosted sign-up and sign-in (hosted_*.go, docs/hosted-pages.md).
		{"GET /{pool}/signup", w.signupShow},
		{"POST /{pool}/signup", w.signupPost},
		{"GET /{pool}/signup/companies", w.companyNames},
		{"GET /{pool}/confirm", w.confirmShow},
		{"POST /{pool}/confirm", w.confirmPost},
		{"POST /{pool}/confirm/resend", w.confirmResend},
		{"GET /{pool}/pending", w.pendingShow},
		{"GET /{pool}/login", w.loginShow},
		{"POST /{pool}/login", w.loginPost},
		{"POST /{pool}/new-password", w.newPasswordPost},
		{"POST /{pool}/mfa", w.mfaPost},
		{"GET /{pool}/forgot", w.forgotShow},
		{"POST /{pool}/forgot", w.forgotPost},
		{"GET /{pool}/reset", w.resetShow},
		{"POST /{pool}/reset", w.resetPost},
		{"GET /{pool}/account", w.accountShow},
		{"GET /{pool}/signout", w.signoutShow},
		{"POST /{pool}/signout", w.signoutPost},
		{"GET /{pool}/theme.css", w.themeCSS},
		{"POST /{pool}/passkey/options", w.passkeyOptions},
		{"POST /{pool}/passkey", w.passkeySignIn},
		{"POST /{pool}/account/passkeys/options", w.accountPasskeyOptions},
		{"POST /{pool}/account/passkeys", w.accountPasskeyAdd},
		{"POST /{pool}/account/passkeys/delete", w.accountPasskeyDelete},

		// The same pages at Cognito's bare paths on a pool's own domain;
		// the Host picks the pool, else 404 (hosted_domain.go).
		{"GET /login", w.onDomain(w.loginShow)},
		{"POST /login", w.onDomain(w.loginPost)},
		{"GET /signup", w.onDomain(w.signupShow)},
		{"POST /signup", w.onDomain(w.signupPost)},
		{"GET /signup/companies", w.onDomain(w.companyNames)},
		{"GET /confirmUser", w.onDomain(w.confirmShow)},
		{"POST /confirmUser", w.onDomain(w.confirmPost)},
		{"POST /confirmUser/resend", w.onDomain(w.confirmResend)},
		{"GET /pending", w.onDomain(w.pendingShow)},
		{"POST /new-password", w.onDomain(w.newPasswordPost)},
		{"POST /mfa", w.onDomain(w.mfaPost)},
		{"GET /forgotPassword", w.onDomain(w.forgotShow)},
		{"POST /forgotPassword", w.onDomain(w.forgotPost)},
		{"GET /confirmForgotPassword", w.onDomain(w.resetShow)},
		{"POST /confirmForgotPassword", w.onDomain(w.resetPost)},
		{"GET /account", w.onDomain(w.accountShow)},
		{"GET /signout", w.onDomain(w.signoutShow)},
		{"POST /signout", w.onDomain(w.signoutPost)},
		{"GET /theme.css", w.onDomain(w.themeCSS)},
		{"POST /passkey/options", w.onDomain(w.passkeyOptions)},
		{"POST /passkey", w.onDomain(w.passkeySignIn)},
		{"POST /account/passkeys/options", w.onDomain(w.accountPasskeyOptions)},
		{"POST /account/passkeys", w.onDomain(w.accountPasskeyAdd)},
		{"POST /account/passkeys/delete", w.onDomain(w.accountPasskeyDelete)},

		// Federated sign-in (federation.go, docs/federation.md); the
		// callback /{pool}/oauth2/idpresponse is mounted by internal/oidc.
		{"GET /{pool}/federation/{provider}", w.federationStart},
		{"POST /{pool}/federation/continue", w.federationContinue},

		// Admin console (console_*.go, docs/console.md).
		{"GET /{pool}/console", w.console(false, w.consoleDashboard)},
		{"GET /{pool}/console/registrations", w.console(false, w.consoleRegistrations)},
		{"POST /{pool}/console/registrations", w.console(false, w.consoleDecideMany)},
		{"GET /{pool}/console/registrations/{id}", w.console(false, w.consoleRegistration)},
		{"POST /{pool}/console/registrations/{id}", w.console(false, w.consoleDecide)},
		{"GET /{pool}/console/users", w.console(true, w.consoleUsers)},
		{"POST /{pool}/console/users", w.console(true, w.consoleUserCreate)},
		{"GET /{pool}/console/users/{username}", w.console(false, w.consoleUser)},
		{"POST /{pool}/console/users/{username}", w.console(false, w.consoleUserAction)},
		{"GET /{pool}/console/users/{username}/delete", w.console(false, w.consoleUserDeleteShow)},
		{"POST /{pool}/console/users/{username}/delete", w.console(false, w.consoleUserDelete)},
		{"POST /{pool}/console/users/{username}/company", w.console(true, w.consoleUserCompany)},
		{"POST /{pool}/console/users/{username}/passkeys/delete", w.console(true, w.consoleUserPasskeyDelete)},
		{"GET /{pool}/console/companies", w.console(false, w.consoleCompanies)},
		{"POST /{pool}/console/companies", w.console(true, w.consoleCompanyCreate)},
		{"GET /{pool}/console/companies/{name}", w.console(false, w.consoleCompany)},
		{"POST /{pool}/console/companies/{name}", w.console(false, w.consoleCompanyUpdate)},
		{"POST /{pool}/console/companies/{name}/sso", w.console(false, w.consoleCompanySSO)},
		{"POST /{pool}/console/companies/{name}/sso/delete", w.console(false, w.consoleCompanySSODelete)},
		{"POST /{pool}/console/companies/{name}/scim-token", w.console(false, w.consoleCompanySCIMToken)},
		{"GET /{pool}/console/groups", w.console(true, w.consoleGroups)},
		{"POST /{pool}/console/groups", w.console(true, w.consoleGroupCreate)},
		{"GET /{pool}/console/groups/{name}", w.console(true, w.consoleGroup)},
		{"POST /{pool}/console/groups/{name}", w.console(true, w.consoleGroupMember)},
		{"GET /{pool}/console/clients", w.console(true, w.consoleClients)},
		{"POST /{pool}/console/clients", w.console(true, w.consoleClientCreate)},
		{"GET /{pool}/console/clients/{id}", w.console(true, w.consoleClient)},
		{"POST /{pool}/console/clients/{id}", w.console(true, w.consoleClientUpdate)},
		{"GET /{pool}/console/clients/{id}/secret", w.console(true, w.consoleClientSecretShow)},
		{"POST /{pool}/console/clients/{id}/secret", w.console(true, w.consoleClientSecret)},
		{"POST /{pool}/console/signing", w.console(true, w.consoleSigningAlg)},
		{"GET /{pool}/console/mfa", w.console(true, w.consoleMFA)},
		{"POST /{pool}/console/mfa", w.console(true, w.consoleMFASave)},
		{"POST /{pool}/console/companies/{name}/mfa", w.console(false, w.consoleCompanyMFA)},
		{"GET /{pool}/console/policy", w.console(true, w.consolePolicy)},
		{"POST /{pool}/console/policy", w.console(true, w.consolePolicySave)},
		{"GET /{pool}/console/hooks", w.console(true, w.consoleHooks)},
		{"POST /{pool}/console/hooks/{trigger}/test", w.console(true, w.consoleHookTest)},
		{"GET /{pool}/console/audit", w.console(true, w.consoleAudit)},
		{"GET /{pool}/console/emails", w.console(true, w.consoleEmails)},
		{"POST /{pool}/console/emails/retry-dead", w.console(true, w.consoleEmailsRetryDead)},
		{"POST /{pool}/console/emails/{id}", w.console(true, w.consoleEmailAction)},
		{"GET /{pool}/console/jobs", w.console(true, w.consoleJobs)},
		{"POST /{pool}/console/jobs/{id}", w.console(true, w.consoleJobAction)},
	}
}
