package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SCIM /Groups (docs/company-sso.md). A company's IdP sees two kinds of
// group:
//
//   - the company's own group, whose members are the company's members:
//     read-only here (membership is made by creating and deleting Users);
//   - the groups it pushed (POST /Groups): a pushed group's displayName
//     must be an IdP group that the company provider's group mapping
//     maps, and the group is bound to the pool group of that mapping. The
//     mapping's targets are only what a pool admin allowed
//     (checkMappingTargets), so a company's IdP can grant no other pool
//     group, never the console's admin group, never another company's.
//
// A pushed group's members are the company's members in its pool group;
// adding a member adds the user to the pool group, and only members of
// the company can be added. Deleting a pushed group takes its pool group
// away from the company's members; the pool group itself stays.

// SCIMGroupInput is a group as the IdP sends it (POST, PUT).
type SCIMGroupInput struct {
	DisplayName string
	ExternalID  string
	Members     []string // user subs
}

// SCIMGroupPatch names what a PATCH changes.
type SCIMGroupPatch struct {
	DisplayName *string
	ExternalID  *string
	Add, Remove []string // user subs
	RemoveAll   bool     // remove every member before adding Add
}

// SCIMGroupView is a group as SCIM shows it.
type SCIMGroupView struct {
	ID          string
	DisplayName string
	ExternalID  string
	ReadOnly    bool // the company's own group
	Members     []*SCIMUser
	Created     time.Time
	Modified    time.Time
}

// Version is the group's weak entity tag: a hash of what SCIM shows of
// it, members included.
func (g *SCIMGroupView) Version() string {
	parts := []string{g.ID, g.DisplayName, g.ExternalID, fmt.Sprint(g.Modified.UnixMilli())}
	for _, m := range g.Members {
		parts = append(parts, m.ID)
	}
	return scimVersion(parts...)
}

// MaxSCIMGroupMembers bounds the members one request names.
const MaxSCIMGroupMembers = 1000

var errSCIMNoGroup = identity.Errorf(identity.CodeResourceNotFound, "Group not found.")

// SCIMCompanyGroupID is the id of c's own (read-only) group.
func SCIMCompanyGroupID(c *identity.Company) string { return companyGroup(c) }

// scimTarget returns the pool group the company provider's mapping gives
// for displayName, refusing names it does not map.
func (s *Service) scimTarget(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company, displayName string) (string, error) {
	name := strings.TrimSpace(displayName)
	if name == "" || len(name) > 256 || checkMappedValue("displayName", name) != nil {
		return "", identity.FieldError("displayName", "A displayName is 1 to 256 bytes of one line of text.")
	}
	idp, err := q.GetCompanyIdP(ctx, p.ID, c.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	to := ""
	if idp != nil {
		for from, t := range idp.Provider.GroupMapping {
			if strings.EqualFold(from, name) {
				to = t
			}
		}
	}
	if to == "" || to == p.Settings.Console.AdminGroupName() || strings.EqualFold(to, companyGroup(c)) {
		return "", identity.FieldError("displayName", "The company's group mapping gives no pool group for %s: a company admin maps IdP groups to the pool groups a pool admin allowed.", safeEcho(name))
	}
	if _, err := q.GetGroup(ctx, p.ID, to); errors.Is(err, store.ErrNotFound) {
		return "", identity.FieldError("displayName", "The pool has no group %s.", safeEcho(to))
	} else if err != nil {
		return "", err
	}
	return to, nil
}

// scimGroupMembers returns c's members in the pool group g, by sub.
func (s *Service) scimGroupMembers(ctx context.Context, q store.Querier, c *identity.Company, g string) (map[string]*SCIMUser, error) {
	members, err := s.scimMembers(ctx, q, c, "")
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	tok := ""
	for n := 0; n < MaxSCIMMembers*10; {
		us, next, err := q.ListUsersInGroup(ctx, c.PoolID, g, store.Page{Limit: 1000, Token: tok})
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			in[u.Sub] = true
		}
		n += len(us)
		if next == "" {
			break
		}
		tok = next
	}
	out := map[string]*SCIMUser{}
	for _, m := range members {
		if in[m.ID] {
			out[m.ID] = m
		}
	}
	return out, nil
}

func (s *Service) scimGroupView(ctx context.Context, q store.Querier, c *identity.Company, g *identity.SCIMGroup) (*SCIMGroupView, error) {
	ms, err := s.scimGroupMembers(ctx, q, c, g.PoolGroup)
	if err != nil {
		return nil, err
	}
	v := &SCIMGroupView{ID: g.ID, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Created: g.CreatedAt, Modified: g.UpdatedAt}
	for _, m := range ms {
		v.Members = append(v.Members, m)
	}
	slices.SortFunc(v.Members, func(a, b *SCIMUser) int { return strings.Compare(a.UserName, b.UserName) })
	return v, nil
}

// SCIMListGroups returns c's own group and the groups its IdP pushed.
func (s *Service) SCIMListGroups(ctx context.Context, c *identity.Company) ([]*SCIMGroupView, error) {
	members, err := s.scimMembers(ctx, s.cfg.Store, c, "")
	if err != nil {
		return nil, err
	}
	own := &SCIMGroupView{ID: companyGroup(c), DisplayName: c.DisplayName, ReadOnly: true, Members: members,
		Created: c.CreatedAt, Modified: c.UpdatedAt}
	if own.DisplayName == "" {
		own.DisplayName = c.Name
	}
	out := []*SCIMGroupView{own}
	gs, err := s.cfg.Store.ListSCIMGroups(ctx, c.PoolID, c.Name)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		v, err := s.scimGroupView(ctx, s.cfg.Store, c, g)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// SCIMGetGroup returns one of c's groups. Errors: resource_not_found.
func (s *Service) SCIMGetGroup(ctx context.Context, c *identity.Company, id string) (*SCIMGroupView, error) {
	if id == companyGroup(c) {
		gs, err := s.SCIMListGroups(ctx, c)
		if err != nil {
			return nil, err
		}
		return gs[0], nil
	}
	if id == "" || len(id) > 128 {
		return nil, errSCIMNoGroup
	}
	g, err := s.cfg.Store.GetSCIMGroup(ctx, c.PoolID, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSCIMNoGroup
	}
	if err != nil {
		return nil, err
	}
	return s.scimGroupView(ctx, s.cfg.Store, c, g)
}

// scimSetMembers applies member changes to the pool group g: every sub
// must be a member of c.
func (s *Service) scimSetMembers(ctx context.Context, q store.Querier, c *identity.Company, g string, add, remove []string, removeAll bool) error {
	if len(add)+len(remove) > MaxSCIMGroupMembers {
		return identity.FieldError("members", "At most %d members in one request.", MaxSCIMGroupMembers)
	}
	current, err := s.scimGroupMembers(ctx, q, c, g)
	if err != nil {
		return err
	}
	if removeAll {
		for sub := range current {
			if !slices.Contains(add, sub) {
				remove = append(remove, sub)
			}
		}
	}
	for _, sub := range remove {
		if current[sub] == nil {
			continue // removing a non-member changes nothing
		}
		if err := q.RemoveUserFromGroup(ctx, c.PoolID, sub, g); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("leave %s: %w", g, err)
		}
	}
	for _, sub := range add {
		if current[sub] != nil {
			continue
		}
		if _, err := s.scimMember(ctx, q, c, sub); errors.Is(err, errSCIMNoUser) {
			return identity.FieldError("members", "%s is not a member of the company.", safeEcho(sub))
		} else if err != nil {
			return err
		}
		if err := q.AddUserToGroup(ctx, c.PoolID, sub, g); err != nil {
			return fmt.Errorf("join %s: %w", g, err)
		}
	}
	return nil
}

func scimGroupConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return identity.Errorf(identity.CodeConflict, "The company already has a group of that displayName.")
	}
	return err
}

// SCIMCreateGroup pushes a group (POST /Groups). Errors:
// invalid_parameter (a displayName the mapping does not give, a member
// not of c), conflict.
func (s *Service) SCIMCreateGroup(ctx context.Context, c *identity.Company, in SCIMGroupInput) (*SCIMGroupView, error) {
	if err := checkExternalID(in.ExternalID); err != nil {
		return nil, err
	}
	var out *SCIMGroupView
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		to, err := s.scimTarget(ctx, q, p, c, in.DisplayName)
		if err != nil {
			return err
		}
		id, err := s.newSub()
		if err != nil {
			return err
		}
		now := s.now()
		g := &identity.SCIMGroup{PoolID: p.ID, Company: c.Name, ID: id, DisplayName: strings.TrimSpace(in.DisplayName),
			ExternalID: in.ExternalID, PoolGroup: to, CreatedAt: now, UpdatedAt: now}
		if err := q.PutSCIMGroup(ctx, g); err != nil {
			return scimGroupConflict(err)
		}
		if err := s.scimSetMembers(ctx, q, c, to, in.Members, nil, false); err != nil {
			return err
		}
		if out, err = s.scimGroupView(ctx, q, c, g); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "group.scim_create", "group:"+to, map[string]string{"company": c.Name, "scim_group": g.DisplayName})
	})
	return out, err
}

// scimGroupUpdate changes one of c's pushed groups in one transaction.
func (s *Service) scimGroupUpdate(ctx context.Context, c *identity.Company, id, ifMatch, action string, change func(q store.Querier, p *identity.Pool, g *identity.SCIMGroup) error) (*SCIMGroupView, error) {
	if id == companyGroup(c) {
		return nil, identity.Errorf(identity.CodeForbidden, "The company's own group is read-only: its members are the company's members.")
	}
	var out *SCIMGroupView
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		g, err := q.GetSCIMGroup(ctx, c.PoolID, c.Name, id)
		if errors.Is(err, store.ErrNotFound) {
			return errSCIMNoGroup
		}
		if err != nil {
			return err
		}
		if ifMatch != "" {
			cur, err := s.scimGroupView(ctx, q, c, g)
			if err != nil {
				return err
			}
			if !matches(ifMatch, cur.Version()) {
				return errSCIMPrecondition
			}
		}
		if err := change(q, p, g); err != nil {
			return err
		}
		if action == "group.scim_delete" {
			return s.audit(ctx, q, p.ID, action, "group:"+g.PoolGroup, map[string]string{"company": c.Name, "scim_group": g.DisplayName})
		}
		g.UpdatedAt = s.now()
		if err := q.PutSCIMGroup(ctx, g); err != nil {
			return scimGroupConflict(err)
		}
		if out, err = s.scimGroupView(ctx, q, c, g); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, action, "group:"+g.PoolGroup, map[string]string{"company": c.Name, "scim_group": g.DisplayName})
	})
	return out, err
}

// rebind points g at the pool group its new displayName maps to; the
// members move with it.
func (s *Service) rebind(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company, g *identity.SCIMGroup, name string) error {
	to, err := s.scimTarget(ctx, q, p, c, name)
	if err != nil {
		return err
	}
	g.DisplayName = strings.TrimSpace(name)
	if to == g.PoolGroup {
		return nil
	}
	ms, err := s.scimGroupMembers(ctx, q, c, g.PoolGroup)
	if err != nil {
		return err
	}
	subs := make([]string, 0, len(ms))
	for sub := range ms {
		subs = append(subs, sub)
	}
	if err := s.scimSetMembers(ctx, q, c, g.PoolGroup, nil, subs, false); err != nil {
		return err
	}
	g.PoolGroup = to
	return s.scimSetMembers(ctx, q, c, to, subs, nil, false)
}

// SCIMReplaceGroup replaces a pushed group (PUT): displayName, externalId
// and the whole member list. Errors: resource_not_found, forbidden (the
// company's own group), invalid_parameter, conflict, precondition_not_met.
func (s *Service) SCIMReplaceGroup(ctx context.Context, c *identity.Company, id, ifMatch string, in SCIMGroupInput) (*SCIMGroupView, error) {
	if err := checkExternalID(in.ExternalID); err != nil {
		return nil, err
	}
	return s.scimGroupUpdate(ctx, c, id, ifMatch, "group.scim_replace", func(q store.Querier, p *identity.Pool, g *identity.SCIMGroup) error {
		if err := s.rebind(ctx, q, p, c, g, in.DisplayName); err != nil {
			return err
		}
		g.ExternalID = in.ExternalID
		return s.scimSetMembers(ctx, q, c, g.PoolGroup, in.Members, nil, true)
	})
}

// SCIMPatchGroup changes a pushed group (PATCH). Errors: as
// SCIMReplaceGroup.
func (s *Service) SCIMPatchGroup(ctx context.Context, c *identity.Company, id, ifMatch string, in SCIMGroupPatch) (*SCIMGroupView, error) {
	if in.ExternalID != nil {
		if err := checkExternalID(*in.ExternalID); err != nil {
			return nil, err
		}
	}
	return s.scimGroupUpdate(ctx, c, id, ifMatch, "group.scim_patch", func(q store.Querier, p *identity.Pool, g *identity.SCIMGroup) error {
		if in.DisplayName != nil {
			if err := s.rebind(ctx, q, p, c, g, *in.DisplayName); err != nil {
				return err
			}
		}
		if in.ExternalID != nil {
			g.ExternalID = *in.ExternalID
		}
		return s.scimSetMembers(ctx, q, c, g.PoolGroup, in.Add, in.Remove, in.RemoveAll)
	})
}

// SCIMDeleteGroup deletes a pushed group: its pool group is taken away
// from the company's members. Errors: resource_not_found, forbidden,
// precondition_not_met.
func (s *Service) SCIMDeleteGroup(ctx context.Context, c *identity.Company, id, ifMatch string) error {
	_, err := s.scimGroupUpdate(ctx, c, id, ifMatch, "group.scim_delete", func(q store.Querier, p *identity.Pool, g *identity.SCIMGroup) error {
		if err := s.scimSetMembers(ctx, q, c, g.PoolGroup, nil, nil, true); err != nil {
			return err
		}
		return q.DeleteSCIMGroup(ctx, c.PoolID, c.Name, g.ID)
	})
	return err
}
