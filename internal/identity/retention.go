package identity

import "time"

// RetentionSettings says how long a pool keeps the rows that only record
// the past (internal/retention deletes older ones in small batches). A zero
// field takes the default (DefaultRetention); a negative one keeps the rows
// forever.
type RetentionSettings struct {
	// AuditDays: audit events, counted from when they happened.
	AuditDays int `json:"audit_days,omitempty"`
	// EmailDays: sent, dead and discarded outbox emails, from creation.
	EmailDays int `json:"email_days,omitempty"`
	// JobDays: finished jobs (done, dead, discarded), from their last change.
	JobDays int `json:"job_days,omitempty"`
	// RegistrationDays: decided registration requests (approved, denied,
	// expired, no approver), from their last change.
	RegistrationDays int `json:"registration_days,omitempty"`
}

// DefaultRetention is what a pool keeps when it says nothing.
var DefaultRetention = RetentionSettings{AuditDays: 400, EmailDays: 30, JobDays: 30, RegistrationDays: 400}

// Effective fills zero fields from DefaultRetention.
func (r RetentionSettings) Effective() RetentionSettings {
	d := DefaultRetention
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	return RetentionSettings{
		AuditDays:        pick(r.AuditDays, d.AuditDays),
		EmailDays:        pick(r.EmailDays, d.EmailDays),
		JobDays:          pick(r.JobDays, d.JobDays),
		RegistrationDays: pick(r.RegistrationDays, d.RegistrationDays),
	}
}

// Cutoff returns the instant before which rows kept for days are deleted,
// and false when days < 0 (kept forever).
func Cutoff(now time.Time, days int) (time.Time, bool) {
	if days < 0 {
		return time.Time{}, false
	}
	return now.Add(-time.Duration(days) * 24 * time.Hour), true
}
