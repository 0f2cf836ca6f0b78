package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatehouse-id/gatehouse/internal/api/form"
	"github.com/gatehouse-id/gatehouse/internal/httpserver"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// The API's own codes, for failures the domain never produces.
const (
	codeMethodNotAllowed identity.Code = "method_not_allowed"
)

// retryAfterSeconds is the Retry-After sent with 503 unavailable: about
// the time a PostgreSQL restart or failover takes.
const retryAfterSeconds = "5"

// statusFor is THE mapping from error codes to HTTP statuses; every error
// response goes through it. ok is false for a code it does not know (which
// is then treated as internal).
//
// 401 means the credentials presented (password, token, API key, client
// secret) are missing or wrong; 403 means they were right but the account
// or key may not do this: a disabled user, an unconfirmed user, a user who
// must reset the password, a pool-scoped key outside its pool. Clients
// switch on the code, not the status.
func statusFor(code identity.Code) (status int, ok bool) {
	switch code {
	case identity.CodeInvalidParameter, identity.CodeInvalidPassword,
		identity.CodeCodeMismatch, identity.CodeExpiredCode, identity.CodeEnableSoftwareTokenMFA,
		identity.CodeUserLambdaValidation, identity.CodeInvalidUserPoolConfig,
		identity.CodeWebAuthnChallengeNotFound, identity.CodeWebAuthnOriginNotAllowed,
		identity.CodeWebAuthnRelyingPartyMismatch, identity.CodeWebAuthnCredentialNotSupported:
		return http.StatusBadRequest, true
	case identity.CodeNotAuthorized, identity.CodeInvalidToken, identity.CodeUnauthenticated:
		return http.StatusUnauthorized, true
	case identity.CodeUserDisabled, identity.CodeUserNotConfirmed, identity.CodeApprovalPending,
		identity.CodePasswordResetRequired, identity.CodeForbidden, identity.CodeInsufficientScope:
		return http.StatusForbidden, true
	case identity.CodeUserNotFound, identity.CodeResourceNotFound, identity.CodeSoftwareTokenMFANotFound:
		return http.StatusNotFound, true
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed, true
	case identity.CodeUsernameExists, identity.CodeAliasExists, identity.CodeGroupExists, identity.CodeConflict, identity.CodePreconditionNotMet:
		return http.StatusConflict, true
	case identity.CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge, true
	case form.CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType, true
	case identity.CodeTooManyRequests, identity.CodeTooManyFailedAttempts, identity.CodeLimitExceeded,
		identity.CodePasswordAttemptsExceeded:
		return http.StatusTooManyRequests, true
	case identity.CodeUnsupported:
		return http.StatusNotImplemented, true
	case identity.CodeCodeDeliveryFailure, identity.CodeUnexpectedLambda, identity.CodeInvalidLambdaResponse:
		return http.StatusBadGateway, true
	case identity.CodeInternal:
		return http.StatusInternalServerError, true
	case identity.CodeUnavailable:
		return http.StatusServiceUnavailable, true
	}
	return http.StatusInternalServerError, false
}

// StatusClientClosedRequest is nginx's status for a request whose client
// disconnected before the answer was ready.
const StatusClientClosedRequest = 499

// problemFor builds the problem for err. Internal errors (non-*identity.Error
// values, CodeInternal, unknown codes) carry a generic detail only.
func problemFor(r *http.Request, err error) httpserver.Problem {
	code := identity.ErrorCode(err)
	status, ok := statusFor(code)
	if code == identity.CodeUnavailable {
		// The database could not be reached: a clear, retryable answer
		// (the cause, possibly wrapped as internal, goes to the log).
		return httpserver.Problem{Status: status, Code: string(code), Detail: identity.ErrorMessage(err)}
	}
	var ie *identity.Error
	if !ok || code == identity.CodeInternal || !errors.As(err, &ie) {
		return httpserver.Problem{Status: http.StatusInternalServerError, Code: string(identity.CodeInternal),
			Detail: "An internal error occurred."}
	}
	return httpserver.Problem{Status: status, Code: string(code), Detail: ie.Message, Field: ie.Field,
		RetryAfter: identity.RetryAfterSeconds(err)}
}

// writeError writes err as a problem; the cause of a 5xx goes to the log
// with the request id, never to the client.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client went away (or the request ran out of time) while the
		// service worked: not a server fault. 499, as nginx logs it, keeps it
		// out of the 5xx metrics; one debug line instead of an error.
		a.opts.Log.LogAttrs(r.Context(), slog.LevelDebug, "request abandoned",
			slog.String("request_id", httpserver.RequestID(r.Context())),
			slog.String("route", r.Pattern), slog.String("err", err.Error()))
		httpserver.WriteProblem(w, r, httpserver.Problem{Status: StatusClientClosedRequest,
			Code: string(identity.CodeUnavailable), Detail: "The request was cancelled."})
		return
	}
	p := problemFor(r, err)
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	if p.RetryAfter > 0 {
		// Throttles and lockouts: how long to wait, in the header and in
		// the problem's retry_after member.
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	switch {
	case p.Status >= 500:
		level := slog.LevelError
		if p.Status == http.StatusServiceUnavailable {
			level = slog.LevelWarn // an outage: one line per request, not a bug
		}
		a.opts.Log.LogAttrs(r.Context(), level, "api error",
			slog.String("request_id", httpserver.RequestID(r.Context())),
			slog.String("route", r.Pattern),
			slog.String("code", string(identity.ErrorCode(err))),
			slog.String("err", err.Error()))
	case p.Status == http.StatusUnauthorized:
		// RFC 6750 §3 for bearer-token routes.
		if p.Code == string(identity.CodeInvalidToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
		} else if p.Code == string(identity.CodeUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		}
	case p.Code == string(identity.CodeInsufficientScope):
		// RFC 6750 §3.1: the one scope Gatehouse requires of a user's
		// access token (docs/security.md T5).
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="insufficient_scope", scope="aws.cognito.signin.user.admin"`)
	}
	httpserver.WriteProblem(w, r, p)
}
