package auth

import "context"

// Thin methods the Cognito surface (internal/cognito) needs and the native
// API does not.

// CountUsers returns the number of users in the pool (Cognito's
// EstimatedNumberOfUsers). Errors: resource_not_found (pool).
func (s *Service) CountUsers(ctx context.Context, poolID string) (int, error) {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return 0, err
	}
	n, err := s.cfg.Store.CountUsers(ctx, p.ID)
	if err != nil {
		return 0, wrapStoreErr("count users", err)
	}
	return n, nil
}
