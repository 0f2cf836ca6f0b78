package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Cognito's SECRET_HASH
//
// A client with a secret proves it on the Cognito API with
// SECRET_HASH = Base64(HMAC-SHA256(key = client secret, message = username
// + client id)), not with the secret itself. Checking that needs the
// secret, so besides its SHA-256 (which the native API checks) the secret
// is kept sealed with Config.Secrets (identity.AppClient.SecretSealed),
// bound to the client's id. Secrets made before sealed copies existed
// cannot verify a SECRET_HASH: regenerate them.

// clientSecretPurpose binds a sealed secret to its client.
func clientSecretPurpose(clientID string) string {
	return "gatehouse client secret v1\x00" + clientID
}

// sealClientSecret stores secret sealed on c (whose ID must be final).
func (s *Service) sealClientSecret(c *identity.AppClient, secret string) error {
	sealed, err := s.cfg.Secrets.Seal(clientSecretPurpose(c.ID), []byte(secret))
	if err != nil {
		return fmt.Errorf("seal client secret: %w", err)
	}
	c.SecretSealed = base64.StdEncoding.EncodeToString(sealed)
	return nil
}

// SecretHash computes Cognito's SECRET_HASH for username and client id
// with the client secret, as SDKs do.
func SecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSecretHash verifies a SECRET_HASH sent for username with client cl
// (which has a secret), in constant time. Errors: not_authorized.
func (s *Service) checkSecretHash(cl *identity.AppClient, secretHash, username string) error {
	bad := identity.Errorf(identity.CodeNotAuthorized, "Unable to verify secret hash for client %s", cl.ID)
	if cl.SecretSealed == "" {
		return identity.Errorf(identity.CodeNotAuthorized,
			"Client %s has a secret from before SECRET_HASH support; regenerate the client secret to use SECRET_HASH.", cl.ID)
	}
	sealed, err := base64.StdEncoding.DecodeString(cl.SecretSealed)
	if err != nil {
		s.cfg.Log.Error("client secret: malformed sealed value", "client", cl.ID)
		return bad
	}
	secret, err := s.cfg.Secrets.Open(clientSecretPurpose(cl.ID), sealed)
	if err != nil {
		s.cfg.Log.Error("client secret: cannot open (wrong master key?)", "client", cl.ID, "err", err)
		return bad
	}
	got, err := base64.StdEncoding.DecodeString(secretHash)
	if err != nil || len(secretHash) > 128 {
		return bad
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(username + cl.ID))
	if !hmac.Equal(m.Sum(nil), got) {
		return bad
	}
	return nil
}
