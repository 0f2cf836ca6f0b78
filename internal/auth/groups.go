package auth

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Group limits (Cognito's).
const (
	MaxGroupNameLen        = 128
	MaxGroupDescriptionLen = 2048
	MaxRoleARNLen          = 2048
)

func errGroupNotFound(name string) error {
	return identity.Errorf(identity.CodeResourceNotFound, "Group %s not found.", safeEcho(name))
}

// validateGroupName checks a group name: 1..128 characters, valid UTF-8,
// no whitespace or control characters (Cognito's pattern).
func validateGroupName(field, name string) error {
	if name == "" {
		return identity.FieldError(field, "A group name is required.")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxGroupNameLen {
		return identity.FieldError(field, "A group name is valid UTF-8 of at most %d characters.", MaxGroupNameLen)
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return identity.FieldError(field, "A group name may not contain spaces or control characters.")
	}
	return nil
}

// validateGroup checks every settable field of g.
func validateGroup(g *identity.Group) error {
	if err := validateGroupName("group_name", g.Name); err != nil {
		return err
	}
	if !utf8.ValidString(g.Description) || utf8.RuneCountInString(g.Description) > MaxGroupDescriptionLen {
		return identity.FieldError("description", "A group description is valid UTF-8 of at most %d characters.", MaxGroupDescriptionLen)
	}
	if g.Precedence != nil && *g.Precedence < 0 {
		return identity.FieldError("precedence", "The precedence must be 0 or more.")
	}
	if g.RoleARN != "" && (len(g.RoleARN) > MaxRoleARNLen || !strings.HasPrefix(g.RoleARN, "arn:") ||
		strings.IndexFunc(g.RoleARN, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0) {
		return identity.FieldError("role_arn", "The role ARN must look like arn:aws:iam::123456789012:role/name.")
	}
	return nil
}

// CreateGroup creates a group in g.PoolID. A pool has at most
// MaxGroupsPerPool groups.
//
// Errors: resource_not_found (pool), invalid_parameter, group_exists,
// limit_exceeded.
func (s *Service) CreateGroup(ctx context.Context, g *identity.Group) (*identity.Group, error) {
	if g == nil {
		return nil, identity.FieldError("group", "A group is required.")
	}
	ng := *g
	if g.Precedence != nil {
		v := *g.Precedence
		ng.Precedence = &v
	}
	if err := validateGroup(&ng); err != nil {
		return nil, err
	}
	exists := identity.Errorf(identity.CodeGroupExists, "A group with the name %s already exists.", ng.Name)
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, ng.PoolID)
		if err != nil {
			return err
		}
		if _, err := q.GetGroup(ctx, p.ID, ng.Name); err == nil {
			return exists
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if n, err := countGroups(ctx, q, p.ID, MaxGroupsPerPool); err != nil {
			return err
		} else if n >= MaxGroupsPerPool {
			return identity.Errorf(identity.CodeLimitExceeded, "A pool has at most %d groups.", MaxGroupsPerPool)
		}
		now := s.now()
		ng.CreatedAt, ng.UpdatedAt = now, now
		if err := q.CreateGroup(ctx, &ng); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return exists
			}
			return err
		}
		return s.audit(ctx, q, p.ID, "admin.group_create", "group:"+ng.Name, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("create group", err)
	}
	return &ng, nil
}

// countGroups counts a pool's groups, stopping at upTo.
func countGroups(ctx context.Context, q store.Querier, poolID string, upTo int) (int, error) {
	n, tok := 0, ""
	for {
		gs, next, err := q.ListGroups(ctx, poolID, page{Limit: store.MaxPageLimit, Token: tok})
		if err != nil {
			return 0, err
		}
		n += len(gs)
		if next == "" || n >= upTo {
			return n, nil
		}
		tok = next
	}
}

// GetGroup returns a group.
//
// Errors: resource_not_found (pool or group).
func (s *Service) GetGroup(ctx context.Context, poolID, name string) (*identity.Group, error) {
	return s.getGroup(ctx, s.cfg.Store, poolID, name)
}

func (s *Service) getGroup(ctx context.Context, q store.Querier, poolID, name string) (*identity.Group, error) {
	p, err := s.getPool(ctx, q, poolID)
	if err != nil {
		return nil, err
	}
	if err := validateGroupName("group_name", name); err != nil {
		return nil, err
	}
	g, err := q.GetGroup(ctx, p.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGroupNotFound(name)
	}
	if err != nil {
		return nil, wrapStoreErr("get group", err)
	}
	return g, nil
}

// ListGroups lists a pool's groups, limit 1..60 (0: 60).
//
// Errors: resource_not_found, invalid_parameter (limit, token).
func (s *Service) ListGroups(ctx context.Context, poolID string, limit int, token string) ([]*identity.Group, string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, "", err
	}
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	gs, next, err := s.cfg.Store.ListGroups(ctx, p.ID, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list groups", err)
	}
	return gs, next, nil
}

// UpdateGroup stores g's description, precedence and role (fetched by
// GetGroup and changed); the name cannot change.
//
// Errors: resource_not_found, invalid_parameter.
func (s *Service) UpdateGroup(ctx context.Context, g *identity.Group) (*identity.Group, error) {
	if g == nil {
		return nil, identity.FieldError("group", "A group is required.")
	}
	ng := *g
	if g.Precedence != nil {
		v := *g.Precedence
		ng.Precedence = &v
	}
	if err := validateGroup(&ng); err != nil {
		return nil, err
	}
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := s.getGroup(ctx, q, ng.PoolID, ng.Name)
		if err != nil {
			return err
		}
		ng.CreatedAt = cur.CreatedAt
		ng.UpdatedAt = s.now()
		if err := q.UpdateGroup(ctx, &ng); err != nil {
			return err
		}
		return s.audit(ctx, q, ng.PoolID, "admin.group_update", "group:"+ng.Name, nil)
	})
	if err != nil {
		return nil, wrapStoreErr("update group", err)
	}
	return &ng, nil
}

// DeleteGroup deletes a group and its memberships (not its users).
//
// Errors: resource_not_found.
func (s *Service) DeleteGroup(ctx context.Context, poolID, name string) error {
	return wrapStoreErr("delete group", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		g, err := s.getGroup(ctx, q, poolID, name)
		if err != nil {
			return err
		}
		if err := q.DeleteGroup(ctx, g.PoolID, g.Name); err != nil {
			return err
		}
		return s.audit(ctx, q, g.PoolID, "admin.group_delete", "group:"+g.Name, nil)
	}))
}

// AdminAddUserToGroup adds the user to the group; adding a member again
// changes nothing. A user is in at most MaxGroupsPerUser groups. The
// change shows in cognito:groups of tokens issued afterwards.
//
// Errors: resource_not_found (pool, group), user_not_found, limit_exceeded.
func (s *Service) AdminAddUserToGroup(ctx context.Context, poolID, username, group string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.group_add_user", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		g, err := s.getGroup(ctx, q, p.ID, group)
		if err != nil {
			return nil, err
		}
		gs, err := q.ListGroupsForUser(ctx, p.ID, u.Sub)
		if err != nil {
			return nil, err
		}
		for _, x := range gs {
			if x.Name == g.Name {
				return map[string]string{"group": g.Name}, nil
			}
		}
		if len(gs) >= MaxGroupsPerUser {
			return nil, identity.Errorf(identity.CodeLimitExceeded, "A user can be in at most %d groups.", MaxGroupsPerUser)
		}
		return map[string]string{"group": g.Name}, q.AddUserToGroup(ctx, p.ID, u.Sub, g.Name)
	})
}

// AdminRemoveUserFromGroup removes the user from the group (no error if it
// was not a member).
//
// Errors: resource_not_found (pool, group), user_not_found.
func (s *Service) AdminRemoveUserFromGroup(ctx context.Context, poolID, username, group string) error {
	return s.adminUserTx(ctx, poolID, username, "admin.group_remove_user", func(q store.Querier, p *identity.Pool, u *identity.User) (map[string]string, error) {
		g, err := s.getGroup(ctx, q, p.ID, group)
		if err != nil {
			return nil, err
		}
		return map[string]string{"group": g.Name}, q.RemoveUserFromGroup(ctx, p.ID, u.Sub, g.Name)
	})
}

// AdminListGroupsForUser returns the user's groups ordered by precedence
// (lowest first, groups without precedence last), then name.
//
// Errors: resource_not_found, user_not_found.
func (s *Service) AdminListGroupsForUser(ctx context.Context, poolID, username string) ([]*identity.Group, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return nil, err
	}
	gs, err := s.cfg.Store.ListGroupsForUser(ctx, p.ID, u.Sub)
	return gs, wrapStoreErr("list groups for user", err)
}

// ListUsersInGroup lists the group's members, limit 1..60 (0: 60).
//
// Errors: resource_not_found (pool, group), invalid_parameter.
func (s *Service) ListUsersInGroup(ctx context.Context, poolID, group string, limit int, token string) ([]*identity.User, string, error) {
	g, err := s.getGroup(ctx, s.cfg.Store, poolID, group)
	if err != nil {
		return nil, "", err
	}
	n, err := clampLimit(limit, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	us, next, err := s.cfg.Store.ListUsersInGroup(ctx, g.PoolID, g.Name, page{Limit: n, Token: token})
	if err != nil {
		return nil, "", wrapStoreErr("list users in group", err)
	}
	return us, next, nil
}
