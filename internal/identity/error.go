package identity

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, documented error code. Surfaces map codes to their wire
// format (HTTP status + problem type, Cognito __type, OAuth2 error, HTML page).
type Code string

// Error codes. The names follow Cognito's exceptions where one exists, so the
// Cognito surface maps them one to one.
const (
	CodeInvalidParameter      Code = "invalid_parameter"        // InvalidParameterException
	CodeInvalidPassword       Code = "invalid_password"         // InvalidPasswordException
	CodeUsernameExists        Code = "username_exists"          // UsernameExistsException
	CodeAliasExists           Code = "alias_exists"             // AliasExistsException
	CodeUserNotFound          Code = "user_not_found"           // UserNotFoundException
	CodeNotAuthorized         Code = "not_authorized"           // NotAuthorizedException
	CodeUserDisabled          Code = "user_disabled"            // NotAuthorizedException "User is disabled."
	CodeUserNotConfirmed      Code = "user_not_confirmed"       // UserNotConfirmedException
	CodePasswordResetRequired Code = "password_reset_required"  // PasswordResetRequiredException
	CodeCodeMismatch          Code = "code_mismatch"            // CodeMismatchException
	CodeExpiredCode           Code = "expired_code"             // ExpiredCodeException
	CodeTooManyFailedAttempts Code = "too_many_failed_attempts" // TooManyFailedAttemptsException
	CodeTooManyRequests       Code = "too_many_requests"        // TooManyRequestsException
	// CodePasswordAttemptsExceeded: the account is locked after too many
	// wrong passwords (Error.RetryAfter says for how long). Cognito answers
	// NotAuthorizedException "Password attempts exceeded".
	CodePasswordAttemptsExceeded Code = "password_attempts_exceeded"
	CodeLimitExceeded            Code = "limit_exceeded"           // LimitExceededException
	CodeResourceNotFound         Code = "resource_not_found"       // ResourceNotFoundException (pool, client, key)
	CodeGroupExists              Code = "group_exists"             // GroupExistsException
	CodeConflict                 Code = "conflict"                 // a resource with that name already exists
	CodeInvalidUserPoolConfig    Code = "invalid_user_pool_config" // InvalidUserPoolConfigurationException
	CodeUserLambdaValidation     Code = "user_lambda_validation"   // UserLambdaValidationException (hooks)
	CodeUnexpectedLambda         Code = "unexpected_lambda"        // UnexpectedLambdaException: a hook failed (timeout, HTTP error)
	CodeInvalidLambdaResponse    Code = "invalid_lambda_response"  // InvalidLambdaResponseException: a hook answered nonsense
	CodeCodeDeliveryFailure      Code = "code_delivery_failure"    // CodeDeliveryFailureException
	CodeUnsupported              Code = "unsupported_operation"    // UnsupportedOperationException
	CodeForbidden                Code = "forbidden"                // authenticated, but not allowed here
	CodeUnauthenticated          Code = "unauthenticated"          // no or bad admin credentials
	CodeInsufficientScope        Code = "insufficient_scope"       // NotAuthorizedException "Access Token does not have required scopes"
	CodeInvalidToken             Code = "invalid_token"            // NotAuthorizedException for bad tokens
	CodePayloadTooLarge          Code = "payload_too_large"        // request body over the cap
	CodePreconditionNotMet       Code = "precondition_not_met"     // PreconditionNotMetException (import jobs)
	CodeInternal                 Code = "internal"                 // InternalErrorException; details only in logs
	// CodeUnavailable: a dependency (the database) cannot be reached right
	// now; nothing was changed, or the change is in doubt and the flow is
	// safe to retry. HTTP 503 with Retry-After. Cognito has no such
	// exception: InternalErrorException is the closest.
	CodeUnavailable Code = "unavailable"
	// CodeApprovalPending: the password was right and the email is
	// verified, but the sign-up waits for the approvers. The native API
	// answers 403 approval_pending; the Cognito surface keeps
	// UserNotConfirmedException, with a message that says so.
	CodeApprovalPending Code = "approval_pending"
	// CodeEnableSoftwareTokenMFA: the first code of a TOTP enrolment was
	// wrong (Cognito's EnableSoftwareTokenMFAException).
	CodeEnableSoftwareTokenMFA Code = "enable_software_token_mfa"
	// CodeSoftwareTokenMFANotFound: the user has no TOTP factor
	// (Cognito's SoftwareTokenMFANotFoundException).
	CodeSoftwareTokenMFANotFound Code = "software_token_mfa_not_found"
	// Passkeys (WebAuthn): the ceremony's challenge is unknown, used or
	// expired; the browser's origin is not one the pool allows; the
	// credential was made for another relying party; the credential (its
	// key type, or an authenticator that did not verify the user) is not
	// accepted.
	CodeWebAuthnChallengeNotFound      Code = "webauthn_challenge_not_found"      // WebAuthnChallengeNotFoundException
	CodeWebAuthnOriginNotAllowed       Code = "webauthn_origin_not_allowed"       // WebAuthnOriginNotAllowedException
	CodeWebAuthnRelyingPartyMismatch   Code = "webauthn_relying_party_mismatch"   // WebAuthnRelyingPartyMismatchException
	CodeWebAuthnCredentialNotSupported Code = "webauthn_credential_not_supported" // WebAuthnCredentialNotSupportedException
)

// ErrUnavailable marks an error whose cause is that the database (or
// another dependency) could not be reached: connection refused or lost,
// the server shutting down or starting up, a connect timeout. Backends
// wrap such driver errors with it (fmt.Errorf("%w: %w", ErrUnavailable,
// err)), so ErrorCode reports CodeUnavailable even when the error was
// wrapped in a CodeInternal *Error on the way up.
var ErrUnavailable = &Error{Code: CodeUnavailable, Message: "The service is temporarily unavailable. Try again shortly."}

// Error is an error a client may see. Message is safe to show to the caller;
// anything sensitive goes in Err, which is logged but never sent.
type Error struct {
	Code    Code
	Message string
	Field   string // optional: the input field at fault
	Err     error  // optional: the cause, for logs
	// RetryAfter, if positive, is how long the caller should wait before
	// trying again (throttles and lockouts); HTTP surfaces send it as
	// Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an invalid_parameter error naming the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameter, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or CodeInternal if err is not an *Error.
// An internal error caused by ErrUnavailable (anywhere in its chain) is
// CodeUnavailable.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == CodeInternal && errors.Is(err, ErrUnavailable) {
			return CodeUnavailable
		}
		return e.Code
	}
	if errors.Is(err, ErrUnavailable) {
		return CodeUnavailable
	}
	if err == nil {
		return ""
	}
	return CodeInternal
}

// RetryAfter returns the wait err asks for (its *Error's RetryAfter), or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return 0
}

// RetryAfterSeconds returns RetryAfter(err) in whole seconds, rounded up
// (at least 1 when there is a wait), or 0.
func RetryAfterSeconds(err error) int {
	d := RetryAfter(err)
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// ErrorMessage returns the safe message of err, or a generic one for errors
// that are not *Error (whose text may hold internals).
func ErrorMessage(err error) string {
	if ErrorCode(err) == CodeUnavailable {
		return ErrUnavailable.Message
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
