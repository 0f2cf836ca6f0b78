package cognito

import (
	"github.com/gatehouse-id/gatehouse/internal/auth"
	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Linking upstream identities to users (signed; docs/federation.md).

// providerUser is Cognito's ProviderUserIdentifierType.
type providerUser struct {
	ProviderName           string
	ProviderAttributeName  string
	ProviderAttributeValue string
}

// subjectOf checks that v names an upstream identity by subject (the only
// attribute Gatehouse matches identities by) and returns (provider,
// subject).
func subjectOf(field string, v *providerUser) (string, string, error) {
	if v == nil || v.ProviderName == "" {
		return "", "", identity.FieldError(field, "%s.ProviderName is required.", field)
	}
	if v.ProviderName == auth.ProviderCognito {
		return "", "", identity.FieldError(field, "Invalid %s: Cognito users with a username/password may not be passed in as a %s, only as a DestinationUser.", field, field)
	}
	if v.ProviderAttributeName != auth.ProviderAttributeSubject {
		return "", "", identity.FieldError(field, "%s.ProviderAttributeName must be %s: Gatehouse matches upstream identities by their subject only.", field, auth.ProviderAttributeSubject)
	}
	return v.ProviderName, v.ProviderAttributeValue, nil
}

// adminLinkProviderForUser links SourceUser (an upstream identity) to
// DestinationUser (a native user: ProviderName "Cognito", the username as
// ProviderAttributeValue; its ProviderAttributeName is ignored, as on AWS).
func (h *Handler) adminLinkProviderForUser(c *call) (any, error) {
	var in struct {
		UserPoolId      string
		DestinationUser *providerUser
		SourceUser      *providerUser
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	d := in.DestinationUser
	if d == nil || d.ProviderName != auth.ProviderCognito {
		return nil, identity.FieldError("DestinationUser", "DestinationUser.ProviderName must be Cognito: Gatehouse links identities to native users only.")
	}
	if d.ProviderAttributeValue == "" {
		return nil, identity.FieldError("DestinationUser", "DestinationUser.ProviderAttributeValue must be the username.")
	}
	provider, subject, err := subjectOf("SourceUser", in.SourceUser)
	if err != nil {
		return nil, err
	}
	_, err = h.svc.AdminLinkProviderForUser(c.ctx, auth.LinkProviderInput{PoolID: in.UserPoolId, Username: d.ProviderAttributeValue,
		Provider: provider, Subject: subject})
	return nil, err
}

// adminDisableProviderForUser removes the link of User (an upstream
// identity) from a native user; a federated user's own identity disables
// that user (auth.UnlinkProviderInput.DisableFederatedUser).
func (h *Handler) adminDisableProviderForUser(c *call) (any, error) {
	var in struct {
		UserPoolId string
		User       *providerUser
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.User != nil && in.User.ProviderName == auth.ProviderCognito {
		return nil, identity.FieldError("User", "Gatehouse does not turn off a native user's password sign-in with ProviderName Cognito; use AdminDisableUser.")
	}
	provider, subject, err := subjectOf("User", in.User)
	if err != nil {
		return nil, err
	}
	_, err = h.svc.AdminDisableProviderForUser(c.ctx, auth.UnlinkProviderInput{PoolID: in.UserPoolId, Provider: provider,
		Subject: subject, DisableFederatedUser: true})
	return nil, err
}
