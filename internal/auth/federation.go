package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Federated sign-in (docs/federation.md)
//
// Users who come from an upstream identity provider are identified by
// (pool, provider name, upstream subject) through a LinkedIdentity. The
// first sign-in creates a user named "<provider>_<subject>" with status
// EXTERNAL_PROVIDER and no password, through the pool's sign-up policy
// (domain allow-list, approval: the company from a mapped attribute or
// asked once) and the PreSignUp hook (PreSignUp_ExternalProvider); later
// sign-ins find it by the link.
//
// Linking to an existing local account never happens silently. It is
// offered only when the provider asserts email_verified=true, a local
// account with a password has the same email verified, and then only
// after the person enters that account's password (FederatedContinue with
// LinkPassword). The pending step travels as a ticket sealed with the
// master key, bound to the pool, client, provider, upstream issuer and
// subject, and the local account (CVE-2026-9087: the proof is tied to the
// upstream identity it links), valid 10 minutes.
//
// Federated users never take the pool's unique-email slot: their email is
// the provider's attribute, not a sign-in alias (they cannot sign in with
// a password). So an unverified local account that squats on the email
// (the takeover scenario) neither blocks nor is linked to the federated
// user, and a federated user does not block a later local sign-up, whose
// email must be verified by code as always.

// Next steps of a federated sign-in that did not finish (FederatedResult.Next).
const (
	FederatedNextLink    = "link"    // prove the local account's password (FederatedContinue.LinkPassword)
	FederatedNextCompany = "company" // name the company (FederatedContinue.Company)
	FederatedNextPending = "pending" // the sign-up waits for approval
)

// FederatedResult is the outcome of FederatedSignIn or FederatedContinue:
// Tokens when signed in, else Next (and, for link and company, Ticket to
// pass back to FederatedContinue).
type FederatedResult struct {
	Tokens *Tokens
	// Challenge: the pool or company requires a second factor the
	// upstream sign-in did not prove (answer it with
	// RespondToAuthChallenge).
	Challenge *Challenge
	User      *identity.User
	Next      string
	Ticket    string
	// LinkUsername is the local account to prove (Next == link).
	LinkUsername string
}

// FederatedSignInInput is the callback of an upstream provider.
type FederatedSignInInput struct {
	Client   Client
	Provider string
	Code     string
	// SAMLResponse is the HTTP-POST binding's form value (SAML providers).
	SAMLResponse string
	Request      *federation.Request // the state/nonce/PKCE of the attempt; the caller checked state
	Meta         RequestMeta
}

// FederatedContinueInput finishes a sign-in that returned a Ticket.
type FederatedContinueInput struct {
	Client       Client
	Ticket       string
	Company      string
	LinkPassword string
	Meta         RequestMeta
}

// fedTicket is the sealed continuation of a federated sign-in.
type fedTicket struct {
	Pool          string            `json:"p"`
	Client        string            `json:"c"`
	Provider      string            `json:"pr"`
	ProviderType  string            `json:"pt"`
	Issuer        string            `json:"i"`
	Subject       string            `json:"s"`
	Email         string            `json:"e"`
	EmailVerified bool              `json:"ev"`
	Attrs         map[string]string `json:"a"`
	Groups        []string          `json:"g,omitempty"` // company providers: the IdP's groups
	LinkSub       string            `json:"l,omitempty"`
	// AMR is the upstream ID token's amr claim (counted as MFA only when
	// the pool trusts it, mfa.go).
	AMR []string `json:"amr,omitempty"`
	Exp int64    `json:"x"`
}

const (
	fedTicketPurpose = "gatehouse/federation/ticket/v1"
	fedTicketTTL     = 10 * time.Minute
)

func providerSecretPurpose(poolID, name string) string {
	return "gatehouse/federation/client-secret/v1/" + poolID + "/" + name
}

func (s *Service) fedClient() *federation.Client {
	if s.cfg.Federation != nil {
		return s.cfg.Federation
	}
	s.fedOnce.Do(func() { s.fed = &federation.Client{Now: s.cfg.Now} })
	return s.fed
}

// FederationCallbackURL is the redirect_uri registered at upstream
// providers for p: <issuer>/oauth2/idpresponse (Cognito's path).
func (s *Service) FederationCallbackURL(p *identity.Pool) string {
	return s.Issuer(p) + "/oauth2/idpresponse"
}

// IdentityProviders returns p's providers with their secrets removed
// (for buttons and listings).
func IdentityProviders(p *identity.Pool) []identity.IdentityProvider {
	out := make([]identity.IdentityProvider, len(p.Settings.IdentityProviders))
	for i, ip := range p.Settings.IdentityProviders {
		ip.ClientSecretSealed = ""
		out[i] = ip
	}
	return out
}

func findProvider(p *identity.Pool, name string) (*identity.IdentityProvider, error) {
	for i := range p.Settings.IdentityProviders {
		if p.Settings.IdentityProviders[i].Name == name {
			ip := p.Settings.IdentityProviders[i]
			return &ip, nil
		}
	}
	return nil, identity.FieldError("identity_provider", "The pool has no identity provider %s.", safeEcho(name))
}

// ProviderWrite says whether PutIdentityProvider may add a provider,
// replace one, or both.
type ProviderWrite int

const (
	ProviderUpsert ProviderWrite = iota // add or replace
	ProviderCreate                      // add; conflict if the name is taken
	ProviderUpdate                      // replace; resource_not_found if absent
)

// SetIdentityProvider adds or replaces (by name) a provider of the pool.
// clientSecret is sealed with the master key; "" keeps the stored secret
// of a replaced provider. Errors: invalid_parameter, resource_not_found.
func (s *Service) SetIdentityProvider(ctx context.Context, poolID string, ip identity.IdentityProvider, clientSecret string) (*identity.Pool, error) {
	return s.PutIdentityProvider(ctx, poolID, ip, clientSecret, ProviderUpsert)
}

// PutIdentityProvider is SetIdentityProvider with a choice of mode: with
// ProviderCreate a taken name is a conflict ("A provider with the name
// <name> already exists in this user pool."), with ProviderUpdate an
// absent one is resource_not_found. The check and the write are one
// transaction.
func (s *Service) PutIdentityProvider(ctx context.Context, poolID string, ip identity.IdentityProvider, clientSecret string, mode ProviderWrite) (*identity.Pool, error) {
	if err := federation.Validate(&ip); err != nil {
		return nil, err
	}
	ip.ClientSecretSealed = ""
	if clientSecret != "" {
		sealed, err := s.cfg.Secrets.Seal(providerSecretPurpose(poolID, ip.Name), []byte(clientSecret))
		if err != nil {
			return nil, err
		}
		ip.ClientSecretSealed = base64.RawURLEncoding.EncodeToString(sealed)
	}
	var out *identity.Pool
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		list := p.Settings.IdentityProviders
		replaced := false
		ip.CreatedAt, ip.UpdatedAt = s.now(), s.now()
		for _, o := range list {
			for _, id := range ip.Identifiers {
				if o.Name != ip.Name && slices.Contains(o.Identifiers, id) {
					return identity.FieldError("idp_identifiers", "The identifier %s is already used by provider %s.", safeEcho(id), o.Name)
				}
			}
		}
		for i := range list {
			if list[i].Name == ip.Name {
				if mode == ProviderCreate {
					return identity.Errorf(identity.CodeConflict, "A provider with the name %s already exists in this user pool.", safeEcho(ip.Name))
				}
				if ip.ClientSecretSealed == "" {
					ip.ClientSecretSealed = list[i].ClientSecretSealed
				}
				if !list[i].CreatedAt.IsZero() {
					ip.CreatedAt = list[i].CreatedAt
				}
				list[i], replaced = ip, true
			}
		}
		if !replaced && mode == ProviderUpdate {
			return identity.Errorf(identity.CodeResourceNotFound, "The pool has no identity provider %s.", safeEcho(ip.Name))
		}
		if !replaced {
			if len(list) >= 20 {
				return identity.Errorf(identity.CodeLimitExceeded, "A pool has at most 20 identity providers.")
			}
			list = append(list, ip)
		}
		p.Settings.IdentityProviders = list
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return fmt.Errorf("update pool: %w", err)
		}
		out = p
		return s.audit(ctx, q, p.ID, "pool.identity_provider_set", "provider:"+ip.Name, map[string]string{"type": ip.Type})
	})
	return out, err
}

// DeleteIdentityProvider removes a provider (its links stay, unusable
// until a provider of that name returns). Errors: resource_not_found.
func (s *Service) DeleteIdentityProvider(ctx context.Context, poolID, name string) error {
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		p, err := s.getPool(ctx, q, poolID)
		if err != nil {
			return err
		}
		var keep []identity.IdentityProvider
		for _, ip := range p.Settings.IdentityProviders {
			if ip.Name != name {
				keep = append(keep, ip)
			}
		}
		if len(keep) == len(p.Settings.IdentityProviders) {
			return identity.Errorf(identity.CodeResourceNotFound, "The pool has no identity provider %s.", safeEcho(name))
		}
		p.Settings.IdentityProviders = keep
		p.UpdatedAt = s.now()
		if err := q.UpdatePool(ctx, p); err != nil {
			return fmt.Errorf("update pool: %w", err)
		}
		return s.audit(ctx, q, p.ID, "pool.identity_provider_deleted", "provider:"+name, nil)
	})
}

func (s *Service) providerSecret(p *identity.Pool, ip *identity.IdentityProvider) (string, error) {
	if ip.ClientSecretSealed == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(ip.ClientSecretSealed)
	if err != nil {
		return "", fmt.Errorf("provider %s secret: %w", ip.Name, err)
	}
	plain, err := s.cfg.Secrets.Open(providerSecretPurpose(p.ID, ip.Name), raw)
	if err != nil {
		return "", fmt.Errorf("provider %s secret (sealed under another master key?): %w", ip.Name, err)
	}
	return string(plain), nil
}

// FederationAuthURL returns where to send the browser to sign in at the
// pool's provider for request r. Errors: invalid_parameter (no such
// provider), unavailable (upstream discovery failed).
func (s *Service) FederationAuthURL(ctx context.Context, c Client, provider string, r *federation.Request) (string, error) {
	_, p, err := s.resolveClient(ctx, c, "")
	if err != nil {
		return "", err
	}
	ip, cidp, _, err := s.lookupProvider(ctx, p, provider)
	if err != nil {
		return "", err
	}
	if ip.Type == identity.ProviderSAML {
		sp, err := s.samlSP(p, cidp)
		if err != nil {
			return "", err
		}
		return sp.AuthURL(federation.SAMLRequestID(r), r.State)
	}
	u, err := s.fedClient().AuthCodeURL(ctx, ip, s.FederationCallbackURL(p), r)
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "federation: auth url", "pool", p.ID, "provider", ip.Name, "err", err)
		return "", identity.Errorf(identity.CodeUnavailable, "The identity provider %s cannot be reached.", ip.Name)
	}
	return u, nil
}

// FederatedSignIn completes the upstream callback: it redeems code,
// verifies the upstream identity, and signs in (or creates) the linked
// user. Errors: not_authorized (the provider did not confirm the
// sign-in), invalid_parameter (policy: domain not allowed, ...),
// user_disabled, user_lambda_validation (PreSignUp refused).
func (s *Service) FederatedSignIn(ctx context.Context, in FederatedSignInInput) (*FederatedResult, error) {
	ctx = withSignInMeta(ctx, in.Meta) // for the sign_ins row (signins.go)
	cl, p, err := s.resolveClient(ctx, in.Client, "")
	if err != nil {
		return nil, err
	}
	ip, cidp, co, err := s.lookupProvider(ctx, p, in.Provider)
	if err != nil {
		return nil, err
	}
	var up *federation.Identity
	if ip.Type == identity.ProviderSAML {
		if in.Request == nil || in.SAMLResponse == "" {
			return nil, identity.Errorf(identity.CodeNotAuthorized, "The identity provider did not return a SAML response.")
		}
		sp, serr := s.samlSP(p, cidp)
		if serr != nil {
			return nil, serr
		}
		up, err = sp.Verify(in.SAMLResponse, federation.SAMLRequestID(in.Request))
		if err == nil && up.Email != "" {
			up.EmailVerified = true // ssoEmail decides what the address is worth
		}
	} else {
		if in.Request == nil || in.Code == "" || len(in.Code) > 2048 {
			return nil, identity.Errorf(identity.CodeNotAuthorized, "The identity provider did not return a code.")
		}
		secret, serr := s.providerSecret(p, ip)
		if serr != nil {
			return nil, serr
		}
		up, err = s.fedClient().Exchange(ctx, ip, secret, s.FederationCallbackURL(p), in.Code, in.Request)
	}
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "federation: exchange", "pool", p.ID, "provider", ip.Name, "err", err)
		_ = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			return s.audit(ctx, q, p.ID, "user.federated_sign_in_failed", "provider:"+ip.Name,
				map[string]string{"client_id": cl.ID, "reason": truncate(err.Error(), 300)})
		})
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The identity provider %s did not confirm the sign-in.", ip.Name)
	}
	attrs := federation.MapAttributes(ip, up.Claims)
	email := strings.ToLower(strings.TrimSpace(attrs["email"]))
	delete(attrs, "email")
	t := &fedTicket{Pool: p.ID, Client: cl.ID, Provider: ip.Name, ProviderType: ip.Type, Issuer: up.Issuer,
		Subject: up.Subject, Email: email, Attrs: attrs,
		// Only the upstream's own claim about the mapped address counts.
		EmailVerified: up.EmailVerified && email != "" && strings.EqualFold(email, up.Email),
		AMR:           strList(up.Claims["amr"])}
	if co != nil {
		t.Groups = federation.Groups(up.Claims)
		if err := s.ssoEmail(ctx, p, co, t); err != nil {
			s.auditFailure(ctx, p, "provider:"+ip.Name, "company_sso_foreign_domain", cl.ID)
			return nil, err
		}
	}
	return s.federatedFinish(ctx, p, cl, t, in.Meta)
}

// FederatedContinue finishes a federated sign-in that returned a ticket:
// with LinkPassword (Next == link) the local account's password links the
// upstream identity to it; with Company (Next == company) the sign-up
// goes on with that company. Errors: not_authorized (bad or expired
// ticket, wrong password), too_many_failed_attempts, as FederatedSignIn.
func (s *Service) FederatedContinue(ctx context.Context, in FederatedContinueInput) (*FederatedResult, error) {
	ctx = withSignInMeta(ctx, in.Meta) // for the sign_ins row (signins.go)
	cl, p, err := s.resolveClient(ctx, in.Client, "")
	if err != nil {
		return nil, err
	}
	t, err := s.openTicket(in.Ticket)
	if err != nil || t.Pool != p.ID || t.Client != cl.ID {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The sign-in expired. Start again.")
	}
	if _, _, _, err := s.lookupProvider(ctx, p, t.Provider); err != nil {
		return nil, err
	}
	if t.LinkSub != "" {
		if in.LinkPassword == "" {
			return nil, identity.FieldError("password", "Enter the password of your account.")
		}
		return s.federatedLink(ctx, p, cl, t, in.LinkPassword)
	}
	// A company ticket is good for one sign-up: once the identity is
	// linked, replaying it signs nobody in.
	if _, err := s.cfg.Store.GetLinkedIdentity(ctx, p.ID, t.Provider, t.Subject); err == nil {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The sign-in expired. Start again.")
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get linked identity: %w", err)
	}
	company := strings.TrimSpace(in.Company)
	if company == "" || len(company) > 256 {
		return nil, identity.FieldError(p.Settings.SignUp.CompanyAttr(), "Name the company you work for.")
	}
	if t.Attrs == nil {
		t.Attrs = map[string]string{}
	}
	t.Attrs[p.Settings.SignUp.CompanyAttr()] = company
	return s.federatedFinish(ctx, p, cl, t, in.Meta)
}

func (s *Service) sealTicket(t *fedTicket) (string, error) {
	t.Exp = s.now().Add(fedTicketTTL).UnixMilli()
	b, err := json.Marshal(t)
	if err != nil {
		return "", err
	}
	sealed, err := s.cfg.Secrets.Seal(fedTicketPurpose, b)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *Service) openTicket(v string) (*fedTicket, error) {
	if v == "" || len(v) > 8192 {
		return nil, errors.New("no ticket")
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	plain, err := s.cfg.Secrets.Open(fedTicketPurpose, raw)
	if err != nil {
		return nil, err
	}
	var t fedTicket
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, err
	}
	if s.now().UnixMilli() >= t.Exp || t.Subject == "" {
		return nil, errors.New("expired ticket")
	}
	return &t, nil
}

// federatedFinish signs in the user linked to t's upstream identity, or
// offers linking, or creates the user.
func (s *Service) federatedFinish(ctx context.Context, p *identity.Pool, cl *identity.AppClient, t *fedTicket, meta RequestMeta) (*FederatedResult, error) {
	co, err := s.ticketCompany(ctx, p, t)
	if err != nil {
		return nil, err
	}
	link, err := s.cfg.Store.GetLinkedIdentity(ctx, p.ID, t.Provider, t.Subject)
	switch {
	case err == nil:
		u, err := s.cfg.Store.GetUser(ctx, p.ID, link.UserSub)
		if err != nil {
			return nil, fmt.Errorf("linked user: %w", err)
		}
		if u.Status == identity.StatusExternalProvider {
			if u, err = s.refreshFederatedUser(ctx, p, u, t); err != nil {
				return nil, err
			}
		}
		if co != nil && u.Enabled {
			if u, err = s.ssoKeepMember(ctx, p, u, co, t); err != nil {
				return nil, err
			}
		}
		return s.federatedSession(ctx, p, cl, u, t)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("get linked identity: %w", err)
	}

	// A local account with this email, verified on both sides, is offered
	// for linking; never linked without its password.
	if t.EmailVerified && t.Email != "" {
		local, err := s.cfg.Store.GetUserByEmail(ctx, p.ID, t.Email, true)
		switch {
		case err == nil && local.PasswordHash != "" && local.EmailVerified:
			lt := *t
			lt.LinkSub = local.Sub
			tk, err := s.sealTicket(&lt)
			if err != nil {
				return nil, err
			}
			return &FederatedResult{Next: FederatedNextLink, Ticket: tk, LinkUsername: local.Username}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("get user by email: %w", err)
		}
	}
	if co != nil {
		return s.ssoSignUp(ctx, p, cl, co, t)
	}
	return s.federatedSignUp(ctx, p, cl, t, meta)
}

// ticketCompany returns the company whose provider t came through (nil
// for a pool provider).
func (s *Service) ticketCompany(ctx context.Context, p *identity.Pool, t *fedTicket) (*identity.Company, error) {
	if !strings.HasPrefix(t.Provider, identity.CompanyIdPPrefix) {
		return nil, nil
	}
	_, _, co, err := s.lookupProvider(ctx, p, t.Provider)
	return co, err
}

// refreshFederatedUser writes the provider's current mapped attributes
// and email to a federated (EXTERNAL_PROVIDER) user at each sign-in, as
// Cognito does. The company attribute is left alone (activation set it to
// the company's canonical name), and so are unmapped attributes.
func (s *Service) refreshFederatedUser(ctx context.Context, p *identity.Pool, u *identity.User, t *fedTicket) (*identity.User, error) {
	changed := false
	nu := *u
	nu.Attributes = make(map[string]string, len(u.Attributes))
	for k, v := range u.Attributes {
		nu.Attributes[k] = v
	}
	for k, v := range t.Attrs {
		if k == p.Settings.SignUp.CompanyAttr() || (strings.HasPrefix(k, "custom:") && attrDef(p, k) == nil) {
			continue
		}
		if checkMappedValue(k, v) != nil {
			continue // keep the stored value (security.md A6)
		}
		if nu.Attributes[k] != v {
			nu.Attributes[k], changed = v, true
		}
	}
	if t.Email != "" && (t.Email != nu.Email || t.EmailVerified != nu.EmailVerified) {
		nu.Email, nu.EmailVerified, changed = t.Email, t.EmailVerified, true
	}
	if !changed {
		return u, nil
	}
	nu.UpdatedAt = s.now()
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.UpdateUser(ctx, &nu, false); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		return s.audit(ctx, q, p.ID, "user.federated_attributes_updated", "user:"+u.Sub, map[string]string{"provider": t.Provider})
	})
	if err != nil {
		return nil, err
	}
	return &nu, nil
}

// checkMappedValue refuses a value mapped from a provider's claim that is
// not one line of valid UTF-8 within Cognito's value limit (security.md
// A6).
func checkMappedValue(name, v string) error {
	switch {
	case !utf8.ValidString(v):
		return identity.FieldError(name, "The identity provider's value of %s is not valid UTF-8.", safeEcho(name))
	case len(v) > MaxAttrValueLen:
		return identity.FieldError(name, "The identity provider's value of %s is longer than %d bytes.", safeEcho(name), MaxAttrValueLen)
	case hasControl(v):
		return identity.FieldError(name, "The identity provider's value of %s contains a control character (such as a line break); attribute values are one line of text.", safeEcho(name))
	}
	return nil
}

// federatedSignUp creates the user of t's upstream identity.
func (s *Service) federatedSignUp(ctx context.Context, p *identity.Pool, cl *identity.AppClient, t *fedTicket, meta RequestMeta) (*FederatedResult, error) {
	pol := &p.Settings.SignUp
	if p.AdminCreateUserOnly {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "Sign-up is not open in this user pool.")
	}
	if (pol.DomainAllowList || pol.Approval != nil) && !t.EmailVerified {
		return nil, identity.FieldError("email", "The identity provider did not confirm a verified email address, which sign-up here requires.")
	}
	attrs := map[string]string{}
	for k, v := range t.Attrs {
		if attrDef(p, k) != nil || !strings.HasPrefix(k, "custom:") {
			if err := checkMappedValue(k, v); err != nil {
				return nil, err
			}
			attrs[k] = v
		}
	}
	if pol.Approval != nil && strings.TrimSpace(attrs[pol.CompanyAttr()]) == "" {
		tk, err := s.sealTicket(t)
		if err != nil {
			return nil, err
		}
		return &FederatedResult{Next: FederatedNextCompany, Ticket: tk}, nil
	}
	if err := s.checkSignUpPolicy(ctx, p, t.Email, attrs); err != nil {
		return nil, err
	}
	u, err := s.newFederatedUser(ctx, p, cl, t, attrs)
	if err != nil {
		return nil, err
	}
	requested := takeCompany(p, u) // a request, as at SignUp (security.md A2)
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.CreateUser(ctx, u, false); err != nil { // never the unique-email slot (see above)
			return err
		}
		if err := q.CreateLinkedIdentity(ctx, &identity.LinkedIdentity{PoolID: p.ID, ProviderName: t.Provider,
			ProviderType: t.ProviderType, Subject: t.Subject, Issuer: t.Issuer, UserSub: u.Sub, CreatedAt: u.CreatedAt}); err != nil {
			return err
		}
		if err := s.startRegistration(ctx, q, p, u, requested, meta); err != nil {
			return err
		}
		// The upstream verified the email (or no policy needs it): the
		// sign-up goes on as a verified one would.
		if err := s.afterEmailVerified(ctx, q, p, u, meta); err != nil && identity.ErrorCode(err) != identity.CodeUserNotConfirmed && identity.ErrorCode(err) != identity.CodeApprovalPending {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.sign_up", "user:"+u.Sub, map[string]string{"client_id": cl.ID,
			"username": u.Username, "provider": t.Provider})
	})
	return s.afterFederatedSignUp(ctx, p, cl, t, u, err)
}

// afterFederatedSignUp signs in the user a federated sign-up created (err
// is the sign-up transaction's outcome): on a conflict, a concurrent first
// sign-in of the same upstream identity won, and its user is signed in.
func (s *Service) afterFederatedSignUp(ctx context.Context, p *identity.Pool, cl *identity.AppClient, t *fedTicket, u *identity.User, err error) (*FederatedResult, error) {
	if errors.Is(err, store.ErrConflict) {
		if link, lerr := s.cfg.Store.GetLinkedIdentity(ctx, p.ID, t.Provider, t.Subject); lerr == nil {
			if cur, uerr := s.cfg.Store.GetUser(ctx, p.ID, link.UserSub); uerr == nil {
				return s.federatedSession(ctx, p, cl, cur, t)
			}
		}
		return nil, errUsernameExists
	}
	if err != nil {
		return nil, err
	}
	cur, err := s.cfg.Store.GetUser(ctx, p.ID, u.Sub)
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return s.federatedSession(ctx, p, cl, cur, t)
}

// federatedLink checks the local account's password and links t's
// upstream identity to it, then signs it in.
func (s *Service) federatedLink(ctx context.Context, p *identity.Pool, cl *identity.AppClient, t *fedTicket, password string) (*FederatedResult, error) {
	u, err := s.cfg.Store.GetUser(ctx, p.ID, t.LinkSub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The sign-in expired. Start again.")
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	// Re-check what made linking possible: both sides verified, same email.
	if !t.EmailVerified || !u.EmailVerified || u.Email == "" || !strings.EqualFold(u.Email, t.Email) || u.PasswordHash == "" {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "This account cannot be linked.")
	}
	if err := s.checkPassword(ctx, p, u, password); err != nil {
		if _, ok := isThrottleRefusal(err); ok {
			s.auditFailure(ctx, p, "user:"+u.Sub, "federated_link_wrong_password", cl.ID)
		}
		return nil, err
	}
	if err := signInStatus(u, s.now()); err != nil {
		return nil, err
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		// The reset writes the user's row: the limit is counted under its lock.
		if err := q.ResetFailedAttempts(ctx, p.ID, u.Sub); err != nil {
			return err
		}
		if err := checkLinkLimit(ctx, q, p.ID, u.Sub); err != nil {
			return err
		}
		if err := q.CreateLinkedIdentity(ctx, &identity.LinkedIdentity{PoolID: p.ID, ProviderName: t.Provider,
			ProviderType: t.ProviderType, Subject: t.Subject, Issuer: t.Issuer, UserSub: u.Sub, CreatedAt: s.now()}); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.identity_linked", "user:"+u.Sub, map[string]string{"provider": t.Provider, "client_id": cl.ID})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, identity.Errorf(identity.CodeNotAuthorized, "This identity is already linked.")
	}
	if err != nil {
		return nil, err
	}
	co, err := s.ticketCompany(ctx, p, t)
	if err != nil {
		return nil, err
	}
	if co != nil {
		if u, err = s.ssoKeepMember(ctx, p, u, co, t); err != nil {
			return nil, err
		}
	}
	return s.federatedSession(ctx, p, cl, u, t)
}

// federatedSession issues tokens for u after a federated sign-in, if u may
// sign in: enabled, and CONFIRMED (a linked local account) or
// EXTERNAL_PROVIDER with no registration still waiting for approval.
func (s *Service) federatedSession(ctx context.Context, p *identity.Pool, cl *identity.AppClient, u *identity.User, t *fedTicket) (*FederatedResult, error) {
	if !u.Enabled {
		return nil, identity.Errorf(identity.CodeUserDisabled, "User is disabled.")
	}
	switch u.Status {
	case identity.StatusConfirmed:
	case identity.StatusExternalProvider:
		reg, err := s.cfg.Store.GetRegistrationByUser(ctx, p.ID, u.Sub)
		switch {
		case err == nil && reg.State != identity.RegApproved:
			if reg.State.Final() {
				return nil, identity.Errorf(identity.CodeNotAuthorized, "The sign-up was not approved.")
			}
			return &FederatedResult{Next: FederatedNextPending, User: u}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("get registration: %w", err)
		}
	default:
		return nil, identity.Errorf(identity.CodeNotAuthorized, "This account cannot sign in with %s.", t.Provider)
	}
	amr := federatedAMR(p, t)
	if !slices.Contains(amr, AMRMFA) {
		res, err := s.mfaChallenge(ctx, p, cl, u, amr)
		if err != nil {
			return nil, err
		}
		if res != nil {
			return &FederatedResult{Challenge: res.Challenge, User: u}, nil
		}
	}
	toks, rt, err := s.newSession(ctx, p, cl, u, amr)
	if err != nil {
		return nil, s.signInTokensFailed(ctx, p, cl, u, err)
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := s.insertSignIn(ctx, q, rt); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		identity.SetUser(ctx, u.Sub)
		return s.audit(ctx, q, p.ID, "user.sign_in", "user:"+u.Sub, map[string]string{"client_id": cl.ID, "flow": "federated:" + t.Provider})
	})
	if err != nil {
		return nil, err
	}
	return &FederatedResult{Tokens: toks, User: u}, nil
}

// identitiesClaim is Cognito's "identities" ID token claim of a user with
// linked identities: a JSON array string of {userId, providerName,
// providerType, issuer, primary, dateCreated}; "" without links.
func identitiesClaim(ctx context.Context, q store.Querier, u *identity.User, se *store.UserSession) (string, error) {
	var links []*identity.LinkedIdentity
	if se != nil && se.IdentitiesRead && se.User == u {
		links = se.Identities // read with the session (one statement less per refresh)
	} else {
		var err error
		if links, err = q.ListLinkedIdentities(ctx, u.PoolID, u.Sub); err != nil {
			return "", err
		}
	}
	if len(links) == 0 {
		return "", nil
	}
	type ident struct {
		UserID       string `json:"userId"`
		ProviderName string `json:"providerName"`
		ProviderType string `json:"providerType"`
		Issuer       any    `json:"issuer"`
		Primary      string `json:"primary"`
		DateCreated  string `json:"dateCreated"`
	}
	out := make([]ident, len(links))
	for i, l := range links {
		var iss any
		if l.Issuer != "" {
			iss = l.Issuer
		}
		out[i] = ident{UserID: l.Subject, ProviderName: l.ProviderName, ProviderType: l.ProviderType, Issuer: iss,
			Primary: fmt.Sprint(i == 0), DateCreated: fmt.Sprint(l.CreatedAt.UnixMilli())}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// newFederatedUser is the user a first federated sign-in creates, after
// the PreSignUp hook (PreSignUp_ExternalProvider) had its say: named
// "<provider>_<subject>" (usernames are case-insensitive here, stored
// lower-cased, so Cognito's "Google_123" is "google_123"), with the mapped
// attributes and the upstream's email as it vouched for it.
func (s *Service) newFederatedUser(ctx context.Context, p *identity.Pool, cl *identity.AppClient, t *fedTicket, attrs map[string]string) (*identity.User, error) {
	sub, err := s.newSub()
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &identity.User{PoolID: p.ID, Sub: sub, Username: normalizeUsername(t.Provider + "_" + t.Subject),
		Status: identity.StatusExternalProvider, Enabled: true, CreatedAt: now, UpdatedAt: now}
	applyAttributes(u, attrs)
	u.Email, u.EmailVerified = t.Email, t.EmailVerified && t.Email != ""
	if _, err := s.runPreSignUp(ctx, p, cl.ID, hooks.SourcePreSignUpExternalProvider, u, nil, nil); err != nil {
		return nil, err
	}
	return u, nil
}
