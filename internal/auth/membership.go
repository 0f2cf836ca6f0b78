package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Company membership (docs/security.md, sections A and R).
//
// A user's company is the pool's company attribute
// (sign_up.company_attribute) together with the company's group. Both
// are written only by decisions: an approval (activateUser), an admin
// (AdminCreateUser, AdminUpdateUserAttributes, AdminDeleteUserAttributes,
// which move the group with the attribute, here) or the domain a company
// owns. A sign-up names a company only as a request (takeCompany); the
// user's own attribute writes refuse the attribute (validateAttribute,
// DeleteUserAttributes); no app client may write it (validateClient).

// errAdminOnly refuses an admin write to a company admin's context: the
// Admin* attribute writes are for pool admins (API keys, CLI, console
// pool admins), never for company admins, whatever surface calls them.
var errAdminOnly = identity.Errorf(identity.CodeForbidden, "Only the pool's admins may change a user's attributes.")

// errPoolAdminOnly refuses other admin operations to a company admin.
var errPoolAdminOnly = identity.Errorf(identity.CodeForbidden, "Only the pool's admins may do this.")

// moveCompany runs in an admin's transaction that wrote u's company
// attribute (written: set, or removed) when it held old before; u.Attributes
// holds the new value. The new name is taken as the company spells it;
// the user leaves the old company's group and joins the new company's
// (when it is active); a move is audited ("user.company_move", from and
// to). Writing the same company again only makes sure the user is in its
// group. The caller writes u afterwards.
func (s *Service) moveCompany(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, old string, written bool) error {
	if !written {
		return nil
	}
	attr := p.Settings.SignUp.CompanyAttr()
	to := strings.TrimSpace(u.Attributes[attr])
	var next *identity.Company
	if to != "" {
		c, err := q.GetCompany(ctx, p.ID, to)
		switch {
		case err == nil:
			next, to = c, c.Name
			u.Attributes[attr] = c.Name
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("get company: %w", err)
		}
	}
	var groups []string
	if old != "" && to != old {
		prev, err := q.GetCompany(ctx, p.ID, old)
		switch {
		case err == nil:
			if next == nil || companyGroup(prev) != companyGroup(next) {
				if err := q.RemoveUserFromGroup(ctx, p.ID, u.Sub, companyGroup(prev)); err != nil {
					return fmt.Errorf("leave group %s: %w", companyGroup(prev), err)
				}
				groups = append(groups, "-"+companyGroup(prev))
			}
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("get company: %w", err)
		}
	}
	if next != nil && next.Status == identity.CompanyActive {
		g := companyGroup(next)
		if err := s.ensureGroup(ctx, q, p.ID, g, "Members of "+next.DisplayName); err != nil {
			return err
		}
		if err := q.AddUserToGroup(ctx, p.ID, u.Sub, g); err != nil {
			return fmt.Errorf("join group %s: %w", g, err)
		}
		groups = append(groups, "+"+g)
	}
	if to == old {
		return nil // the admin's own event records the write
	}
	return s.audit(ctx, q, p.ID, "user.company_move", "user:"+u.Sub, map[string]string{
		"from": old, "to": to, "groups": strings.Join(groups, ","),
	})
}
