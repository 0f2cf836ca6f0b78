package identity

import "time"

// SignUpPolicy declares how self sign-up works in a pool. The parts combine:
// a pool may restrict email domains, require approval and add default
// groups at once. Invite-only is Pool.AdminCreateUserOnly and a unique email
// is Pool.UniqueEmail; both live on the pool itself. The zero value is an
// open pool: a user is confirmed once the email is verified.
type SignUpPolicy struct {
	// DomainAllowList: the email's domain must be listed in Domains or be
	// one of a company's EmailDomains; other sign-ups are refused with an
	// invalid_parameter error on the email (article 001).
	DomainAllowList bool `json:"domain_allow_list,omitempty"`
	// Domains maps email domains to a group (and optionally a company).
	// On confirmation the user joins the group, created on first use.
	Domains []DomainRule `json:"domains,omitempty"`
	// DefaultGroups: every user who becomes active joins these groups,
	// created on first use (article 003).
	DefaultGroups []string `json:"default_groups,omitempty"`
	// Approval, when set, makes a company's approvers decide every
	// self sign-up after the applicant verified the email (article 000).
	Approval *ApprovalPolicy `json:"approval,omitempty"`
	// CompanyAttribute names the attribute that names the company, e.g.
	// "custom:company_name" (the default when Approval is set).
	CompanyAttribute string `json:"company_attribute,omitempty"`
	// CompanyLookup enables the public type-ahead of company display
	// names for sign-up forms.
	CompanyLookup bool `json:"company_lookup,omitempty"`
}

// DomainRule maps one email domain (lower case, no "@") to a group and,
// optionally, a company.
type DomainRule struct {
	Domain  string `json:"domain"`
	Group   string `json:"group,omitempty"`
	Company string `json:"company,omitempty"`
}

// What happens to the account of a denied, expired or unroutable applicant.
const (
	OnDenyDelete  = "delete"  // the user is removed (default)
	OnDenyDisable = "disable" // the user is kept, disabled and UNCONFIRMED
)

// What happens to a request whose company is unknown or has no approver.
const (
	NoApproverReject = "reject" // the user is removed and told why (default)
	NoApproverAdmins = "admins" // the request goes to the pool's admins
)

// ApprovalPolicy configures the approval workflow of a pool.
type ApprovalPolicy struct {
	// Expiry: a request nobody decided within Expiry of its creation ends
	// as expired (default 7 days).
	Expiry time.Duration `json:"expiry,omitempty"`
	// Reminder: approvers of a request still pending Reminder after its
	// creation get a reminder (default 2 days; negative disables).
	Reminder time.Duration `json:"reminder,omitempty"`
	// AutoApproveCompanyDomain approves at once when the verified email's
	// domain is one of the named company's EmailDomains.
	AutoApproveCompanyDomain bool `json:"auto_approve_company_domain,omitempty"`
	// OnDeny is OnDenyDelete (default) or OnDenyDisable.
	OnDeny string `json:"on_deny,omitempty"`
	// OnNoApprover is NoApproverReject (default) or NoApproverAdmins.
	OnNoApprover string `json:"on_no_approver,omitempty"`
	// PoolAdmins are the addresses asked when a request is routed to the
	// pool's admins (OnNoApprover=admins, and escalation).
	PoolAdmins []string `json:"pool_admins,omitempty"`
}

// Defaults of the approval workflow.
const (
	DefaultApprovalExpiry   = 7 * 24 * time.Hour
	DefaultApprovalReminder = 2 * 24 * time.Hour
	DefaultCompanyAttribute = "custom:company_name"
)

// ExpiryOrDefault returns Expiry or DefaultApprovalExpiry.
func (a *ApprovalPolicy) ExpiryOrDefault() time.Duration {
	if a == nil || a.Expiry <= 0 {
		return DefaultApprovalExpiry
	}
	return a.Expiry
}

// ReminderOrDefault returns the reminder delay; 0 means no reminder.
func (a *ApprovalPolicy) ReminderOrDefault() time.Duration {
	switch {
	case a == nil || a.Reminder == 0:
		return DefaultApprovalReminder
	case a.Reminder < 0:
		return 0
	}
	return a.Reminder
}

// CompanyAttr returns the attribute that names the company.
func (p *SignUpPolicy) CompanyAttr() string {
	if p.CompanyAttribute != "" {
		return p.CompanyAttribute
	}
	return DefaultCompanyAttribute
}
