package cognito

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// exception is an error as Cognito sends it: HTTP status, __type (also in
// the x-amzn-ErrorType header) and message.
type exception struct {
	Status  int
	Type    string
	Message string
	// Coral: the member is "Message", as AWS's protocol layer writes its
	// own errors (SerializationException); service exceptions say
	// "message". SDKs read either.
	Coral bool
}

// exceptionFor is THE mapping from errors to Cognito exceptions; every error
// response goes through it. Errors that are not *identity.Error, and
// CodeInternal or unknown codes, become InternalErrorException (HTTP 500)
// with a generic message; their details go to the log only.
func exceptionFor(err error) exception {
	var se *sigError
	if errors.As(err, &se) {
		return exception{Status: http.StatusBadRequest, Type: se.Type, Message: se.Message}
	}
	var ser *serialError
	if errors.As(err, &ser) {
		return exception{Status: http.StatusBadRequest, Type: "SerializationException", Message: ser.msg, Coral: true}
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return exception{Status: http.StatusBadRequest, Type: ae.Type, Message: ae.Message}
	}
	var ue *unknownOperationError
	if errors.As(err, &ue) {
		return exception{Status: http.StatusBadRequest, Type: "UnknownOperationException", Message: ue.Error()}
	}
	var ie *identity.Error
	if !errors.As(err, &ie) {
		return exception{Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: "An internal error occurred."}
	}
	bad := func(t string) exception {
		return exception{Status: http.StatusBadRequest, Type: t, Message: ie.Message}
	}
	switch ie.Code {
	case identity.CodeInvalidParameter:
		return bad("InvalidParameterException")
	case identity.CodeInvalidPassword:
		return exception{Status: http.StatusBadRequest, Type: "InvalidPasswordException", Message: passwordMessage(ie.Message)}
	case identity.CodeUsernameExists:
		return bad("UsernameExistsException")
	case identity.CodeAliasExists:
		return bad("AliasExistsException")
	case identity.CodeUserNotFound:
		return bad("UserNotFoundException")
	case identity.CodeNotAuthorized, identity.CodeInvalidToken, identity.CodeForbidden:
		return bad("NotAuthorizedException")
	case identity.CodeInsufficientScope: // "Access Token does not have required scopes"
		return bad("NotAuthorizedException")
	case identity.CodePasswordAttemptsExceeded:
		// Cognito's lockout answer, message and all: "Password attempts
		// exceeded". How long it lasts goes in Retry-After only.
		return bad("NotAuthorizedException")
	case identity.CodeUserDisabled:
		return exception{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "User is disabled."}
	case identity.CodeUserNotConfirmed, identity.CodeApprovalPending:
		return bad("UserNotConfirmedException")
	case identity.CodePasswordResetRequired:
		return bad("PasswordResetRequiredException")
	case identity.CodeCodeMismatch:
		return bad("CodeMismatchException")
	case identity.CodeExpiredCode:
		return bad("ExpiredCodeException")
	case identity.CodeTooManyFailedAttempts:
		return bad("TooManyFailedAttemptsException")
	case identity.CodeTooManyRequests:
		return bad("TooManyRequestsException")
	case identity.CodeLimitExceeded:
		return bad("LimitExceededException")
	case identity.CodeResourceNotFound:
		return bad("ResourceNotFoundException")
	case identity.CodeGroupExists:
		return bad("GroupExistsException")
	case identity.CodeConflict:
		// A taken fixed id or domain: Cognito has no closer name.
		return bad("InvalidParameterException")
	case identity.CodeInvalidUserPoolConfig:
		return bad("InvalidUserPoolConfigurationException")
	case identity.CodeUserLambdaValidation:
		return bad("UserLambdaValidationException")
	case identity.CodeUnexpectedLambda: // a hook failed (timeout, HTTP error)
		return bad("UnexpectedLambdaException")
	case identity.CodeInvalidLambdaResponse: // a hook answered nonsense
		return bad("InvalidLambdaResponseException")
	case identity.CodeCodeDeliveryFailure:
		return bad("CodeDeliveryFailureException")
	case identity.CodeEnableSoftwareTokenMFA:
		return bad("EnableSoftwareTokenMFAException")
	case identity.CodeSoftwareTokenMFANotFound:
		return bad("SoftwareTokenMFANotFoundException")
	case identity.CodeUnsupported:
		return bad("UnsupportedOperationException")
	case identity.CodePreconditionNotMet:
		return bad("PreconditionNotMetException")
	case identity.CodeUnauthenticated:
		return bad("NotAuthorizedException")
	case identity.CodeWebAuthnChallengeNotFound:
		return bad("WebAuthnChallengeNotFoundException")
	case identity.CodeWebAuthnOriginNotAllowed:
		return bad("WebAuthnOriginNotAllowedException")
	case identity.CodeWebAuthnRelyingPartyMismatch:
		return bad("WebAuthnRelyingPartyMismatchException")
	case identity.CodeWebAuthnCredentialNotSupported:
		return bad("WebAuthnCredentialNotSupportedException")
	case identity.CodePayloadTooLarge:
		return exception{Status: http.StatusRequestEntityTooLarge, Type: "InvalidParameterException", Message: ie.Message}
	}
	return exception{Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: "An internal error occurred."}
}

// cognitoPasswordMessages are Cognito's words for the policy rules
// internal/password checks, keyed by the start of Gatehouse's message.
var cognitoPasswordMessages = []struct{ prefix, cognito string }{
	{"Password must be at least", "Password not long enough"},
	{"Password must contain an uppercase", "Password must have uppercase characters"},
	{"Password must contain a lowercase", "Password must have lowercase characters"},
	{"Password must contain a number", "Password must have numeric characters"},
	{"Password must contain a symbol", "Password must have symbol characters"},
}

// passwordMessage words a password policy refusal as Cognito does
// ("Password did not conform with policy: Password must have numeric
// characters"); rules Cognito does not have keep Gatehouse's words after
// the same prefix.
func passwordMessage(m string) string {
	const prefix = "Password did not conform with policy: "
	for _, c := range cognitoPasswordMessages {
		if strings.HasPrefix(m, c.prefix) {
			return prefix + c.cognito
		}
	}
	return prefix + strings.TrimSuffix(m, ".")
}

// unknownOperationError answers an X-Amz-Target Gatehouse does not serve.
type unknownOperationError struct{ op string }

func (e *unknownOperationError) Error() string {
	if e.op == "" {
		return "The X-Amz-Target header must name an operation, e.g. AWSCognitoIdentityProviderService.InitiateAuth."
	}
	return "Operation " + e.op + " is not supported by Gatehouse."
}

// writeError writes err in Cognito's JSON error form. The cause of a 5xx is
// logged with the request id, never sent.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client went away while the service worked: not a server
		// fault, so one debug line and 499 (as nginx logs it), out of the
		// 5xx metrics. Nobody reads the body.
		h.opts.Log.LogAttrs(r.Context(), slog.LevelDebug, "request abandoned",
			slog.String("request_id", httpserver.RequestID(r.Context())),
			slog.String("operation", op), slog.String("err", err.Error()))
		w.WriteHeader(499)
		return
	}
	ex := exceptionFor(err)
	if ex.Status >= 500 {
		h.opts.Log.LogAttrs(r.Context(), slog.LevelError, "cognito error",
			slog.String("request_id", httpserver.RequestID(r.Context())),
			slog.String("operation", op), slog.String("err", err.Error()))
	}
	if secs := identity.RetryAfterSeconds(err); secs > 0 {
		// Not something AWS sends; SDKs ignore it, other clients may use it.
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("x-amzn-ErrorType", ex.Type)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(ex.Status)
	if ex.Coral {
		_ = json.NewEncoder(w).Encode(struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
		}{ex.Type, ex.Message})
		return
	}
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{ex.Type, ex.Message})
}
