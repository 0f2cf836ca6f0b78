package cognito

import (
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Identity providers (signed) over the pool's federation settings
// (internal/auth federation.go, docs/federation.md): OIDC, Google and
// Facebook. ProviderDetails use Cognito's keys; the client secret is
// sealed at rest and never read back.

type identityProviderType struct {
	UserPoolId       string
	ProviderName     string
	ProviderType     string
	ProviderDetails  map[string]string
	AttributeMapping map[string]string
	IdpIdentifiers   []string `json:",omitempty"`
	LastModifiedDate *epoch
	CreationDate     *epoch
}

// providerDetailKeys are the ProviderDetails keys Cognito defines for the
// types Gatehouse federates with, and whether Gatehouse honours them.
var providerDetailKeys = map[string]map[string]bool{
	identity.ProviderGoogle:   {"client_id": true, "client_secret": true, "authorize_scopes": true},
	identity.ProviderFacebook: {"client_id": true, "client_secret": true, "authorize_scopes": true, "api_version": true},
	identity.ProviderOIDC: {"client_id": true, "client_secret": true, "authorize_scopes": true, "oidc_issuer": true,
		"attributes_request_method": true},
}

// apiError is an exception that has no Gatehouse error code of its own.
type apiError struct{ Type, Message string }

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

type idpInput struct {
	UserPoolId       string
	ProviderName     string
	ProviderType     string
	ProviderDetails  map[string]string
	AttributeMapping map[string]string
	IdpIdentifiers   []string
}

// toProvider maps Cognito's provider onto Gatehouse's; it returns the
// client secret apart (sealed by the service).
func (in *idpInput) toProvider(typ string) (identity.IdentityProvider, string, error) {
	ip := identity.IdentityProvider{Name: in.ProviderName, Type: typ}
	keys, ok := providerDetailKeys[typ]
	if !ok {
		return ip, "", identity.FieldError("ProviderType", "ProviderType %s is not supported by Gatehouse; OIDC, Google and Facebook are (docs/cognito.md).", safeOpName(typ))
	}
	ip.Identifiers = in.IdpIdentifiers
	names := make([]string, 0, len(in.ProviderDetails))
	for k := range in.ProviderDetails {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !keys[k] {
			return ip, "", identity.FieldError("ProviderDetails", "ProviderDetails key %s is not supported by Gatehouse for %s providers.", safeOpName(k), typ)
		}
	}
	d := in.ProviderDetails
	ip.ClientID, ip.Issuer = d["client_id"], d["oidc_issuer"]
	if s := strings.NewReplacer(",", " ").Replace(d["authorize_scopes"]); strings.TrimSpace(s) != "" {
		ip.Scopes = strings.Fields(s)
	}
	if m := d["attributes_request_method"]; m != "" && m != "GET" && m != "POST" {
		return ip, "", identity.FieldError("ProviderDetails", "attributes_request_method must be GET or POST.")
	}
	for attr, claim := range in.AttributeMapping {
		if attr == "username" {
			if claim != "sub" {
				return ip, "", identity.FieldError("AttributeMapping", "Gatehouse names federated users by the provider's sub; username can only map to sub.")
			}
			continue
		}
		if ip.AttributeMapping == nil {
			ip.AttributeMapping = map[string]string{}
		}
		ip.AttributeMapping[attr] = claim
	}
	return ip, d["client_secret"], nil
}

func (h *Handler) toIdentityProviderType(poolID string, ip *identity.IdentityProvider) identityProviderType {
	d := map[string]string{"client_id": ip.ClientID}
	if len(ip.Scopes) > 0 {
		d["authorize_scopes"] = strings.Join(ip.Scopes, " ")
	}
	if ip.Type == identity.ProviderOIDC {
		d["oidc_issuer"] = ip.Issuer
		d["attributes_request_method"] = "GET"
	}
	am := map[string]string{"username": "sub"}
	if ip.Type == identity.ProviderFacebook {
		am["username"] = "id"
	}
	for k, v := range ip.AttributeMapping {
		am[k] = v
	}
	return identityProviderType{UserPoolId: poolID, ProviderName: ip.Name, ProviderType: ip.Type, ProviderDetails: d,
		AttributeMapping: am, IdpIdentifiers: ip.Identifiers, LastModifiedDate: toEpoch(ip.UpdatedAt), CreationDate: toEpoch(ip.CreatedAt)}
}

func (h *Handler) providerOf(c *call, poolID, name string) (*identity.IdentityProvider, error) {
	p, err := h.svc.GetPool(c.ctx, poolID)
	if err != nil {
		return nil, err
	}
	for _, ip := range p.Settings.IdentityProviders {
		if ip.Name == name {
			return &ip, nil
		}
	}
	return nil, identity.Errorf(identity.CodeResourceNotFound, "Identity provider %s does not exist.", safeOpName(name))
}

func (h *Handler) putIdentityProvider(c *call, in *idpInput, typ string, mode auth.ProviderWrite) (any, error) {
	ip, secret, err := in.toProvider(typ)
	if err != nil {
		return nil, err
	}
	if ip.Name == auth.ProviderCognito {
		return nil, identity.FieldError("ProviderName", "ProviderName Cognito is reserved.")
	}
	p, err := h.svc.PutIdentityProvider(c.ctx, in.UserPoolId, ip, secret, mode)
	var ie *identity.Error
	if errors.As(err, &ie) && ie.Code == identity.CodeConflict {
		return nil, &apiError{"DuplicateProviderException", ie.Message}
	}
	if err != nil {
		return nil, err
	}
	for _, x := range p.Settings.IdentityProviders {
		if x.Name == ip.Name {
			return struct{ IdentityProvider identityProviderType }{h.toIdentityProviderType(p.ID, &x)}, nil
		}
	}
	return nil, identity.Errorf(identity.CodeInternal, "provider %s missing after write", ip.Name)
}

func (h *Handler) createIdentityProvider(c *call) (any, error) {
	var in idpInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.ProviderName == "" || in.ProviderType == "" || in.ProviderDetails == nil {
		return nil, identity.FieldError("ProviderName", "ProviderName, ProviderType and ProviderDetails are required.")
	}
	return h.putIdentityProvider(c, &in, in.ProviderType, auth.ProviderCreate)
}

func (h *Handler) updateIdentityProvider(c *call) (any, error) {
	var in idpInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cur, err := h.providerOf(c, in.UserPoolId, in.ProviderName)
	if err != nil {
		return nil, err
	}
	// Members the request omits keep their values.
	if in.ProviderDetails == nil {
		in.ProviderDetails = h.toIdentityProviderType(in.UserPoolId, cur).ProviderDetails
	}
	if in.AttributeMapping == nil {
		in.AttributeMapping = cur.AttributeMapping
	}
	if in.IdpIdentifiers == nil {
		in.IdpIdentifiers = cur.Identifiers
	}
	return h.putIdentityProvider(c, &in, cur.Type, auth.ProviderUpdate)
}

func (h *Handler) describeIdentityProvider(c *call) (any, error) {
	var in struct{ UserPoolId, ProviderName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ip, err := h.providerOf(c, in.UserPoolId, in.ProviderName)
	if err != nil {
		return nil, err
	}
	return struct{ IdentityProvider identityProviderType }{h.toIdentityProviderType(in.UserPoolId, ip)}, nil
}

func (h *Handler) deleteIdentityProvider(c *call) (any, error) {
	var in struct{ UserPoolId, ProviderName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteIdentityProvider(c.ctx, in.UserPoolId, in.ProviderName)
}

func (h *Handler) listIdentityProviders(c *call) (any, error) {
	var in listInput
	if err := in.decode(c, 0, 60); err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 60
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	list := p.Settings.IdentityProviders
	start, end, next, err := offsetPage(len(list), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	type desc struct {
		ProviderName     string
		ProviderType     string
		LastModifiedDate *epoch
		CreationDate     *epoch
	}
	out := []desc{}
	for _, ip := range list[start:end] {
		out = append(out, desc{ip.Name, ip.Type, toEpoch(ip.UpdatedAt), toEpoch(ip.CreatedAt)})
	}
	return struct {
		Providers []desc
		NextToken string `json:",omitempty"`
	}{out, next}, nil
}

// getIdentityProviderByIdentifier finds the provider listing IdpIdentifier
// among its IdpIdentifiers.
func (h *Handler) getIdentityProviderByIdentifier(c *call) (any, error) {
	var in struct{ UserPoolId, IdpIdentifier string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.IdpIdentifier == "" {
		return nil, identity.FieldError("IdpIdentifier", "1 validation error detected: Value at 'idpIdentifier' failed to satisfy constraint: Member must not be null")
	}
	p, err := h.svc.GetPool(c.ctx, in.UserPoolId)
	if err != nil {
		return nil, err
	}
	for _, ip := range p.Settings.IdentityProviders {
		if slices.Contains(ip.Identifiers, in.IdpIdentifier) {
			return struct{ IdentityProvider identityProviderType }{h.toIdentityProviderType(p.ID, &ip)}, nil
		}
	}
	return nil, identity.Errorf(identity.CodeResourceNotFound, "Identity provider for identifier %s does not exist.", safeOpName(in.IdpIdentifier))
}
