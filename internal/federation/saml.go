package federation

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAML 2.0 service provider (docs/company-sso.md), over
// github.com/crewjam/saml: Gatehouse sends an AuthnRequest by the
// HTTP-Redirect binding and takes the Response at its assertion consumer
// service by HTTP-POST. crewjam checks the XML signatures against the
// IdP's metadata certificates (reading only what the signature covers, so
// signature-wrapping is refused), Destination, InResponseTo, Issuer,
// Status, Audience, Recipient, NotBefore/NotOnOrAfter, and consumes each
// assertion ID in the replay cache. On top of that, SAMLVerify requires
// the Response to hold exactly one Assertion, itself signed (inside the
// encryption when it is an EncryptedAssertion).
//
// With a Key, the SP signs its AuthnRequests (the HTTP-Redirect binding's
// query signature, RSA-SHA256) and LogoutRequests/Responses, publishes the
// key's certificate for signing and for encryption in its metadata
// (AuthnRequestsSigned="true"), and decrypts EncryptedAssertions with it
// (or with one of OldKeys, kept for one rotation).

// SAMLSP is one company's service provider.
type SAMLSP struct {
	EntityID    string // also the metadata URL
	ACSURL      string
	SLOURL      string // the single logout service ("" for none)
	IDPMetadata []byte // the IdP's EntityDescriptor XML
	// Key and Cert sign requests and decrypt assertions (nil: requests go
	// unsigned, assertions must come unencrypted).
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
	// OldKeys still decrypt (the keys before the last rotation).
	OldKeys []*rsa.PrivateKey
	// RequireEncryption refuses an unencrypted Assertion.
	RequireEncryption bool
	Now               func() time.Time
	Replay            saml.AssertionReplayCache
}

// NewSAMLKey makes a service provider key: RSA 2048 (XML encryption's key
// transport needs RSA) and a self-signed certificate for it naming
// entityID, valid for 10 years from now (SAML uses the certificate only to
// carry the key; IdPs do not check its chain). It returns both DER.
func NewSAMLKey(entityID string, now time.Time) (keyDER, certDER []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	cn := entityID
	if len(cn) > 64 {
		cn = cn[:64]
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	return keyDER, certDER, err
}

// ParseSAMLKey reads what NewSAMLKey made (either may be nil).
func ParseSAMLKey(keyDER, certDER []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	var key *rsa.PrivateKey
	if keyDER != nil {
		k, err := x509.ParsePKCS8PrivateKey(keyDER)
		if err != nil {
			return nil, nil, err
		}
		var ok bool
		if key, ok = k.(*rsa.PrivateKey); !ok {
			return nil, nil, errors.New("the SAML key is not RSA")
		}
	}
	var cert *x509.Certificate
	if certDER != nil {
		c, err := x509.ParseCertificate(certDER)
		if err != nil {
			return nil, nil, err
		}
		cert = c
	}
	return key, cert, nil
}

// MaxSAMLMetadata and MaxSAMLResponse cap what is parsed.
const (
	MaxSAMLMetadata = 256 << 10
	MaxSAMLResponse = 256 << 10
)

// ParseIdPMetadata checks an IdP's metadata: one EntityDescriptor with an
// IDPSSODescriptor that has an HTTP-Redirect single sign-on service and a
// signing certificate. It returns the IdP's entity id.
func ParseIdPMetadata(b []byte) (string, error) {
	if len(b) == 0 || len(b) > MaxSAMLMetadata {
		return "", fmt.Errorf("the metadata must be 1 byte to %d KiB of XML", MaxSAMLMetadata>>10)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		return "", fmt.Errorf("the metadata is not a SAML EntityDescriptor: %v", err)
	}
	if ed.EntityID == "" || len(ed.IDPSSODescriptors) == 0 {
		return "", errors.New("the metadata has no entityID or no IDPSSODescriptor")
	}
	sp := saml.ServiceProvider{IDPMetadata: &ed}
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return "", errors.New("the IdP has no HTTP-Redirect SingleSignOnService")
	}
	signing := false
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if (kd.Use == "" || kd.Use == "signing") && len(kd.KeyInfo.X509Data.X509Certificates) > 0 {
			signing = true
		}
	}
	if !signing {
		return "", errors.New("the metadata has no signing certificate")
	}
	return ed.EntityID, nil
}

func (c *SAMLSP) sp() (*saml.ServiceProvider, error) {
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(c.IDPMetadata, &ed); err != nil {
		return nil, fmt.Errorf("idp metadata: %w", err)
	}
	acs, err := url.Parse(c.ACSURL)
	if err != nil {
		return nil, err
	}
	md, err := url.Parse(c.EntityID)
	if err != nil {
		return nil, err
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	sp := &saml.ServiceProvider{EntityID: c.EntityID, MetadataURL: *md, AcsURL: *acs, IDPMetadata: &ed,
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat, Clock: dsig.NewFakeClockAt(now()), ReplayCache: c.Replay,
		RejectUnknownConditions: false, LimitRelayStateLength: true,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}}
	if c.Key != nil && c.Cert != nil {
		sp.Key, sp.Certificate, sp.DecryptionKeys = c.Key, c.Cert, c.OldKeys
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	if c.SLOURL != "" {
		slo, err := url.Parse(c.SLOURL)
		if err != nil {
			return nil, err
		}
		sp.SloURL = *slo
		sp.LogoutBindings = []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding}
	}
	return sp, nil
}

// AuthURL returns the IdP's single sign-on URL carrying an AuthnRequest
// with id requestID and relayState.
func (c *SAMLSP) AuthURL(requestID, relayState string) (string, error) {
	sp, err := c.sp()
	if err != nil {
		return "", err
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", err
	}
	req.ID = requestID
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Metadata returns the SP's metadata XML (entity id, ACS with HTTP-POST,
// WantAssertionsSigned).
func (c *SAMLSP) Metadata() ([]byte, error) {
	sp, err := c.sp()
	if err != nil {
		return nil, err
	}
	return xml.MarshalIndent(sp.Metadata(), "", "  ")
}

// SAMLRequestID is the AuthnRequest ID of a sign-in attempt: an XML NCName
// made from the attempt's nonce.
func SAMLRequestID(r *Request) string { return "id_" + r.Nonce }

// Verify checks samlResponse (the base64 form value) as the answer to
// requestID and returns who it asserts: Subject the NameID, Issuer the
// IdP's entity id, Claims the attributes (first value each, under their
// Name and FriendlyName) plus "nameid"; Email the "email" or "mail"
// attribute, else an emailAddress NameID.
func (c *SAMLSP) Verify(samlResponse, requestID string) (*Identity, error) {
	if samlResponse == "" || len(samlResponse) > MaxSAMLResponse*4/3+4 {
		return nil, fmt.Errorf("%w: no or an oversized SAMLResponse", ErrUpstream)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(samlResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: SAMLResponse is not base64", ErrUpstream)
	}
	if err := c.assertionSigned(raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	sp, err := c.sp()
	if err != nil {
		return nil, err
	}
	a, err := sp.ParseXMLResponse(raw, []string{requestID}, sp.AcsURL)
	if err != nil {
		var ie *saml.InvalidResponseError
		if errors.As(err, &ie) {
			err = ie.PrivateErr
		}
		return nil, fmt.Errorf("%w: SAML response refused: %v", ErrUpstream, err)
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return nil, fmt.Errorf("%w: the assertion has no NameID", ErrUpstream)
	}
	id := &Identity{Issuer: a.Issuer.Value, Subject: a.Subject.NameID.Value, Claims: map[string]any{"nameid": a.Subject.NameID.Value}}
	var groups []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if len(at.Values) == 0 {
				continue
			}
			switch at.Name {
			case "groups", "memberOf", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups":
				for _, v := range at.Values {
					groups = append(groups, v.Value)
				}
			}
			for _, n := range []string{at.Name, at.FriendlyName} {
				if n != "" {
					if _, ok := id.Claims[n]; !ok {
						id.Claims[n] = at.Values[0].Value
					}
				}
			}
		}
	}
	if len(groups) > 0 {
		id.Claims["groups"] = groups
	}
	for _, k := range []string{"email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"} {
		if v, ok := id.Claims[k].(string); ok && v != "" {
			id.Email = v
			break
		}
	}
	if id.Email == "" && a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
		id.Email = a.Subject.NameID.Value
	}
	if id.Email != "" {
		id.Claims["email"] = id.Email
	}
	return id, nil
}

// assertionSigned requires the Response to hold exactly one Assertion or
// EncryptedAssertion (only with a key, and the only form allowed when
// RequireEncryption) whose assertion carries its own ds:Signature
// (decrypted here to look inside; crewjam decrypts again and checks it);
// crewjam then requires every present signature to be valid and reads only
// signed content.
func (c *SAMLSP) assertionSigned(raw []byte) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return errors.New("the SAML response is not XML")
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" {
		return errors.New("not a SAML Response")
	}
	var assertions []*etree.Element
	for _, ch := range root.ChildElements() {
		if ch.Tag == "Assertion" || ch.Tag == "EncryptedAssertion" {
			assertions = append(assertions, ch)
		}
	}
	if len(assertions) != 1 {
		return fmt.Errorf("the Response must hold exactly one Assertion, not %d", len(assertions))
	}
	a := assertions[0]
	switch {
	case a.Tag == "Assertion" && c.RequireEncryption:
		return errors.New("the Assertion is not encrypted, and the provider requires encryption")
	case a.Tag == "EncryptedAssertion" && c.Key == nil:
		return errors.New("the Assertion is encrypted, and the provider has no decryption key")
	case a.Tag == "EncryptedAssertion":
		plain, err := c.decrypt(a)
		if err != nil {
			return err
		}
		a = plain
	}
	for _, ch := range a.ChildElements() {
		if ch.Tag == "Signature" && ch.NamespaceURI() == dsig.Namespace {
			return nil
		}
	}
	return errors.New("the Assertion is not signed")
}

// decrypt opens an EncryptedAssertion with the SP's keys: its
// EncryptedData, whose key is in its KeyInfo or in an EncryptedKey beside
// it. Every failure reads the same (no padding or parsing oracle).
func (c *SAMLSP) decrypt(el *etree.Element) (*etree.Element, error) {
	failed := errors.New("the EncryptedAssertion cannot be decrypted with this provider's key")
	data := el.SelectElement("EncryptedData")
	if data == nil {
		return nil, failed
	}
	for _, k := range append([]*rsa.PrivateKey{c.Key}, c.OldKeys...) {
		plain, err := xmlenc.Decrypt(k, data)
		if err != nil {
			if ek := el.SelectElement("EncryptedKey"); ek != nil {
				if cek, kerr := xmlenc.Decrypt(k, ek); kerr == nil {
					plain, err = xmlenc.Decrypt(cek, data)
				}
			}
		}
		if err != nil {
			continue
		}
		doc := etree.NewDocument()
		if doc.ReadFromBytes(plain) != nil || doc.Root() == nil || doc.Root().Tag != "Assertion" {
			return nil, failed
		}
		return doc.Root(), nil
	}
	return nil, failed
}

// Single logout (saml-profiles §4.4) by the HTTP-Redirect binding, both
// ways, every message signed: the SP's with its Key, the IdP's checked
// against its metadata certificates (crewjam also checks Destination,
// Issuer, IssueInstant and NotOnOrAfter, and consumes each LogoutRequest ID
// in the replay cache).

// SAMLLogout is a checked logout message from the IdP: a LogoutRequest
// (RequestID, NameID, SessionIndexes) or the LogoutResponse to ours
// (Response true).
type SAMLLogout struct {
	Response       bool
	RequestID      string
	NameID         string
	SessionIndexes []string
}

// LogoutRequestURL returns the IdP's single logout URL carrying a signed
// LogoutRequest for nameID, and the request's ID; "" when the IdP has no
// HTTP-Redirect single logout service or the SP has no key.
func (c *SAMLSP) LogoutRequestURL(nameID, relayState string) (string, string, error) {
	sp, err := c.sp()
	if err != nil {
		return "", "", err
	}
	loc := sp.GetSLOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" || sp.Key == nil || c.SLOURL == "" {
		return "", "", nil
	}
	req, err := sp.MakeLogoutRequest(loc, nameID)
	if err != nil {
		return "", "", err
	}
	u, err := sp.RedirectLogoutRequestURL(req, relayState)
	if err != nil {
		return "", "", err
	}
	return u.String(), req.ID, nil
}

// ParseLogout checks a logout message the IdP sent to the SLO URL, by
// the HTTP-Redirect binding (rawQuery) or HTTP-POST (form): a
// LogoutRequest, or a LogoutResponse answering expectID (the ID of the
// LogoutRequest this browser took to the IdP; "" refuses any response).
func (c *SAMLSP) ParseLogout(rawQuery string, form url.Values, expectID string) (*SAMLLogout, error) {
	if len(rawQuery) > MaxSAMLResponse*2 {
		return nil, fmt.Errorf("%w: oversized logout message", ErrUpstream)
	}
	sp, err := c.sp()
	if err != nil {
		return nil, err
	}
	if sp.SloURL.String() == "" {
		return nil, fmt.Errorf("%w: no single logout service", ErrUpstream)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: bad query", ErrUpstream)
	}
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{RawQuery: rawQuery}, PostForm: url.Values{}, Form: url.Values{}}
	if q.Get("SAMLRequest") == "" && q.Get("SAMLResponse") == "" {
		r.Method, r.PostForm, r.Form = http.MethodPost, form, form
	}
	unwrap := func(err error) error {
		var ie *saml.InvalidResponseError
		if errors.As(err, &ie) {
			err = ie.PrivateErr
		}
		return fmt.Errorf("%w: logout message refused: %v", ErrUpstream, err)
	}
	if q.Get("SAMLResponse") != "" || r.PostForm.Get("SAMLResponse") != "" {
		if _, err := sp.ParseLogoutResponse(r, []string{expectID}); err != nil {
			return nil, unwrap(err)
		}
		return &SAMLLogout{Response: true}, nil
	}
	if q.Get("SAMLRequest") == "" && r.PostForm.Get("SAMLRequest") == "" {
		return nil, fmt.Errorf("%w: no logout message", ErrUpstream)
	}
	req, err := sp.ValidateLogoutRequest(r)
	if err != nil {
		return nil, unwrap(err)
	}
	if req.NameID == nil || req.NameID.Value == "" {
		return nil, fmt.Errorf("%w: the LogoutRequest names nobody", ErrUpstream)
	}
	out := &SAMLLogout{RequestID: req.ID, NameID: req.NameID.Value}
	for _, si := range req.AllSessionIndexes() {
		out.SessionIndexes = append(out.SessionIndexes, si.Value)
	}
	return out, nil
}

// LogoutResponseURL returns the IdP's single logout URL carrying the
// SP's signed LogoutResponse (Success) to the LogoutRequest requestID.
func (c *SAMLSP) LogoutResponseURL(requestID, relayState string) (string, error) {
	sp, err := c.sp()
	if err != nil {
		return "", err
	}
	if sp.GetSLOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return "", errors.New("the IdP has no HTTP-Redirect single logout service")
	}
	u, err := sp.MakeRedirectLogoutResponse(requestID, relayState)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// MetadataSigningCerts returns the base64 signing certificates of IdP
// metadata (to tell a refresh that swapped them).
func MetadataSigningCerts(b []byte) []string {
	var ed saml.EntityDescriptor
	if xml.Unmarshal(b, &ed) != nil || len(ed.IDPSSODescriptors) == 0 {
		return nil
	}
	var out []string
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use == "" || kd.Use == "signing" {
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				out = append(out, strings.Join(strings.Fields(c.Data), ""))
			}
		}
	}
	return out
}
