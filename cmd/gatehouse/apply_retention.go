package main

import "github.com/gatehouse-id/gatehouse/internal/identity"

// RetentionSpec is how long a pool keeps what only records the past
// (docs/operations.md#retention): days, 0 for the default, -1 forever.
// Unset fields keep their value.
type RetentionSpec struct {
	AuditDays        *int `yaml:"audit_days"`
	EmailDays        *int `yaml:"email_days"`
	JobDays          *int `yaml:"job_days"`
	RegistrationDays *int `yaml:"registration_days"`
}

// applyRetentionSpec sets the pool's retention from s and names what changed.
func applyRetentionSpec(p *identity.Pool, s *RetentionSpec) []string {
	if s == nil {
		return nil
	}
	var changed []string
	r := &p.Settings.Retention
	for _, f := range []struct {
		name string
		dst  *int
		v    *int
	}{
		{"retention.audit_days", &r.AuditDays, s.AuditDays},
		{"retention.email_days", &r.EmailDays, s.EmailDays},
		{"retention.job_days", &r.JobDays, s.JobDays},
		{"retention.registration_days", &r.RegistrationDays, s.RegistrationDays},
	} {
		if f.v != nil && *f.dst != *f.v {
			*f.dst = *f.v
			changed = append(changed, f.name)
		}
	}
	return changed
}
