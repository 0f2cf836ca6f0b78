package auth

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/net/publicsuffix"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Passkeys (WebAuthn)
//
// The protocol checks (client data, origin, RP ID hash, flags, attestation
// and assertion signatures, sign counter) are github.com/go-webauthn/webauthn;
// this file owns the state around them:
//
//   - Relying party per pool. The RP ID is the host of the origin the
//     ceremony runs on, which must be one the pool allows: the origin of
//     its base URL (the pool's, else the server's) or https://<domain> for
//     each of its domains. A credential is bound to the RP ID it was made
//     for, so a passkey made on the base URL signs in there, and one made on
//     a pool domain signs in on that domain. Nothing here reads a request
//     header: the surface names the origin it served the page on, and the
//     browser's signed client data must report exactly it.
//   - Challenges are stored server-side (webauthn_challenges), keyed by the
//     SHA-256 of the challenge the browser signs, so the finish step finds
//     its row from the client data alone; bound to pool, purpose, user ("" for
//     a discoverable sign-in) and origin; valid PasskeyChallengeTTL; taken
//     once (a DELETE ... RETURNING), so a replayed response finds nothing.
//   - Resident keys and user verification are required at registration and
//     at sign-in: a passkey alone is a complete sign-in (possession plus the
//     authenticator's PIN or biometric).
//   - The sign counter moves by compare-and-set (store.UseWebAuthnCredential).
//     A counter that does not grow (when either side is non-zero) means two
//     copies of the key exist: the sign-in is refused and audited as
//     passkey.clone_suspected.
//   - Tokens of a passkey sign-in carry amr ["hwk"] (a device-bound key) or
//     ["swk"] (a key the authenticator may back up or sync, the BE flag),
//     RFC 8176.

// PasskeyChallengeTTL is how long a ceremony's challenge stays valid.
const PasskeyChallengeTTL = 5 * time.Minute

// PasskeyFreshness is how recent a sign-in must be to remove a passkey on
// the hosted pages and the native API.
const PasskeyFreshness = 10 * time.Minute

// MaxPasskeysPerUser bounds a user's credentials.
const MaxPasskeysPerUser = 20

const maxPasskeyResponse = 64 << 10 // bytes of a browser's JSON response

// PasskeyAMR values (RFC 8176).
const (
	AMRHardwareKey = "hwk"
	AMRSoftwareKey = "swk"
)

var (
	errPasskeyChallenge = identity.Errorf(identity.CodeWebAuthnChallengeNotFound, "The passkey challenge is unknown, used or expired. Start again.")
	errPasskeyOrigin    = identity.Errorf(identity.CodeWebAuthnOriginNotAllowed, "The origin is not allowed for this user pool.")
	errPasskeyRP        = identity.Errorf(identity.CodeWebAuthnRelyingPartyMismatch, "The passkey was made for another relying party.")
	errPasskeyRefused   = identity.Errorf(identity.CodeNotAuthorized, "The passkey was not accepted.")
	errPasskeyNoUV      = identity.Errorf(identity.CodeNotAuthorized, "This passkey did not verify the user (PIN or biometric), and this account needs multi-factor authentication.")
	errPasskeyStale     = identity.Errorf(identity.CodeNotAuthorized, "Sign in again to remove a passkey.")
)

// Passkey is a registered passkey as the surfaces show it.
type Passkey struct {
	ID         string // credential id, base64url
	Name       string
	RPID       string
	Transports []string
	AAGUID     string
	Attachment string // "platform", "cross-platform" or ""
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// passkeyRP returns the relying party of a ceremony on pool p at origin
// ("" = the origin of the pool's base URL): the library's configuration
// with that single origin, and the RP ID (the origin's host).
func (s *Service) passkeyRP(p *identity.Pool, origin string) (*webauthn.WebAuthn, string, string, error) {
	allowed := s.PasskeyOrigins(p)
	if origin == "" {
		origin = allowed[0]
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == origin
	}
	if !ok {
		return nil, "", "", errPasskeyOrigin
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, "", "", errPasskeyOrigin
	}
	rpid := u.Hostname()
	if rp := p.Settings.MFA.WebAuthn.RPID(); rp != "" {
		// The pool's configured relying party (Cognito's RelyingPartyId):
		// the origin must be that domain or under it (WebAuthn's
		// "registrable domain suffix"), else the browser refuses anyway.
		if rpid != rp && !strings.HasSuffix(rpid, "."+rp) {
			return nil, "", "", errPasskeyOrigin
		}
		rpid = rp
	}
	uv := protocol.UserVerificationRequirement(p.Settings.MFA.WebAuthn.UV())
	name := p.Name
	if name == "" {
		name = p.ID
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: rpid, RPDisplayName: name, RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: uv},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
		},
	})
	if err != nil { // e.g. an IP address: WebAuthn needs a domain name
		return nil, "", "", &identity.Error{Code: identity.CodeInvalidUserPoolConfig,
			Message: "Passkeys need the pool's base URL or domain to be a domain name.", Err: err}
	}
	return wa, rpid, origin, nil
}

// validWebAuthn checks pool p's passkey settings (SetPoolMFA): user
// verification required or preferred; a relying party id that is the host
// of one of the pool's passkey origins (its base URL, its domains) or a
// parent domain of it, and not a public suffix (WebAuthn's "registrable
// domain suffix of the origin's effective domain": a browser refuses any
// other). Errors: invalid_parameter.
func (s *Service) validWebAuthn(p *identity.Pool, w *identity.WebAuthnSettings) error {
	switch w.UserVerification {
	case "", identity.UserVerificationRequired, identity.UserVerificationPreferred:
	default:
		return identity.FieldError("WebAuthnConfiguration.UserVerification",
			"Invalid UserVerification %s: it must be required or preferred.", safeEcho(w.UserVerification))
	}
	rp := w.RelyingPartyID
	if rp == "" {
		return nil
	}
	if len(rp) > 63*4 || rp != strings.ToLower(rp) || strings.Trim(rp, ".") != rp || strings.Contains(rp, "..") ||
		strings.ContainsFunc(rp, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') }) {
		return identity.FieldError("WebAuthnConfiguration.RelyingPartyId",
			"Invalid RelyingPartyId %s: it must be a lower-case domain name.", safeEcho(rp))
	}
	hosts := []string{}
	for _, o := range s.PasskeyOrigins(p) {
		if u, err := url.Parse(o); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	if ps, _ := publicsuffix.PublicSuffix(rp); ps == rp && rp != "localhost" {
		return identity.FieldError("WebAuthnConfiguration.RelyingPartyId",
			"Invalid RelyingPartyId %s: a public suffix cannot be a relying party.", safeEcho(rp))
	}
	for _, h := range hosts {
		if h == rp || strings.HasSuffix(h, "."+rp) {
			return nil
		}
	}
	return identity.FieldError("WebAuthnConfiguration.RelyingPartyId",
		"Invalid RelyingPartyId %s: it must be the host of the pool's base URL or one of its domains (%s), or a parent domain of it.",
		safeEcho(rp), strings.Join(hosts, ", "))
}

// PasskeyOrigins lists the origins pool p's passkey ceremonies may run on:
// its base URL's origin first, then https://<domain> for each domain.
func (s *Service) PasskeyOrigins(p *identity.Pool) []string {
	base := s.cfg.BaseURL
	if p.BaseURL != "" {
		base = p.BaseURL
	}
	out := []string{}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		out = append(out, u.Scheme+"://"+u.Host)
	}
	for _, d := range p.Domains {
		out = append(out, "https://"+strings.ToLower(d))
	}
	return out
}

// passkeyUser adapts a user and their credentials to the library.
type passkeyUser struct {
	u     *identity.User
	creds []webauthn.Credential
}

func (pu *passkeyUser) WebAuthnID() []byte { return []byte(pu.u.Sub) }
func (pu *passkeyUser) WebAuthnName() string {
	if pu.u.Email != "" {
		return pu.u.Email
	}
	return pu.u.Username
}
func (pu *passkeyUser) WebAuthnDisplayName() string                { return pu.WebAuthnName() }
func (pu *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return pu.creds }

// libCredential turns a stored credential back into the library's record,
// with the stored (current) sign count.
func libCredential(c *identity.WebAuthnCredential) (webauthn.Credential, error) {
	var wc webauthn.Credential
	if err := json.Unmarshal([]byte(c.Record), &wc); err != nil {
		return wc, fmt.Errorf("decode passkey record: %w", err)
	}
	wc.Authenticator.SignCount = c.SignCount
	return wc, nil
}

// putChallenge stores the server side of a ceremony.
func (s *Service) putChallenge(ctx context.Context, p *identity.Pool, purpose, sub, origin string, sd *webauthn.SessionData) error {
	sd.Expires = time.Time{} // expiry is ours (the store's row), on our clock
	raw, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode passkey session: %w", err)
	}
	now := s.now()
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		return q.PutWebAuthnChallenge(ctx, &identity.WebAuthnChallenge{Hash: sha256Hex(sd.Challenge), PoolID: p.ID,
			Purpose: purpose, Sub: sub, Origin: origin, Session: string(raw), ExpiresAt: now.Add(PasskeyChallengeTTL)}, now)
	})
}

// takeChallenge takes (single use) the challenge the client data names and
// checks it belongs to pool p, purpose and sub.
func (s *Service) takeChallenge(ctx context.Context, p *identity.Pool, purpose, sub, challenge string) (*identity.WebAuthnChallenge, *webauthn.SessionData, error) {
	if challenge == "" || len(challenge) > 512 {
		return nil, nil, errPasskeyChallenge
	}
	var ch *identity.WebAuthnChallenge
	err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		var err error
		ch, err = q.TakeWebAuthnChallenge(ctx, sha256Hex(challenge), s.now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errPasskeyChallenge
	}
	if err != nil {
		return nil, nil, err
	}
	if ch.PoolID != p.ID || ch.Purpose != purpose || ch.Sub != sub {
		return nil, nil, errPasskeyChallenge
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal([]byte(ch.Session), &sd); err != nil {
		return nil, nil, fmt.Errorf("decode passkey session: %w", err)
	}
	return ch, &sd, nil
}

// StartPasskeyRegistration begins enrolling a passkey for user sub of pool
// poolID on origin ("" = the pool's base URL origin). It returns the
// PublicKeyCredentialCreationOptions (JSON) for navigator.credentials.create:
// a resident key with user verification, excluding the user's existing
// credentials. Errors: webauthn_origin_not_allowed, user_not_found,
// limit_exceeded when the user has MaxPasskeysPerUser.
func (s *Service) StartPasskeyRegistration(ctx context.Context, poolID, sub, origin string) (json.RawMessage, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	wa, _, origin, err := s.passkeyRP(p, origin)
	if err != nil {
		return nil, err
	}
	pu, err := s.loadPasskeyUser(ctx, p, sub)
	if err != nil {
		return nil, err
	}
	if len(pu.creds) >= MaxPasskeysPerUser {
		return nil, identity.Errorf(identity.CodeLimitExceeded, "A user may have at most %d passkeys.", MaxPasskeysPerUser)
	}
	excl := make([]protocol.CredentialDescriptor, len(pu.creds))
	for i := range pu.creds {
		excl[i] = pu.creds[i].Descriptor()
	}
	cc, sd, err := wa.BeginRegistration(pu, webauthn.WithExclusions(excl))
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.putChallenge(ctx, p, identity.WebAuthnRegister, sub, origin, sd); err != nil {
		return nil, err
	}
	return json.Marshal(cc.Response)
}

func (s *Service) loadPasskeyUser(ctx context.Context, p *identity.Pool, sub string) (*passkeyUser, error) {
	u, err := s.cfg.Store.GetUser(ctx, p.ID, sub)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	rows, err := s.cfg.Store.ListWebAuthnCredentials(ctx, p.ID, sub)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	pu := &passkeyUser{u: u}
	for _, r := range rows {
		wc, err := libCredential(r)
		if err != nil {
			return nil, err
		}
		pu.creds = append(pu.creds, wc)
	}
	return pu, nil
}

// CompletePasskeyRegistration finishes an enrolment started by
// StartPasskeyRegistration for the same user: credential is the browser's
// PublicKeyCredential as JSON (RegistrationResponseJSON). The new passkey
// is stored, audited (passkey.added) and an email-free notice is left to
// the caller. name may be "" (then the authenticator's kind names it).
// Errors: invalid_parameter for a response that does not parse,
// webauthn_challenge_not_found (unknown, used, expired, another user's or
// pool's), webauthn_origin_not_allowed, webauthn_relying_party_mismatch,
// webauthn_credential_not_supported (no user verification, unsupported
// key), conflict when the credential is registered already.
func (s *Service) CompletePasskeyRegistration(ctx context.Context, poolID, sub string, credential []byte, name string) (*Passkey, error) {
	if len(credential) == 0 || len(credential) > maxPasskeyResponse {
		return nil, identity.FieldError("Credential", "A credential (the browser's PublicKeyCredential as JSON) is required.")
	}
	if utf8.RuneCountInString(name) > 64 || strings.ContainsFunc(name, isControl) {
		return nil, identity.FieldError("name", "A passkey name has at most 64 characters and no control characters.")
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, identity.FieldError("Credential", "The credential is not a valid WebAuthn registration response.")
	}
	ch, sd, err := s.takeChallenge(ctx, p, identity.WebAuthnRegister, sub, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	wa, rpid, _, err := s.passkeyRP(p, ch.Origin)
	if err != nil {
		return nil, err
	}
	pu, err := s.loadPasskeyUser(ctx, p, sub)
	if err != nil {
		return nil, err
	}
	wc, err := wa.CreateCredential(pu, *sd, parsed)
	if err != nil {
		return nil, ceremonyError(err)
	}
	rec, err := json.Marshal(wc)
	if err != nil {
		return nil, fmt.Errorf("encode passkey record: %w", err)
	}
	transports := make([]string, len(wc.Transport))
	for i, t := range wc.Transport {
		transports[i] = string(t)
	}
	aaguid := hex.EncodeToString(wc.Authenticator.AAGUID)
	if strings.Trim(aaguid, "0") == "" {
		aaguid = ""
	}
	if name == "" {
		name = defaultPasskeyName(wc)
	}
	now := s.now()
	c := &identity.WebAuthnCredential{PoolID: p.ID, ID: base64.RawURLEncoding.EncodeToString(wc.ID), Sub: sub, RPID: rpid,
		PublicKey: wc.PublicKey, SignCount: wc.Authenticator.SignCount, Transports: transports, AAGUID: aaguid,
		Name: name, Record: string(rec), CreatedAt: now}
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := q.InsertWebAuthnCredential(ctx, c); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return identity.Errorf(identity.CodeConflict, "This passkey is registered already.")
			}
			if errors.Is(err, store.ErrNotFound) {
				return errUserNotFound
			}
			return fmt.Errorf("insert passkey: %w", err)
		}
		if err := s.audit(ctx, q, p.ID, "passkey.added", "user:"+sub, map[string]string{"credential_id": c.ID, "name": name, "rp_id": rpid}); err != nil {
			return err
		}
		return s.factorEmail(ctx, q, p, pu.u, identity.FactorWebAuthn, true)
	})
	if err != nil {
		return nil, err
	}
	return passkeyOf(c), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func defaultPasskeyName(wc *webauthn.Credential) string {
	if wc.Flags.BackupEligible {
		return "Synced passkey"
	}
	if wc.Authenticator.Attachment == protocol.CrossPlatform {
		return "Security key"
	}
	return "Passkey"
}

// ceremonyError maps the library's refusal to our codes; the library's
// detail goes to the log through Err only.
func ceremonyError(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		d := strings.ToLower(pe.Details + " " + pe.DevInfo)
		switch {
		case strings.Contains(d, "origin"):
			return &identity.Error{Code: identity.CodeWebAuthnOriginNotAllowed, Message: errPasskeyOrigin.Message, Err: err}
		case strings.Contains(d, "rp hash") || strings.Contains(d, "rpid") || strings.Contains(d, "rp id") || strings.Contains(d, "relying party"):
			return &identity.Error{Code: identity.CodeWebAuthnRelyingPartyMismatch, Message: errPasskeyRP.Message, Err: err}
		case strings.Contains(d, "verif") || strings.Contains(d, "algorithm") || strings.Contains(d, "unsupported"):
			return &identity.Error{Code: identity.CodeWebAuthnCredentialNotSupported,
				Message: "The passkey is not supported: it must verify the user (PIN or biometric) and use a supported key type.", Err: err}
		}
	}
	return &identity.Error{Code: identity.CodeInvalidParameter, Field: "Credential", Message: "The credential does not answer the challenge.", Err: err}
}

func passkeyOf(c *identity.WebAuthnCredential) *Passkey {
	pk := &Passkey{ID: c.ID, Name: c.Name, RPID: c.RPID, Transports: append([]string{}, c.Transports...), AAGUID: c.AAGUID,
		CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt}
	var wc webauthn.Credential
	if json.Unmarshal([]byte(c.Record), &wc) == nil {
		pk.Attachment = string(wc.Authenticator.Attachment)
	}
	return pk
}

// ListPasskeys returns user sub's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, poolID, sub string) ([]*Passkey, error) {
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return nil, err
	}
	rows, err := s.cfg.Store.ListWebAuthnCredentials(ctx, poolID, sub)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	out := make([]*Passkey, len(rows))
	for i, r := range rows {
		out[i] = passkeyOf(r)
	}
	return out, nil
}

// DeletePasskeyInput removes one passkey of a user.
type DeletePasskeyInput struct {
	PoolID, Sub, CredentialID string
	// AuthTime is when the caller's session signed in; with RequireFresh a
	// sign-in older than PasskeyFreshness is refused (not_authorized "Sign
	// in again to remove a passkey.").
	AuthTime     time.Time
	RequireFresh bool
	// Admin is a pool administrator's removal: the last-factor rule does
	// not apply (as for an admin's MFA reset).
	Admin bool
}

// DeletePasskey removes a passkey; resource_not_found when the user has no
// passkey with that id (another user's included). Audited as
// passkey.removed.
func (s *Service) DeletePasskey(ctx context.Context, in DeletePasskeyInput) error {
	p, err := s.getPool(ctx, s.cfg.Store, in.PoolID)
	if err != nil {
		return err
	}
	if in.CredentialID == "" || len(in.CredentialID) > 1024 {
		return identity.FieldError("CredentialId", "A credential id is required.")
	}
	if in.RequireFresh && s.now().Sub(in.AuthTime) > PasskeyFreshness {
		return errPasskeyStale
	}
	return s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		u, err := q.GetUser(ctx, p.ID, in.Sub)
		if errors.Is(err, store.ErrNotFound) {
			return identity.Errorf(identity.CodeResourceNotFound, "Passkey not found.")
		}
		if err != nil {
			return fmt.Errorf("get user: %w", err)
		}
		if !in.Admin {
			if err := s.lastFactorRule(ctx, q, p, u); err != nil {
				return err
			}
		}
		if err := q.DeleteWebAuthnCredential(ctx, p.ID, in.Sub, in.CredentialID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return identity.Errorf(identity.CodeResourceNotFound, "Passkey not found.")
			}
			return fmt.Errorf("delete passkey: %w", err)
		}
		if err := s.audit(ctx, q, p.ID, "passkey.removed", "user:"+in.Sub, map[string]string{"credential_id": in.CredentialID}); err != nil {
			return err
		}
		return s.factorEmail(ctx, q, p, u, identity.FactorWebAuthn, false)
	})
}

// lastFactorRule refuses (invalid_parameter) removing one passkey of u
// when u must have MFA and it is their only factor: no TOTP app, email
// codes or other passkey left. (RemoveFactor applies the same rule to the
// other factors, counting passkeys.)
func (s *Service) lastFactorRule(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User) error {
	plan, err := s.planMFA(ctx, q, p, u)
	if err != nil || !plan.required {
		return err
	}
	fs, err := q.ListFactors(ctx, p.ID, u.Sub, "")
	if err != nil {
		return fmt.Errorf("list factors: %w", err)
	}
	left := plan.passkeys - 1
	for _, f := range fs {
		if f.Type == identity.FactorTOTP && f.Confirmed || f.Type == identity.FactorEmailOTP {
			left++
		}
	}
	if left <= 0 {
		return identity.Errorf(identity.CodeInvalidParameter, "MFA is required for this account: add another factor before removing the last one.")
	}
	return nil
}

// StartPasskeySignIn begins a passwordless sign-in to client c on origin
// ("" = the pool's base URL origin): a discoverable-credential request
// (no allow list, user verification required). It returns the
// PublicKeyCredentialRequestOptions (JSON) for navigator.credentials.get.
func (s *Service) StartPasskeySignIn(ctx context.Context, c Client, origin string) (json.RawMessage, error) {
	_, p, err := s.resolveClient(ctx, c, "")
	if err != nil {
		return nil, err
	}
	return s.startPasskeyAssertion(ctx, p, "", origin)
}

// startPasskeyAssertion stores a sign-in challenge; for sub != "" the
// request lists that user's credentials (Cognito's USER_AUTH WEB_AUTHN).
func (s *Service) startPasskeyAssertion(ctx context.Context, p *identity.Pool, sub, origin string) (json.RawMessage, error) {
	wa, _, origin, err := s.passkeyRP(p, origin)
	if err != nil {
		return nil, err
	}
	uv := protocol.UserVerificationRequirement(p.Settings.MFA.WebAuthn.UV())
	var ca *protocol.CredentialAssertion
	var sd *webauthn.SessionData
	if sub == "" {
		ca, sd, err = wa.BeginDiscoverableLogin(webauthn.WithUserVerification(uv))
	} else {
		var pu *passkeyUser
		if pu, err = s.loadPasskeyUser(ctx, p, sub); err != nil {
			return nil, err
		}
		ca, sd, err = wa.BeginLogin(pu, webauthn.WithUserVerification(uv))
	}
	if err != nil {
		return nil, fmt.Errorf("begin login: %w", err)
	}
	if err := s.putChallenge(ctx, p, identity.WebAuthnSignIn, sub, origin, sd); err != nil {
		return nil, err
	}
	return json.Marshal(ca.Response)
}

// PasskeySignInInput finishes a passkey sign-in.
type PasskeySignInInput struct {
	Client Client
	// Credential is the browser's PublicKeyCredential as JSON
	// (AuthenticationResponseJSON).
	Credential []byte
	Meta       RequestMeta
}

// CompletePasskeySignIn finishes a sign-in started by StartPasskeySignIn:
// it verifies the assertion against the stored challenge and the pool's
// credential, then issues tokens like a password sign-in, with amr hwk or
// swk. Every refusal is not_authorized "The passkey was not accepted."
// (an unknown credential, another pool's, a bad signature, a cloned
// authenticator), except webauthn_challenge_not_found for an unknown,
// used or expired challenge, webauthn_origin_not_allowed and the account's
// own state (user_disabled, user_not_confirmed, ...).
func (s *Service) CompletePasskeySignIn(ctx context.Context, in PasskeySignInInput) (*AuthResult, error) {
	ctx = withSignInMeta(ctx, in.Meta) // for the sign_ins row (signins.go)
	cl, p, err := s.resolveClient(ctx, in.Client, "")
	if err != nil {
		return nil, err
	}
	return s.finishPasskeyAssertion(ctx, p, cl, "", in.Credential)
}

func (s *Service) finishPasskeyAssertion(ctx context.Context, p *identity.Pool, cl *identity.AppClient, sub string, credential []byte) (*AuthResult, error) {
	parsed, err := parsePasskeyAssertion(credential)
	if err != nil {
		return nil, err
	}
	pf, err := s.verifyPasskeyAssertion(ctx, p, cl, sub, parsed)
	if err != nil {
		return nil, err
	}
	u, row, wc := pf.u, pf.row, pf.wc
	if u.Status == identity.StatusForceChangePassword {
		return nil, errPasskeyRefused // only a password sign-in can set the new password
	}
	if statusErr := s.approvalPending(ctx, p, u, signInStatus(u, s.now())); statusErr != nil {
		s.auditFailure(ctx, p, "user:"+u.Sub, identity.ErrorMessage(statusErr), cl.ID)
		return nil, statusErr
	}
	// A passkey that verified its user (something you have plus a PIN or
	// biometric) is multi-factor on its own: it satisfies the pool's and
	// the company's MFA policy (RequireMFA) without a second challenge,
	// and the tokens say so (docs/mfa.md "How passkeys plug in").
	amr := []string{pf.amr, AMRMFA}
	if !pf.uv {
		// Without user verification (a pool that prefers UV only) the
		// passkey is one factor: possession. It signs in only a user who
		// would be asked no second factor; anybody else uses a verifying
		// authenticator or the password and their second factor.
		plan, err := s.planMFA(ctx, s.cfg.Store, p, u)
		if err != nil {
			return nil, err
		}
		if plan.required || len(plan.usable) > 0 {
			s.auditFailure(ctx, p, "user:"+u.Sub, "passkey_without_user_verification", cl.ID)
			return nil, errPasskeyNoUV
		}
		amr = []string{pf.amr}
	}
	toks, rt, err := s.newSession(ctx, p, cl, u, amr)
	if err != nil {
		return nil, s.signInTokensFailed(ctx, p, cl, u, err)
	}
	now := s.now()
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		if err := s.usePasskey(ctx, q, p, row, wc, now); err != nil {
			return err
		}
		cur, err := q.GetUser(ctx, p.ID, u.Sub)
		if err != nil || !cur.Enabled {
			return errPasskeyRefused
		}
		if err := s.insertSignIn(ctx, q, rt); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		identity.SetUser(ctx, u.Sub)
		return s.audit(ctx, q, p.ID, "user.sign_in", "user:"+u.Sub, map[string]string{"client_id": cl.ID, "flow": "PASSKEY",
			"credential_id": row.ID, "amr": strings.Join(amr, " ")})
	})
	if err != nil {
		return nil, err
	}
	return &AuthResult{Tokens: toks}, nil
}

// parsePasskeyAssertion parses a browser's AuthenticationResponseJSON; a
// malformed one is the caller's mistake (invalid_parameter), not a failed
// attempt.
func parsePasskeyAssertion(credential []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(credential) == 0 || len(credential) > maxPasskeyResponse {
		return nil, identity.FieldError("CREDENTIAL", "A credential (the browser's PublicKeyCredential as JSON) is required.")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, identity.FieldError("CREDENTIAL", "The credential is not a valid WebAuthn authentication response.")
	}
	return parsed, nil
}

// passkeyProof is a verified assertion: the user, the stored credential
// and the library's view of it after the ceremony, and the amr value the
// key proves (hwk, or swk for a key that may be synced).
type passkeyProof struct {
	u   *identity.User
	row *identity.WebAuthnCredential
	wc  *webauthn.Credential
	amr string
	uv  bool // the authenticator verified its user: multi-factor
}

// verifyPasskeyAssertion takes the challenge the assertion answers (of
// user sub, "" for a discoverable sign-in) and verifies the assertion
// against the pool's stored credential: origin, RP ID, signature, user
// verification, the owner (user handle, and sub when given) and the sign
// counter (a counter going back is audited as passkey.clone_suspected).
// It changes no state but the taken challenge: the caller moves the
// counter (usePasskey) in the transaction that signs the user in.
func (s *Service) verifyPasskeyAssertion(ctx context.Context, p *identity.Pool, cl *identity.AppClient, sub string, parsed *protocol.ParsedCredentialAssertionData) (*passkeyProof, error) {
	ch, sd, err := s.takeChallenge(ctx, p, identity.WebAuthnSignIn, sub, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	wa, _, _, err := s.passkeyRP(p, ch.Origin)
	if err != nil {
		return nil, err
	}
	credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
	var row *identity.WebAuthnCredential
	var pu *passkeyUser
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		r, err := s.cfg.Store.GetWebAuthnCredential(ctx, p.ID, base64.RawURLEncoding.EncodeToString(rawID))
		if err != nil {
			return nil, err
		}
		if len(userHandle) > 0 && string(userHandle) != r.Sub {
			return nil, errors.New("user handle does not own the credential")
		}
		if sub != "" && r.Sub != sub {
			return nil, errors.New("credential of another user")
		}
		wc, err := libCredential(r)
		if err != nil {
			return nil, err
		}
		u, err := s.cfg.Store.GetUser(ctx, p.ID, r.Sub)
		if err != nil {
			return nil, err
		}
		row, pu = r, &passkeyUser{u: u, creds: []webauthn.Credential{wc}}
		return pu, nil
	}
	var wc *webauthn.Credential
	if sub == "" {
		_, wc, err = wa.ValidatePasskeyLogin(handler, *sd, parsed)
	} else {
		var user webauthn.User
		if user, err = handler(parsed.RawID, parsed.Response.UserHandle); err == nil {
			wc, err = wa.ValidateLogin(user, *sd, parsed)
		}
	}
	if err != nil || row == nil {
		s.auditFailure(ctx, p, "passkey:"+safeEcho(credID), "passkey_refused", cl.ID)
		if ce := ceremonyError(err); identity.ErrorCode(ce) == identity.CodeWebAuthnOriginNotAllowed {
			return nil, ce
		}
		return nil, &identity.Error{Code: identity.CodeNotAuthorized, Message: errPasskeyRefused.Message, Err: err}
	}
	if wc.Authenticator.CloneWarning {
		err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			return s.audit(ctx, q, p.ID, "passkey.clone_suspected", "user:"+pu.u.Sub, map[string]string{"credential_id": row.ID,
				"client_id": cl.ID, "stored_count": fmt.Sprint(row.SignCount)})
		})
		if err != nil {
			return nil, err
		}
		return nil, errPasskeyRefused
	}
	// go-webauthn refuses a missing UV flag already where UV is required;
	// never sign in without it there. Where the pool prefers UV only, the
	// assertion is accepted as one factor (uv false).
	if !wc.Flags.UserVerified && (sd.UserVerification != protocol.VerificationPreferred ||
		p.Settings.MFA.WebAuthn.UV() != identity.UserVerificationPreferred) {
		return nil, errPasskeyRefused
	}
	amr := AMRHardwareKey
	if wc.Flags.BackupEligible {
		amr = AMRSoftwareKey
	}
	return &passkeyProof{u: pu.u, row: row, wc: wc, amr: amr, uv: wc.Flags.UserVerified}, nil
}

// usePasskey moves a verified credential's sign counter by compare-and-set
// on the value verifyPasskeyAssertion read: a concurrent sign-in with the
// same counter value, or a removal meanwhile, refuses this one.
func (s *Service) usePasskey(ctx context.Context, q store.Querier, p *identity.Pool, row *identity.WebAuthnCredential, wc *webauthn.Credential, now time.Time) error {
	ok, err := q.UseWebAuthnCredential(ctx, p.ID, row.ID, row.SignCount, wc.Authenticator.SignCount, now)
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	if !ok {
		return errPasskeyRefused
	}
	return nil
}

// The caller's own passkeys, authorised by an access token with
// aws.cognito.signin.user.admin (Cognito's StartWebAuthnRegistration,
// CompleteWebAuthnRegistration, ListWebAuthnCredentials,
// DeleteWebAuthnCredential; the native API's /me/passkeys). The ceremony
// runs on the pool's base URL origin. Errors: those of
// AuthenticateAccessToken and of the methods they call.

// StartMyPasskeyRegistration is StartPasskeyRegistration for the token's user.
func (s *Service) StartMyPasskeyRegistration(ctx context.Context, accessToken string) (json.RawMessage, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.StartPasskeyRegistration(ctx, p.ID, u.Sub, "")
}

// CompleteMyPasskeyRegistration is CompletePasskeyRegistration for the
// token's user.
func (s *Service) CompleteMyPasskeyRegistration(ctx context.Context, accessToken string, credential []byte, name string) (*Passkey, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.CompletePasskeyRegistration(ctx, p.ID, u.Sub, credential, name)
}

// ListMyPasskeys is ListPasskeys for the token's user.
func (s *Service) ListMyPasskeys(ctx context.Context, accessToken string) ([]*Passkey, error) {
	p, u, _, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	return s.ListPasskeys(ctx, p.ID, u.Sub)
}

// DeleteMyPasskey removes one of the token's user's passkeys. With
// requireFresh the token's sign-in (auth_time) must be at most
// PasskeyFreshness old (the native API); Cognito's DeleteWebAuthnCredential
// asks no more than a valid token, as AWS documents.
func (s *Service) DeleteMyPasskey(ctx context.Context, accessToken, credentialID string, requireFresh bool) error {
	p, u, claims, err := s.authenticateSelf(ctx, accessToken)
	if err != nil {
		return err
	}
	at, _ := numClaim(claims["auth_time"])
	return s.DeletePasskey(ctx, DeletePasskeyInput{PoolID: p.ID, Sub: u.Sub, CredentialID: credentialID,
		AuthTime: time.Unix(at, 0), RequireFresh: requireFresh})
}

// AdminListPasskeys lists the passkeys of the pool's user username (the
// console's user page): pool administrators only (RequirePoolAdmin: a
// company admin's console context is forbidden).
func (s *Service) AdminListPasskeys(ctx context.Context, poolID, username string) ([]*Passkey, error) {
	p, u, err := s.adminPasskeyUser(ctx, poolID, username)
	if err != nil {
		return nil, err
	}
	return s.ListPasskeys(ctx, p.ID, u.Sub)
}

// AdminDeletePasskey removes a passkey of the pool's user username (pool
// administrators; audited as passkey.removed with the caller as actor).
func (s *Service) AdminDeletePasskey(ctx context.Context, poolID, username, credentialID string) error {
	p, u, err := s.adminPasskeyUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	return s.DeletePasskey(ctx, DeletePasskeyInput{PoolID: p.ID, Sub: u.Sub, CredentialID: credentialID, Admin: true})
}

// adminPasskeyUser checks the caller is a pool admin and finds the user.
func (s *Service) adminPasskeyUser(ctx context.Context, poolID, username string) (*identity.Pool, *identity.User, error) {
	if err := s.RequirePoolAdmin(ctx, poolID); err != nil {
		return nil, nil, err
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.findUser(ctx, s.cfg.Store, p, username)
	if err != nil {
		return nil, nil, err
	}
	return p, u, nil
}
