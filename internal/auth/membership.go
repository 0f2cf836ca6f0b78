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

// moveCompany runs in an admin's transaction after u's company attribute
// was changed (or removed) from old to what u.Attributes now holds: the
// new name is taken as the company spells it, the user leaves the old
// company's group and joins the new company's (when it is active), and
// the move is audited ("user.company_move", from and to). Nothing happens
// when the company did not change. The caller writes u afterwards.
func (s *Service) moveCompany(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, old string) error {
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
	if to == old {
		return nil
	}
	var groups []string
	if old != "" {
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
	return s.audit(ctx, q, p.ID, "user.company_move", "user:"+u.Sub, map[string]string{
		"from": old, "to": to, "groups": strings.Join(groups, ","),
	})
}
