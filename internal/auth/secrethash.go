package auth

import (
	"context"
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
	secret, err := s.openClientSecret(cl)
	if err != nil {
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

// openClientSecret opens the sealed copy of cl's secret.
func (s *Service) openClientSecret(cl *identity.AppClient) ([]byte, error) {
	sealed, err := base64.StdEncoding.DecodeString(cl.SecretSealed)
	if err != nil {
		s.cfg.Log.Error("client secret: malformed sealed value", "client", cl.ID)
		return nil, fmt.Errorf("client secret of %s: malformed sealed value", cl.ID)
	}
	secret, err := s.cfg.Secrets.Open(clientSecretPurpose(cl.ID), sealed)
	if err != nil {
		s.cfg.Log.Error("client secret: cannot open (wrong master key?)", "client", cl.ID, "err", err)
		return nil, fmt.Errorf("client secret of %s: %w", cl.ID, err)
	}
	return secret, nil
}

// ClientSecret returns the secret of the pool's app client, as Cognito's
// DescribeUserPoolClient answers it to an administrator: "" for a client
// without one or whose secret predates sealed copies (it cannot be read;
// regenerate it). The caller must be allowed to administer the pool (the
// surfaces check that).
//
// Errors: resource_not_found.
func (s *Service) ClientSecret(ctx context.Context, poolID, clientID string) (string, error) {
	cl, err := s.getPoolClient(ctx, s.cfg.Store, poolID, clientID)
	if err != nil {
		return "", err
	}
	if cl.SecretHash == "" {
		return "", nil
	}
	if cl.SecretSealed == "" {
		return "", nil // made before sealed copies were kept: unreadable
	}
	secret, err := s.openClientSecret(cl)
	if err != nil {
		return "", err
	}
	return string(secret), nil
}
