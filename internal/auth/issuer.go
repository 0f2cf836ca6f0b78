package auth

import "github.com/gatehouse-id/gatehouse/internal/identity"

// Issuer returns the token issuer of the pool: the pool's base URL (or the
// server's) + "/" + pool id. It is never derived from request headers.
func (s *Service) Issuer(p *identity.Pool) string {
	base := s.cfg.BaseURL
	if p.BaseURL != "" {
		base = p.BaseURL
	}
	return trimSlash(base) + "/" + p.ID
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
