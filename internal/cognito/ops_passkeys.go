package cognito

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Passkey operations (authorised by the access token, unsigned).

func (h *Handler) startWebAuthnRegistration(c *call) (any, error) {
	var in struct{ AccessToken string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	opts, err := h.svc.StartMyPasskeyRegistration(c.ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	return struct{ CredentialCreationOptions json.RawMessage }{opts}, nil
}

func (h *Handler) completeWebAuthnRegistration(c *call) (any, error) {
	var in struct {
		AccessToken string
		Credential  json.RawMessage
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	_, err := h.svc.CompleteMyPasskeyRegistration(c.ctx, in.AccessToken, in.Credential, "")
	return nil, err
}

type webAuthnCredentialDescription struct {
	AuthenticatorAttachment string `json:"AuthenticatorAttachment,omitempty"`
	AuthenticatorTransports []string
	CreatedAt               *epoch
	CredentialId            string
	FriendlyCredentialName  string
	RelyingPartyId          string
}

// listWebAuthnCredentials pages the user's passkeys (at most 20 a user):
// MaxResults 1–20, default 20; NextToken is the offset of the next page.
func (h *Handler) listWebAuthnCredentials(c *call) (any, error) {
	var in struct {
		AccessToken string
		MaxResults  *int
		NextToken   string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	limit := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			return nil, identity.FieldError("maxResults", "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 20")
		}
		limit = *in.MaxResults
	}
	from := 0
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return nil, identity.FieldError("NextToken", "Invalid pagination token.")
		}
		from = n
	}
	list, err := h.svc.ListMyPasskeys(c.ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Credentials []webAuthnCredentialDescription
		NextToken   string `json:"NextToken,omitempty"`
	}{Credentials: []webAuthnCredentialDescription{}}
	for i := from; i < len(list) && i < from+limit; i++ {
		pk := list[i]
		out.Credentials = append(out.Credentials, webAuthnCredentialDescription{AuthenticatorAttachment: pk.Attachment,
			AuthenticatorTransports: append([]string{}, pk.Transports...), CreatedAt: toEpoch(pk.CreatedAt),
			CredentialId: pk.ID, FriendlyCredentialName: pk.Name, RelyingPartyId: pk.RPID})
	}
	if from+limit < len(list) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(from + limit)))
	}
	return out, nil
}

func (h *Handler) deleteWebAuthnCredential(c *call) (any, error) {
	var in struct{ AccessToken, CredentialId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteMyPasskey(c.ctx, in.AccessToken, in.CredentialId, false)
}
