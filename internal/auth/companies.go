package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Companies in a pool. Pool admins (API keys, the CLI, config apply)
// manage every company; a company admin — a pool user listed as one of
// the company's approvers, calling with their access token (actor
// "user:<sub>") — may read their own company, change its display name and
// approvers, and see and decide its requests, without pool-admin rights.

// Limits.
const (
	MaxCompanyNameLen    = 128
	MaxCompanyDomains    = 100
	MaxCompanyApprovers  = 100
	MaxCompanyLookup     = 10
	MaxCompanyPrefixLen  = 64
	companyNotFoundError = "Company not found."
)

// callerSub returns the sub of a user caller (a company admin), or "" for
// admin callers (API keys, CLI, system).
func callerSub(ctx context.Context) string {
	if id := identity.ActorFrom(ctx).ID; strings.HasPrefix(id, "user:") {
		return id[len("user:"):]
	}
	return ""
}

func isApprover(c *identity.Company, sub string) bool {
	for _, a := range c.Approvers {
		if a.Sub == sub {
			return true
		}
	}
	return false
}

// checkCompanyAccess lets admin callers through; a user caller must be an
// approver of the (active) company. adminOnly refuses user callers.
func (s *Service) checkCompanyAccess(ctx context.Context, q store.Querier, p *identity.Pool, company string, adminOnly bool) error {
	sub := callerSub(ctx)
	if sub == "" {
		return nil
	}
	forbidden := identity.Errorf(identity.CodeForbidden, "Only the pool's admins or the company's admins may do this.")
	if adminOnly || company == "" {
		return forbidden
	}
	c, err := q.GetCompany(ctx, p.ID, company)
	if errors.Is(err, store.ErrNotFound) {
		return forbidden
	}
	if err != nil {
		return err
	}
	if !isApprover(c, sub) {
		return forbidden
	}
	// The caller must be a user of this pool, enabled.
	u, err := q.GetUser(ctx, p.ID, sub)
	if err != nil || !u.Enabled {
		return forbidden
	}
	return nil
}

func containsApprover(list []identity.Approver, a identity.Approver) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// companiesOf returns the companies the user approves for, by name: an
// index read (store.ListCompaniesApprovedBy, migration 0030), whatever
// the number of companies in the pool. Approver status comes only from
// the companies' records, which only admins (and the activation of the
// verified owner of an awaited address) write.
func (s *Service) companiesOf(ctx context.Context, poolID, sub string) ([]*identity.Company, error) {
	if sub == "" {
		return nil, nil
	}
	list, err := s.cfg.Store.ListCompaniesApprovedBy(ctx, poolID, sub)
	if err != nil {
		return nil, fmt.Errorf("companies approved by user: %w", err)
	}
	// The index follows the records in the same transaction; the record
	// is still what decides.
	out := list[:0]
	for _, c := range list {
		if isApprover(c, sub) {
			out = append(out, c)
		}
	}
	return out, nil
}

// linkAwaitingApprovers makes u the approver of every company of the pool
// that lists u's email as an approver awaiting an account
// (identity.Approver.AwaitingAccount), in the caller's transaction q. It
// runs when u becomes active; the email must be verified, so only the
// owner of the address named in the company becomes its admin. The
// companies come from the approvers index
// (store.ListCompaniesAwaitingApprover), so every one is found at any
// number of companies.
func (s *Service) linkAwaitingApprovers(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	if u.Email == "" || !u.EmailVerified || !u.Enabled {
		return nil
	}
	email := strings.ToLower(u.Email)
	list, err := q.ListCompaniesAwaitingApprover(ctx, p.ID, email)
	if err != nil {
		return fmt.Errorf("companies awaiting approver: %w", err)
	}
	for _, c := range list {
		changed := false
		out := make([]identity.Approver, 0, len(c.Approvers))
		for _, a := range c.Approvers {
			if a.AwaitingAccount && strings.ToLower(a.Email) == email {
				changed = true
				a = identity.Approver{Sub: u.Sub}
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		if !changed {
			continue
		}
		c.Approvers, c.UpdatedAt = out, s.now()
		if err := q.UpdateCompany(ctx, c); err != nil {
			return companyStoreErr(err)
		}
		if err := s.audit(ctx, q, p.ID, "company.approver_linked", "company:"+c.Name,
			map[string]string{"email": email, "sub": u.Sub}); err != nil {
			return err
		}
	}
	return nil
}

// defaultGroupName derives a group name from a company name.
func defaultGroupName(name string) string {
	return strings.Join(strings.Fields(name), "-")
}

// normalizeCompany validates c and fills defaults, resolving approvers
// given by username to subs.
func (s *Service) normalizeCompany(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > MaxCompanyNameLen ||
		strings.IndexFunc(c.Name, unicode.IsControl) >= 0 {
		return identity.FieldError("name", "A company name of 1 to %d characters without control characters is required.", MaxCompanyNameLen)
	}
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	if c.DisplayName == "" {
		c.DisplayName = c.Name
	}
	if !utf8.ValidString(c.DisplayName) || utf8.RuneCountInString(c.DisplayName) > MaxCompanyNameLen ||
		strings.IndexFunc(c.DisplayName, unicode.IsControl) >= 0 {
		return identity.FieldError("display_name", "The display name must be at most %d characters without control characters.", MaxCompanyNameLen)
	}
	if c.Group == "" {
		c.Group = defaultGroupName(c.Name)
	}
	if err := validateGroupName("group", c.Group); err != nil {
		return err
	}
	switch c.Status {
	case "":
		c.Status = identity.CompanyActive
	case identity.CompanyActive, identity.CompanyDisabled:
	default:
		return identity.FieldError("status", "The status must be active or disabled.")
	}
	if len(c.EmailDomains) > MaxCompanyDomains {
		return identity.FieldError("email_domains", "At most %d email domains.", MaxCompanyDomains)
	}
	seen := map[string]bool{}
	doms := make([]string, 0, len(c.EmailDomains))
	for _, d := range c.EmailDomains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d == "" || !validHostname(d) || !strings.Contains(d, ".") {
			return identity.FieldError("email_domains", "Invalid email domain %q.", safeEcho(d))
		}
		if !seen[d] {
			seen[d] = true
			doms = append(doms, d)
		}
	}
	sort.Strings(doms)
	c.EmailDomains = doms
	if len(c.Approvers) > MaxCompanyApprovers {
		return identity.FieldError("approvers", "At most %d approvers.", MaxCompanyApprovers)
	}
	out := make([]identity.Approver, 0, len(c.Approvers))
	have := map[string]bool{}
	for _, a := range c.Approvers {
		switch {
		case a.AwaitingAccount && a.Email == "":
			return identity.FieldError("approvers", "An approver awaiting an account needs the email address of that account.")
		case a.Sub != "" && a.Email != "":
			return identity.FieldError("approvers", "An approver is either a user (sub or username) or an email address, not both.")
		case a.Sub != "":
			u, err := q.GetUser(ctx, p.ID, a.Sub)
			if errors.Is(err, store.ErrNotFound) {
				u, err = s.findUser(ctx, q, p, a.Sub)
			}
			if err != nil {
				if errors.Is(err, errUserNotFound) || errors.Is(err, store.ErrNotFound) {
					return identity.FieldError("approvers", "No user %q in this pool.", safeEcho(a.Sub))
				}
				return err
			}
			a = identity.Approver{Sub: u.Sub}
		case a.Email != "":
			e, err := validateEmail("approvers", a.Email)
			if err != nil {
				return err
			}
			a = identity.Approver{Email: strings.ToLower(e), AwaitingAccount: a.AwaitingAccount}
		default:
			return identity.FieldError("approvers", "An approver needs a user (sub or username) or an email address.")
		}
		key := a.Sub + "|" + a.Email + "|" + fmt.Sprint(a.AwaitingAccount)
		if !have[key] {
			have[key] = true
			out = append(out, a)
		}
	}
	c.Approvers = out
	c.PoolID = p.ID
	return nil
}

func companyStoreErr(err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return identity.Errorf(identity.CodeConflict, "A company with that name, or one of those email domains, already exists in the pool.")
	case errors.Is(err, store.ErrNotFound):
		return identity.Errorf(identity.CodeResourceNotFound, companyNotFoundError)
	}
	return err
}

// CreateCompany creates a company (pool admins only). Its group is
// created if missing.
//
// Errors: resource_not_found (pool), invalid_parameter, conflict (name
// taken case-insensitively, or a domain owned by another company),
// forbidden (a company admin).
func (s *Service) CreateCompany(ctx context.Context, c *identity.Company) (*identity.Company, error) {
	var out *identity.Company
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		if err := s.checkCompanyAccess(ctx, q, p, "", true); err != nil {
			return err
		}
		cp := *c
		if err := s.normalizeCompany(ctx, q, p, &cp); err != nil {
			return err
		}
		cp.CreatedAt, cp.UpdatedAt = s.now(), s.now()
		if err := q.CreateCompany(ctx, &cp); err != nil {
			return companyStoreErr(err)
		}
		if err := s.ensureGroup(ctx, q, p.ID, cp.Group, "Members of "+cp.DisplayName); err != nil {
			return err
		}
		out = &cp
		return s.audit(ctx, q, p.ID, "company.create", "company:"+cp.Name, map[string]string{"group": cp.Group})
	})
	return out, err
}

// GetCompany returns the company (name case-insensitive).
//
// Errors: resource_not_found, forbidden.
func (s *Service) GetCompany(ctx context.Context, poolID, name string) (*identity.Company, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	if err := s.checkCompanyAccess(ctx, s.cfg.Store, p, name, false); err != nil {
		return nil, err
	}
	c, err := s.cfg.Store.GetCompany(ctx, poolID, name)
	if err != nil {
		return nil, companyStoreErr(err)
	}
	return c, nil
}

// ListCompanies lists the pool's companies by name; a company admin gets
// only their own.
//
// Errors: resource_not_found, invalid_parameter (limit, token).
func (s *Service) ListCompanies(ctx context.Context, poolID string, limit int, token string) ([]*identity.Company, string, error) {
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return nil, "", err
	}
	if sub := callerSub(ctx); sub != "" {
		list, err := s.companiesOf(ctx, poolID, sub)
		return list, "", err
	}
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	return s.cfg.Store.ListCompanies(ctx, poolID, store.Page{Limit: n, Token: token})
}

// UpdateCompany replaces the company's settable fields with c's. A company
// admin may change only the display name and add approvers: removing one
// (a peer, or themself) is for a pool admin (security.md R3). The new
// group is created if missing.
//
// Errors: resource_not_found, invalid_parameter, conflict (domain taken),
// forbidden.
func (s *Service) UpdateCompany(ctx context.Context, c *identity.Company) (*identity.Company, error) {
	var out *identity.Company
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		if err := s.checkCompanyAccess(ctx, q, p, c.Name, false); err != nil {
			return err
		}
		cur, err := q.GetCompany(ctx, p.ID, c.Name)
		if err != nil {
			return companyStoreErr(err)
		}
		cp := *c
		cp.Name = cur.Name
		if sub := callerSub(ctx); sub != "" {
			if cp.Group != cur.Group || cp.Status != cur.Status || strings.Join(cp.EmailDomains, ",") != strings.Join(cur.EmailDomains, ",") {
				return identity.Errorf(identity.CodeForbidden, "A company admin may change only the display name and the approvers.")
			}
		}
		if err := s.normalizeCompany(ctx, q, p, &cp); err != nil {
			return err
		}
		if sub := callerSub(ctx); sub != "" {
			// Peers are equals: a company admin adds approvers but
			// removes none, themself included (security.md R3).
			for _, a := range cur.Approvers {
				if !containsApprover(cp.Approvers, a) {
					return identity.Errorf(identity.CodeForbidden, "A company admin may add approvers but not remove one; ask a pool admin.")
				}
			}
		}
		cp.CreatedAt, cp.UpdatedAt = cur.CreatedAt, s.now()
		if err := q.UpdateCompany(ctx, &cp); err != nil {
			return companyStoreErr(err)
		}
		if err := s.ensureGroup(ctx, q, p.ID, cp.Group, "Members of "+cp.DisplayName); err != nil {
			return err
		}
		out = &cp
		return s.audit(ctx, q, p.ID, "company.update", "company:"+cp.Name, nil)
	})
	return out, err
}

// DeleteCompany deletes the company (pool admins only). Its group and the
// group's members stay; pending requests naming it expire as usual.
//
// Errors: resource_not_found, forbidden.
func (s *Service) DeleteCompany(ctx context.Context, poolID, name string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		if err := s.checkCompanyAccess(ctx, q, p, "", true); err != nil {
			return err
		}
		if err := q.DeleteCompany(ctx, poolID, name); err != nil {
			return companyStoreErr(err)
		}
		return s.audit(ctx, q, poolID, "company.delete", "company:"+safeEcho(name), nil)
	})
}

// LookupCompanyNames is the public type-ahead for sign-up forms: up to 10
// display names of active companies starting with prefix (case- and
// accent-insensitive). The pool must enable it (sign_up.company_lookup).
// Callers rate-limit it per client address.
//
// Errors: resource_not_found (pool, or lookup disabled: the same answer),
// invalid_parameter (prefix empty or over 64 characters).
func (s *Service) LookupCompanyNames(ctx context.Context, poolID, prefix string) ([]string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	if !p.Settings.SignUp.CompanyLookup {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "Company lookup is not enabled for this pool.")
	}
	prefix = store.FoldName(prefix)
	if prefix == "" || utf8.RuneCountInString(prefix) > MaxCompanyPrefixLen || !utf8.ValidString(prefix) {
		return nil, identity.FieldError("prefix", "A prefix of 1 to %d characters is required.", MaxCompanyPrefixLen)
	}
	list, err := s.cfg.Store.SearchCompanies(ctx, poolID, prefix, MaxCompanyLookup)
	if err != nil {
		return nil, fmt.Errorf("search companies: %w", err)
	}
	names := make([]string, 0, len(list))
	for _, c := range list {
		names = append(names, c.DisplayName)
	}
	return names, nil
}
