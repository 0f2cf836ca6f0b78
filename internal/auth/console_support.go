package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Admin console support. The console (internal/web) signs people in with
// their Gatehouse accounts; ConsoleSignIn decides here, in the service,
// what they may do:
//
//   - a pool admin is an enabled, CONFIRMED user in the pool's console
//     admin group (PoolSettings.Console.AdminGroup, default "Admins"). The
//     returned context carries the actor "console:<sub>", an admin caller
//     for every service method, like an API key.
//   - a company admin is an enabled, CONFIRMED user listed (by sub) as an
//     approver of at least one company. The context carries "user:<sub>",
//     the same company-admin actor as the native API's access-token
//     callers, so every company and registration method checks the
//     company on its own (checkCompanyAccess).
//   - anyone else: forbidden.
//
// Methods that have no company-admin rules of their own (user actions,
// outbox, audit, dashboard) have a console variant here that checks the
// actor: a company admin acts only on members of their companies.

// ConsoleRole is what a console user may do.
type ConsoleRole struct {
	Sub, Username string
	// PoolAdmin: everything in the pool.
	PoolAdmin bool
	// Companies the user approves for (company admin), read on every
	// console request through the approvers index; not looked up for a
	// pool admin, who sees every company.
	Companies []*identity.Company
}

// ConsoleActorPrefix prefixes the actor of a pool admin in the console.
const ConsoleActorPrefix = "console:"

// ConsoleSignIn resolves the role of sub (a user of poolID with a valid
// hosted session) and returns ctx carrying the matching actor and ip.
//
// Errors: resource_not_found (pool), forbidden (no such user, disabled,
// not confirmed, neither pool admin nor company admin).
func (s *Service) ConsoleSignIn(ctx context.Context, poolID, sub, ip string) (context.Context, *ConsoleRole, error) {
	forbidden := identity.Errorf(identity.CodeForbidden, "Only the pool's admins and companies' admins may use the console.")
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return ctx, nil, err
	}
	u, err := s.cfg.Store.GetUser(ctx, p.ID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return ctx, nil, forbidden
	}
	if err != nil {
		return ctx, nil, wrapStoreErr("console sign-in", err)
	}
	if !u.Enabled || u.Status != identity.StatusConfirmed {
		return ctx, nil, forbidden
	}
	role := &ConsoleRole{Sub: u.Sub, Username: u.Username}
	admin, err := s.inAdminGroup(ctx, p, u.Sub)
	if err != nil {
		return ctx, nil, err
	}
	role.PoolAdmin = admin
	if !admin {
		if role.Companies, err = s.companiesOf(ctx, p.ID, u.Sub); err != nil {
			return ctx, nil, wrapStoreErr("console sign-in", err)
		}
	}
	sort.Slice(role.Companies, func(i, j int) bool { return role.Companies[i].Name < role.Companies[j].Name })
	switch {
	case role.PoolAdmin:
		return identity.WithActor(ctx, identity.Actor{ID: ConsoleActorPrefix + u.Sub, IP: ip, Via: identity.ViaConsole}), role, nil
	case len(role.Companies) > 0:
		return identity.WithActor(ctx, identity.Actor{ID: "user:" + u.Sub, IP: ip, Via: identity.ViaConsole}), role, nil
	}
	return ctx, nil, forbidden
}

func (s *Service) inAdminGroup(ctx context.Context, p *identity.Pool, sub string) (bool, error) {
	gs, err := s.cfg.Store.ListGroupsForUser(ctx, p.ID, sub)
	if err != nil {
		return false, wrapStoreErr("console groups", err)
	}
	want := p.Settings.Console.AdminGroupName()
	for _, g := range gs {
		if g.Name == want {
			return true, nil
		}
	}
	return false, nil
}

// RequirePoolAdmin returns forbidden unless ctx's actor is an admin of
// poolID: an admin caller (API key, CLI, system), or a console actor
// still in the pool's admin group. Company admins ("user:<sub>") are
// refused.
func (s *Service) RequirePoolAdmin(ctx context.Context, poolID string) error {
	forbidden := identity.Errorf(identity.CodeForbidden, "Only the pool's admins may do this.")
	id := identity.ActorFrom(ctx).ID
	if strings.HasPrefix(id, "user:") {
		return forbidden
	}
	if sub, ok := strings.CutPrefix(id, ConsoleActorPrefix); ok {
		p, err := s.getPool(ctx, s.cfg.Store, poolID)
		if err != nil {
			return err
		}
		u, err := s.cfg.Store.GetUser(ctx, p.ID, sub)
		if err != nil || !u.Enabled {
			return forbidden
		}
		ok, err := s.inAdminGroup(ctx, p, sub)
		if err != nil {
			return err
		}
		if !ok {
			return forbidden
		}
	}
	return nil
}

// checkMember lets pool admins through; a company admin may see a user
// only when the user is an approved member of a company they approve for
// (isMemberOf).
func (s *Service) checkMember(ctx context.Context, poolID, username string) (*identity.User, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return nil, err
	}
	if callerSub(ctx) == "" {
		return u, s.RequirePoolAdmin(ctx, poolID)
	}
	return u, s.checkMemberOfMine(ctx, s.cfg.Store, p, u)
}

var errNotYourMember = identity.Errorf(identity.CodeForbidden, "Only the pool's admins or the company's admins may do this.")

// checkMemberOfMine: the company admin of ctx approves for the company u
// is an approved member of (security.md R2).
func (s *Service) checkMemberOfMine(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	company := u.Attributes[p.Settings.SignUp.CompanyAttr()]
	if company == "" {
		return errNotYourMember
	}
	if err := s.checkCompanyAccess(ctx, q, p, company, false); err != nil {
		return err
	}
	ok, err := isMemberOf(ctx, q, p, u, company)
	if err != nil {
		return err
	}
	if !ok {
		return errNotYourMember
	}
	return nil
}

// isMemberOf reports whether u is an approved member of company: the
// company attribute names it and u is in the company's group. Both are
// written only by approvals and admins (membership.go); a value the user
// once wrote (before Gatehouse refused it) is not enough.
func isMemberOf(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, company string) (bool, error) {
	if !strings.EqualFold(u.Attributes[p.Settings.SignUp.CompanyAttr()], company) {
		return false, nil
	}
	c, err := q.GetCompany(ctx, p.ID, company)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	gs, err := q.ListGroupsForUser(ctx, p.ID, u.Sub)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if g.Name == companyGroup(c) {
			return true, nil
		}
	}
	return false, nil
}

// companyAdminActionKey marks a context in which ConsoleUserAction lets a
// company admin's action through to the Admin* method it names.
type companyAdminActionKey struct{}

// checkCompanyAdminTarget runs in the transaction of every admin action on
// a user (adminUserTx). Admin callers pass. A company admin ("user:<sub>")
// passes only inside ConsoleUserAction, and only on a plain approved
// member of a company they approve for: never on a pool admin (a member
// of the pool's admin group), nor on any company admin — of another
// company, or a peer of their own (peers are equals: one approver could
// otherwise lock the others out and then decide alone), themself apart
// (security.md R2, R3).
func (s *Service) checkCompanyAdminTarget(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	sub := callerSub(ctx)
	if sub == "" {
		return nil
	}
	if ok, _ := ctx.Value(companyAdminActionKey{}).(bool); !ok {
		return identity.Errorf(identity.CodeForbidden, "Only the pool's admins may do this.")
	}
	if err := s.checkMemberOfMine(ctx, q, p, u); err != nil {
		return err
	}
	if u.Sub == sub {
		return nil
	}
	gs, err := q.ListGroupsForUser(ctx, p.ID, u.Sub)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	for _, g := range gs {
		if g.Name == p.Settings.Console.AdminGroupName() {
			return identity.Errorf(identity.CodeForbidden, "A company admin cannot act on the pool's admins.")
		}
	}
	approves, err := approvesAny(ctx, q, p.ID, u.Sub)
	if err != nil {
		return err
	}
	if approves {
		return identity.Errorf(identity.CodeForbidden, "A company admin cannot act on another company admin; ask a pool admin.")
	}
	return nil
}

// approvesAny reports whether sub approves for any company of the pool
// (the approvers index, read in the caller's transaction q).
func approvesAny(ctx context.Context, q store.Querier, poolID, sub string) (bool, error) {
	list, err := q.ListCompaniesApprovedBy(ctx, poolID, sub)
	if err != nil {
		return false, fmt.Errorf("companies approved by user: %w", err)
	}
	for _, c := range list {
		if isApprover(c, sub) {
			return true, nil
		}
	}
	return false, nil
}

// Console user actions (ConsoleUserAction).
const (
	ConsoleDisable       = "disable"
	ConsoleEnable        = "enable"
	ConsoleResetPassword = "reset_password"
	ConsoleSignOut       = "sign_out"
	ConsoleDelete        = "delete"
	ConsoleResetMFA      = "reset_mfa"
)

// ConsoleGetUser returns a user the caller may see: any user for a pool
// admin, members of their companies for a company admin.
//
// Errors: resource_not_found, user_not_found, forbidden.
func (s *Service) ConsoleGetUser(ctx context.Context, poolID, username string) (*UserView, error) {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	return s.AdminGetUser(ctx, poolID, u.Username)
}

// ConsoleUserAction disables, enables, resets the password of, signs out
// everywhere or deletes a user, through the same Admin* methods as the
// API and CLI (same audit events), after checking the caller may act on
// the user. A user cannot disable or delete themself here. A company
// admin acts on plain members of their companies only, never on a pool
// admin or another company admin; that is checked again inside the
// action's transaction (checkCompanyAdminTarget).
//
// Errors: those of the Admin* methods; forbidden; invalid_parameter
// (unknown action, acting on oneself).
func (s *Service) ConsoleUserAction(ctx context.Context, poolID, username, action string) error {
	u, err := s.checkMember(ctx, poolID, username)
	if err != nil {
		return err
	}
	self := identity.ActorFrom(ctx).ID
	if (action == ConsoleDisable || action == ConsoleDelete) && (self == "user:"+u.Sub || self == ConsoleActorPrefix+u.Sub) {
		return identity.Errorf(identity.CodeInvalidParameter, "You cannot disable or delete your own account here.")
	}
	if callerSub(ctx) != "" {
		ctx = context.WithValue(ctx, companyAdminActionKey{}, true)
	}
	switch action {
	case ConsoleDisable:
		return s.AdminDisableUser(ctx, poolID, u.Username)
	case ConsoleEnable:
		return s.AdminEnableUser(ctx, poolID, u.Username)
	case ConsoleResetPassword:
		return s.AdminResetUserPassword(ctx, poolID, u.Username)
	case ConsoleSignOut:
		return s.AdminUserGlobalSignOut(ctx, poolID, u.Username)
	case ConsoleDelete:
		return s.AdminDeleteUser(ctx, poolID, u.Username)
	case ConsoleResetMFA:
		return s.AdminResetUserMFA(ctx, poolID, u.Username)
	}
	return identity.FieldError("action", "Unknown action %q.", safeEcho(action))
}

// ConsoleCompanyMembers lists the members of a company's group for a pool
// admin or the company's admin.
//
// Errors: resource_not_found, forbidden.
func (s *Service) ConsoleCompanyMembers(ctx context.Context, poolID, company string, limit int, token string) ([]*identity.User, string, error) {
	c, err := s.GetCompany(ctx, poolID, company)
	if err != nil {
		return nil, "", err
	}
	us, next, err := s.ListUsersInGroup(ctx, poolID, c.Group, limit, token)
	if identity.ErrorCode(err) == identity.CodeResourceNotFound {
		return nil, "", nil
	}
	return us, next, err
}

// ConsoleAuditQuery is AuditQuery with a time window (zero: open).
type ConsoleAuditQuery struct {
	AuditQuery
	Since, Until time.Time
}

// ConsoleAudit is Audit for a pool admin of f.PoolID, with a time window.
//
// Errors: forbidden; invalid_parameter (pool, limit, token).
func (s *Service) ConsoleAudit(ctx context.Context, f ConsoleAuditQuery) ([]*identity.AuditEvent, string, error) {
	if f.PoolID == "" {
		return nil, "", identity.FieldError("pool", "A pool is required.")
	}
	if err := s.RequirePoolAdmin(ctx, f.PoolID); err != nil {
		return nil, "", err
	}
	n := f.Limit
	if n == 0 {
		n = DefaultAuditLimit
	}
	if n < 1 || n > MaxAuditLimit {
		return nil, "", identity.FieldError("limit", "The limit must be between 1 and %d.", MaxAuditLimit)
	}
	evs, next, err := s.cfg.Store.ListAudit(ctx, store.AuditFilter{
		PoolID: f.PoolID, Actor: f.Actor, Subject: f.Subject, Action: f.Action, Since: f.Since, Until: f.Until,
	}, page{Limit: n, Token: f.Token})
	if err != nil {
		return nil, "", wrapStoreErr("list audit", err)
	}
	return normalizeEvents(evs), next, nil
}

// ConsoleEmails is ListEmails of one pool for its pool admins.
//
// Errors: forbidden; those of ListEmails.
func (s *Service) ConsoleEmails(ctx context.Context, poolID, status string, limit int, token string) ([]*identity.Email, string, error) {
	if poolID == "" {
		return nil, "", identity.FieldError("pool", "A pool is required.")
	}
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return nil, "", err
	}
	return s.ListEmails(ctx, poolID, status, limit, token)
}

// Dashboard is what the console's dashboard charts.
type Dashboard struct {
	Days []time.Time // midnight UTC of each day, oldest first
	// SignUps and SignInFailures count per day of Days.
	SignUps        []int
	SignInFailures []int // nil for company admins
	// PendingAges are the ages of pending requests, oldest first.
	PendingAges []time.Duration
	// DecisionTimes are creation-to-decision times of requests decided in
	// the window, by decision day.
	DecisionTimes []time.Duration
	Approved      int
	Denied        int
	// Truncated: more records than scanned (the counts are a floor).
	Truncated bool
}

// dashboardScan caps the records a dashboard reads.
const dashboardScan = 5000

// ConsoleDashboard summarises the last days (1..90) for the caller: the
// whole pool for a pool admin, their companies' requests for a company
// admin (without sign-in failures).
//
// Errors: resource_not_found, forbidden, invalid_parameter (days).
func (s *Service) ConsoleDashboard(ctx context.Context, poolID string, days int) (*Dashboard, error) {
	if days < 1 || days > 90 {
		return nil, identity.FieldError("days", "days must be between 1 and 90.")
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	start := today.AddDate(0, 0, -(days - 1))
	d := &Dashboard{SignUps: make([]int, days)}
	for i := 0; i < days; i++ {
		d.Days = append(d.Days, start.AddDate(0, 0, i))
	}
	day := func(t time.Time) int {
		if t.Before(start) {
			return -1
		}
		i := int(t.UTC().Sub(start) / (24 * time.Hour))
		if i >= days {
			return -1
		}
		return i
	}
	var companies []string
	if sub := callerSub(ctx); sub != "" {
		mine, err := s.companiesOf(ctx, p.ID, sub)
		if err != nil {
			return nil, wrapStoreErr("dashboard", err)
		}
		if len(mine) == 0 {
			return nil, identity.Errorf(identity.CodeForbidden, "Only the pool's admins or the company's admins may do this.")
		}
		for _, c := range mine {
			companies = append(companies, c.Name)
		}
	} else {
		if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
			return nil, err
		}
		companies = []string{""}
	}
	for _, c := range companies {
		tok, n := "", 0
		for {
			list, next, err := s.cfg.Store.ListRegistrations(ctx, p.ID, store.RegistrationFilter{Company: c}, store.Page{Limit: 1000, Token: tok})
			if err != nil {
				return nil, wrapStoreErr("dashboard", err)
			}
			stop := false
			for _, r := range list {
				n++
				if r.CreatedAt.Before(start) && r.State.Final() {
					// Newest first: older requests only matter while pending.
					if r.DecidedAt.Before(start) {
						continue
					}
				}
				if i := day(r.CreatedAt); i >= 0 {
					d.SignUps[i]++
				}
				switch r.State {
				case identity.RegPending, identity.RegAwaitingVerification:
					if r.State == identity.RegPending {
						d.PendingAges = append(d.PendingAges, now.Sub(r.CreatedAt))
					}
				case identity.RegApproved, identity.RegDenied:
					if r.DecidedBy != "system" && day(r.DecidedAt) >= 0 {
						d.DecisionTimes = append(d.DecisionTimes, r.DecidedAt.Sub(r.CreatedAt))
						if r.State == identity.RegApproved {
							d.Approved++
						} else {
							d.Denied++
						}
					}
				}
			}
			if n >= dashboardScan {
				d.Truncated = next != ""
				stop = true
			}
			if next == "" || stop {
				break
			}
			tok = next
		}
	}
	sort.Slice(d.PendingAges, func(i, j int) bool { return d.PendingAges[i] > d.PendingAges[j] })
	if callerSub(ctx) == "" {
		d.SignInFailures = make([]int, days)
		tok, n := "", 0
	scan:
		for {
			evs, next, err := s.cfg.Store.ListAudit(ctx, store.AuditFilter{PoolID: p.ID, Action: "user.sign_in_failed"}, store.Page{Limit: 1000, Token: tok})
			if err != nil {
				return nil, wrapStoreErr("dashboard", err)
			}
			for _, e := range evs {
				n++
				if e.Time.Before(start) {
					break scan
				}
				if i := day(e.Time); i >= 0 {
					d.SignInFailures[i]++
				}
			}
			if n >= dashboardScan {
				d.Truncated = d.Truncated || next != ""
				break
			}
			if next == "" {
				break
			}
			tok = next
		}
	}
	return d, nil
}

// ConsoleUsernames maps the subs of poolID's users to their usernames
// for a pool admin of poolID; subs of users that are gone are left out.
// At most 200 distinct subs are looked up. (The console shapes the names
// it shows from it, internal/web consoleNames.)
//
// Errors: forbidden.
func (s *Service) ConsoleUsernames(ctx context.Context, poolID string, subs []string) (map[string]string, error) {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return nil, err
	}
	out := map[string]string{}
	seen := map[string]bool{}
	for _, sub := range subs {
		if seen[sub] || len(seen) >= 200 {
			continue
		}
		seen[sub] = true
		u, err := s.cfg.Store.GetUser(ctx, poolID, sub)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, wrapStoreErr("console names", err)
		}
		out[sub] = u.Username
	}
	return out, nil
}
