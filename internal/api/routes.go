package api

import "github.com/gatehouse-id/gatehouse/internal/identity"

// route is one entry of the API's route table.
type route struct {
	pattern string // ServeMux pattern: "METHOD /path/{wildcard}"
	h       handlerFunc
}

// Routes returns the ServeMux pattern of every route of the native API
// ("METHOD /path/{wildcard}"), for the contract tests.
func Routes() []string {
	var ps []string
	for _, rt := range newAPI(nil, Options{}).routes() {
		ps = append(ps, rt.pattern)
	}
	return ps
}

// routes lists every route of the native API. The OpenAPI document
// (openapi.yaml) must describe exactly these; TestOpenAPIMatchesRoutes
// keeps the two from drifting.
func (a *API) routes() []route {
	return []route{
		// End-user flows; the app client is named in the body.
		{"POST /api/v1/auth/sign-up", a.signUp},
		{"POST /api/v1/auth/confirm-sign-up", a.confirmSignUp},
		{"POST /api/v1/auth/resend-code", a.resendCode},
		{"POST /api/v1/auth/sign-in", a.signIn},
		{"POST /api/v1/auth/challenge", a.respondToChallenge},
		{"POST /api/v1/auth/refresh", a.refresh},
		{"POST /api/v1/auth/forgot-password", a.forgotPassword},
		{"POST /api/v1/auth/confirm-forgot-password", a.confirmForgotPassword},
		{"POST /api/v1/auth/revoke", a.revoke},
		{"POST /api/v1/auth/passkey/options", a.passkeySignInOptions},
		{"POST /api/v1/auth/passkey", a.passkeySignIn},
		// Enrolment of a required second factor during a sign-in (mfa_handlers.go).
		{"POST /api/v1/auth/mfa/totp", a.setupTOTP(false)},
		{"POST /api/v1/auth/mfa/totp/verify", a.setupTOTP(true)},

		// The caller's own account (Authorization: Bearer <access token>).
		{"GET /api/v1/me", a.user(a.getMe)},
		{"DELETE /api/v1/me", a.user(a.deleteMe)},
		{"PATCH /api/v1/me/attributes", a.user(a.updateMyAttributes)},
		{"DELETE /api/v1/me/attributes", a.user(a.deleteMyAttributes)},
		{"POST /api/v1/me/password", a.user(a.changeMyPassword)},
		{"POST /api/v1/me/attribute-verification-code", a.user(a.sendMyVerificationCode)},
		{"POST /api/v1/me/verify-attribute", a.user(a.verifyMyAttribute)},
		{"POST /api/v1/me/sign-out", a.user(a.signOutEverywhere)},
		{"GET /api/v1/me/passkeys", a.user(a.listMyPasskeys)},
		{"POST /api/v1/me/passkeys/options", a.user(a.myPasskeyOptions)},
		{"POST /api/v1/me/passkeys", a.user(a.addMyPasskey)},
		{"DELETE /api/v1/me/passkeys/{id}", a.user(a.deleteMyPasskey)},
		{"GET /api/v1/me/sessions", a.user(a.listMySessions)},
		{"DELETE /api/v1/me/sessions/{id}", a.user(a.deleteMySession)},
		{"GET /api/v1/me/devices", a.self(a.listMyDevices)},
		{"DELETE /api/v1/me/devices/{key}", a.self(a.forgetMyDevice)},
		{"GET /api/v1/me/mfa", a.user(a.getMyMFA)},
		{"POST /api/v1/me/mfa/totp", a.user(a.associateMyTOTP)},
		{"POST /api/v1/me/mfa/totp/verify", a.user(a.verifyMyTOTP)},
		{"PUT /api/v1/me/mfa/preference", a.user(a.setMyMFAPreference)},
		{"DELETE /api/v1/me/mfa/factors/{factor}", a.user(a.removeMyFactor)},
		{"POST /api/v1/me/mfa/recovery-codes", a.user(a.newMyRecoveryCodes)},

		// Administration (Authorization: Bearer <admin API key>).
		{"GET /api/v1/pools", a.admin(scopeGlobal, a.listPools)},
		{"POST /api/v1/pools", a.admin(scopeGlobal, a.createPool)},
		{"GET /api/v1/pools/{pool}", a.admin(scopePool, a.getPool)},
		{"PATCH /api/v1/pools/{pool}", a.admin(scopePool, a.updatePool)},
		{"DELETE /api/v1/pools/{pool}", a.admin(scopeGlobal, a.deletePool)},
		{"POST /api/v1/pools/{pool}/custom-attributes", a.admin(scopePool, a.addCustomAttributes)},
		{"POST /api/v1/pools/{pool}/keys/rotate", a.admin(scopePool, a.rotateKey)},
		{"GET /api/v1/pools/{pool}/hooks", a.admin(scopePool, a.listHooks)},
		{"PUT /api/v1/pools/{pool}/hooks/{trigger}", a.admin(scopePool, a.putHook)},
		{"DELETE /api/v1/pools/{pool}/hooks/{trigger}", a.admin(scopePool, a.deleteHook)},
		{"POST /api/v1/pools/{pool}/hooks/{trigger}/test", a.admin(scopePool, a.testHook)},
		{"GET /api/v1/pools/{pool}/mfa", a.admin(scopePool, a.getPoolMFA)},
		{"PUT /api/v1/pools/{pool}/mfa", a.admin(scopePool, a.putPoolMFA)},
		// Identity providers (federation_handlers.go, docs/federation.md).
		{"GET /api/v1/pools/{pool}/identity-providers", a.admin(scopePool, a.listIdentityProviders)},
		{"PUT /api/v1/pools/{pool}/identity-providers/{name}", a.admin(scopePool, a.putIdentityProvider)},
		{"DELETE /api/v1/pools/{pool}/identity-providers/{name}", a.admin(scopePool, a.deleteIdentityProvider)},

		{"GET /api/v1/pools/{pool}/clients", a.admin(scopePool, a.listClients)},
		{"POST /api/v1/pools/{pool}/clients", a.admin(scopePool, a.createClient)},
		{"GET /api/v1/pools/{pool}/clients/{client}", a.admin(scopePool, a.getClient)},
		{"PATCH /api/v1/pools/{pool}/clients/{client}", a.admin(scopePool, a.updateClient)},
		{"DELETE /api/v1/pools/{pool}/clients/{client}", a.admin(scopePool, a.deleteClient)},
		{"POST /api/v1/pools/{pool}/clients/{client}/secret", a.admin(scopePool, a.regenerateClientSecret)},

		{"GET /api/v1/pools/{pool}/users", a.admin(scopePool, a.listUsers)},
		{"POST /api/v1/pools/{pool}/users", a.admin(scopePool, a.createUser)},
		{"POST /api/v1/pools/{pool}/users/import", a.admin(scopePool, a.importUsers)},
		{"GET /api/v1/pools/{pool}/users/{username}", a.admin(scopePool, a.getUser)},
		{"DELETE /api/v1/pools/{pool}/users/{username}", a.admin(scopePool, a.deleteUser)},
		{"PATCH /api/v1/pools/{pool}/users/{username}/attributes", a.admin(scopePool, a.updateUserAttributes)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/attributes", a.admin(scopePool, a.deleteUserAttributes)},
		{"POST /api/v1/pools/{pool}/users/{username}/disable", a.admin(scopePool, a.disableUser)},
		{"POST /api/v1/pools/{pool}/users/{username}/enable", a.admin(scopePool, a.enableUser)},
		{"POST /api/v1/pools/{pool}/users/{username}/confirm", a.admin(scopePool, a.confirmUser)},
		{"POST /api/v1/pools/{pool}/users/{username}/reset-password", a.admin(scopePool, a.resetUserPassword)},
		{"POST /api/v1/pools/{pool}/users/{username}/sign-out", a.admin(scopePool, a.signOutUser)},
		{"PUT /api/v1/pools/{pool}/users/{username}/password", a.admin(scopePool, a.setUserPassword)},
		{"GET /api/v1/pools/{pool}/users/{username}/groups", a.admin(scopePool, a.listGroupsForUser)},
		{"PUT /api/v1/pools/{pool}/users/{username}/groups/{group}", a.admin(scopePool, a.addUserToGroup)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/groups/{group}", a.admin(scopePool, a.removeUserFromGroup)},
		{"GET /api/v1/pools/{pool}/users/{username}/mfa", a.admin(scopePool, a.getUserMFA)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/mfa", a.admin(scopePool, a.resetUserMFA)},
		{"PUT /api/v1/pools/{pool}/users/{username}/mfa/preference", a.admin(scopePool, a.setUserMFAPreference)},
		{"GET /api/v1/pools/{pool}/users/{username}/sessions", a.admin(scopePool, a.listUserSessions)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/sessions/{id}", a.admin(scopePool, a.deleteUserSession)},
		{"GET /api/v1/pools/{pool}/users/{username}/devices", a.admin(scopePool, a.listUserDevices)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/devices/{device}", a.admin(scopePool, a.forgetUserDevice)},
		// Linked upstream identities (links_handlers.go, docs/federation.md).
		{"GET /api/v1/pools/{pool}/users/{username}/identities", a.admin(scopePool, a.listUserIdentities)},
		{"POST /api/v1/pools/{pool}/users/{username}/identities", a.admin(scopePool, a.linkUserIdentity)},
		{"DELETE /api/v1/pools/{pool}/users/{username}/identities/{provider}/{subject}", a.admin(scopePool, a.unlinkUserIdentity)},

		{"GET /api/v1/pools/{pool}/groups", a.admin(scopePool, a.listGroups)},
		{"POST /api/v1/pools/{pool}/groups", a.admin(scopePool, a.createGroup)},
		{"GET /api/v1/pools/{pool}/groups/{group}", a.admin(scopePool, a.getGroup)},
		{"PATCH /api/v1/pools/{pool}/groups/{group}", a.admin(scopePool, a.updateGroup)},
		{"DELETE /api/v1/pools/{pool}/groups/{group}", a.admin(scopePool, a.deleteGroup)},
		{"GET /api/v1/pools/{pool}/groups/{group}/users", a.admin(scopePool, a.listUsersInGroup)},

		// Companies and registration requests: pool admins (API key) or the
		// company's admins (their access token; checked in the service).
		{"GET /api/v1/pools/{pool}/companies", a.companyAdmin(a.listCompanies)},
		{"POST /api/v1/pools/{pool}/companies", a.admin(scopePool, a.createCompany)},
		{"GET /api/v1/pools/{pool}/companies/{company}", a.companyAdmin(a.getCompany)},
		{"PATCH /api/v1/pools/{pool}/companies/{company}", a.companyAdmin(a.updateCompany)},
		{"DELETE /api/v1/pools/{pool}/companies/{company}", a.admin(scopePool, a.deleteCompany)},
		{"PUT /api/v1/pools/{pool}/companies/{company}/require-mfa", a.companyAdmin(a.setCompanyRequireMFA)},
		{"GET /api/v1/pools/{pool}/companies/{company}/identity-provider", a.companyAdmin(a.getCompanyIdP)},
		{"PUT /api/v1/pools/{pool}/companies/{company}/identity-provider", a.companyAdmin(a.putCompanyIdP)},
		{"DELETE /api/v1/pools/{pool}/companies/{company}/identity-provider", a.companyAdmin(a.deleteCompanyIdP)},
		{"POST /api/v1/pools/{pool}/companies/{company}/identity-provider/refresh-metadata", a.companyAdmin(a.refreshCompanyIdPMetadata)},
		{"POST /api/v1/pools/{pool}/companies/{company}/scim-token", a.companyAdmin(a.rotateSCIMToken)},
		{"GET /api/v1/pools/{pool}/registrations", a.companyAdmin(a.listRegistrations)},
		{"GET /api/v1/pools/{pool}/registrations/{registration}", a.companyAdmin(a.getRegistration)},
		{"POST /api/v1/pools/{pool}/registrations/{registration}/approve", a.companyAdmin(a.decideRegistration(identity.DecisionApprove))},
		{"POST /api/v1/pools/{pool}/registrations/{registration}/deny", a.companyAdmin(a.decideRegistration(identity.DecisionDeny))},
		// Public, rate-limited type-ahead for sign-up forms.
		{"GET /api/v1/pools/{pool}/company-names", a.lookupCompanyNames},

		{"GET /api/v1/pools/{pool}/emails", a.admin(scopePool, a.listEmails)},
		{"POST /api/v1/pools/{pool}/emails/retry-dead", a.admin(scopePool, a.retryDeadEmails)},
		{"POST /api/v1/pools/{pool}/emails/{email}/retry", a.admin(scopePool, a.retryEmail)},
		{"POST /api/v1/pools/{pool}/emails/{email}/discard", a.admin(scopePool, a.discardEmail)},
		// Background jobs (jobs_handlers.go): a pool's, and every job.
		{"GET /api/v1/pools/{pool}/jobs", a.admin(scopePool, a.listJobs)},
		{"GET /api/v1/pools/{pool}/jobs/{job}", a.admin(scopePool, a.getJob)},
		{"POST /api/v1/pools/{pool}/jobs/{job}/retry", a.admin(scopePool, a.retryJob)},
		{"POST /api/v1/pools/{pool}/jobs/{job}/discard", a.admin(scopePool, a.discardJob)},
		{"GET /api/v1/jobs", a.admin(scopeGlobal, a.listJobs)},
		{"GET /api/v1/jobs/{job}", a.admin(scopeGlobal, a.getJob)},
		{"POST /api/v1/jobs/{job}/retry", a.admin(scopeGlobal, a.retryJob)},
		{"POST /api/v1/jobs/{job}/discard", a.admin(scopeGlobal, a.discardJob)},
		{"GET /api/v1/pools/{pool}/audit", a.admin(scopePool, a.listAudit)},

		// Public documents.
		{"GET /api/v1/openapi.json", a.openAPI},
		// The browsable reference (Swagger UI) over openapi.json.
		{"GET /api/v1/docs", a.apiDocs},
		{"GET /api/v1/docs/{asset}", a.apiDocsAsset},
		{"GET /{pool}/.well-known/jwks.json", a.jwks},
		{"GET /{pool}/.well-known/openid-configuration", a.openIDConfiguration},
	}
}
