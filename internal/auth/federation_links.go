package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Administrative linking of upstream identities (docs/federation.md,
// "Linking by an administrator"); Cognito's AdminLinkProviderForUser and
// AdminDisableProviderForUser.
//
// An administrator links an upstream identity (provider, subject) to an
// existing native user; a federated sign-in with that identity then signs
// in as the native user. The rules, all checked in one transaction:
//
//   - the provider is one of the pool's identity providers;
//   - the destination exists and is a native user (not EXTERNAL_PROVIDER);
//   - the identity is not linked to anyone else: linking never moves an
//     identity from one user to another (conflict, naming the holder; the
//     administrator unlinks it, or deletes the federated user, first);
//   - a user holds at most MaxLinkedIdentities links (Cognito's five).
//
// Linking the same identity to the same user again changes nothing.
// Unlinking removes the link and ends the user's sessions, since some of
// them may have been opened through that identity.

const (
	// ProviderCognito is the ProviderName of the pool's own users in
	// Cognito's link operations.
	ProviderCognito = "Cognito"
	// ProviderAttributeSubject is the only ProviderAttributeName
	// Gatehouse matches upstream identities by: the upstream subject.
	ProviderAttributeSubject = "Cognito_Subject"
	// MaxLinkedIdentities is how many upstream identities one user may
	// hold (Cognito's limit).
	MaxLinkedIdentities = 5
	// maxSubjectLen bounds an upstream subject (OpenID Connect: at most
	// 255 ASCII characters).
	maxSubjectLen = 255
)

// LinkProviderInput links an upstream identity to a native user.
type LinkProviderInput struct {
	PoolID   string
	Username string // the native user: username, verified email alias or sub
	Provider string // the name of one of the pool's identity providers
	Subject  string // the upstream subject (OIDC "sub", Facebook id), exactly
}

// UnlinkProviderInput names a link to remove.
type UnlinkProviderInput struct {
	PoolID   string
	Provider string
	Subject  string
	// Username, if set, is the user the link must belong to (a link of
	// anyone else is not found).
	Username string
	// DisableFederatedUser: when the identity is a federated user's own
	// (the user its first sign-in created), disable that user and end its
	// sessions, keeping the link so that the identity cannot sign up
	// afresh (Cognito's AdminDisableProviderForUser). Without it such a
	// request is refused: disable or delete the user instead.
	DisableFederatedUser bool
}

// UnlinkResult says what AdminDisableProviderForUser did.
type UnlinkResult struct {
	User *identity.User
	// Disabled is true when the identity was a federated user's own and
	// that user was disabled (the link stays); false when the link was
	// removed from a native user.
	Disabled bool
}

var errNotLinked = identity.Errorf(identity.CodeResourceNotFound, "No user is linked to that identity.")

// validateSubject checks an upstream subject from an administrator: it is
// matched byte for byte against what the provider asserts, so it is never
// trimmed or folded, only bounded.
func validateSubject(field, v string) error {
	if v == "" {
		return identity.FieldError(field, "The upstream subject is required.")
	}
	if len(v) > maxSubjectLen || !utf8.ValidString(v) {
		return identity.FieldError(field, "The upstream subject must be valid UTF-8 of at most %d bytes.", maxSubjectLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return identity.FieldError(field, "The upstream subject must not contain spaces or control characters.")
		}
	}
	return nil
}

// AdminLinkProviderForUser links the upstream identity (in.Provider,
// in.Subject) to the native user in.Username, so that a federated sign-in
// with it signs in as that user. It returns the link (the existing one if
// it was already linked to that user, with nothing written).
//
// Errors: resource_not_found (pool), invalid_parameter (no such provider,
// bad subject, the destination is a federated user), user_not_found,
// conflict (the identity is linked to another user), limit_exceeded
// (MaxLinkedIdentities).
func (s *Service) AdminLinkProviderForUser(ctx context.Context, in LinkProviderInput) (*identity.LinkedIdentity, error) {
	if err := validateSubject("subject", in.Subject); err != nil {
		return nil, err
	}
	var out *identity.LinkedIdentity
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, in.PoolID)
		if err != nil {
			return err
		}
		ip, err := findProvider(p, in.Provider)
		if err != nil {
			return err
		}
		u, err := s.findUser(ctx, q, p, in.Username)
		if err != nil {
			return err
		}
		if u.Status == identity.StatusExternalProvider {
			return identity.FieldError("username", "%s is a federated user; identities can be linked to native users only.", safeEcho(u.Username))
		}
		cur, err := q.GetLinkedIdentity(ctx, p.ID, ip.Name, in.Subject)
		switch {
		case err == nil && cur.UserSub == u.Sub:
			out = cur
			return nil
		case err == nil:
			return s.linkedElsewhere(ctx, q, p, ip.Name, cur)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("get linked identity: %w", err)
		}
		if err := q.LockUser(ctx, p.ID, u.Sub); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		if err := checkLinkLimit(ctx, q, p.ID, u.Sub); err != nil {
			return err
		}
		l := &identity.LinkedIdentity{PoolID: p.ID, ProviderName: ip.Name, ProviderType: ip.Type, Subject: in.Subject,
			UserSub: u.Sub, CreatedAt: s.now()}
		if ip.Type != identity.ProviderFacebook {
			l.Issuer = ip.Issuer // what the ID token's iss is checked against
		}
		if err := q.CreateLinkedIdentity(ctx, l); err != nil {
			if errors.Is(err, store.ErrConflict) { // linked concurrently
				return identity.Errorf(identity.CodeConflict, "The %s identity %s is already linked to another user.", ip.Name, safeEcho(in.Subject))
			}
			return fmt.Errorf("create linked identity: %w", err)
		}
		out = l
		return s.audit(ctx, q, p.ID, "admin.identity_linked", "user:"+u.Sub, map[string]string{
			"username": u.Username, "provider": ip.Name, "subject": in.Subject})
	})
	if err != nil {
		return nil, wrapStoreErr("link provider for user", err)
	}
	return out, nil
}

// linkedElsewhere is the conflict of an identity linked to another user,
// naming that user (the caller is an administrator).
func (s *Service) linkedElsewhere(ctx context.Context, q store.Querier, p *identity.Pool, provider string, cur *identity.LinkedIdentity) error {
	holder := cur.UserSub
	if u, err := q.GetUser(ctx, p.ID, cur.UserSub); err == nil {
		holder = u.Username
	}
	return identity.Errorf(identity.CodeConflict,
		"The %s identity %s is already linked to user %s; unlink it (or delete that federated user) first.",
		provider, safeEcho(cur.Subject), safeEcho(holder))
}

// AdminDisableProviderForUser removes the link of the upstream identity
// (in.Provider, in.Subject) from a native user and ends that user's
// sessions: the next federated sign-in with the identity no longer signs
// in as that user (it signs up a new federated user, as a first sign-in
// would). With in.DisableFederatedUser, an identity that is a federated
// user's own disables that user instead (see UnlinkProviderInput).
// The provider need not exist any more (links of a deleted provider can
// be cleaned up).
//
// Errors: resource_not_found (pool; no such link, or not in.Username's),
// invalid_parameter (bad subject, provider "Cognito", a federated user's
// own identity without DisableFederatedUser), user_not_found (in.Username).
func (s *Service) AdminDisableProviderForUser(ctx context.Context, in UnlinkProviderInput) (*UnlinkResult, error) {
	if in.Provider == ProviderCognito {
		return nil, identity.FieldError("provider", "Gatehouse does not turn off a native user's password sign-in this way; disable the user instead.")
	}
	if !isProviderName(in.Provider) {
		return nil, identity.FieldError("provider", "The identity provider name must be 1-32 of A-Z a-z 0-9 _ . -.")
	}
	if err := validateSubject("subject", in.Subject); err != nil {
		return nil, err
	}
	var res UnlinkResult
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, in.PoolID)
		if err != nil {
			return err
		}
		var want *identity.User
		if in.Username != "" {
			if want, err = s.findUser(ctx, q, p, in.Username); err != nil {
				return err
			}
		}
		l, err := q.GetLinkedIdentity(ctx, p.ID, in.Provider, in.Subject)
		if errors.Is(err, store.ErrNotFound) || (err == nil && want != nil && l.UserSub != want.Sub) {
			return errNotLinked
		}
		if err != nil {
			return fmt.Errorf("get linked identity: %w", err)
		}
		u, err := q.GetUser(ctx, p.ID, l.UserSub)
		if err != nil {
			return fmt.Errorf("linked user: %w", err)
		}
		detail := map[string]string{"username": u.Username, "provider": l.ProviderName, "subject": l.Subject}
		if u.Status == identity.StatusExternalProvider {
			if !in.DisableFederatedUser {
				return identity.FieldError("subject", "This identity is federated user %s's own; disable or delete that user instead.", safeEcho(u.Username))
			}
			u.Enabled = false
			if err := s.revokeSessions(ctx, q, p, u); err != nil {
				return err
			}
			res = UnlinkResult{User: u, Disabled: true}
			return s.audit(ctx, q, p.ID, "admin.federated_user_disabled", "user:"+u.Sub, detail)
		}
		if err := q.DeleteLinkedIdentity(ctx, p.ID, l.ProviderName, l.Subject, u.Sub); err != nil {
			if errors.Is(err, store.ErrNotFound) { // unlinked concurrently
				return errNotLinked
			}
			return fmt.Errorf("delete linked identity: %w", err)
		}
		// Some sessions may have come through this identity.
		if err := s.revokeSessions(ctx, q, p, u); err != nil {
			return err
		}
		res = UnlinkResult{User: u}
		return s.audit(ctx, q, p.ID, "admin.identity_unlinked", "user:"+u.Sub, detail)
	})
	if err != nil {
		return nil, wrapStoreErr("disable provider for user", err)
	}
	return &res, nil
}

// AdminListLinkedIdentities returns the upstream identities linked to the
// user, oldest first.
//
// Errors: resource_not_found (pool), user_not_found.
func (s *Service) AdminListLinkedIdentities(ctx context.Context, poolID, username string) ([]*identity.LinkedIdentity, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return nil, err
	}
	links, err := s.cfg.Store.ListLinkedIdentities(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, wrapStoreErr("list linked identities", err)
	}
	return links, nil
}

// isProviderName reports whether v could name a provider
// (federation.Validate's rule).
func isProviderName(v string) bool {
	return v != "" && len(v) <= 32 && strings.IndexFunc(v, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '-' || r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) < 0
}

// checkLinkLimit refuses a new link for a user already holding
// MaxLinkedIdentities. The caller must hold the user's row lock in q's
// transaction (store.LockUser, or any write to the user's row): otherwise
// concurrent links on PostgreSQL each count fewer than the limit and all
// insert.
func checkLinkLimit(ctx context.Context, q store.Querier, poolID, sub string) error {
	links, err := q.ListLinkedIdentities(ctx, poolID, sub)
	if err != nil {
		return fmt.Errorf("list linked identities: %w", err)
	}
	if len(links) >= MaxLinkedIdentities {
		return identity.Errorf(identity.CodeLimitExceeded, "A user can have at most %d linked identities.", MaxLinkedIdentities)
	}
	return nil
}
