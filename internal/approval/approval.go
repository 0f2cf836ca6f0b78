package approval

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Event is what happens to a request.
type Event string

const (
	EventVerified    Event = "verified"     // the applicant verified the email; approvers asked
	EventAutoApprove Event = "auto_approve" // verified, and the domain belongs to the company
	EventNoApprover  Event = "no_approver"  // verified, but nobody can decide
	EventApprove     Event = "approve"
	EventDeny        Event = "deny"
	EventExpire      Event = "expire"
)

// table is the transition table of doc.go.
var table = map[identity.RegistrationState]map[Event]identity.RegistrationState{
	identity.RegAwaitingVerification: {
		EventVerified:    identity.RegPending,
		EventAutoApprove: identity.RegApproved,
		EventNoApprover:  identity.RegNoApprover,
		EventExpire:      identity.RegExpired,
	},
	identity.RegPending: {
		EventApprove: identity.RegApproved,
		EventDeny:    identity.RegDenied,
		EventExpire:  identity.RegExpired,
	},
}

// Next returns the state ev leads to from from, or an *identity.Error
// (CodeConflict for a request already decided, CodeInvalidParameter
// otherwise) if the table has no such transition.
func Next(from identity.RegistrationState, ev Event) (identity.RegistrationState, error) {
	if to, ok := table[from][ev]; ok {
		return to, nil
	}
	if from.Final() {
		return "", identity.Errorf(identity.CodeConflict, "The request was already decided (%s).", from)
	}
	return "", identity.Errorf(identity.CodeInvalidParameter, "The request cannot be %s while it is %s.", eventVerb(ev), from)
}

func eventVerb(ev Event) string {
	switch ev {
	case EventApprove:
		return "approved"
	case EventDeny:
		return "denied"
	case EventExpire:
		return "expired"
	}
	return string(ev)
}

// DecisionEvent maps a decision to its event.
func DecisionEvent(d identity.Decision) (Event, error) {
	switch d {
	case identity.DecisionApprove:
		return EventApprove, nil
	case identity.DecisionDeny:
		return EventDeny, nil
	}
	return "", identity.FieldError("decision", "The decision must be approve or deny.")
}

// Job kinds; register auth.Service.RegistrationJobHandler for each.
const (
	JobExpire = "registration.expire"
	JobRemind = "registration.remind"
)

// JobKinds lists every job kind of the workflow.
var JobKinds = []string{JobExpire, JobRemind}

// JobPayload is the payload of every registration job.
type JobPayload struct {
	PoolID    string `json:"pool_id"`
	RequestID string `json:"request_id"`
}

// Email templates (built into internal/mail/templates). Data keys:
// ApplicantEmail, Company, RequestedAt, FromIP, UserAgent, ApproveURL,
// DenyURL, ExpiresIn (approval, reminder); Username, Company, Reason
// (approved, denied).
const (
	TemplateApproval = "registration_approval"
	TemplateReminder = "registration_reminder"
	TemplateApproved = "registration_approved"
	TemplateDenied   = "registration_denied"
)

// Notice kinds, for store.RecordNotice: one email per (request, recipient, kind).
const (
	NoticeApproval = "approval"
	NoticeReminder = "reminder"
	NoticeOutcome  = "outcome"
)

// TokenBytes is the entropy of a link token (256 bits).
const TokenBytes = 32

// maxTokenLen caps what HashToken accepts from a URL.
const maxTokenLen = 128

// NewToken returns a new link token read from rand and its hash.
func NewToken(rand io.Reader) (raw, hash string, err error) {
	b := make([]byte, TokenBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", "", fmt.Errorf("approval: token: %w", err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, HashToken(raw), nil
}

// HashToken returns the stored form of a link token; "" for a value that
// cannot be a token (wrong length or alphabet).
func HashToken(raw string) string {
	if len(raw) == 0 || len(raw) > maxTokenLen {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(raw); err != nil {
		return ""
	}
	h := sha256.Sum256([]byte("gatehouse-approval-link|" + raw))
	return hex.EncodeToString(h[:])
}

// NewRequestID returns a request id: "reg_" + 21 random base32 characters
// (104 bits).
func NewRequestID(rand io.Reader) (string, error) {
	b := make([]byte, 13)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("approval: id: %w", err)
	}
	return "reg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// LinkPath is the path of the approval page for token under a pool.
func LinkPath(poolID, token string) string { return "/" + poolID + "/approval/" + token }

// LinkURL is the absolute link: base is the pool's configured base URL
// (or the server's), never one derived from request headers.
func LinkURL(base, poolID, token string) string {
	return strings.TrimRight(base, "/") + LinkPath(poolID, token)
}

// ReminderAt is when approvers asked at pendingSince are reminded: after
// the policy's reminder delay, if that comes before the request expires;
// zero for no reminder.
func ReminderAt(p *identity.ApprovalPolicy, pendingSince, expires time.Time) time.Time {
	d := p.ReminderOrDefault()
	if d <= 0 || !pendingSince.Add(d).Before(expires) {
		return time.Time{}
	}
	return pendingSince.Add(d)
}

// Deadlines returns when a request created at created expires and when
// its reminder would be due if approvers were asked at once (zero: none).
func Deadlines(p *identity.ApprovalPolicy, created time.Time) (expires, remind time.Time) {
	expires = created.Add(p.ExpiryOrDefault())
	if d := p.ReminderOrDefault(); d > 0 && created.Add(d).Before(expires) {
		remind = created.Add(d)
	}
	return expires, remind
}
