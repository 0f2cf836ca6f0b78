package auth

import (
	"context"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Limits and patterns of resource servers (Cognito's).
const (
	MaxResourceServers      = 25
	MaxResourceServerScopes = 100
)

var (
	rsIdentifierRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,256}$`)
	rsNameRE       = regexp.MustCompile(`^[\w\s+=,.@-]{1,256}$`)
	rsScopeRE      = regexp.MustCompile(`^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$`)
)

func validateResourceServer(rs *identity.ResourceServer) error {
	if !rsIdentifierRE.MatchString(rs.Identifier) {
		return identity.FieldError("identifier", "Invalid resource server identifier %q: 1 to 256 printable ASCII characters without spaces, quotes or backslashes.", safeEcho(rs.Identifier))
	}
	if !rsNameRE.MatchString(rs.Name) {
		return identity.FieldError("name", "Invalid resource server name %q: 1 to 256 letters, digits, spaces or +=,.@-.", safeEcho(rs.Name))
	}
	if len(rs.Scopes) > MaxResourceServerScopes {
		return identity.FieldError("scopes", "A resource server has at most %d scopes.", MaxResourceServerScopes)
	}
	for i, sc := range rs.Scopes {
		if !rsScopeRE.MatchString(sc.Name) {
			return identity.FieldError("scopes", "Invalid scope name %q: 1 to 256 printable ASCII characters without spaces, quotes, slashes or backslashes.", safeEcho(sc.Name))
		}
		if sc.Description == "" || utf8.RuneCountInString(sc.Description) > 256 {
			return identity.FieldError("scopes", "The scope %s needs a description of 1 to 256 characters.", sc.Name)
		}
		for _, o := range rs.Scopes[:i] {
			if o.Name == sc.Name {
				return identity.FieldError("scopes", "The scope %s is listed twice.", sc.Name)
			}
		}
	}
	return nil
}

// PutResourceServer adds (ProviderCreate: conflict if the identifier is
// taken), replaces (ProviderUpdate: resource_not_found if absent) or
// upserts a resource server of the pool, in one transaction.
//
// Errors: resource_not_found, invalid_parameter, conflict, limit_exceeded.
func (s *Service) PutResourceServer(ctx context.Context, poolID string, rs identity.ResourceServer, mode ProviderWrite) error {
	if err := validateResourceServer(&rs); err != nil {
		return err
	}
	return wrapStoreErr("put resource server", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		list := slices.Clone(p.Settings.ResourceServers)
		i := slices.IndexFunc(list, func(o identity.ResourceServer) bool { return o.Identifier == rs.Identifier })
		switch {
		case i >= 0 && mode == ProviderCreate:
			return identity.Errorf(identity.CodeConflict, "%s already exists in user pool %s.", safeEcho(rs.Identifier), p.ID)
		case i < 0 && mode == ProviderUpdate:
			return identity.Errorf(identity.CodeResourceNotFound, "Resource server %s does not exist.", safeEcho(rs.Identifier))
		case i >= 0:
			list[i] = rs
		case len(list) >= MaxResourceServers:
			return identity.Errorf(identity.CodeLimitExceeded, "A user pool has at most %d resource servers.", MaxResourceServers)
		default:
			list = append(list, rs)
		}
		p.Settings.ResourceServers = list
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.resource_server_put", "resource-server:"+rs.Identifier, nil)
	}))
}

// DeleteResourceServer removes a resource server. App clients keep the
// scopes they list; those scopes are simply no longer described.
//
// Errors: resource_not_found.
func (s *Service) DeleteResourceServer(ctx context.Context, poolID, identifier string) error {
	return wrapStoreErr("delete resource server", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		n := len(p.Settings.ResourceServers)
		p.Settings.ResourceServers = slices.DeleteFunc(slices.Clone(p.Settings.ResourceServers),
			func(o identity.ResourceServer) bool { return o.Identifier == identifier })
		if len(p.Settings.ResourceServers) == n {
			return identity.Errorf(identity.CodeResourceNotFound, "Resource server %s does not exist.", safeEcho(identifier))
		}
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "pool.resource_server_delete", "resource-server:"+identifier, nil)
	}))
}
