package auth

import "context"

// importOne imports u alone through ImportUsers with replace (so that a
// user imported again is replaced, as an export re-imported is), and
// returns its failure or ImportUsers' own error.
func importOne(ctx context.Context, s *Service, poolID string, u ImportedUser) error {
	rep, err := s.ImportUsers(ctx, poolID, []ImportedUser{u}, true)
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		return rep.Failed[0].Err
	}
	return nil
}
