// Package auth implements every identity flow once, for every surface.
//
// The native API, the Cognito-compatible API, the hosted pages, the admin
// console and the CLI all call *Service; none of them talks to the store.
// Each flow step runs in one store transaction; emails and jobs it causes are
// enqueued through the same transaction (Mailer.Enqueue takes the Querier),
// so a crash never leaves a state change without its email, or an email for
// a change that did not happen.
//
// Errors returned to callers are *identity.Error with a stable code and a
// safe message; anything else is an internal error whose details are only
// logged.
//
// Flows and the states they move a user through:
//
//	SignUp                 -> UNCONFIRMED (code emailed)        | CONFIRMED if the pool needs no verification
//	ConfirmSignUp          UNCONFIRMED -> CONFIRMED, email_verified=true
//	AdminCreateUser        -> FORCE_CHANGE_PASSWORD (temporary password emailed)
//	InitiateAuth           CONFIRMED -> tokens
//	                       FORCE_CHANGE_PASSWORD -> NEW_PASSWORD_REQUIRED challenge
//	                       UNCONFIRMED -> user_not_confirmed; RESET_REQUIRED -> password_reset_required
//	RespondToAuthChallenge NEW_PASSWORD_REQUIRED: FORCE_CHANGE_PASSWORD -> CONFIRMED, tokens
//	ForgotPassword         code emailed (user unchanged)
//	ConfirmForgotPassword  any password status -> CONFIRMED; refresh tokens revoked
//	AdminResetUserPassword -> RESET_REQUIRED; refresh tokens revoked; code emailed
//
// Security properties kept here: codes are random, stored hashed, bound to
// pool, user and purpose, single use (compare-and-set), expiring and
// attempt-limited; failed sign-ins are counted per account atomically and
// throttled; unknown users cost one dummy password hash so timing does not
// reveal them, and with PreventUserExistenceErrors they get the same answer
// as known ones; refresh tokens rotate and reuse of a rotated one revokes the
// whole family.
package auth
