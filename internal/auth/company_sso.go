package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Company single sign-on (docs/company-sso.md, issue 18).
//
// A company admin (or a pool admin) gives the company its own OpenID
// Connect provider: a CompanyIdP row named "sso:<hex>", which the
// federation flow (federation.go) uses like a pool provider. What differs:
//
//   - home-realm discovery (HomeRealm): an address of one of the
//     company's email domains is sent to the company's provider;
//   - the provider's word is the proof of membership: a first sign-in
//     creates the user as a member of the company (company attribute,
//     company group, default groups) without an approval (ssoSignUp), and
//     each later sign-in keeps the user in the company (ssoKeepMember);
//   - the provider speaks only for its company's domains: an address of
//     another company's domain is refused, an address of a domain nobody
//     owns is taken as unverified (ssoEmail);
//   - RequireSSO refuses password sign-in (completeSignIn) to addresses
//     of the company's domains; an existing password account is linked
//     only after its password is entered once behind the provider's
//     identity (the link step of federation.go), never by email alone.

// CompanyIdPInput sets a company's identity provider.
type CompanyIdPInput struct {
	Kind             string // "oidc" (the default) or "saml"
	Issuer           string // OIDC
	MetadataXML      string // SAML: the IdP's metadata ("" keeps the stored one)
	ClientID         string
	ClientSecret     string // "" keeps the stored one
	Scopes           []string
	AttributeMapping map[string]string
	// GroupMapping maps an IdP group (OIDC "groups" claim, SAML "groups"
	// or "memberOf") to an existing pool group; not the console's admin
	// group nor another company's group.
	GroupMapping map[string]string
	RequireSSO   bool
	SAMLInput
}

// CompanyIdPView is a company's provider as admins see it: no secret, and
// the values to enter at the provider.
type CompanyIdPView struct {
	Company          string
	Name             string // the identity_provider value
	Kind             string
	Issuer           string
	ClientID         string
	HasClientSecret  bool
	Scopes           []string
	AttributeMapping map[string]string
	GroupMapping     map[string]string
	RequireSSO       bool
	EmailDomains     []string
	// RedirectURI is the redirect (callback) URI to register at the provider.
	RedirectURI string
	// SignInURL starts a sign-in with this provider on the hosted pages
	// (an "initiate login URI" for the provider's app tile).
	SignInURL string
	// SAML: the service provider's entity id (also its metadata URL),
	// assertion consumer service URL, single logout URL, and the rest of
	// company_saml.go's view (samlView).
	SAMLEntityID, SAMLACSURL, SAMLSLOURL string
	SAMLView
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (s *Service) companyIdPView(p *identity.Pool, c *identity.Company, idp *identity.CompanyIdP) *CompanyIdPView {
	v := &CompanyIdPView{Company: c.Name, Name: idp.Name, Kind: idp.Kind, Issuer: idp.Provider.Issuer,
		ClientID: idp.Provider.ClientID, HasClientSecret: idp.Provider.ClientSecretSealed != "", Scopes: idp.Provider.Scopes,
		AttributeMapping: idp.Provider.AttributeMapping, GroupMapping: idp.Provider.GroupMapping, RequireSSO: idp.RequireSSO, EmailDomains: c.EmailDomains,
		RedirectURI: s.FederationCallbackURL(p), SignInURL: s.Issuer(p) + "/federation/" + idp.Name,
		CreatedAt: idp.CreatedAt, UpdatedAt: idp.UpdatedAt}
	if idp.Kind == identity.CompanyIdPSAML {
		s.samlView(p, idp, v)
	}
	return v
}

// samlReplay is the SAML replay cache in the database (crewjam's
// AssertionReplayCache): an assertion ID is accepted once per pool.
type samlReplay struct {
	s      *Service
	poolID string
}

func (r *samlReplay) Consume(id string, expiresAt time.Time) error {
	if len(id) > 256 {
		return errors.New("assertion id too long")
	}
	err := r.s.cfg.Store.InTx(context.Background(), func(q store.Querier) error {
		return q.UseSAMLAssertion(context.Background(), r.poolID, id, expiresAt, r.s.now())
	})
	if errors.Is(err, store.ErrConflict) {
		return errors.New("assertion has already been used")
	}
	return err
}

// CompanySAMLMetadata returns the SAML service provider metadata of the
// company provider "sso:<id>" (public: the IdP reads it). Errors:
// resource_not_found.
func (s *Service) CompanySAMLMetadata(ctx context.Context, poolID, id string) ([]byte, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	idp, err := s.cfg.Store.GetCompanyIdPByName(ctx, p.ID, identity.CompanyIdPPrefix+id)
	if errors.Is(err, store.ErrNotFound) || err == nil && idp.Kind != identity.CompanyIdPSAML {
		return nil, errNoCompanyIdP
	}
	if err != nil {
		return nil, err
	}
	sp, err := s.samlSP(p, idp)
	if err != nil {
		return nil, err
	}
	return sp.Metadata()
}

// companyOfAdmin reads, in q, the pool and the company a caller may
// administer (a company admin: their own; a pool admin: any).
func (s *Service) companyOfAdmin(ctx context.Context, q store.Querier, poolID, company string) (*identity.Pool, *identity.Company, error) {
	p, err := s.getPool(ctx, q, poolID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkCompanyAccess(ctx, q, p, company, false); err != nil {
		return nil, nil, err
	}
	c, err := q.GetCompany(ctx, p.ID, company)
	if err != nil {
		return nil, nil, companyStoreErr(err)
	}
	return p, c, nil
}

// errNoCompanyIdP: the company has no identity provider.
var errNoCompanyIdP = identity.Errorf(identity.CodeResourceNotFound, "The company has no identity provider.")

// SetCompanyIdP adds or replaces the identity provider of company. A
// company admin may set their own company's, a pool admin any company's.
// Errors: forbidden, resource_not_found (pool, company), invalid_parameter.
func (s *Service) SetCompanyIdP(ctx context.Context, poolID, company string, in CompanyIdPInput) (*CompanyIdPView, error) {
	switch in.Kind {
	case "":
		in.Kind = identity.CompanyIdPOIDC
	case identity.CompanyIdPOIDC, identity.CompanyIdPSAML:
	default:
		return nil, identity.FieldError("kind", "The kind must be oidc or saml.")
	}
	if len(in.ClientSecret) > 1024 {
		return nil, identity.FieldError("client_secret", "The client secret is longer than 1024 bytes.")
	}
	pre, err := s.samlPrepare(ctx, &in)
	if err != nil {
		return nil, err
	}
	var out *CompanyIdPView
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, c, err := s.companyOfAdmin(ctx, q, poolID, company)
		if err != nil {
			return err
		}
		// Validate with a name federation.Validate accepts; the real
		// name ("sso:...") is one no pool provider can take.
		ip := identity.IdentityProvider{Name: "company", Type: identity.ProviderOIDC, Issuer: strings.TrimSpace(in.Issuer),
			ClientID: strings.TrimSpace(in.ClientID), Scopes: in.Scopes, AttributeMapping: in.AttributeMapping}
		cur, err := q.GetCompanyIdP(ctx, p.ID, c.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get company idp: %w", err)
		}
		if in.Kind == identity.CompanyIdPSAML && in.MetadataXML == "" && cur != nil && cur.Kind == identity.CompanyIdPSAML {
			in.MetadataXML = cur.Provider.SAMLMetadata // "" keeps the stored metadata
		}
		if in.Kind == identity.CompanyIdPSAML {
			entityID, err := federation.ParseIdPMetadata([]byte(in.MetadataXML))
			if err != nil {
				return identity.FieldError("metadata_xml", "The SAML metadata cannot be used: %s.", safeEcho(err.Error()))
			}
			ip = identity.IdentityProvider{Name: "company", Type: identity.ProviderSAML, Issuer: entityID,
				SAMLMetadata: in.MetadataXML, AttributeMapping: in.AttributeMapping}
			s.samlSettings(cur, &in, pre, &ip)
		} else if err := federation.Validate(&ip); err != nil {
			return err
		}
		for attr, claim := range ip.AttributeMapping {
			if attr == "" || claim == "" || attr == "sub" || attr == "username" || attr == "email_verified" {
				return identity.FieldError("attribute_mapping", "Cannot map %q to %q.", safeEcho(attr), safeEcho(claim))
			}
			if attr == p.Settings.SignUp.CompanyAttr() {
				return identity.FieldError("attribute_mapping", "The company attribute comes from the company itself and cannot be mapped.")
			}
			if strings.HasPrefix(attr, "custom:") && attrDef(p, attr) == nil {
				return identity.FieldError("attribute_mapping", "The pool has no attribute %s.", safeEcho(attr))
			}
		}
		if err := s.checkGroupMapping(ctx, q, p, c, in.GroupMapping); err != nil {
			return err
		}
		if err := checkMappingTargets(ctx, cur, in.GroupMapping); err != nil {
			return err
		}
		ip.GroupMapping = in.GroupMapping
		now := s.now()
		idp := &identity.CompanyIdP{PoolID: p.ID, Company: c.Name, Kind: in.Kind, RequireSSO: in.RequireSSO,
			CreatedAt: now, UpdatedAt: now}
		if cur != nil {
			idp.Name, idp.CreatedAt = cur.Name, cur.CreatedAt
			if in.Kind == identity.CompanyIdPOIDC {
				ip.ClientSecretSealed = cur.Provider.ClientSecretSealed
			}
		} else {
			b := make([]byte, 8)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			idp.Name = identity.CompanyIdPPrefix + hex.EncodeToString(b)
		}
		ip.Name = idp.Name
		if in.Kind == identity.CompanyIdPSAML {
			if err := s.samlSealKey(p, idp.Name, cur, in.RotateSPKey, pre, &ip); err != nil {
				return err
			}
		}
		if in.ClientSecret != "" && in.Kind == identity.CompanyIdPOIDC {
			sealed, err := s.cfg.Secrets.Seal(providerSecretPurpose(p.ID, idp.Name), []byte(in.ClientSecret))
			if err != nil {
				return err
			}
			ip.ClientSecretSealed = base64.RawURLEncoding.EncodeToString(sealed)
		}
		idp.Provider = ip
		if err := q.PutCompanyIdP(ctx, idp); err != nil {
			return companyStoreErr(err)
		}
		out = s.companyIdPView(p, c, idp)
		if err := s.enqueueSAMLRefresh(ctx, q, idp); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "company.idp_set", "company:"+c.Name, map[string]string{
			"provider": idp.Name, "issuer": ip.Issuer, "require_sso": fmt.Sprint(idp.RequireSSO),
			"saml_metadata_url": ip.SAMLMetadataURL, "saml_require_encryption": fmt.Sprint(ip.SAMLRequireEncryption),
			"saml_sp_key_rotated": fmt.Sprint(in.RotateSPKey)})
	})
	return out, err
}

// GetCompanyIdP returns the company's provider. Errors: forbidden,
// resource_not_found (pool, company, no provider).
func (s *Service) GetCompanyIdP(ctx context.Context, poolID, company string) (*CompanyIdPView, error) {
	p, c, idp, err := s.companyIdPOf(ctx, poolID, company)
	if err != nil {
		return nil, err
	}
	return s.companyIdPView(p, c, idp), nil
}

// companyIdPOf reads the pool, company and provider a caller may
// administer. Errors: those of GetCompanyIdP.
func (s *Service) companyIdPOf(ctx context.Context, poolID, company string) (*identity.Pool, *identity.Company, *identity.CompanyIdP, error) {
	p, c, err := s.companyOfAdmin(ctx, s.cfg.Store, poolID, company)
	if err != nil {
		return nil, nil, nil, err
	}
	idp, err := s.cfg.Store.GetCompanyIdP(ctx, p.ID, c.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, errNoCompanyIdP
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return p, c, idp, nil
}

// DeleteCompanyIdP removes the company's provider; its members keep their
// accounts (their links stay, unusable until a provider is set again).
// Errors: forbidden, resource_not_found.
func (s *Service) DeleteCompanyIdP(ctx context.Context, poolID, company string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, c, err := s.companyOfAdmin(ctx, q, poolID, company)
		if err != nil {
			return err
		}
		if err := q.DeleteCompanyIdP(ctx, p.ID, c.Name); errors.Is(err, store.ErrNotFound) {
			return errNoCompanyIdP
		} else if err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "company.idp_deleted", "company:"+c.Name, nil)
	})
}

// HasCompanySSO reports whether any company of the pool has a provider
// (the hosted sign-in page then asks for the email first).
func (s *Service) HasCompanySSO(ctx context.Context, poolID string) (bool, error) {
	list, err := s.cfg.Store.ListCompanyIdPs(ctx, poolID)
	return len(list) > 0, err
}

// HomeRealm returns the provider name ("sso:...") that signs in hint — an
// email address, or a bare email domain (Cognito's idp_identifier) — or ""
// when no active company with a provider owns its domain.
func (s *Service) HomeRealm(ctx context.Context, poolID, hint string) (string, error) {
	hint = strings.ToLower(strings.TrimSpace(hint))
	domain := hint
	if i := strings.LastIndexByte(hint, '@'); i >= 0 {
		domain = hint[i+1:]
	}
	if domain == "" || len(domain) > 253 || !validHostname(domain) {
		return "", nil
	}
	idp, _, err := s.companyIdPForDomain(ctx, poolID, domain)
	if err != nil || idp == nil {
		return "", err
	}
	return idp.Name, nil
}

// companyIdPForDomain returns the provider and company owning domain, or
// nils when there is none (or the company is disabled).
func (s *Service) companyIdPForDomain(ctx context.Context, poolID, domain string) (*identity.CompanyIdP, *identity.Company, error) {
	c, err := s.cfg.Store.GetCompanyByDomain(ctx, poolID, domain)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get company by domain: %w", err)
	}
	if c.Status != identity.CompanyActive {
		return nil, nil, nil
	}
	idp, err := s.cfg.Store.GetCompanyIdP(ctx, poolID, c.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, c, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get company idp: %w", err)
	}
	return idp, c, nil
}

// errSSORequired refuses a password sign-in to an address whose company
// requires its identity provider.
var errSSORequired = identity.Errorf(identity.CodeNotAuthorized, "This address signs in through its company's identity provider.")

// requireSSO refuses a password (or SRP) sign-in of u when the company
// owning u's email domain requires single sign-on: one read
// (store.DomainRequiresSSO), never a cache, so a change made on another
// node holds at once.
func (s *Service) requireSSO(ctx context.Context, p *identity.Pool, u *identity.User) error {
	d := emailDomain(u.Email)
	if d == "" {
		return nil
	}
	req, err := s.cfg.Store.DomainRequiresSSO(ctx, p.ID, d)
	if err != nil {
		return fmt.Errorf("require sso: %w", err)
	}
	if req {
		return errSSORequired
	}
	return nil
}

// lookupProvider finds a pool provider, or a company provider by its
// "sso:" name (nil CompanyIdP for a pool provider). A company provider
// of a disabled company is not found.
func (s *Service) lookupProvider(ctx context.Context, p *identity.Pool, name string) (*identity.IdentityProvider, *identity.CompanyIdP, *identity.Company, error) {
	if !strings.HasPrefix(name, identity.CompanyIdPPrefix) {
		ip, err := findProvider(p, name)
		return ip, nil, nil, err
	}
	notFound := identity.FieldError("identity_provider", "The pool has no identity provider %s.", safeEcho(name))
	idp, err := s.cfg.Store.GetCompanyIdPByName(ctx, p.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, notFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get company idp: %w", err)
	}
	c, err := s.cfg.Store.GetCompany(ctx, p.ID, idp.Company)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.Status != identity.CompanyActive {
		return nil, nil, nil, notFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get company: %w", err)
	}
	ip := idp.Provider
	return &ip, idp, c, nil
}

// ssoEmail decides what a company provider's asserted email is worth: an
// address of one of the company's domains is verified (the company's
// provider speaks for its domains), one of a domain another company owns
// is refused, any other is kept unverified.
func (s *Service) ssoEmail(ctx context.Context, p *identity.Pool, c *identity.Company, t *fedTicket) error {
	d := emailDomain(t.Email)
	if d == "" {
		t.EmailVerified = false
		return nil
	}
	if slices.Contains(c.EmailDomains, d) {
		t.EmailVerified = true
		return nil
	}
	t.EmailVerified = false
	owner, err := s.cfg.Store.GetCompanyByDomain(ctx, p.ID, d)
	switch {
	case err == nil && !strings.EqualFold(owner.Name, c.Name):
		return identity.Errorf(identity.CodeNotAuthorized, "The identity provider of %s cannot sign in addresses of another company's domain.", c.Name)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("get company by domain: %w", err)
	}
	return nil
}

// ssoJoin makes u a member of c in q: the company attribute (when the
// pool's schema has it) and the company's group, moving u out of another
// company. It writes u. Nothing is written when u is a member already.
func (s *Service) ssoJoin(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, c *identity.Company) error {
	attr := p.Settings.SignUp.CompanyAttr()
	old := strings.TrimSpace(u.Attributes[attr])
	if attrDef(p, attr) != nil && old != c.Name {
		setCompanyAttr(p, u, c.Name)
		if err := s.moveCompany(ctx, q, p, u, old, true); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		if err := q.UpdateUser(ctx, u, uniqueEmailFor(p, u)); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
	}
	g := companyGroup(c)
	if err := s.ensureGroup(ctx, q, p.ID, g, "Members of "+c.DisplayName); err != nil {
		return err
	}
	if err := q.AddUserToGroup(ctx, p.ID, u.Sub, g); err != nil {
		return fmt.Errorf("join group %s: %w", g, err)
	}
	return nil
}

// MaxGroupMappings bounds a company provider's group mapping.
const MaxGroupMappings = 50

// checkGroupMapping keeps a company's group mapping within what the pool
// allows: existing groups, never the console's admin group or another
// company's group.
func (s *Service) checkGroupMapping(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company, m map[string]string) error {
	if len(m) > MaxGroupMappings {
		return identity.FieldError("group_mapping", "At most %d group mappings.", MaxGroupMappings)
	}
	if len(m) == 0 {
		return nil
	}
	for from, to := range m {
		if from == "" || len(from) > 256 || checkMappedValue("group_mapping", from) != nil {
			return identity.FieldError("group_mapping", "An IdP group name is 1 to 256 bytes of one line of text.")
		}
		other, err := otherCompanysGroup(ctx, q, p, c, to)
		if err != nil {
			return err
		}
		if to == p.Settings.Console.AdminGroupName() || other {
			return identity.FieldError("group_mapping", "The group %s cannot be given by a company's identity provider.", safeEcho(to))
		}
		if _, err := q.GetGroup(ctx, p.ID, to); errors.Is(err, store.ErrNotFound) {
			return identity.FieldError("group_mapping", "The pool has no group %s.", safeEcho(to))
		} else if err != nil {
			return err
		}
	}
	return nil
}

// otherCompanysGroup reports whether group is the group of a company of
// the pool other than c: an index read (store.ListCompaniesByGroup), so
// that no company is missed however many the pool has.
func otherCompanysGroup(ctx context.Context, q store.Querier, p *identity.Pool, c *identity.Company, group string) (bool, error) {
	list, err := q.ListCompaniesByGroup(ctx, p.ID, group)
	if err != nil {
		return false, fmt.Errorf("companies by group: %w", err)
	}
	for _, o := range list {
		if !strings.EqualFold(o.Name, c.Name) && companyGroup(o) == group {
			return true, nil
		}
	}
	return false, nil
}

// checkMappingTargets keeps a company admin's group mapping to the pool
// groups a pool admin already let the company's provider give (the
// targets of the current mapping): a group can carry authority (authz
// rules, forward-auth), so only a pool admin decides which groups a
// company's IdP may hand out. A company admin may still choose which IdP
// groups lead to those targets, or drop them.
func checkMappingTargets(ctx context.Context, cur *identity.CompanyIdP, m map[string]string) error {
	if callerSub(ctx) == "" {
		return nil // a pool admin
	}
	allowed := map[string]bool{}
	if cur != nil {
		for _, to := range cur.Provider.GroupMapping {
			allowed[to] = true
		}
	}
	for _, to := range m {
		if !allowed[to] {
			return identity.Errorf(identity.CodeForbidden, "Only a pool admin can let the company's identity provider give the group %s.", safeEcho(to))
		}
	}
	return nil
}

// ssoGroups applies the provider's group mapping to u in q: the mapped
// groups the IdP asserted (t.Groups) are joined, the others left.
func (s *Service) ssoGroups(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, t *fedTicket) error {
	idp, err := q.GetCompanyIdPByName(ctx, p.ID, t.Provider)
	if err != nil || len(idp.Provider.GroupMapping) == 0 {
		return err
	}
	keep := map[string]bool{}
	for from, to := range idp.Provider.GroupMapping {
		if slices.Contains(t.Groups, from) {
			keep[to] = true
		}
	}
	for _, to := range idp.Provider.GroupMapping {
		if to == p.Settings.Console.AdminGroupName() {
			continue // the pool made it its admin group after the mapping was set
		}
		if keep[to] {
			err = q.AddUserToGroup(ctx, p.ID, u.Sub, to)
		} else {
			err = q.RemoveUserFromGroup(ctx, p.ID, u.Sub, to)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("group %s: %w", to, err)
		}
	}
	return nil
}

// ssoKeepMember runs at each sign-in through c's provider: the user stays
// (or becomes, after a link) a member of c, with the mapped groups the
// IdP asserts.
func (s *Service) ssoKeepMember(ctx context.Context, p *identity.Pool, u *identity.User, c *identity.Company, t *fedTicket) (*identity.User, error) {
	var out *identity.User
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := q.GetUser(ctx, p.ID, u.Sub)
		if err != nil {
			return fmt.Errorf("get user: %w", err)
		}
		out = cur
		if err := s.ssoJoin(ctx, q, p, cur, c); err != nil {
			return err
		}
		return s.ssoGroups(ctx, q, p, cur, t)
	})
	return out, err
}

// ssoSignUp creates the user of t's identity at c's provider: a member of
// c without an approval (the provider is the proof), with the default
// groups and c's group.
func (s *Service) ssoSignUp(ctx context.Context, p *identity.Pool, cl *identity.AppClient, c *identity.Company, t *fedTicket) (*FederatedResult, error) {
	if m, err := s.scimLink(ctx, p, c, t); err != nil { // scim.go
		return nil, err
	} else if m != nil {
		return s.federatedSession(ctx, p, cl, m, t)
	}
	if p.AdminCreateUserOnly {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "Sign-up is not open in this user pool.")
	}
	attrs := map[string]string{}
	for k, v := range t.Attrs {
		if k == p.Settings.SignUp.CompanyAttr() || strings.HasPrefix(k, "custom:") && attrDef(p, k) == nil {
			continue
		}
		if err := checkMappedValue(k, v); err != nil {
			return nil, err
		}
		attrs[k] = v
	}
	u, err := s.newFederatedUser(ctx, p, cl, t, attrs)
	if err != nil {
		return nil, err
	}
	setCompanyAttr(p, u, c.Name)
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.CreateUser(ctx, u, false); err != nil {
			return err
		}
		if err := q.CreateLinkedIdentity(ctx, &identity.LinkedIdentity{PoolID: p.ID, ProviderName: t.Provider,
			ProviderType: t.ProviderType, Subject: t.Subject, Issuer: t.Issuer, UserSub: u.Sub, CreatedAt: u.CreatedAt}); err != nil {
			return err
		}
		if err := s.activateUser(ctx, q, p, u, "company_sso"); err != nil {
			return err
		}
		if err := s.ssoJoin(ctx, q, p, u, c); err != nil {
			return err
		}
		if err := s.ssoGroups(ctx, q, p, u, t); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.sign_up", "user:"+u.Sub, map[string]string{"client_id": cl.ID,
			"username": u.Username, "provider": t.Provider, "company": c.Name})
	})
	return s.afterFederatedSignUp(ctx, p, cl, t, u, err)
}
