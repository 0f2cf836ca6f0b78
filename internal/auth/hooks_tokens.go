package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Pre token generation
//
// Version "1" (default) sends Cognito's V1 event: the hook may add,
// override or suppress ID token claims (string values) and override the
// groups (cognito:groups in both tokens). Version "2" sends the V2 event:
// ID and access token claims (any JSON value), access token scopes, and
// the groups. Claims in hooks.ForbiddenClaims, cognito:* claims (groups go
// through groupOverrideDetails) and, in access tokens, client_id, username
// and scope (scopes go through scopesToAdd/scopesToSuppress) cannot be
// changed: an answer that tries is an invalid response and the sign-in
// fails (as in Cognito), rather than tokens silently differing from what
// the hook asked for.

type tokenSourceKey struct{}

// withTokenSource sets the triggerSource of the tokens issued under ctx
// (hooks.SourceTokenAuthentication when unset).
func withTokenSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, tokenSourceKey{}, source)
}

// HostedAuth returns ctx marked so that tokens issued under it (InitiateAuth
// and friends called by the hosted pages) report TokenGeneration_HostedAuth
// to the pool's pre_token_generation hook, as Cognito's hosted UI does.
func HostedAuth(ctx context.Context) context.Context {
	return withTokenSource(ctx, hooks.SourceTokenHostedAuth)
}

func tokenSource(ctx context.Context) string {
	if s, ok := ctx.Value(tokenSourceKey{}).(string); ok {
		return s
	}
	return hooks.SourceTokenAuthentication
}

// preTokenGeneration calls the pool's pre_token_generation hook and applies
// its answer to the id and access claims of g, before they are signed.
func (s *Service) preTokenGeneration(ctx context.Context, g *tokenGrant, id, access map[string]any) error {
	h := hookFor(g.pool, identity.TriggerPreTokenGeneration)
	if h == nil {
		return nil
	}
	source := tokenSource(ctx)
	attrs := hookUserAttributes(g.user)
	groups := append([]string{}, g.groups...)
	if h.Version == "2" {
		ev := hooks.PreTokenGenV2Event{}
		ev.CognitoEventUserPoolsHeader = hooks.Header(g.pool, g.client.ID, source, cognitoUsername(g.pool, g.user), "2")
		ev.Request.UserAttributes = attrs
		ev.Request.GroupConfiguration = hooks.GroupConfigurationV2{GroupsToOverride: groups, IAMRolesToOverride: []string{}}
		ev.Request.ClientMetadata = map[string]string{}
		ev.Request.Scopes = strings.Fields(strClaim(access, "scope"))
		var resp hooks.PreTokenGenV2Response
		if err := s.callHook(ctx, g.pool, h, identity.TriggerPreTokenGeneration, source, ev, &resp); err != nil {
			return err
		}
		d := resp.ClaimsAndScopeOverrideDetails
		if err := overrideClaims(id, d.IDTokenGeneration.ClaimsToAddOrOverride, d.IDTokenGeneration.ClaimsToSuppress, false); err != nil {
			return err
		}
		if err := overrideClaims(access, d.AccessTokenGeneration.ClaimsToAddOrOverride, d.AccessTokenGeneration.ClaimsToSuppress, true); err != nil {
			return err
		}
		if err := overrideScopes(access, d.AccessTokenGeneration.ScopesToAdd, d.AccessTokenGeneration.ScopesToSuppress); err != nil {
			return err
		}
		overrideGroups(d.GroupOverrideDetails.GroupsToOverride, id, access)
		return nil
	}
	ev := hooks.PreTokenGenEvent{}
	ev.CognitoEventUserPoolsHeader = hooks.Header(g.pool, g.client.ID, source, cognitoUsername(g.pool, g.user), "1")
	ev.Request.UserAttributes = attrs
	ev.Request.GroupConfiguration = hooks.GroupConfiguration{GroupsToOverride: groups, IAMRolesToOverride: []string{}}
	ev.Request.ClientMetadata = map[string]string{}
	var resp hooks.PreTokenGenResponse
	if err := s.callHook(ctx, g.pool, h, identity.TriggerPreTokenGeneration, source, ev, &resp); err != nil {
		return err
	}
	d := resp.ClaimsOverrideDetails
	add := make(map[string]any, len(d.ClaimsToAddOrOverride))
	for k, v := range d.ClaimsToAddOrOverride {
		add[k] = v
	}
	if err := overrideClaims(id, add, d.ClaimsToSuppress, false); err != nil {
		return err
	}
	overrideGroups(d.GroupOverrideDetails.GroupsToOverride, id, access)
	return nil
}

func invalidTokenAnswer(reason string) error {
	return (&hooks.Error{Kind: hooks.KindInvalidResponse, Trigger: identity.TriggerPreTokenGeneration, Reason: reason}).Identity()
}

// reservedClaim says why a hook may not touch name ("" if it may).
func reservedClaim(name string, accessToken, suppress bool) string {
	switch {
	case hooks.ForbiddenClaims[name]:
		return "the claim " + name + " cannot be changed"
	case name == "cognito:groups" && suppress:
		return "" // same as overriding the groups with none
	case strings.HasPrefix(name, "cognito:"):
		return "the claim " + name + " cannot be changed (use groupOverrideDetails for groups)"
	case accessToken && (name == "client_id" || name == "username" || name == "scope"):
		return "the access token claim " + name + " cannot be changed (use scopesToAdd/scopesToSuppress for scopes)"
	case name == "":
		return "a claim name is empty"
	}
	return ""
}

// overrideClaims applies claimsToSuppress, then claimsToAddOrOverride.
func overrideClaims(claims map[string]any, add map[string]any, suppress []string, accessToken bool) error {
	for _, name := range suppress {
		if why := reservedClaim(name, accessToken, true); why != "" {
			return invalidTokenAnswer(why)
		}
	}
	names := make([]string, 0, len(add))
	for name := range add {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if why := reservedClaim(name, accessToken, false); why != "" {
			return invalidTokenAnswer(why)
		}
	}
	for _, name := range suppress {
		delete(claims, name)
	}
	for _, name := range names {
		if add[name] == nil {
			return invalidTokenAnswer(fmt.Sprintf("the claim %s has a null value", name))
		}
		claims[name] = add[name]
	}
	return nil
}

// overrideScopes edits the access token's space-separated scope claim.
func overrideScopes(access map[string]any, add, suppress []string) error {
	if len(add) == 0 && len(suppress) == 0 {
		return nil
	}
	drop := map[string]bool{}
	for _, sc := range suppress {
		drop[sc] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, sc := range append(strings.Fields(strClaim(access, "scope")), add...) {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") || len(sc) > 256 {
			return invalidTokenAnswer("a scope is empty or has spaces, quotes or backslashes")
		}
		if drop[sc] || seen[sc] {
			continue
		}
		seen[sc] = true
		out = append(out, sc)
	}
	if len(out) == 0 {
		delete(access, "scope")
		return nil
	}
	access["scope"] = strings.Join(out, " ")
	return nil
}

// overrideGroups replaces cognito:groups in both tokens when the hook
// answered groupsToOverride (an empty list removes the claim; null or
// absent keeps the groups).
func overrideGroups(groups []string, id, access map[string]any) {
	if groups == nil {
		return
	}
	if len(groups) == 0 {
		delete(id, "cognito:groups")
		delete(access, "cognito:groups")
		return
	}
	gs := append([]string{}, groups...)
	id["cognito:groups"] = gs
	access["cognito:groups"] = gs
}

// signInTokensFailed handles a sign-in whose credential verified but whose
// tokens could not be issued (a failing pre_token_generation hook): the
// failure counter is cleared as for any verified credential (otherwise a
// broken hook would lock users out), the failure is audited, and err is
// returned.
func (s *Service) signInTokensFailed(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, err error) error {
	terr := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.ResetFailedAttempts(ctx, p.ID, u.Sub); err != nil {
			return fmt.Errorf("reset attempts: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.sign_in_failed", "user:"+u.Sub,
			map[string]string{"client_id": cl.ID, "reason": identity.ErrorMessage(err)})
	})
	if terr != nil {
		return errors.Join(err, terr)
	}
	return err
}
