package federation

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
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
// the Response to hold exactly one Assertion, itself signed.

// SAMLSP is one company's service provider.
type SAMLSP struct {
	EntityID    string // also the metadata URL
	ACSURL      string
	IDPMetadata []byte // the IdP's EntityDescriptor XML
	Now         func() time.Time
	Replay      saml.AssertionReplayCache
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
	return &saml.ServiceProvider{EntityID: c.EntityID, MetadataURL: *md, AcsURL: *acs, IDPMetadata: &ed,
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat, Clock: dsig.NewFakeClockAt(now()), ReplayCache: c.Replay,
		RejectUnknownConditions: false, LimitRelayStateLength: true}, nil
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
	if err := assertionSigned(raw); err != nil {
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

// assertionSigned requires the Response to hold exactly one Assertion
// (no EncryptedAssertion: no decryption key is configured) that carries
// its own ds:Signature; crewjam then requires every present signature to
// be valid and reads only signed content.
func assertionSigned(raw []byte) error {
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
	if len(assertions) != 1 || assertions[0].Tag != "Assertion" {
		return fmt.Errorf("the Response must hold exactly one (unencrypted) Assertion, not %d", len(assertions))
	}
	for _, ch := range assertions[0].ChildElements() {
		if ch.Tag == "Signature" && ch.NamespaceURI() == dsig.Namespace {
			return nil
		}
	}
	return errors.New("the Assertion is not signed")
}
