package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Sign-up policies (identity.SignUpPolicy): where each applies.
//
//	SignUp         checkSignUpPolicy (domain allow-list, company attribute),
//	               then, in the sign-up transaction, startRegistration
//	               (approval pools)
//	ConfirmSignUp  afterEmailVerified: activateUser, or hand the request
//	               to the approvers (registrationVerified)
//	admin confirm  activateUser (and approves a pending request)

// emailDomain returns the lower-cased domain of an address.
func emailDomain(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return strings.ToLower(email[at+1:])
	}
	return ""
}

// domainRule returns the pool's rule for domain, if any.
func domainRule(pol *identity.SignUpPolicy, domain string) *identity.DomainRule {
	for i := range pol.Domains {
		if strings.EqualFold(pol.Domains[i].Domain, domain) {
			return &pol.Domains[i]
		}
	}
	return nil
}

// checkSignUpPolicy refuses a sign-up the pool's policy does not allow,
// before anything is written. Errors: invalid_parameter on "email" (a
// domain outside the allow-list) or on the company attribute (missing in
// an approval pool).
func (s *Service) checkSignUpPolicy(ctx context.Context, p *identity.Pool, email string, attrs map[string]string) error {
	pol := &p.Settings.SignUp
	if pol.DomainAllowList {
		d := emailDomain(email)
		if domainRule(pol, d) == nil {
			_, err := s.cfg.Store.GetCompanyByDomain(ctx, p.ID, d)
			if errors.Is(err, store.ErrNotFound) {
				return identity.FieldError("email", "Sign-up is not open to email addresses at %s.", safeEcho(d))
			}
			if err != nil {
				return fmt.Errorf("company by domain: %w", err)
			}
		}
	}
	if pol.Approval != nil && strings.TrimSpace(attrs[pol.CompanyAttr()]) == "" {
		return identity.FieldError(pol.CompanyAttr(), "The attribute %s is required: name the company you work for.", pol.CompanyAttr())
	}
	return nil
}

// afterEmailVerified runs in ConfirmSignUp's transaction once the code
// matched: u (reloaded, EmailVerified set) is written, and either
// activated, or — in an approval pool — left UNCONFIRMED while its
// request goes to the approvers.
func (s *Service) afterEmailVerified(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, meta RequestMeta) error {
	reg, err := q.GetRegistrationByUser(ctx, p.ID, u.Sub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		reg = nil
	case err != nil:
		return fmt.Errorf("get registration: %w", err)
	}
	if reg == nil || reg.State == identity.RegApproved {
		return s.activateUser(ctx, q, p, u, "sign_up_confirmed")
	}
	if err := q.UpdateUser(ctx, u, uniqueEmailFor(p, u)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errAliasExists
		}
		return fmt.Errorf("update user: %w", err)
	}
	if reg.State == identity.RegPending {
		return errApprovalPending
	}
	if reg.State != identity.RegAwaitingVerification {
		return identity.Errorf(identity.CodeUserNotConfirmed, "The sign-up is waiting for approval (%s).", reg.State)
	}
	return s.registrationVerified(ctx, q, p, u, reg, meta)
}

// ensureGroup creates the group if it does not exist.
func (s *Service) ensureGroup(ctx context.Context, q store.Querier, poolID, name, description string) error {
	_, err := q.GetGroup(ctx, poolID, name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("get group %s: %w", name, err)
	}
	now := s.now()
	err = q.CreateGroup(ctx, &identity.Group{PoolID: poolID, Name: name, Description: description, CreatedAt: now, UpdatedAt: now})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("create group %s: %w", name, err)
	}
	return nil
}

// validateSignUpPolicy checks and normalises a pool's sign-up policy; it
// returns the first of signUpPolicyErrors.
func validateSignUpPolicy(pol *identity.SignUpPolicy) error {
	if errs := signUpPolicyErrors(pol); len(errs) > 0 {
		return errs[0].Err
	}
	return nil
}

// SignUpPolicyError is one problem of a sign-up policy: Err names the
// field as the API reports it (e.g. "sign_up.domains"); Index is the list
// item at fault (a domain rule, a default group, a pool-admin address), or
// -1 for the field as a whole.
type SignUpPolicyError struct {
	Err   *identity.Error
	Index int
}

// SignUpPolicyErrors is every problem of a sign-up policy, in field order
// (UpdateSignUpPolicy). errors.As finds the first *identity.Error, so it
// maps like that error (invalid_parameter).
type SignUpPolicyErrors []SignUpPolicyError

func (e SignUpPolicyErrors) Error() string {
	msgs := make([]string, len(e))
	for i, x := range e {
		msgs[i] = x.Err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e SignUpPolicyErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, x := range e {
		out[i] = x.Err
	}
	return out
}

// signUpPolicyErrors checks and normalises a pool's sign-up policy and
// returns every problem (nil: valid).
func signUpPolicyErrors(pol *identity.SignUpPolicy) SignUpPolicyErrors {
	var errs SignUpPolicyErrors
	add := func(i int, err error) {
		var ie *identity.Error
		if errors.As(err, &ie) {
			errs = append(errs, SignUpPolicyError{Err: ie, Index: i})
		}
	}
	seen := map[string]bool{}
	for i := range pol.Domains {
		r := &pol.Domains[i]
		r.Domain = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(r.Domain, "@")))
		switch {
		case r.Domain == "" || !validHostname(r.Domain):
			add(i, identity.FieldError("sign_up.domains", "Invalid email domain %q.", safeEcho(r.Domain)))
			continue
		case seen[r.Domain]:
			add(i, identity.FieldError("sign_up.domains", "The domain %s is listed twice.", r.Domain))
			continue
		}
		seen[r.Domain] = true
		if r.Group == "" && r.Company == "" {
			add(i, identity.FieldError("sign_up.domains", "The domain %s must map to a group or a company.", r.Domain))
			continue
		}
		if r.Group != "" {
			add(i, validateGroupName("sign_up.domains.group", r.Group))
		}
	}
	for i, g := range pol.DefaultGroups {
		add(i, validateGroupName("sign_up.default_groups", g))
	}
	if a := pol.CompanyAttribute; a != "" && !strings.HasPrefix(a, "custom:") && !StandardAttributes[a] {
		add(-1, identity.FieldError("sign_up.company_attribute", "The company attribute must be a custom:* or standard attribute."))
	}
	if ap := pol.Approval; ap != nil {
		switch ap.OnDeny {
		case "", identity.OnDenyDelete, identity.OnDenyDisable:
		default:
			add(-1, identity.FieldError("sign_up.approval.on_deny", "on_deny must be delete or disable."))
		}
		switch ap.OnNoApprover {
		case "", identity.NoApproverReject, identity.NoApproverAdmins:
		default:
			add(-1, identity.FieldError("sign_up.approval.on_no_approver", "on_no_approver must be reject or admins."))
		}
		if ap.Expiry < 0 || ap.Expiry > 365*24*time.Hour {
			add(-1, identity.FieldError("sign_up.approval.expiry", "The expiry must be between 0 (default, 7 days) and 365 days."))
		}
		for i, a := range ap.PoolAdmins {
			e, err := validateEmail("sign_up.approval.pool_admins", a)
			if err != nil {
				add(i, err)
				continue
			}
			ap.PoolAdmins[i] = e
		}
		if ap.OnNoApprover == identity.NoApproverAdmins && len(ap.PoolAdmins) == 0 {
			add(-1, identity.FieldError("sign_up.approval.pool_admins", "on_no_approver=admins needs at least one pool admin address."))
		}
	}
	return errs
}
