package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SCIM 2.0 provisioning of a company's members (docs/company-sso.md,
// internal/scim for the wire format). The company's IdP authenticates
// with the company's bearer token (RotateSCIMToken; stored as SHA-256)
// and reaches only the company's members (users in the company's group).
// Users it creates are EXTERNAL_PROVIDER members of the company (no
// password; they sign in through the company's provider, whose first
// sign-in with the same company-domain address links to them), with an
// address of one of the company's domains. Deactivating a member disables
// it and ends its sessions in the same transaction.

// SCIMUser is a company member as SCIM sees it.
type SCIMUser struct {
	ID         string // the user's sub
	UserName   string
	Email      string
	GivenName  string
	FamilyName string
	Active     bool
	Created    time.Time
	Modified   time.Time
}

// SCIMPatch names the fields a PATCH changes (nil: unchanged).
type SCIMPatch struct {
	Active     *bool
	GivenName  *string
	FamilyName *string
}

// MaxSCIMMembers bounds a SCIM listing of a company's members.
const MaxSCIMMembers = 10000

const scimTokenPrefix = "ghs_"

var errSCIMUnauthorized = identity.Errorf(identity.CodeNotAuthorized, "Invalid SCIM bearer token.")

func scimHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// RotateSCIMToken makes a new SCIM bearer token for the company (the
// previous one stops working) and returns it; it is shown once. A
// company admin may rotate their own company's. Errors: forbidden,
// resource_not_found.
func (s *Service) RotateSCIMToken(ctx context.Context, poolID, company string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := scimTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, c, err := s.companyOfAdmin(ctx, q, poolID, company)
		if err != nil {
			return err
		}
		if err := q.PutSCIMToken(ctx, p.ID, c.Name, scimHash(tok), s.now()); err != nil {
			return companyStoreErr(err)
		}
		return s.audit(ctx, q, p.ID, "company.scim_token_rotated", "company:"+c.Name, nil)
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// SCIMCompany authenticates a SCIM request: token must be the company's
// current one and the company active. Errors: not_authorized.
func (s *Service) SCIMCompany(ctx context.Context, poolID, company, token string) (*identity.Company, error) {
	if !strings.HasPrefix(token, scimTokenPrefix) || len(token) > 128 {
		return nil, errSCIMUnauthorized
	}
	c, err := s.cfg.Store.GetCompany(ctx, poolID, company)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSCIMUnauthorized
	}
	if err != nil {
		return nil, err
	}
	h, err := s.cfg.Store.GetSCIMToken(ctx, poolID, c.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSCIMUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(h), []byte(scimHash(token))) != 1 || c.Status != identity.CompanyActive {
		return nil, errSCIMUnauthorized
	}
	return c, nil
}

var errSCIMNoUser = identity.Errorf(identity.CodeUserNotFound, "User not found.")

func scimView(u *identity.User) *SCIMUser {
	return &SCIMUser{ID: u.Sub, UserName: u.Username, Email: u.Email, GivenName: u.Attributes["given_name"],
		FamilyName: u.Attributes["family_name"], Active: u.Enabled, Created: u.CreatedAt, Modified: u.UpdatedAt}
}

// scimMember reads the user sub in q if it is a member of c.
func (s *Service) scimMember(ctx context.Context, q store.Querier, c *identity.Company, sub string) (*identity.User, error) {
	if sub == "" || len(sub) > 128 {
		return nil, errSCIMNoUser
	}
	u, err := q.GetUser(ctx, c.PoolID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSCIMNoUser
	}
	if err != nil {
		return nil, err
	}
	gs, err := q.ListGroupsForUser(ctx, c.PoolID, u.Sub)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(gs, func(g *identity.Group) bool { return g.Name == companyGroup(c) }) {
		return nil, errSCIMNoUser
	}
	return u, nil
}

// scimEmail checks that an address belongs to one of c's domains.
func scimEmail(c *identity.Company, field, email string) (string, error) {
	e, err := validateEmail(field, email)
	if err != nil {
		return "", err
	}
	e = strings.ToLower(e)
	if !slices.Contains(c.EmailDomains, emailDomain(e)) {
		return "", identity.FieldError(field, "The address is not of one of %s's email domains.", c.Name)
	}
	return e, nil
}

// SCIMCreateUser creates a member of c. Errors: invalid_parameter,
// username_exists.
func (s *Service) SCIMCreateUser(ctx context.Context, c *identity.Company, in SCIMUser) (*SCIMUser, error) {
	email := in.Email
	if email == "" {
		email = in.UserName
	}
	email, err := scimEmail(c, "emails", email)
	if err != nil {
		return nil, err
	}
	var out *SCIMUser
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		username, err := validateUsername(p, in.UserName)
		if err != nil {
			return identity.FieldError("userName", "%s", identity.ErrorMessage(err))
		}
		if p.UsernameMode == identity.UsernameEmail && username != email {
			return identity.FieldError("userName", "In this pool the userName is the email address.")
		}
		sub, err := s.newSub()
		if err != nil {
			return err
		}
		now := s.now()
		u := &identity.User{PoolID: p.ID, Sub: sub, Username: username, Email: email, EmailVerified: true,
			Status: identity.StatusExternalProvider, Enabled: in.Active, CreatedAt: now, UpdatedAt: now,
			Attributes: map[string]string{}}
		for k, v := range map[string]string{"given_name": in.GivenName, "family_name": in.FamilyName} {
			if v = strings.TrimSpace(v); v != "" {
				if err := checkMappedValue(k, v); err != nil {
					return err
				}
				u.Attributes[k] = v
			}
		}
		setCompanyAttr(p, u, c.Name)
		if err := checkUserFree(ctx, q, p, u); err != nil {
			return err
		}
		if err := q.CreateUser(ctx, u, false); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errUserExists
			}
			return err
		}
		if err := s.activateUser(ctx, q, p, u, "scim"); err != nil {
			return err
		}
		if err := s.ssoJoin(ctx, q, p, u, c); err != nil {
			return err
		}
		out = scimView(u)
		return s.audit(ctx, q, p.ID, "user.scim_create", "user:"+u.Sub, map[string]string{"company": c.Name, "username": u.Username})
	})
	return out, err
}

// SCIMGetUser returns a member of c. Errors: user_not_found.
func (s *Service) SCIMGetUser(ctx context.Context, c *identity.Company, id string) (*SCIMUser, error) {
	u, err := s.scimMember(ctx, s.cfg.Store, c, id)
	if err != nil {
		return nil, err
	}
	return scimView(u), nil
}

// SCIMListUsers lists c's members (at most MaxSCIMMembers), only the one
// whose userName is userName when it is not "".
func (s *Service) SCIMListUsers(ctx context.Context, c *identity.Company, userName string) ([]*SCIMUser, error) {
	var out []*SCIMUser
	tok := ""
	for len(out) < MaxSCIMMembers {
		us, next, err := s.cfg.Store.ListUsersInGroup(ctx, c.PoolID, companyGroup(c), store.Page{Limit: 1000, Token: tok})
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // no member yet: the group does not exist
		}
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if userName == "" || strings.EqualFold(u.Username, strings.TrimSpace(userName)) {
				out = append(out, scimView(u))
			}
		}
		if next == "" {
			break
		}
		tok = next
	}
	return out, nil
}

// scimUpdate changes a member of c in one transaction; disabling ends the
// member's sessions in it.
func (s *Service) scimUpdate(ctx context.Context, c *identity.Company, id, action string, change func(p *identity.Pool, u *identity.User) error) (*SCIMUser, error) {
	var out *SCIMUser
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, c.PoolID)
		if err != nil {
			return err
		}
		u, err := s.scimMember(ctx, q, c, id)
		if err != nil {
			return err
		}
		wasEnabled := u.Enabled
		if err := change(p, u); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		if wasEnabled && !u.Enabled {
			err = s.revokeSessions(ctx, q, p, u) // writes u too
		} else {
			err = q.UpdateUser(ctx, u, uniqueEmailFor(p, u))
		}
		if err != nil {
			return err
		}
		out = scimView(u)
		return s.audit(ctx, q, p.ID, action, "user:"+u.Sub, map[string]string{"company": c.Name, "active": fmt.Sprint(u.Enabled)})
	})
	return out, err
}

func setName(u *identity.User, attr string, v *string) error {
	if v == nil {
		return nil
	}
	if t := strings.TrimSpace(*v); t != "" {
		if err := checkMappedValue(attr, t); err != nil {
			return err
		}
		u.Attributes[attr] = t
	} else {
		delete(u.Attributes, attr)
	}
	return nil
}

// SCIMReplaceUser replaces a member's name, email and active state (PUT).
// The userName cannot change. Errors: user_not_found, invalid_parameter.
func (s *Service) SCIMReplaceUser(ctx context.Context, c *identity.Company, id string, in SCIMUser) (*SCIMUser, error) {
	return s.scimUpdate(ctx, c, id, "user.scim_replace", func(p *identity.Pool, u *identity.User) error {
		if in.UserName != "" && !strings.EqualFold(strings.TrimSpace(in.UserName), u.Username) {
			return identity.FieldError("userName", "The userName cannot change.")
		}
		if in.Email != "" {
			e, err := scimEmail(c, "emails", in.Email)
			if err != nil {
				return err
			}
			if p.UsernameMode == identity.UsernameEmail && e != u.Username {
				return identity.FieldError("emails", "In this pool the email address is the userName.")
			}
			u.Email, u.EmailVerified = e, true
		}
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		if err := setName(u, "given_name", &in.GivenName); err != nil {
			return err
		}
		if err := setName(u, "family_name", &in.FamilyName); err != nil {
			return err
		}
		u.Enabled = in.Active
		return nil
	})
}

// SCIMPatchUser changes the given fields of a member (PATCH); active
// false deactivates it and ends its sessions. Errors: user_not_found,
// invalid_parameter.
func (s *Service) SCIMPatchUser(ctx context.Context, c *identity.Company, id string, in SCIMPatch) (*SCIMUser, error) {
	return s.scimUpdate(ctx, c, id, "user.scim_patch", func(p *identity.Pool, u *identity.User) error {
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		if err := setName(u, "given_name", in.GivenName); err != nil {
			return err
		}
		if err := setName(u, "family_name", in.FamilyName); err != nil {
			return err
		}
		if in.Active != nil {
			u.Enabled = *in.Active
		}
		return nil
	})
}

// SCIMDeleteUser deletes a member of c. Errors: user_not_found.
func (s *Service) SCIMDeleteUser(ctx context.Context, c *identity.Company, id string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		u, err := s.scimMember(ctx, q, c, id)
		if err != nil {
			return err
		}
		p, err := q.GetPool(ctx, c.PoolID)
		if err != nil {
			return fmt.Errorf("get pool: %w", err)
		}
		if err := s.enqueueBackchannelLogout(ctx, q, p, u.Sub); err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, c.PoolID, u.Sub); err != nil {
			return err
		}
		return s.audit(ctx, q, c.PoolID, "user.scim_delete", "user:"+u.Sub, map[string]string{"company": c.Name, "username": u.Username})
	})
}

// scimLink finds the member of c that SCIM created with t's address (a
// verified address of c's domains, no password, no link to t's provider
// yet) and links t's identity to it: the company's IdP and the company's
// provisioning speak for the same company.
func (s *Service) scimLink(ctx context.Context, p *identity.Pool, c *identity.Company, t *fedTicket) (*identity.User, error) {
	if !t.EmailVerified || t.Email == "" {
		return nil, nil
	}
	u, err := s.cfg.Store.GetUserByEmail(ctx, p.ID, t.Email, true)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.PasswordHash != "" || u.Status != identity.StatusExternalProvider {
		return nil, nil
	}
	var linked *identity.User
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		m, err := s.scimMember(ctx, q, c, u.Sub)
		if errors.Is(err, errSCIMNoUser) {
			return nil
		}
		if err != nil {
			return err
		}
		links, err := q.ListLinkedIdentities(ctx, p.ID, m.Sub)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(links, func(l *identity.LinkedIdentity) bool { return l.ProviderName == t.Provider }) {
			return nil
		}
		if err := q.CreateLinkedIdentity(ctx, &identity.LinkedIdentity{PoolID: p.ID, ProviderName: t.Provider,
			ProviderType: t.ProviderType, Subject: t.Subject, Issuer: t.Issuer, UserSub: m.Sub, CreatedAt: s.now()}); err != nil {
			return err
		}
		linked = m
		return s.audit(ctx, q, p.ID, "user.identity_linked", "user:"+m.Sub, map[string]string{"provider": t.Provider, "via": "scim"})
	})
	return linked, err
}

// SCIMBaseURL is the SCIM base URL to give the company's IdP:
// <base_url>/scim/v2/<pool>/<company>. Errors: resource_not_found.
func (s *Service) SCIMBaseURL(ctx context.Context, poolID, company string) (string, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return "", err
	}
	c, err := s.cfg.Store.GetCompany(ctx, p.ID, company)
	if err != nil {
		return "", companyStoreErr(err)
	}
	return strings.TrimSuffix(s.Issuer(p), "/"+p.ID) + "/scim/v2/" + url.PathEscape(p.ID) + "/" + url.PathEscape(c.Name), nil
}
