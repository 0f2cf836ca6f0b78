package auth

import (
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestValidateSignUpPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		pol   identity.SignUpPolicy
		field string // "" = valid
	}{
		{"zero is open", identity.SignUpPolicy{}, ""},
		{"domains", identity.SignUpPolicy{DomainAllowList: true, Domains: []identity.DomainRule{{Domain: "@Amazon.com", Group: "amazon"}}}, ""},
		{"domain without target", identity.SignUpPolicy{Domains: []identity.DomainRule{{Domain: "a.com"}}}, "sign_up.domains"},
		{"bad domain", identity.SignUpPolicy{Domains: []identity.DomainRule{{Domain: "not a domain", Group: "g"}}}, "sign_up.domains"},
		{"duplicate domain", identity.SignUpPolicy{Domains: []identity.DomainRule{{Domain: "a.com", Group: "g"}, {Domain: "A.com", Group: "h"}}}, "sign_up.domains"},
		{"group with space", identity.SignUpPolicy{DefaultGroups: []string{"all users"}}, "sign_up.default_groups"},
		{"company attribute", identity.SignUpPolicy{CompanyAttribute: "company"}, "sign_up.company_attribute"},
		{"approval", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{Expiry: time.Hour, OnDeny: "disable"}}, ""},
		{"on_deny", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{OnDeny: "shred"}}, "sign_up.approval.on_deny"},
		{"on_no_approver", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{OnNoApprover: "x"}}, "sign_up.approval.on_no_approver"},
		{"admins without addresses", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{OnNoApprover: "admins"}}, "sign_up.approval.pool_admins"},
		{"bad admin address", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{PoolAdmins: []string{"nope"}}}, "sign_up.approval.pool_admins"},
		{"negative expiry", identity.SignUpPolicy{Approval: &identity.ApprovalPolicy{Expiry: -time.Hour}}, "sign_up.approval.expiry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateSignUpPolicy(&tc.pol)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e, ok := err.(*identity.Error)
			if !ok || e.Code != identity.CodeInvalidParameter || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid_parameter on %s", err, tc.field)
			}
		})
	}
	pol := identity.SignUpPolicy{Domains: []identity.DomainRule{{Domain: "@Amazon.COM ", Group: "amazon"}}}
	if err := validateSignUpPolicy(&pol); err != nil || pol.Domains[0].Domain != "amazon.com" {
		t.Fatalf("not normalised: %+v %v", pol.Domains, err)
	}
}

func TestEmailDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"a@B.com": "b.com", "x": "", "a@b@C.org": "c.org"} {
		if got := emailDomain(in); got != want {
			t.Errorf("emailDomain(%q) = %q", in, got)
		}
	}
}
