package auth

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SignUpSettings is how self sign-up works in a pool: the sign-up policy
// and the two switches that live on the pool itself (identity.SignUpPolicy).
type SignUpSettings struct {
	Policy identity.SignUpPolicy
	// AdminCreateUserOnly: invite-only; self sign-up is refused.
	AdminCreateUserOnly bool
	// UniqueEmail: the email is unique in the pool (always so for pools
	// whose usernames are emails).
	UniqueEmail bool
}

// SignUpSettingsOf returns the pool's sign-up settings.
func SignUpSettingsOf(p *identity.Pool) SignUpSettings {
	return SignUpSettings{Policy: cloneSignUpPolicy(p.Settings.SignUp), AdminCreateUserOnly: p.AdminCreateUserOnly, UniqueEmail: p.UniqueEmail}
}

// UpdateSignUpPolicy replaces the pool's sign-up settings and nothing
// else (the admin console's policy form). Only pool admins may
// (RequirePoolAdmin: an admin caller, or a console actor still in the
// admin group; company admins get forbidden).
//
// The new pool is validated exactly as UpdatePool validates it (the path
// of `gatehouse apply`): normalizePool, which checks the policy with
// validateSignUpPolicy, and the unique-email rule. A bad policy is
// reported as SignUpPolicyErrors, listing every problem (errors.As finds
// the first *identity.Error, invalid_parameter). Nothing is written
// unless everything is valid. A change is audited as
// pool.update_sign_up_policy with the changed parts in "changed"; saving
// the same settings again writes nothing. It returns the pool as stored
// and the changed parts (empty: nothing changed).
//
// Errors: forbidden, resource_not_found, invalid_parameter.
func (s *Service) UpdateSignUpPolicy(ctx context.Context, poolID string, in SignUpSettings) (*identity.Pool, []string, error) {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return nil, nil, err
	}
	// Every problem of the policy at once, before the transaction.
	if errs := CheckSignUpPolicy(in.Policy); len(errs) > 0 {
		return nil, nil, errs
	}
	var out *identity.Pool
	var changed []string
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		np := *cur
		np.Domains = slices.Clone(cur.Domains)
		np.PasswordPolicy.BlockedWords = slices.Clone(cur.PasswordPolicy.BlockedWords)
		np.Settings.SignUp = cloneSignUpPolicy(in.Policy)
		np.AdminCreateUserOnly = in.AdminCreateUserOnly
		np.UniqueEmail = in.UniqueEmail
		if err := normalizePool(&np); err != nil {
			return err
		}
		if err := checkUniqueEmailChange(ctx, q, cur, &np); err != nil {
			return err
		}
		changed = signUpChanges(cur, &np)
		if len(changed) == 0 {
			out = cur
			return nil
		}
		np.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, &np); err != nil {
			return err
		}
		out = &np
		return s.audit(ctx, q, np.ID, "pool.update_sign_up_policy", "pool:"+np.ID, map[string]string{"changed": strings.Join(changed, ",")})
	})
	if err != nil {
		return nil, nil, wrapStoreErr("update sign-up policy", err)
	}
	return out, changed, nil
}

// CheckSignUpPolicy returns every problem of pol (nil: valid), by the
// rules UpdateSignUpPolicy and UpdatePool apply; it writes nothing and
// leaves pol as it is. A form uses it to list all its problems at once.
func CheckSignUpPolicy(pol identity.SignUpPolicy) SignUpPolicyErrors {
	c := cloneSignUpPolicy(pol)
	return signUpPolicyErrors(&c)
}

// checkUniqueEmailChange refuses turning UniqueEmail on in a pool with
// users whose usernames are not emails: uniqueness is kept by a
// constraint on a column written with each user; existing users would not
// be covered, and a later update of one of them could fail on an old
// duplicate.
func checkUniqueEmailChange(ctx context.Context, q store.Querier, cur, np *identity.Pool) error {
	if !np.UniqueEmail || cur.UniqueEmail || np.UsernameMode == identity.UsernameEmail {
		return nil
	}
	n, err := q.CountUsers(ctx, np.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return identity.FieldError("unique_email", "Unique email can only be turned on while the pool has no users.")
	}
	return nil
}

// signUpChanges names the parts of the sign-up settings that differ.
func signUpChanges(a, b *identity.Pool) []string {
	var out []string
	if a.AdminCreateUserOnly != b.AdminCreateUserOnly {
		out = append(out, "admin_create_user_only")
	}
	if a.UniqueEmail != b.UniqueEmail {
		out = append(out, "unique_email")
	}
	pa, pb := a.Settings.SignUp, b.Settings.SignUp
	same := func(x, y any) bool {
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		return string(jx) == string(jy)
	}
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"domain_allow_list", pa.DomainAllowList, pb.DomainAllowList},
		{"domains", nilIfEmpty(pa.Domains), nilIfEmpty(pb.Domains)},
		{"default_groups", nilIfEmpty(pa.DefaultGroups), nilIfEmpty(pb.DefaultGroups)},
		{"approval", pa.Approval, pb.Approval},
		{"company_attribute", pa.CompanyAttribute, pb.CompanyAttribute},
		{"company_lookup", pa.CompanyLookup, pb.CompanyLookup},
	} {
		if !same(f.x, f.y) {
			out = append(out, f.name)
		}
	}
	return out
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// cloneSignUpPolicy copies p deeply (validation normalises in place).
func cloneSignUpPolicy(p identity.SignUpPolicy) identity.SignUpPolicy {
	p.Domains = slices.Clone(p.Domains)
	p.DefaultGroups = slices.Clone(p.DefaultGroups)
	if p.Approval != nil {
		a := *p.Approval
		a.PoolAdmins = slices.Clone(a.PoolAdmins)
		p.Approval = &a
	}
	return p
}
