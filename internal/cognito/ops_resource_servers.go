package cognito

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Resource servers (signed): the pool's custom scopes
// (identity.PoolSettings.ResourceServers), which app clients are granted
// as "<identifier>/<scope>" for client_credentials.

type resourceServerScopeType struct {
	ScopeName        string
	ScopeDescription string
}

type resourceServerType struct {
	UserPoolId string
	Identifier string
	Name       string
	Scopes     []resourceServerScopeType
}

type resourceServerInput struct {
	UserPoolId string
	Identifier string
	Name       string
	Scopes     []resourceServerScopeType
}

func (in *resourceServerInput) server() identity.ResourceServer {
	rs := identity.ResourceServer{Identifier: in.Identifier, Name: in.Name}
	for _, sc := range in.Scopes {
		rs.Scopes = append(rs.Scopes, identity.ResourceServerScope{Name: sc.ScopeName, Description: sc.ScopeDescription})
	}
	return rs
}

func toResourceServerType(poolID string, rs *identity.ResourceServer) resourceServerType {
	out := resourceServerType{UserPoolId: poolID, Identifier: rs.Identifier, Name: rs.Name, Scopes: []resourceServerScopeType{}}
	for _, sc := range rs.Scopes {
		out.Scopes = append(out.Scopes, resourceServerScopeType{sc.Name, sc.Description})
	}
	return out
}

func (h *Handler) putResourceServer(c *call, mode auth.ProviderWrite) (any, error) {
	var in resourceServerInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	rs := in.server()
	err := h.svc.PutResourceServer(c.ctx, in.UserPoolId, rs, mode)
	var ie *identity.Error
	if errors.As(err, &ie) && ie.Code == identity.CodeConflict {
		return nil, identity.FieldError("Identifier", "%s", ie.Message)
	}
	if err != nil {
		return nil, err
	}
	return struct{ ResourceServer resourceServerType }{toResourceServerType(in.UserPoolId, &rs)}, nil
}

func (h *Handler) createResourceServer(c *call) (any, error) {
	return h.putResourceServer(c, auth.ProviderCreate)
}

// updateResourceServer replaces the name and the scopes; omitted scopes
// are removed, as on AWS.
func (h *Handler) updateResourceServer(c *call) (any, error) {
	return h.putResourceServer(c, auth.ProviderUpdate)
}

func (h *Handler) resourceServerOf(c *call) (string, *identity.ResourceServer, error) {
	var in struct{ UserPoolId, Identifier string }
	if err := c.decode(&in); err != nil {
		return "", nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return "", nil, err
	}
	for _, rs := range p.Settings.ResourceServers {
		if rs.Identifier == in.Identifier {
			return p.ID, &rs, nil
		}
	}
	return "", nil, identity.Errorf(identity.CodeResourceNotFound, "Resource server %s does not exist.", safeOpName(in.Identifier))
}

func (h *Handler) describeResourceServer(c *call) (any, error) {
	poolID, rs, err := h.resourceServerOf(c)
	if err != nil {
		return nil, err
	}
	return struct{ ResourceServer resourceServerType }{toResourceServerType(poolID, rs)}, nil
}

func (h *Handler) deleteResourceServer(c *call) (any, error) {
	poolID, rs, err := h.resourceServerOf(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteResourceServer(c.ctx, poolID, rs.Identifier)
}

func (h *Handler) listResourceServers(c *call) (any, error) {
	var in listInput
	if err := in.decode(c, 1, 50); err != nil {
		return nil, err
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	list := p.Settings.ResourceServers
	start, end, next, err := offsetPage(len(list), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := []resourceServerType{}
	for _, rs := range list[start:end] {
		out = append(out, toResourceServerType(p.ID, &rs))
	}
	return struct {
		ResourceServers []resourceServerType
		NextToken       string `json:",omitempty"`
	}{out, next}, nil
}

// standardScopes are the OAuth scopes every pool has.
var standardScopes = []string{"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}

// checkScopes refuses a client scope that is neither standard nor
// "<identifier>/<scope>" of one of p's resource servers, as Cognito does.
func checkScopes(p *identity.Pool, scopes []string) error {
	for _, sc := range scopes {
		if slices.Contains(standardScopes, sc) || resourceScopeExists(p, sc) {
			continue
		}
		return &apiError{"ScopeDoesNotExistException", "Invalid scope requested: " + safeOpName(sc)}
	}
	return nil
}

func resourceScopeExists(p *identity.Pool, sc string) bool {
	for _, rs := range p.Settings.ResourceServers {
		name, ok := strings.CutPrefix(sc, rs.Identifier+"/")
		if ok && slices.ContainsFunc(rs.Scopes, func(x identity.ResourceServerScope) bool { return x.Name == name }) {
			return true
		}
	}
	return false
}

// offsetPage pages a list of n stored items by offset: the NextToken is
// the index of the next item.
func offsetPage(n, limit int, token string) (start, end int, next string, err error) {
	if token != "" {
		if start, err = strconv.Atoi(token); err != nil || start < 0 || start > n {
			return 0, 0, "", identity.FieldError("NextToken", "Invalid NextToken.")
		}
	}
	end = min(start+limit, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}
