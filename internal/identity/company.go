package identity

import "time"

// Company statuses.
const (
	CompanyActive   = "active"
	CompanyDisabled = "disabled" // no sign-ups are routed to it; lookup hides it
)

// Company is an organisation inside a pool whose members sign up there.
// A confirmed member joins the company's Group.
type Company struct {
	PoolID string
	// Name is unique in the pool, case-insensitively; it is what the
	// company attribute (custom:company_name) must hold.
	Name        string
	DisplayName string
	// EmailDomains are lower-case domains ("example.com") whose addresses
	// belong to the company. A domain belongs to at most one company.
	EmailDomains []string
	// Group is the group members join (created if missing); default: Name.
	Group     string
	Approvers []Approver
	Status    string // CompanyActive or CompanyDisabled
	// RequireMFA: the company's members must sign in with a second
	// factor (set by the company's admins or a pool admin).
	RequireMFA bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Approver may decide a company's registration requests. Either Sub names a
// pool user (a company admin, who may also manage the company through the
// API with an access token), or Email is a plain address that only gets
// the approval emails.
//
// AwaitingAccount marks an Email approver that was named as a user who has
// no account yet (`gatehouse apply` with `user: <address>`): the address
// gets the approval emails like any other, and when a user of the pool
// with that address, verified, becomes active (confirmed or approved), the
// approver becomes that user (Sub), a company admin, in the same
// transaction. A plain Email approver never becomes a user.
type Approver struct {
	Sub             string `json:"sub,omitempty"`
	Email           string `json:"email,omitempty"`
	AwaitingAccount bool   `json:"awaiting_account,omitempty"`
}

// RegistrationState is the state of a registration request; see the state
// table in internal/approval.
type RegistrationState string

const (
	RegAwaitingVerification RegistrationState = "awaiting_verification"
	RegPending              RegistrationState = "pending"
	RegApproved             RegistrationState = "approved"
	RegDenied               RegistrationState = "denied"
	RegExpired              RegistrationState = "expired"
	RegNoApprover           RegistrationState = "no_approver"
)

// Final reports whether no transition leaves s.
func (s RegistrationState) Final() bool {
	switch s {
	case RegApproved, RegDenied, RegExpired, RegNoApprover:
		return true
	}
	return false
}

// Valid reports whether s is a known state.
func (s RegistrationState) Valid() bool {
	return s == RegAwaitingVerification || s == RegPending || s.Final()
}

// RegistrationRequest is one applicant's request to join a company.
type RegistrationRequest struct {
	ID       string // "reg_" + random
	PoolID   string
	UserSub  string // the applicant; kept after the user is removed
	Username string
	Email    string
	// CompanyName is what the applicant typed; Company the canonical
	// name of the matching company ("" if none matched).
	CompanyName string
	Company     string
	State       RegistrationState
	// Reason says why a final state was reached (e.g. "unknown_company",
	// "no_approver", "auto_approved", a decider's note).
	Reason string
	// Where the sign-up came from.
	IP        string
	UserAgent string
	// DecidedBy is who decided, in the one actor form (Actor.Who):
	// "user:<sub>", "admin-key:<id>", "approver-link:<email>", "cli",
	// "system"; DecidedVia the surface ("api", "console", "email-link",
	// ...). Requests decided before DecidedVia existed hold the older forms
	// ("approver:<email>", "apikey:<id>", "console:<sub>"); read them with
	// NormalizeActor.
	DecidedBy  string
	DecidedVia string
	DecidedAt  time.Time
	ExpiresAt  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Decisions an approver can make.
type Decision string

const (
	DecisionApprove Decision = "approve"
	DecisionDeny    Decision = "deny"
)

// RegistrationToken is the single-use token of one approve or deny link,
// bound to a request, an approver and an action; only its hash is stored.
type RegistrationToken struct {
	Hash      string // hex SHA-256 of the token
	RequestID string
	PoolID    string
	Approver  string // the approver's email
	Action    Decision
	ExpiresAt time.Time
	UsedAt    time.Time
	CreatedAt time.Time
}
