package auth

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/jobs"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// SAML company providers done properly (docs/company-sso.md, issue 18):
//
//   - metadata by URL: fetched over HTTPS under the hooks' outbound network
//     policy (loopback, private and link-local addresses refused unless the
//     operator allows them, no redirects, 256 KiB, a timeout), checked like
//     an upload, and refreshed by a SAMLMetadataRefreshJobKind job chain; a
//     failed refresh, or one whose entity id changed, keeps the last good
//     metadata and is recorded on the provider and in the audit log;
//   - a service provider key per company provider (RSA 2048, sealed with
//     the master key): AuthnRequests and logout messages are signed with
//     it, its certificate is published in the SP metadata for signing and
//     encryption, EncryptedAssertions are decrypted with it (or with the
//     key before the last rotation), and RequireEncryption refuses an
//     unencrypted assertion;
//   - single logout both ways (CompanySAMLLogoutStart, CompanySAMLLogout).

// SAMLInput holds the SAML settings of CompanyIdPInput.
type SAMLInput struct {
	// MetadataURL: fetch the IdP's metadata there (https) and keep it
	// fresh; "" with no MetadataXML keeps the stored URL (or XML).
	MetadataURL string
	// RequireEncryption refuses assertions that are not encrypted.
	RequireEncryption bool
	// RotateSPKey makes a new service provider key; the previous one still
	// decrypts until the next rotation.
	RotateSPKey bool
}

// SAMLView is the SAML part of CompanyIdPView.
type SAMLView struct {
	// SAMLSPCertificate is the SP's certificate (PEM), the one to upload
	// at IdPs that do not read the SP metadata.
	SAMLSPCertificate     string
	SAMLRequireEncryption bool
	SAMLMetadataURL       string
	SAMLMetadataFetchedAt time.Time
	// SAMLMetadataError is the last refresh's failure ("" after a good one).
	SAMLMetadataError string
}

// SAMLMetadataRefreshJobKind refreshes one provider's metadata from its
// URL; register SAMLMetadataRefreshHandler for it.
const SAMLMetadataRefreshJobKind = "saml.metadata_refresh"

// DefaultSAMLMetadataRefresh is how often metadata is fetched again.
const DefaultSAMLMetadataRefresh = 12 * time.Hour

func samlKeyPurpose(poolID, name string) string {
	return "gatehouse/saml/sp-key/v1/" + poolID + "/" + name
}

func (s *Service) samlRefreshEvery() time.Duration {
	if s.cfg.SAMLMetadataRefresh > 0 {
		return s.cfg.SAMLMetadataRefresh
	}
	return DefaultSAMLMetadataRefresh
}

// samlBase is the URL prefix of a company provider's SP endpoints.
func (s *Service) samlBase(p *identity.Pool, idp *identity.CompanyIdP) string {
	return s.Issuer(p) + "/saml/" + strings.TrimPrefix(idp.Name, identity.CompanyIdPPrefix)
}

// samlSP is the SAML service provider of a company provider: entity id
// (and metadata URL) <issuer>/saml/<id>/metadata, ACS .../acs, single
// logout .../slo, with its key opened.
func (s *Service) samlSP(p *identity.Pool, idp *identity.CompanyIdP) (*federation.SAMLSP, error) {
	base := s.samlBase(p, idp)
	sp := &federation.SAMLSP{EntityID: base + "/metadata", ACSURL: base + "/acs", SLOURL: base + "/slo",
		IDPMetadata: []byte(idp.Provider.SAMLMetadata), RequireEncryption: idp.Provider.SAMLRequireEncryption,
		Now: s.cfg.Now, Replay: &samlReplay{s: s, poolID: p.ID}}
	ip := &idp.Provider
	if ip.SAMLSPKeySealed == "" {
		return sp, nil // stored before keys existed: set the provider again
	}
	open := func(sealed string) ([]byte, error) {
		raw, err := base64.RawURLEncoding.DecodeString(sealed)
		if err != nil {
			return nil, err
		}
		return s.cfg.Secrets.Open(samlKeyPurpose(p.ID, idp.Name), raw)
	}
	keyDER, err := open(ip.SAMLSPKeySealed)
	if err != nil {
		return nil, fmt.Errorf("saml sp key of %s (sealed under another master key?): %w", idp.Name, err)
	}
	certDER, err := base64.StdEncoding.DecodeString(ip.SAMLSPCert)
	if err != nil {
		return nil, fmt.Errorf("saml sp cert of %s: %w", idp.Name, err)
	}
	if sp.Key, sp.Cert, err = federation.ParseSAMLKey(keyDER, certDER); err != nil {
		return nil, err
	}
	if ip.SAMLOldSPKeySealed != "" {
		if der, err := open(ip.SAMLOldSPKeySealed); err == nil {
			if old, _, err := federation.ParseSAMLKey(der, nil); err == nil {
				sp.OldKeys = append(sp.OldKeys, old)
			}
		}
	}
	return sp, nil
}

// samlView fills the SAML values of a provider's view.
func (s *Service) samlView(p *identity.Pool, idp *identity.CompanyIdP, v *CompanyIdPView) {
	base := s.samlBase(p, idp)
	v.SAMLEntityID, v.SAMLACSURL, v.SAMLSLOURL, v.RedirectURI = base+"/metadata", base+"/acs", base+"/slo", ""
	ip := &idp.Provider
	if der, err := base64.StdEncoding.DecodeString(ip.SAMLSPCert); err == nil && len(der) > 0 {
		v.SAMLSPCertificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	v.SAMLRequireEncryption, v.SAMLMetadataURL = ip.SAMLRequireEncryption, ip.SAMLMetadataURL
	v.SAMLMetadataFetchedAt, v.SAMLMetadataError = ip.SAMLMetadataFetchedAt, ip.SAMLMetadataError
}

// samlPrepared is what SetCompanyIdP does before its transaction (network
// and key generation hold no lock): the fetched metadata, a new key.
type samlPrepared struct {
	fetched         bool
	keyDER, certDER []byte
}

// errMetadataFetch is all a caller learns of a failed fetch (the details
// are logged): the URL must not turn Gatehouse into a network probe.
var errMetadataFetch = identity.FieldError("metadata_url",
	"The metadata cannot be fetched from this URL (an address the server may not reach, no answer, not 200, or over 256 KiB).")

// checkMetadataURL keeps a metadata URL to https (http only for tests,
// Config.SAMLMetadataHTTP) without credentials or fragment.
func (s *Service) checkMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > 2048 || err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		return identity.FieldError("metadata_url", "The metadata URL must be an absolute https URL without credentials or fragment.")
	case u.Scheme == "https", u.Scheme == "http" && s.cfg.SAMLMetadataHTTP:
		return nil
	}
	return identity.FieldError("metadata_url", "The metadata URL must use https.")
}

// fetchSAMLMetadata GETs the metadata at raw and checks it; the error is
// for the log.
func (s *Service) fetchSAMLMetadata(ctx context.Context, raw string) ([]byte, string, error) {
	b, err := s.hookClient().Get(ctx, raw, federation.MaxSAMLMetadata)
	if err != nil {
		return nil, "", err
	}
	entityID, err := federation.ParseIdPMetadata(b)
	if err != nil {
		return nil, "", err
	}
	return b, entityID, nil
}

// samlPrepare fetches in.MetadataURL into in.MetadataXML and makes a key
// (used if the provider has none yet, or RotateSPKey).
func (s *Service) samlPrepare(ctx context.Context, in *CompanyIdPInput) (*samlPrepared, error) {
	if in.Kind != identity.CompanyIdPSAML {
		return nil, nil
	}
	pre := &samlPrepared{}
	if in.MetadataURL = strings.TrimSpace(in.MetadataURL); in.MetadataURL != "" {
		if in.MetadataXML != "" {
			return nil, identity.FieldError("metadata_url", "Give the metadata by URL or as XML, not both.")
		}
		if err := s.checkMetadataURL(in.MetadataURL); err != nil {
			return nil, err
		}
		b, _, err := s.fetchSAMLMetadata(ctx, in.MetadataURL)
		if err != nil {
			s.cfg.Log.WarnContext(ctx, "saml: metadata fetch", "url", in.MetadataURL, "err", err)
			return nil, errMetadataFetch
		}
		in.MetadataXML, pre.fetched = string(b), true
	}
	var err error
	if pre.keyDER, pre.certDER, err = federation.NewSAMLKey("Gatehouse SAML service provider", s.now()); err != nil {
		return nil, err
	}
	return pre, nil
}

// samlSettings sets ip's SAML settings from in: the metadata URL (kept
// with kept metadata), encryption.
func (s *Service) samlSettings(cur *identity.CompanyIdP, in *CompanyIdPInput, pre *samlPrepared, ip *identity.IdentityProvider) {
	ip.SAMLRequireEncryption = in.RequireEncryption
	switch {
	case pre != nil && pre.fetched:
		ip.SAMLMetadataURL, ip.SAMLMetadataFetchedAt = in.MetadataURL, s.now()
	case cur != nil && cur.Kind == identity.CompanyIdPSAML && in.MetadataXML == cur.Provider.SAMLMetadata:
		ip.SAMLMetadataURL, ip.SAMLMetadataFetchedAt = cur.Provider.SAMLMetadataURL, cur.Provider.SAMLMetadataFetchedAt
		ip.SAMLMetadataError = cur.Provider.SAMLMetadataError
	}
}

// samlSealKey keeps the provider's key, or seals pre's as a new one (the
// first, or a rotation: the current one then still decrypts).
func (s *Service) samlSealKey(p *identity.Pool, name string, cur *identity.CompanyIdP, rotate bool, pre *samlPrepared, ip *identity.IdentityProvider) error {
	if cur != nil && cur.Kind == identity.CompanyIdPSAML && cur.Provider.SAMLSPKeySealed != "" {
		ip.SAMLSPKeySealed, ip.SAMLSPCert, ip.SAMLOldSPKeySealed = cur.Provider.SAMLSPKeySealed, cur.Provider.SAMLSPCert, cur.Provider.SAMLOldSPKeySealed
		if !rotate {
			return nil
		}
	}
	if pre == nil {
		return errors.New("saml: no key prepared")
	}
	sealed, err := s.cfg.Secrets.Seal(samlKeyPurpose(p.ID, name), pre.keyDER)
	if err != nil {
		return err
	}
	if rotate {
		ip.SAMLOldSPKeySealed = ip.SAMLSPKeySealed
	}
	ip.SAMLSPKeySealed = base64.RawURLEncoding.EncodeToString(sealed)
	ip.SAMLSPCert = base64.StdEncoding.EncodeToString(pre.certDER)
	return nil
}

type samlRefreshPayload struct {
	PoolID string `json:"pool_id"`
	Name   string `json:"name"`
	// Gen is the provider's UpdatedAt (ms) when the chain started: a job of
	// an older setting is dropped (the new setting started its own chain).
	Gen int64 `json:"gen"`
}

// enqueueSAMLRefresh starts, in q, the refresh chain of a provider whose
// metadata comes from a URL.
func (s *Service) enqueueSAMLRefresh(ctx context.Context, q store.Querier, idp *identity.CompanyIdP) error {
	if idp.Kind != identity.CompanyIdPSAML || idp.Provider.SAMLMetadataURL == "" {
		return nil
	}
	_, err := jobs.EnqueueForPool(ctx, q, idp.PoolID, SAMLMetadataRefreshJobKind,
		samlRefreshPayload{PoolID: idp.PoolID, Name: idp.Name, Gen: idp.UpdatedAt.UnixMilli()}, s.now().Add(s.samlRefreshEvery()))
	return err
}

// SAMLMetadataRefreshHandler runs SAMLMetadataRefreshJobKind: it fetches
// the provider's metadata again (refreshSAMLMetadata) and enqueues the
// next run, sooner after a failure.
func (s *Service) SAMLMetadataRefreshHandler() jobs.Handler {
	return func(ctx context.Context, job *identity.Job) error {
		var pl samlRefreshPayload
		if err := jobs.DecodePayload(job, &pl); err != nil {
			return jobs.Permanent(err)
		}
		return s.refreshSAMLMetadata(ctx, pl.PoolID, pl.Name, pl.Gen, true)
	}
}

// RefreshCompanySAMLMetadata fetches the company provider's metadata from
// its URL now (the console's "refresh now"). A failure is recorded on the
// provider as by the periodic refresh and returned. Errors: forbidden,
// resource_not_found, invalid_parameter (no metadata URL; the fetch or
// the metadata failed).
func (s *Service) RefreshCompanySAMLMetadata(ctx context.Context, poolID, company string) (*CompanyIdPView, error) {
	p, _, idp, err := s.companyIdPOf(ctx, poolID, company)
	if err != nil {
		return nil, err
	}
	if idp.Kind != identity.CompanyIdPSAML || idp.Provider.SAMLMetadataURL == "" {
		return nil, identity.FieldError("metadata_url", "The provider's metadata does not come from a URL.")
	}
	if err := s.refreshSAMLMetadata(ctx, p.ID, idp.Name, idp.UpdatedAt.UnixMilli(), false); err != nil {
		return nil, err
	}
	return s.GetCompanyIdP(ctx, poolID, company)
}

// refreshSAMLMetadata fetches the metadata of provider name again. New
// metadata with the same entity id replaces the stored one (a changed
// signing certificate is taken: the URL is the admin's trusted https
// source, and the change is audited with both certificate sets); a
// failed fetch, unusable metadata or another entity id keep the last good
// metadata and record the error on the provider and in the audit log
// (company.idp_metadata_refresh_failed). With next, the next run is
// enqueued in the same transaction.
func (s *Service) refreshSAMLMetadata(ctx context.Context, poolID, name string, gen int64, next bool) error {
	idp, err := s.cfg.Store.GetCompanyIdPByName(ctx, poolID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if idp.Kind != identity.CompanyIdPSAML || idp.Provider.SAMLMetadataURL == "" || idp.UpdatedAt.UnixMilli() != gen {
		return nil // changed since: that setting has its own chain
	}
	src := idp.Provider.SAMLMetadataURL
	b, entityID, ferr := s.fetchSAMLMetadata(ctx, src)
	if ferr == nil && entityID != idp.Provider.Issuer {
		ferr = fmt.Errorf("the metadata's entity id changed from %q to %q; set the provider again to accept it", idp.Provider.Issuer, entityID)
	}
	var outErr error
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := q.GetCompanyIdPByName(ctx, poolID, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if cur.UpdatedAt.UnixMilli() != gen || cur.Provider.SAMLMetadataURL != src {
			return nil
		}
		detail := map[string]string{"provider": name, "url": src}
		action := "company.idp_metadata_refreshed"
		if ferr != nil {
			s.cfg.Log.WarnContext(ctx, "saml: metadata refresh", "pool", poolID, "provider", name, "err", ferr)
			cur.Provider.SAMLMetadataError = truncate(safeEcho(ferr.Error()), 300)
			detail["reason"], action = cur.Provider.SAMLMetadataError, "company.idp_metadata_refresh_failed"
			outErr = identity.FieldError("metadata_url", "The metadata could not be refreshed: %s.", cur.Provider.SAMLMetadataError)
		} else {
			oldCerts, newCerts := federation.MetadataSigningCerts([]byte(cur.Provider.SAMLMetadata)), federation.MetadataSigningCerts(b)
			if !slices.Equal(oldCerts, newCerts) {
				detail["signing_certificates_changed"] = "true"
			}
			cur.Provider.SAMLMetadata, cur.Provider.SAMLMetadataError = string(b), ""
			cur.Provider.SAMLMetadataFetchedAt = s.now()
		}
		if err := q.PutCompanyIdP(ctx, cur); err != nil {
			return err
		}
		if next {
			every := s.samlRefreshEvery()
			if ferr != nil && every > time.Hour {
				every = time.Hour
			}
			if _, err := jobs.EnqueueForPool(ctx, q, poolID, SAMLMetadataRefreshJobKind,
				samlRefreshPayload{PoolID: poolID, Name: name, Gen: gen}, s.now().Add(every)); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, poolID, action, "company:"+cur.Company, detail)
	})
	if err != nil {
		return err
	}
	return outErr
}

// SAMLLogoutResult says where the browser goes after a logout message.
type SAMLLogoutResult struct {
	// RedirectURL is the IdP's SLO URL with the signed LogoutResponse (the
	// answer to an IdP's LogoutRequest); "" after a LogoutResponse.
	RedirectURL string
	// Response: the message was the IdP's LogoutResponse to ours.
	Response bool
}

// CompanySAMLLogoutStart is SP-initiated single logout: when the user sub
// signed in through a SAML company provider whose IdP has a single logout
// service, it returns the IdP's URL with a signed LogoutRequest naming the
// user's NameID there, and the request's ID (for the response); else "".
// The caller has ended the Gatehouse session already.
func (s *Service) CompanySAMLLogoutStart(ctx context.Context, p *identity.Pool, sub, relayState string) (string, string, error) {
	links, err := s.cfg.Store.ListLinkedIdentities(ctx, p.ID, sub)
	if err != nil {
		return "", "", err
	}
	for _, l := range links {
		if !strings.HasPrefix(l.ProviderName, identity.CompanyIdPPrefix) || l.ProviderType != identity.ProviderSAML {
			continue
		}
		_, idp, _, err := s.lookupProvider(ctx, p, l.ProviderName)
		if err != nil || idp.Kind != identity.CompanyIdPSAML {
			continue
		}
		sp, err := s.samlSP(p, idp)
		if err != nil {
			return "", "", err
		}
		u, id, err := sp.LogoutRequestURL(l.Subject, relayState)
		if err != nil || u == "" {
			return "", "", err
		}
		return u, id, s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			return s.audit(ctx, q, p.ID, "user.saml_logout_started", "user:"+sub, map[string]string{"provider": idp.Name, "request_id": id})
		})
	}
	return "", "", nil
}

// CompanySAMLLogout handles a logout message of the IdP of company
// provider "sso:<id>" at its SLO URL: a LogoutResponse answering expectID
// (SP-initiated), or a LogoutRequest (IdP-initiated), which ends every
// session and refresh token of the user linked to the NameID at this
// provider (no other provider's user: the link is per provider) and is
// answered with a signed LogoutResponse. A message that is unsigned,
// wrongly signed, from another issuer, for another destination, expired
// or replayed changes nothing. Errors: resource_not_found,
// not_authorized (refused; the reason is audited as
// company.saml_logout_refused).
func (s *Service) CompanySAMLLogout(ctx context.Context, poolID, id, rawQuery string, form url.Values, expectID, relayState string) (*SAMLLogoutResult, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	_, idp, _, err := s.lookupProvider(ctx, p, identity.CompanyIdPPrefix+id)
	if err != nil || idp.Kind != identity.CompanyIdPSAML {
		return nil, errNoCompanyIdP
	}
	sp, err := s.samlSP(p, idp)
	if err != nil {
		return nil, err
	}
	msg, err := sp.ParseLogout(rawQuery, form, expectID)
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "saml: logout refused", "pool", p.ID, "provider", idp.Name, "err", err)
		_ = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			return s.audit(ctx, q, p.ID, "company.saml_logout_refused", "provider:"+idp.Name, map[string]string{"reason": truncate(err.Error(), 300)})
		})
		return nil, identity.Errorf(identity.CodeNotAuthorized, "The identity provider's logout message was refused.")
	}
	if msg.Response {
		return &SAMLLogoutResult{Response: true}, nil
	}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		detail := map[string]string{"provider": idp.Name, "request_id": msg.RequestID}
		l, err := q.GetLinkedIdentity(ctx, p.ID, idp.Name, msg.NameID)
		if errors.Is(err, store.ErrNotFound) {
			return s.audit(ctx, q, p.ID, "company.saml_logout_unknown", "provider:"+idp.Name, detail)
		} else if err != nil {
			return err
		}
		u, err := q.GetUser(ctx, p.ID, l.UserSub)
		if errors.Is(err, store.ErrNotFound) {
			return s.audit(ctx, q, p.ID, "company.saml_logout_unknown", "provider:"+idp.Name, detail)
		} else if err != nil {
			return err
		}
		// revokeSessions also tells the relying parties (back-channel logout).
		if err := s.revokeSessions(ctx, q, p, u); err != nil {
			return err
		}
		return s.audit(ctx, q, p.ID, "user.saml_logout", "user:"+u.Sub, detail)
	})
	if err != nil {
		return nil, err
	}
	u, err := sp.LogoutResponseURL(msg.RequestID, relayState)
	if err != nil {
		return nil, identity.Errorf(identity.CodeInvalidParameter, "The identity provider has no single logout service to answer.")
	}
	return &SAMLLogoutResult{RedirectURL: u}, nil
}
