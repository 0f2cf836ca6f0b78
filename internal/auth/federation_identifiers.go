package auth

import (
	"strings"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// ProviderForIdentifier returns the name of the pool provider that lists
// id among its identifiers (Cognito's IdpIdentifiers, compared
// case-insensitively), or "" when none does: Cognito's idp_identifier on
// /oauth2/authorize. An email address also matches by its domain, as
// Cognito's hosted UI routes addresses to the provider naming their
// domain.
func ProviderForIdentifier(p *identity.Pool, id string) string {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 320 {
		return ""
	}
	cands := []string{id}
	if i := strings.LastIndexByte(id, '@'); i >= 0 {
		cands = append(cands, id[i+1:])
	}
	for _, ip := range p.Settings.IdentityProviders {
		for _, v := range ip.Identifiers {
			for _, c := range cands {
				if c != "" && strings.EqualFold(v, c) {
					return ip.Name
				}
			}
		}
	}
	return ""
}
