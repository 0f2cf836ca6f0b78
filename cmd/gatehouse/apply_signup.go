package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// SignUpSpec is a pool's sign-up policy in an apply file. When present it
// replaces the pool's policy as a whole (keys left out are off / default).
type SignUpSpec struct {
	DomainAllowList  bool          `yaml:"domain_allow_list"`
	Domains          []DomainSpec  `yaml:"domains"`
	DefaultGroups    []string      `yaml:"default_groups"`
	CompanyAttribute string        `yaml:"company_attribute"`
	CompanyLookup    bool          `yaml:"company_lookup"`
	Approval         *ApprovalSpec `yaml:"approval"`
}

// DomainSpec maps an email domain to a group and/or a company.
type DomainSpec struct {
	Domain  string `yaml:"domain"`
	Group   string `yaml:"group"`
	Company string `yaml:"company"`
}

// ApprovalSpec turns on the approval workflow.
type ApprovalSpec struct {
	Expiry                   *Duration `yaml:"expiry"`   // default 7d
	Reminder                 *Duration `yaml:"reminder"` // default 2d; "0s" keeps the default, use -1s to disable
	AutoApproveCompanyDomain bool      `yaml:"auto_approve_company_domain"`
	OnDeny                   string    `yaml:"on_deny"`        // delete | disable
	OnNoApprover             string    `yaml:"on_no_approver"` // reject | admins
	PoolAdmins               []string  `yaml:"pool_admins"`
}

// CompanySpec declares a company in a pool, found by name
// (case-insensitive). Unset fields keep their value.
type CompanySpec struct {
	Name         string          `yaml:"name"`
	DisplayName  *string         `yaml:"display_name"`
	EmailDomains *[]string       `yaml:"email_domains"`
	Group        *string         `yaml:"group"`
	Approvers    *[]ApproverSpec `yaml:"approvers"`
	Status       *string         `yaml:"status"`
	// RequireMFA: the company's members must sign in with a second
	// factor (docs/mfa.md).
	RequireMFA *bool `yaml:"require_mfa"`
}

// ApproverSpec is a pool user (by username or sub) or a plain address. A
// user named by an email address who has no account yet is kept as an
// address approver awaiting that account (identity.Approver.AwaitingAccount):
// the address gets the approval emails, and becomes the company's admin
// user once it signs up and is confirmed.
type ApproverSpec struct {
	User  string `yaml:"user"`
	Email string `yaml:"email"`
}

// signUpPolicy converts the spec.
func (s *SignUpSpec) policy() identity.SignUpPolicy {
	pol := identity.SignUpPolicy{DomainAllowList: s.DomainAllowList, DefaultGroups: slices.Clone(s.DefaultGroups),
		CompanyAttribute: s.CompanyAttribute, CompanyLookup: s.CompanyLookup}
	for _, d := range s.Domains {
		pol.Domains = append(pol.Domains, identity.DomainRule{Domain: strings.ToLower(d.Domain), Group: d.Group, Company: d.Company})
	}
	if a := s.Approval; a != nil {
		ap := &identity.ApprovalPolicy{AutoApproveCompanyDomain: a.AutoApproveCompanyDomain, OnDeny: a.OnDeny,
			OnNoApprover: a.OnNoApprover, PoolAdmins: slices.Clone(a.PoolAdmins)}
		if a.Expiry != nil {
			ap.Expiry = a.Expiry.D()
		}
		if a.Reminder != nil {
			ap.Reminder = a.Reminder.D()
		}
		pol.Approval = ap
	}
	return pol
}

// applySignUpSpec sets the pool's policy from spec; it reports "sign_up"
// when that changes it.
func applySignUpSpec(p *identity.Pool, spec *SignUpSpec) []string {
	if spec == nil {
		return nil
	}
	want := spec.policy()
	if policyJSONEqual(p.Settings.SignUp, want) {
		return nil
	}
	p.Settings.SignUp = want
	return []string{"sign_up"}
}

// policyJSONEqual compares policies as stored (nil and empty lists alike).
func policyJSONEqual(a, b identity.SignUpPolicy) bool {
	norm := func(p identity.SignUpPolicy) identity.SignUpPolicy {
		if len(p.Domains) == 0 {
			p.Domains = nil
		}
		if len(p.DefaultGroups) == 0 {
			p.DefaultGroups = nil
		}
		if p.Approval != nil && len(p.Approval.PoolAdmins) == 0 {
			ap := *p.Approval
			ap.PoolAdmins = nil
			p.Approval = &ap
		}
		return p
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// validateApplySignUp checks the sign-up and company parts of a pool spec.
func validateApplySignUp(where string, p PoolSpec) []error {
	var errs []error
	seen := map[string]bool{}
	for j, c := range p.Companies {
		if c.Name == "" {
			errs = append(errs, fmt.Errorf("%s.companies[%d]: name is required", where, j))
		}
		k := strings.ToLower(c.Name)
		if seen[k] {
			errs = append(errs, fmt.Errorf("%s.companies[%d]: company %q is declared twice", where, j, c.Name))
		}
		seen[k] = true
		if c.Approvers != nil {
			for i, a := range *c.Approvers {
				if (a.User == "") == (a.Email == "") {
					errs = append(errs, fmt.Errorf("%s.companies[%d].approvers[%d]: give either user or email", where, j, i))
				}
			}
		}
	}
	return errs
}

// companyFromSpec applies cs to c and returns the changed fields.
// Approvers given by user are resolved to subs through svc.
func companyFromSpec(ctx context.Context, svc *auth.Service, poolID string, c *identity.Company, cs CompanySpec) ([]string, error) {
	var changed []string
	if cs.DisplayName != nil && c.DisplayName != *cs.DisplayName {
		c.DisplayName = *cs.DisplayName
		changed = append(changed, "display_name")
	}
	if cs.EmailDomains != nil {
		want := make([]string, 0, len(*cs.EmailDomains))
		for _, d := range *cs.EmailDomains {
			want = append(want, strings.ToLower(strings.TrimSpace(d)))
		}
		slices.Sort(want)
		if !slices.Equal(c.EmailDomains, want) && !(len(c.EmailDomains) == 0 && len(want) == 0) {
			c.EmailDomains = want
			changed = append(changed, "email_domains")
		}
	}
	if cs.Group != nil && c.Group != *cs.Group {
		c.Group = *cs.Group
		changed = append(changed, "group")
	}
	if cs.Status != nil && c.Status != *cs.Status {
		c.Status = *cs.Status
		changed = append(changed, "status")
	}
	if cs.RequireMFA != nil && c.RequireMFA != *cs.RequireMFA {
		c.RequireMFA = *cs.RequireMFA
		changed = append(changed, "require_mfa")
	}
	if cs.Approvers != nil {
		want := make([]identity.Approver, 0, len(*cs.Approvers))
		for _, a := range *cs.Approvers {
			if a.Email != "" {
				want = append(want, identity.Approver{Email: strings.ToLower(a.Email)})
				continue
			}
			ap, err := resolveApprover(ctx, svc, poolID, a.User)
			if err != nil {
				return nil, err
			}
			want = append(want, ap)
		}
		if !reflect.DeepEqual(c.Approvers, want) && !(len(c.Approvers) == 0 && len(want) == 0) {
			c.Approvers = want
			changed = append(changed, "approvers")
		}
	}
	return changed, nil
}

// resolveApprover turns an approver named by user (username, email or sub)
// into the user's sub; a user that has no account in the pool (or a pool
// about to be created, poolID "") and is named by an email address is an
// address approver awaiting that account. Any other unknown user is an
// error.
func resolveApprover(ctx context.Context, svc *auth.Service, poolID, user string) (identity.Approver, error) {
	if poolID != "" && svc != nil {
		v, err := svc.AdminGetUser(ctx, poolID, user)
		// An address stays awaiting its account until the account is
		// active with that address verified (as linkAwaitingApprovers
		// does): someone who signed up with it and never confirmed it does
		// not take the approver's place.
		if err == nil && (!looksLikeEmail(user) || (v.User.Status == identity.StatusConfirmed && v.User.EmailVerified)) {
			return identity.Approver{Sub: v.User.Sub}, nil
		}
		if err == nil {
			return identity.Approver{Email: strings.ToLower(strings.TrimSpace(user)), AwaitingAccount: true}, nil
		}
		if identity.ErrorCode(err) != identity.CodeUserNotFound {
			return identity.Approver{}, err
		}
	}
	if looksLikeEmail(user) {
		return identity.Approver{Email: strings.ToLower(strings.TrimSpace(user)), AwaitingAccount: true}, nil
	}
	if svc == nil {
		return identity.Approver{Sub: user}, nil // planning a new pool: checked when applied
	}
	return identity.Approver{}, fmt.Errorf("approver %q: no such user in the pool; name the person by email address to keep them as an address approver until they sign up", user)
}

func looksLikeEmail(s string) bool {
	at := strings.LastIndex(s, "@")
	return at > 0 && at < len(s)-1 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " \t\r\n")
}

// awaitingNote names the approvers of cs that have no account yet.
func awaitingNote(approvers []identity.Approver) string {
	var names []string
	for _, a := range approvers {
		if a.AwaitingAccount {
			names = append(names, a.Email)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "approvers without an account yet, emailed until they sign up: " + strings.Join(names, ", ")
}

// planCompanies plans the pool's companies; existing is nil for a pool
// about to be created.
func planCompanies(ctx context.Context, svc *auth.Service, ref *poolIDRef, poolName string, specs []CompanySpec, existing []*identity.Company) ([]Change, error) {
	var out []Change
	for _, cs := range specs {
		cs := cs
		idx := slices.IndexFunc(existing, func(c *identity.Company) bool { return strings.EqualFold(c.Name, cs.Name) })
		name := poolName + "/" + cs.Name
		if idx < 0 {
			scratch := &identity.Company{}
			if _, err := companyFromSpec(ctx, svc, ref.id, scratch, cs); err != nil {
				return nil, err
			}
			out = append(out, Change{Kind: ChangeCreate, What: "company", Name: name, Note: awaitingNote(scratch.Approvers),
				apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
					c := &identity.Company{PoolID: ref.id, Name: cs.Name}
					if _, err := companyFromSpec(ctx, svc, ref.id, c, cs); err != nil {
						return err
					}
					if _, err := svc.CreateCompany(ctx, c); err != nil {
						return err
					}
					fmt.Fprintf(w, "created company %s\n", name)
					return nil
				}})
			continue
		}
		cur := *existing[idx]
		changed, err := companyFromSpec(ctx, svc, ref.id, &cur, cs)
		if err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			out = append(out, Change{Kind: ChangeUnchanged, What: "company", Name: name, Note: awaitingNote(cur.Approvers)})
			continue
		}
		out = append(out, Change{Kind: ChangeUpdate, What: "company", Name: name, Fields: changed, Note: awaitingNote(cur.Approvers),
			apply: func(ctx context.Context, svc *auth.Service, w io.Writer) error {
				c, err := svc.GetCompany(ctx, ref.id, cs.Name)
				if err != nil {
					return err
				}
				if _, err := companyFromSpec(ctx, svc, ref.id, c, cs); err != nil {
					return err
				}
				if _, err := svc.UpdateCompany(ctx, c); err != nil {
					return err
				}
				fmt.Fprintf(w, "updated company %s\n", name)
				return nil
			}})
	}
	return out, nil
}

// allCompanies lists every company of the pool.
func allCompanies(ctx context.Context, svc *auth.Service, poolID string) ([]*identity.Company, error) {
	var out []*identity.Company
	tok := ""
	for {
		list, next, err := svc.ListCompanies(ctx, poolID, 0, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if next == "" {
			return out, nil
		}
		tok = next
	}
}
