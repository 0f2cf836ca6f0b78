package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// activateUser is the single place where a user becomes active: an
// UNCONFIRMED user becomes CONFIRMED (other statuses stay, e.g. an invited
// user keeps FORCE_CHANGE_PASSWORD), u is written, and the user joins the
// groups the pool's sign-up policy gives (activationGroups), each created
// on first use. It runs in the caller's transaction q. reason says why
// ("sign_up_confirmed", "approved", "auto_approved", "admin_confirm",
// "admin_create") and is audited (event "user.activate", when the status
// changed or groups were joined).
//
// Every activation path calls it: ConfirmSignUp in open pools, approval
// decisions, AdminConfirmSignUp, AdminCreateUser (console Invite, CLI
// `users create`, Cognito AdminCreateUser, the native API) and federated
// sign-ups, so a member gets the same groups whichever way they became
// active (security.md A4). (Hooks that fire on activation, such as
// PostConfirmation, belong here.)
//
// Errors: alias_exists (the email clashes with another user's), the
// store's errors.
func (s *Service) activateUser(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, reason string) error {
	changed := u.Status == identity.StatusUnconfirmed
	if changed {
		u.Status = identity.StatusConfirmed
	}
	groups, company, err := s.activationGroups(ctx, q, p, u)
	if err != nil {
		return err
	}
	// The company attribute is set to the company's canonical name, so
	// tokens carry the name the company is known by, not what was typed.
	// Without a company the attribute keeps what an admin stored (a
	// sign-up never stores one: takeCompany).
	if company != nil {
		setCompanyAttr(p, u, company.Name)
	}
	if reason != "admin_create" { // made in this transaction: last modified when created, as Cognito answers
		u.UpdatedAt = s.now()
	}
	if err := q.UpdateUser(ctx, u, uniqueEmailFor(p, u)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errAliasExists
		}
		return fmt.Errorf("update user: %w", err)
	}
	if err := s.linkAwaitingApprovers(ctx, q, p, u); err != nil {
		return err
	}
	for _, g := range groups {
		if err := s.ensureGroup(ctx, q, p.ID, g, ""); err != nil {
			return err
		}
		if err := q.AddUserToGroup(ctx, p.ID, u.Sub, g); err != nil {
			return fmt.Errorf("add to group %s: %w", g, err)
		}
	}
	if err := s.postConfirmationOnActivate(ctx, q, p, u); err != nil { // hooks: post_confirmation job
		return err
	}
	if !changed && len(groups) == 0 {
		return nil // nothing happened worth an audit event
	}
	detail := map[string]string{"reason": reason}
	if len(groups) > 0 {
		detail["groups"] = fmt.Sprint(groups)
	}
	return s.audit(ctx, q, p.ID, "user.activate", "user:"+u.Sub, detail)
}

// activationGroups returns the groups an activated user joins: the pool's
// default groups; the group of the domain rule matching the email; the
// group of the company the user belongs to — the company of an approved
// registration request, or the one an admin stored in the company
// attribute (AdminCreateUser), or that of the domain rule, or (in an
// allow-list pool) the company owning the verified email's domain. It also
// returns that company (nil if none, or not active).
func (s *Service) activationGroups(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) ([]string, *identity.Company, error) {
	pol := &p.Settings.SignUp
	set := map[string]bool{}
	for _, g := range pol.DefaultGroups {
		set[g] = true
	}
	var companyName string
	domain := emailDomain(u.Email)
	if r := domainRule(pol, domain); r != nil && u.Email != "" && u.EmailVerified {
		if r.Group != "" {
			set[r.Group] = true
		}
		companyName = r.Company
	}
	// Only an admin (or an earlier activation) stores the attribute.
	if v := strings.TrimSpace(u.Attributes[pol.CompanyAttr()]); v != "" {
		companyName = v
	}
	reg, err := q.GetRegistrationByUser(ctx, p.ID, u.Sub)
	switch {
	case err == nil:
		if reg.State == identity.RegApproved && reg.Company != "" {
			companyName = reg.Company
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, nil, fmt.Errorf("get registration: %w", err)
	}
	var company *identity.Company
	if companyName != "" {
		company, err = q.GetCompany(ctx, p.ID, companyName)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("get company: %w", err)
		}
	} else if pol.DomainAllowList && u.EmailVerified && domain != "" {
		company, err = q.GetCompanyByDomain(ctx, p.ID, domain)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("get company by domain: %w", err)
		}
	}
	if company != nil && company.Status != identity.CompanyActive {
		company = nil
	}
	if company != nil {
		set[companyGroup(company)] = true
	}
	groups := make([]string, 0, len(set))
	for g := range set {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	return groups, company, nil
}

// setCompanyAttr sets (or, with name "", removes) the pool's company
// attribute on u, when the pool's schema has it.
func setCompanyAttr(p *identity.Pool, u *identity.User, name string) {
	attr := p.Settings.SignUp.CompanyAttr()
	if attrDef(p, attr) == nil {
		return
	}
	if name == "" {
		delete(u.Attributes, attr)
		return
	}
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	u.Attributes[attr] = name
}

// companyGroup is the group a company's members join.
func companyGroup(c *identity.Company) string {
	if c.Group != "" {
		return c.Group
	}
	return c.Name
}
