package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/approval"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// The registration approval workflow (state table: internal/approval).
// Every step runs in one store transaction together with the jobs and
// outbox emails it causes and its audit event.

// RegistrationLink is what an approve or deny link shows.
type RegistrationLink struct {
	Request  *identity.RegistrationRequest
	PoolName string
	Action   identity.Decision // what this link does
	Approver string            // whose link it is
	// Decided: the request is no longer pending (Request.DecidedBy and
	// DecidedAt say who and when).
	Decided bool
}

// RegistrationDetail is a request with its audit trail.
type RegistrationDetail struct {
	Request *identity.RegistrationRequest
	Events  []*identity.AuditEvent
}

// startRegistration runs in SignUp's transaction in a pool with an
// approval policy: it writes the request (awaiting_verification) for the
// company the applicant named (company, see takeCompany) and its expiry
// and reminder jobs, due at their deadlines.
func (s *Service) startRegistration(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, company string, meta RequestMeta) error {
	pol := &p.Settings.SignUp
	if pol.Approval == nil {
		return nil
	}
	id, err := approval.NewRequestID(s.cfg.Rand)
	if err != nil {
		return err
	}
	now := s.now()
	// The reminder is scheduled when approvers are first asked
	// (registrationVerified), so an applicant who verifies late still
	// gets one.
	expires, _ := approval.Deadlines(pol.Approval, now)
	r := &identity.RegistrationRequest{
		ID: id, PoolID: p.ID, UserSub: u.Sub, Username: u.Username, Email: u.Email,
		CompanyName: strings.TrimSpace(company),
		State:       identity.RegAwaitingVerification,
		IP:          meta.IP, UserAgent: truncate(meta.UserAgent, 512),
		ExpiresAt: expires, CreatedAt: now, UpdatedAt: now,
	}
	if err := q.CreateRegistration(ctx, r); err != nil {
		return fmt.Errorf("create registration: %w", err)
	}
	payload := approval.JobPayload{PoolID: p.ID, RequestID: r.ID}
	if _, err := jobs.EnqueueForPool(ctx, q, p.ID, approval.JobExpire, payload, expires); err != nil {
		return err
	}
	return s.auditRegistration(ctx, q, r, "registration.create", meta, map[string]string{"company_name": safeEcho(r.CompanyName)})
}

// registrationVerified runs in ConfirmSignUp's transaction: the applicant
// proved the email, so the request goes to the approvers (pending), is
// approved at once (auto-approve by domain), or ends (no_approver).
func (s *Service) registrationVerified(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, r *identity.RegistrationRequest, meta RequestMeta) error {
	ap := p.Settings.SignUp.Approval
	if ap == nil {
		ap = &identity.ApprovalPolicy{}
	}
	company, err := s.activeCompany(ctx, q, p.ID, r.CompanyName)
	if err != nil {
		return err
	}
	from := r.State
	if company != nil {
		r.Company = company.Name
		if ap.AutoApproveCompanyDomain && contains(company.EmailDomains, emailDomain(u.Email)) {
			if err := s.moveRegistration(ctx, q, r, from, approval.EventAutoApprove, "system", "auto_approved"); err != nil {
				return err
			}
			if err := s.activateUser(ctx, q, p, u, "auto_approved"); err != nil {
				return err
			}
			if err := s.notifyApplicant(ctx, q, p, r, u, approval.TemplateApproved, ""); err != nil {
				return err
			}
			return s.auditRegistration(ctx, q, r, "registration.auto_approve", meta, nil)
		}
	}
	approvers, err := s.approverEmails(ctx, q, p, company)
	if err != nil {
		return err
	}
	reason := ""
	if len(approvers) == 0 {
		reason = "unknown_company"
		if company != nil {
			reason = "no_approver"
		}
		if ap.OnNoApprover != identity.NoApproverAdmins {
			if err := s.moveRegistration(ctx, q, r, from, approval.EventNoApprover, "system", reason); err != nil {
				return err
			}
			if err := s.endApplicant(ctx, q, p, r, u, applicantReason(r, reason, p)); err != nil {
				return err
			}
			return s.auditRegistration(ctx, q, r, "registration.no_approver", meta, map[string]string{"reason": reason})
		}
		approvers = ap.PoolAdmins
		reason = "routed_to_pool_admins:" + reason
	}
	if err := s.moveRegistration(ctx, q, r, from, approval.EventVerified, "", reason); err != nil {
		return err
	}
	if err := s.askApprovers(ctx, q, p, r, approvers, approval.NoticeApproval, approval.TemplateApproval); err != nil {
		return err
	}
	if remind := approval.ReminderAt(ap, s.now(), r.ExpiresAt); !remind.IsZero() {
		payload := approval.JobPayload{PoolID: p.ID, RequestID: r.ID}
		if _, err := jobs.EnqueueForPool(ctx, q, p.ID, approval.JobRemind, payload, remind); err != nil {
			return err
		}
	}
	return s.auditRegistration(ctx, q, r, "registration.pending", meta, map[string]string{"approvers": strings.Join(approvers, ","), "reason": reason})
}

// activeCompany returns the active company named name, or nil.
func (s *Service) activeCompany(ctx context.Context, q store.Querier, poolID, name string) (*identity.Company, error) {
	if strings.TrimSpace(name) == "" {
		return nil, nil
	}
	c, err := q.GetCompany(ctx, poolID, name)
	if errors.Is(err, store.ErrNotFound) {
		// The applicant may have typed the display name (the type-ahead
		// shows display names): match it case- and accent-insensitively.
		key := store.FoldName(name)
		list, serr := q.SearchCompanies(ctx, poolID, key, MaxCompanyLookup)
		if serr != nil {
			return nil, fmt.Errorf("search companies: %w", serr)
		}
		for _, x := range list {
			if store.FoldName(x.DisplayName) == key {
				return q.GetCompany(ctx, poolID, x.Name)
			}
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get company: %w", err)
	}
	if c.Status != identity.CompanyActive {
		return nil, nil
	}
	return c, nil
}

// approverEmails resolves a company's approvers to addresses: pool users
// that exist, are enabled and have an email; plain addresses as given.
func (s *Service) approverEmails(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company) ([]string, error) {
	if c == nil {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range c.Approvers {
		addr := strings.ToLower(a.Email)
		if a.Sub != "" {
			u, err := q.GetUser(ctx, p.ID, a.Sub)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("get approver: %w", err)
			}
			if !u.Enabled || u.Email == "" || u.Status == identity.StatusUnconfirmed {
				continue
			}
			addr = u.Email
		}
		if addr != "" && !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	return out, nil
}

// moveRegistration applies ev to r (whose stored state is from) with a
// compare-and-set. A lost race is a conflict error naming the new state.
func (s *Service) moveRegistration(ctx context.Context, q store.Querier, r *identity.RegistrationRequest, from identity.RegistrationState, ev approval.Event, decidedBy, reason string) error {
	to, err := approval.Next(from, ev)
	if err != nil {
		return err
	}
	now := s.now()
	r.State, r.Reason, r.UpdatedAt = to, reason, now
	if to.Final() {
		// The one actor form (identity.Actor.Who), and the surface.
		_, via := identity.ActorFrom(ctx).Recorded(ctx)
		r.DecidedAt = now
		r.DecidedBy, r.DecidedVia = identity.NormalizeActor(decidedBy, via)
	}
	ok, err := q.TransitionRegistration(ctx, r, from)
	if err != nil {
		return fmt.Errorf("transition registration: %w", err)
	}
	if !ok {
		return identity.Errorf(identity.CodeConflict, "The request was decided meanwhile.")
	}
	if to.Final() {
		if err := q.UseRegistrationTokens(ctx, r.ID, now); err != nil {
			return fmt.Errorf("use tokens: %w", err)
		}
	}
	return nil
}

// askApprovers sends each approver (once per notice kind) an email with
// an approve and a deny link, each carrying a new single-use token bound
// to the request, the approver and the action.
func (s *Service) askApprovers(ctx context.Context, q store.Querier, p *identity.Pool, r *identity.RegistrationRequest, approvers []string, kind, template string) error {
	now := s.now()
	base := s.cfg.BaseURL
	if p.BaseURL != "" {
		base = p.BaseURL
	}
	company := r.Company
	if company == "" {
		company = r.CompanyName
	}
	for _, a := range approvers {
		fresh, err := q.RecordNotice(ctx, r.ID, a, kind, now)
		if err != nil {
			return fmt.Errorf("record notice: %w", err)
		}
		if !fresh {
			continue
		}
		links := map[identity.Decision]string{}
		for _, act := range []identity.Decision{identity.DecisionApprove, identity.DecisionDeny} {
			raw, hash, err := approval.NewToken(s.cfg.Rand)
			if err != nil {
				return err
			}
			if err := q.InsertRegistrationToken(ctx, &identity.RegistrationToken{Hash: hash, RequestID: r.ID, PoolID: p.ID,
				Approver: a, Action: act, ExpiresAt: r.ExpiresAt, CreatedAt: now}); err != nil {
				return fmt.Errorf("insert token: %w", err)
			}
			links[act] = approval.LinkURL(base, p.ID, raw)
		}
		data := map[string]any{
			"ApplicantEmail": r.Email, "Company": company, "RequestedAt": r.CreatedAt.UTC().Format(time.RFC1123),
			"FromIP": orDash(r.IP), "UserAgent": orDash(r.UserAgent),
			"ApproveURL": links[identity.DecisionApprove], "DenyURL": links[identity.DecisionDeny],
			"ExpiresIn": humanDuration(r.ExpiresAt.Sub(now).Round(time.Minute)),
		}
		if _, err := s.cfg.Mail.Enqueue(ctx, q, p, a, template, data); err != nil {
			return fmt.Errorf("approval email: %w", err)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// notifyApplicant emails the applicant the outcome, once per request.
// Only a verified address gets it.
func (s *Service) notifyApplicant(ctx context.Context, q store.Querier, p *identity.Pool, r *identity.RegistrationRequest, u *identity.User, template, reason string) error {
	if u == nil || u.Email == "" || !u.EmailVerified {
		return nil
	}
	fresh, err := q.RecordNotice(ctx, r.ID, u.Email, approval.NoticeOutcome, s.now())
	if err != nil || !fresh {
		return err
	}
	company := r.Company
	if company == "" {
		company = r.CompanyName
	}
	_, err = s.cfg.Mail.Enqueue(ctx, q, p, u.Email, template, map[string]any{
		"Username": displayUsername(p, u), "Company": company, "Reason": reason,
	})
	return err
}

// endApplicant removes (or, with on_deny=disable, disables) the applicant
// of a request that ended without approval and tells them why.
func (s *Service) endApplicant(ctx context.Context, q store.Querier, p *identity.Pool, r *identity.RegistrationRequest, u *identity.User, reason string) error {
	if u == nil {
		return nil
	}
	if err := s.notifyApplicant(ctx, q, p, r, u, approval.TemplateDenied, reason); err != nil {
		return err
	}
	ap := p.Settings.SignUp.Approval
	if ap != nil && ap.OnDeny == identity.OnDenyDisable {
		u.Enabled = false
		u.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, u, uniqueEmailFor(p, u)); err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if err := q.RevokeUserRefreshTokens(ctx, p.ID, u.Sub, s.now()); err != nil {
			return err
		}
		return s.enqueueBackchannelLogout(ctx, q, p, u.Sub)
	}
	if err := s.enqueueBackchannelLogout(ctx, q, p, u.Sub); err != nil {
		return err
	}
	if err := q.DeleteUser(ctx, p.ID, u.Sub); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// applicantReason is the sentence the applicant reads.
func applicantReason(r *identity.RegistrationRequest, reason string, p *identity.Pool) string {
	kept := p.Settings.SignUp.Approval != nil && p.Settings.SignUp.Approval.OnDeny == identity.OnDenyDisable
	end := " Your account was removed; you may sign up again."
	if kept {
		end = " Your account was not activated."
	}
	switch reason {
	case "unknown_company":
		return fmt.Sprintf("We could not find the company %q, so nobody could approve your sign-up.", r.CompanyName) + end
	case "no_approver":
		return fmt.Sprintf("Nobody at %s can approve sign-ups at the moment.", r.Company) + end
	case "expired":
		return fmt.Sprintf("Nobody decided your request to join %s in time.", firstNonEmpty(r.Company, r.CompanyName)) + end
	}
	if kept {
		return fmt.Sprintf("Your request to join %s was denied. Your account was not activated.", firstNonEmpty(r.Company, r.CompanyName))
	}
	return fmt.Sprintf("Your request to join %s was denied. Your account was removed.", firstNonEmpty(r.Company, r.CompanyName))
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// auditRegistration records a transition: who (the context's actor),
// what, when, from where (IP and user agent).
func (s *Service) auditRegistration(ctx context.Context, q store.Querier, r *identity.RegistrationRequest, action string, meta RequestMeta, detail map[string]string) error {
	a := identity.AuditActor(ctx)
	if detail == nil {
		detail = map[string]string{}
	}
	detail["state"] = string(r.State)
	detail["user"] = r.UserSub
	if meta.UserAgent != "" {
		detail["user_agent"] = truncate(meta.UserAgent, 512)
	}
	ip := a.IP
	if ip == "" {
		ip = meta.IP
	}
	who, via := a.Recorded(ctx)
	e := &identity.AuditEvent{PoolID: r.PoolID, Time: s.now(), Actor: who, Via: via, Action: action, Subject: "registration:" + r.ID, Detail: detail, IP: ip}
	if err := q.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// decide applies an approve or deny decision to the request id in one
// transaction: compare-and-set from pending, every token of the request
// used, the applicant activated (approve) or removed/disabled (deny) and
// emailed. check, if not nil, runs on the reloaded request first (access).
func (s *Service) decide(ctx context.Context, p *identity.Pool, id string, d identity.Decision, decidedBy, note string, meta RequestMeta,
	check func(q store.Querier, r *identity.RegistrationRequest) error) (*identity.RegistrationRequest, error) {
	ev, err := approval.DecisionEvent(d)
	if err != nil {
		return nil, err
	}
	if len(note) > 1000 {
		return nil, identity.FieldError("reason", "The reason is at most 1000 bytes.")
	}
	var out *identity.RegistrationRequest
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		r, err := q.GetRegistration(ctx, p.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return identity.Errorf(identity.CodeResourceNotFound, "Registration request not found.")
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(q, r); err != nil {
				return err
			}
		}
		if r.State.Final() {
			out = r
			return alreadyDecided(r)
		}
		from := r.State
		if err := s.moveRegistration(ctx, q, r, from, ev, decidedBy, note); err != nil {
			return err
		}
		u, err := q.GetUser(ctx, p.ID, r.UserSub)
		if errors.Is(err, store.ErrNotFound) {
			u = nil
		} else if err != nil {
			return err
		}
		if d == identity.DecisionApprove {
			if u == nil {
				return identity.Errorf(identity.CodeUserNotFound, "The applicant's account no longer exists.")
			}
			if err := s.activateUser(ctx, q, p, u, "approved"); err != nil {
				return err
			}
			if err := s.notifyApplicant(ctx, q, p, r, u, approval.TemplateApproved, ""); err != nil {
				return err
			}
		} else if err := s.endApplicant(ctx, q, p, r, u, applicantReason(r, "denied", p)); err != nil {
			return err
		}
		out = r
		return s.auditRegistration(ctx, q, r, "registration."+string(d), meta, map[string]string{"decided_by": decidedBy, "note": safeEcho(note)})
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

func alreadyDecided(r *identity.RegistrationRequest) error {
	return identity.Errorf(identity.CodeConflict, "The request was already decided: %s by %s at %s.",
		r.State, decider(r.DecidedBy), r.DecidedAt.UTC().Format(time.RFC1123))
}

// DeciderName renders a request's DecidedBy for people.
func DeciderName(by string) string { return decider(by) }

// decider renders DecidedBy for people.
func decider(by string) string {
	switch {
	case by == "" || by == "system":
		return "Gatehouse"
	}
	by, _ = identity.NormalizeActor(by, "")
	if email, ok := strings.CutPrefix(by, "approver-link:"); ok {
		return email
	}
	return by
}

// DecideRegistration approves or denies a pending request through the
// admin API or the CLI. The caller is the context's actor: an API key, the
// CLI, or a company admin ("user:<sub>"), who may decide only requests of
// a company they approve for. note is kept as the request's reason.
//
// Errors: resource_not_found (pool, request), forbidden (a company admin
// of another company), conflict ("already decided: <state> by <who> at
// <when>"), invalid_parameter (decision), user_not_found (approving an
// applicant whose account is gone).
func (s *Service) DecideRegistration(ctx context.Context, poolID, id string, d identity.Decision, note string, meta RequestMeta) (*identity.RegistrationRequest, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, p, id, d, identity.ActorFrom(ctx).Who(), note, meta, func(q store.Querier, r *identity.RegistrationRequest) error {
		return s.checkCompanyAccess(ctx, q, p, r.Company, false)
	})
}

// tokenRequest loads the request of an emailed link token without writing.
func (s *Service) tokenRequest(ctx context.Context, poolID, raw string) (*identity.Pool, *identity.RegistrationToken, *identity.RegistrationRequest, error) {
	bad := identity.Errorf(identity.CodeInvalidToken, "This link is not valid.")
	hash := approval.HashToken(raw)
	if hash == "" {
		return nil, nil, nil, bad
	}
	t, err := s.cfg.Store.GetRegistrationToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, bad
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if t.PoolID != poolID {
		return nil, nil, nil, bad
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := s.cfg.Store.GetRegistration(ctx, poolID, t.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, bad
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return p, t, r, nil
}

// RegistrationLink returns what an approve/deny link shows. It changes
// nothing (GET and HEAD of a link, mail scanners). A link of a request
// already decided is answered with Decided set, not an error.
//
// Errors: invalid_token (unknown, malformed or another pool's token),
// expired_code (the link expired while the request was pending).
func (s *Service) RegistrationLink(ctx context.Context, poolID, raw string) (*RegistrationLink, error) {
	p, t, r, err := s.tokenRequest(ctx, poolID, raw)
	if err != nil {
		return nil, err
	}
	l := &RegistrationLink{Request: r, PoolName: p.Name, Action: t.Action, Approver: t.Approver, Decided: r.State.Final()}
	if !l.Decided && !s.now().Before(t.ExpiresAt) {
		return nil, identity.Errorf(identity.CodeExpiredCode, "This link has expired.")
	}
	return l, nil
}

// DecideRegistrationLink makes the link's decision (the POST of the
// confirmation page, after its CSRF check). The first decision wins; a
// later one returns the link with Decided set and a conflict error saying
// who decided and when, and sends no email.
//
// Errors: those of RegistrationLink; conflict (already decided, or the
// token was used).
func (s *Service) DecideRegistrationLink(ctx context.Context, poolID, raw string, meta RequestMeta) (*RegistrationLink, error) {
	l, err := s.RegistrationLink(ctx, poolID, raw)
	if err != nil {
		return nil, err
	}
	if l.Decided {
		return l, alreadyDecided(l.Request)
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	hash := approval.HashToken(raw)
	// The link's holder acts as "approver:<email>"; recorded as the user
	// whose address it is when the company lists that user as an approver
	// (the same person deciding in the console or the API), else as
	// "approver-link:<email>".
	actor := identity.Actor{ID: "approver:" + l.Approver, IP: meta.IP, Via: identity.ViaEmailLink, As: s.linkApproverUser(ctx, p, l)}
	ctx = identity.WithActor(ctx, actor)
	by := actor.Who()
	r, err := s.decide(ctx, p, l.Request.ID, l.Action, by, "", meta, func(q store.Querier, r *identity.RegistrationRequest) error {
		t, err := q.GetRegistrationToken(ctx, hash)
		if err != nil {
			return err
		}
		if !t.UsedAt.IsZero() && !r.State.Final() {
			return identity.Errorf(identity.CodeConflict, "This link was already used.")
		}
		return nil
	})
	if r != nil {
		l.Request = r
		l.Decided = r.State.Final()
	}
	return l, err
}

// linkApproverUser returns "user:<sub>" when the approver address of link l
// belongs to a user the request's company lists as an approver (by sub),
// else "".
func (s *Service) linkApproverUser(ctx context.Context, p *identity.Pool, l *RegistrationLink) string {
	if l.Request.Company == "" {
		return ""
	}
	c, err := s.cfg.Store.GetCompany(ctx, p.ID, l.Request.Company)
	if err != nil {
		return ""
	}
	for _, a := range c.Approvers {
		if a.Sub == "" {
			continue
		}
		if u, err := s.cfg.Store.GetUser(ctx, p.ID, a.Sub); err == nil && strings.EqualFold(u.Email, l.Approver) {
			return "user:" + u.Sub
		}
	}
	return ""
}

// GetRegistration returns a request and its audit trail. A company admin
// sees only their companies' requests.
//
// Errors: resource_not_found, forbidden.
func (s *Service) GetRegistration(ctx context.Context, poolID, id string) (*RegistrationDetail, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	r, err := s.cfg.Store.GetRegistration(ctx, poolID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, identity.Errorf(identity.CodeResourceNotFound, "Registration request not found.")
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkCompanyAccess(ctx, s.cfg.Store, p, r.Company, false); err != nil {
		return nil, err
	}
	events, _, err := s.cfg.Store.ListAudit(ctx, store.AuditFilter{PoolID: poolID, Subject: "registration:" + id}, store.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	return &RegistrationDetail{Request: normalizeDecider(r), Events: normalizeEvents(events)}, nil
}

// RegistrationFilter selects the requests ListRegistrations returns; zero
// fields match all.
type RegistrationFilter struct {
	State   identity.RegistrationState
	Company string // company name, case-insensitive
}

// ListRegistrations lists a pool's requests, newest first, optionally by
// state and company. A company admin must name their company (or has
// exactly one, which is then used).
//
// Errors: resource_not_found (pool), invalid_parameter (state, limit,
// token), forbidden.
func (s *Service) ListRegistrations(ctx context.Context, poolID string, f RegistrationFilter, limit int, token string) ([]*identity.RegistrationRequest, string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, "", err
	}
	if f.State != "" && !f.State.Valid() {
		return nil, "", identity.FieldError("state", "Unknown state %q.", safeEcho(string(f.State)))
	}
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	if sub := callerSub(ctx); sub != "" && f.Company == "" {
		mine, err := s.companiesOf(ctx, p.ID, sub)
		if err != nil {
			return nil, "", err
		}
		if len(mine) != 1 {
			return nil, "", identity.FieldError("company", "Name the company whose requests to list.")
		}
		f.Company = mine[0].Name
	}
	if f.Company != "" {
		if err := s.checkCompanyAccess(ctx, s.cfg.Store, p, f.Company, false); err != nil {
			return nil, "", err
		}
	}
	list, next, err := s.cfg.Store.ListRegistrations(ctx, poolID, store.RegistrationFilter{State: f.State, Company: f.Company}, store.Page{Limit: n, Token: token})
	for _, r := range list {
		normalizeDecider(r)
	}
	return list, next, err
}

// RegistrationJobHandler returns the handler of the workflow's job kinds
// (approval.JobKinds): expiry and reminders. It is idempotent: it re-reads
// the request and does nothing unless its state still allows the step.
func (s *Service) RegistrationJobHandler() jobs.Handler {
	return func(ctx context.Context, job *identity.Job) error {
		var pl approval.JobPayload
		if err := jobs.DecodePayload(job, &pl); err != nil {
			return err
		}
		p, err := s.getPool(ctx, s.cfg.Store, pl.PoolID)
		if identity.ErrorCode(err) == identity.CodeResourceNotFound {
			return nil // the pool was deleted
		}
		if err != nil {
			return err
		}
		ctx = identity.WithActor(ctx, identity.Actor{ID: "system"})
		switch job.Kind {
		case approval.JobExpire:
			return s.expireRegistration(ctx, p, pl.RequestID)
		case approval.JobRemind:
			return s.remindRegistration(ctx, p, pl.RequestID)
		}
		return jobs.Permanent(fmt.Errorf("registration job: unknown kind %q", job.Kind))
	}
}

func (s *Service) expireRegistration(ctx context.Context, p *identity.Pool, id string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		r, err := q.GetRegistration(ctx, p.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.State.Final() {
			return nil
		}
		if err := s.moveRegistration(ctx, q, r, r.State, approval.EventExpire, "system", "expired"); err != nil {
			return err
		}
		u, err := q.GetUser(ctx, p.ID, r.UserSub)
		if errors.Is(err, store.ErrNotFound) {
			u = nil
		} else if err != nil {
			return err
		}
		if err := s.endApplicant(ctx, q, p, r, u, applicantReason(r, "expired", p)); err != nil {
			return err
		}
		return s.auditRegistration(ctx, q, r, "registration.expire", RequestMeta{}, nil)
	})
}

func (s *Service) remindRegistration(ctx context.Context, p *identity.Pool, id string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		r, err := q.GetRegistration(ctx, p.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.State != identity.RegPending {
			return nil
		}
		company, err := s.activeCompany(ctx, q, p.ID, r.Company)
		if err != nil {
			return err
		}
		approvers, err := s.approverEmails(ctx, q, p, company)
		if err != nil {
			return err
		}
		action := "registration.remind"
		if len(approvers) == 0 {
			// Nobody in the company can approve (any more): escalate.
			if ap := p.Settings.SignUp.Approval; ap != nil {
				approvers = ap.PoolAdmins
			}
			action = "registration.escalate"
		}
		if err := s.askApprovers(ctx, q, p, r, approvers, approval.NoticeReminder, approval.TemplateReminder); err != nil {
			return err
		}
		return s.auditRegistration(ctx, q, r, action, RequestMeta{}, map[string]string{"approvers": strings.Join(approvers, ",")})
	})
}

// approveOnAdminConfirm marks the user's open request approved when a pool
// admin confirms the user directly (AdminConfirmSignUp).
func (s *Service) approveOnAdminConfirm(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	r, err := q.GetRegistrationByUser(ctx, p.ID, u.Sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ev := approval.EventApprove
	switch r.State {
	case identity.RegPending:
	case identity.RegAwaitingVerification:
		ev = approval.EventAutoApprove
	default:
		return nil
	}
	if c, err := s.activeCompany(ctx, q, p.ID, firstNonEmpty(r.Company, r.CompanyName)); err != nil {
		return err
	} else if c != nil {
		r.Company = c.Name
	}
	if err := s.moveRegistration(ctx, q, r, r.State, ev, identity.ActorFrom(ctx).Who(), "admin_confirm"); err != nil {
		return err
	}
	return s.auditRegistration(ctx, q, r, "registration.approve", RequestMeta{}, map[string]string{"decided_by": r.DecidedBy})
}
