package identity

import "time"

// WebAuthnCredential is a registered passkey (a WebAuthn public key
// credential) of a user. ID is the credential id, base64url without
// padding; RPID is the relying party id it was created for.
type WebAuthnCredential struct {
	PoolID     string
	ID         string
	Sub        string
	RPID       string
	PublicKey  []byte // COSE key
	SignCount  uint32
	Transports []string
	AAGUID     string // hex, "" when the authenticator sent zeros
	Name       string
	// Record is the WebAuthn library's credential record (JSON), which
	// carries the flags and attestation it validates assertions against.
	Record     string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// WebAuthnChallenge is the server side of one WebAuthn ceremony between its
// start and its finish. Hash is the SHA-256 (hex) of the challenge bytes.
type WebAuthnChallenge struct {
	Hash      string
	PoolID    string
	Purpose   string // WebAuthnRegister or WebAuthnSignIn
	Sub       string // "" for a discoverable sign-in
	Origin    string // the one origin the browser must report
	Session   string // the library's session data (JSON)
	ExpiresAt time.Time
}

// WebAuthn ceremony purposes.
const (
	WebAuthnRegister = "register"
	WebAuthnSignIn   = "sign_in"
)
