// Package softauthn is a software WebAuthn authenticator for tests (see
// Authenticator). It imports nothing from Gatehouse, so every test package,
// internal/auth included, can use it.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// Authenticator is a software WebAuthn authenticator for tests: one P-256
// credential (ES256), "none" attestation, resident, with user presence and
// verification. It answers the options JSON the server sends exactly as a
// browser would hand them to navigator.credentials, and returns the
// PublicKeyCredential JSON the browser would post back, so the server's
// ceremonies are driven end to end without a browser. The Chromium tests
// use the DevTools virtual authenticator instead.
type Authenticator struct {
	t          testing.TB
	key        *ecdsa.PrivateKey
	ID         []byte // credential id
	UserHandle []byte // from the registration's user.id
	RPID       string // from the registration's rp.id
	// Origin is the origin the "browser" reports in the client data.
	Origin string
	// Count is the signature counter; each assertion adds 1 first.
	Count uint32
	// NoUV leaves the user-verified flag unset; Synced sets the backup
	// eligible and backed-up flags (a synced passkey: amr swk).
	NoUV, Synced bool
}

// New returns an authenticator whose browser runs on origin.
func New(t testing.TB, origin string) *Authenticator {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{t: t, key: k, ID: id, Origin: origin}
}

// CredentialID is the credential id as the server stores it (base64url).
func (a *Authenticator) CredentialID() string { return b64(a.ID) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // UP
	if !a.NoUV {
		f |= 0x04
	}
	if a.Synced {
		f |= 0x08 | 0x10 // BE, BS
	}
	if attested {
		f |= 0x40 // AT
	}
	return f
}

func (a *Authenticator) authData(rpID string, attested bool) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	out = append(out, a.flags(attested))
	out = binary.BigEndian.AppendUint32(out, a.Count)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: zeros
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.ID)))
		out = append(out, a.ID...)
		x, y := make([]byte, 32), make([]byte, 32)
		a.key.X.FillBytes(x)
		a.key.Y.FillBytes(y)
		cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
		if err != nil {
			a.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

// Create answers PublicKeyCredentialCreationOptions (JSON) with a
// registration response (JSON).
func (a *Authenticator) Create(options []byte) []byte {
	a.t.Helper()
	var o struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.Challenge == "" {
		a.t.Fatalf("creation options %s: %v", options, err)
	}
	uh, err := base64.RawURLEncoding.DecodeString(o.User.ID)
	if err != nil {
		a.t.Fatalf("user.id %q: %v", o.User.ID, err)
	}
	a.UserHandle, a.RPID = uh, o.RP.ID
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(o.RP.ID, true)})
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(a.ID), "rawId": b64(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(a.clientData("webauthn.create", o.Challenge)),
			"attestationObject": b64(att), "transports": []string{"internal"}}})
	return b
}

// Get answers PublicKeyCredentialRequestOptions (JSON) with an assertion
// (JSON) signed for the RP ID the options name (else the registration's).
func (a *Authenticator) Get(options []byte) []byte {
	a.t.Helper()
	var o struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.Challenge == "" {
		a.t.Fatalf("request options %s: %v", options, err)
	}
	rp := o.RPID
	if rp == "" {
		rp = a.RPID
	}
	a.Count++
	ad := a.authData(rp, false)
	cd := a.clientData("webauthn.get", o.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(a.ID), "rawId": b64(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad),
			"signature": b64(sig), "userHandle": b64(a.UserHandle)}})
	return b
}
