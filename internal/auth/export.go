package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/password"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// exportPageSize is how many users ExportUsers reads per query.
const exportPageSize = 500

// ExportUsers calls fn for each user of the pool, in the store's stable
// order (creation time, then sub), with its groups and password hash. Pages
// are read outside any transaction, so a user created during the export may
// or may not appear; fn runs between pages, not inside a transaction. An
// error from fn stops the export and is returned.
//
// Errors: resource_not_found (pool), or fn's error.
func (s *Service) ExportUsers(ctx context.Context, poolID string, fn func(ImportedUser) error) error {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return err
	}
	tok := ""
	for {
		us, next, err := s.cfg.Store.ListUsers(ctx, p.ID, nil, page{Limit: exportPageSize, Token: tok})
		if err != nil {
			return wrapStoreErr("export users", err)
		}
		for _, u := range us {
			v, err := s.userView(ctx, s.cfg.Store, u)
			if err != nil {
				return err
			}
			if err := fn(exportedUser(v)); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tok = next
	}
}

func exportedUser(v *UserView) ImportedUser {
	u := v.User
	var attrs map[string]string
	if len(u.Attributes) > 0 {
		attrs = make(map[string]string, len(u.Attributes))
		for k, val := range u.Attributes {
			attrs[k] = val
		}
	}
	return ImportedUser{
		Sub:           u.Sub,
		Username:      u.Username,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Status:        string(u.Status),
		Enabled:       u.Enabled,
		Attributes:    attrs,
		Groups:        v.Groups,
		PasswordHash:  u.PasswordHash,
		CreatedAt:     u.CreatedAt,
	}
}

// ImportUser creates one user as exported (ExportUsers), keeping its sub,
// status, enabled flag, email verification and password hash; importing the
// same sub again replaces that user (so an import can be re-run). It is
// validated like AdminCreateUser: username, email, attributes against the
// pool's schema (required ones included). The password hash must be one
// checkImportedHash accepts (argon2id or a foreign scheme, verified and
// rehashed at the next sign-in, password.Scheme); a user without one is imported as RESET_REQUIRED
// (EXTERNAL_PROVIDER users keep their status). An empty sub gets a new one,
// so re-importing such a line fails with username_exists. An empty status
// means CONFIRMED. Groups are created (without precedence) when missing,
// and the user's memberships are set to exactly the listed groups.
//
// Errors: resource_not_found (pool), invalid_parameter, username_exists (the
// username belongs to another sub), alias_exists (a unique email belongs to
// another sub), limit_exceeded (groups).
func (s *Service) ImportUser(ctx context.Context, poolID string, in ImportedUser) error {
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return err
	}
	u, err := s.importedToUser(p, in)
	if err != nil {
		return err
	}
	groups := make([]string, 0, len(in.Groups))
	for _, g := range in.Groups {
		if err := validateGroupName("groups", g); err != nil {
			return err
		}
		if !contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) > MaxGroupsPerUser {
		return identity.Errorf(identity.CodeLimitExceeded, "A user can be in at most %d groups.", MaxGroupsPerUser)
	}
	return wrapStoreErr("import user", s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		cur, err := q.GetUser(ctx, p.ID, u.Sub)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = nil
		case err != nil:
			return err
		}
		if err := checkUserFree(ctx, q, p, u); err != nil {
			return err
		}
		if cur == nil {
			if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return errUserExists
				}
				return err
			}
		} else {
			// Keep the counters of the live account; everything the export
			// carries is replaced.
			u.FailedAttempts, u.LockedUntil, u.TokensValidAfter = cur.FailedAttempts, cur.LockedUntil, cur.TokensValidAfter
			if u.PasswordHash == cur.PasswordHash {
				// The same password: keep its SRP verifier too.
				u.PasswordChangedAt = cur.PasswordChangedAt
				u.SRPSalt, u.SRPVerifier = cur.SRPSalt, cur.SRPVerifier
			}
			if err := q.UpdateUser(ctx, u, uniqueEmail(p)); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return errUserExists
				}
				return err
			}
		}
		if err := s.setImportedGroups(ctx, q, p, u, groups, cur != nil); err != nil {
			return err
		}
		action := "admin.user_import"
		if cur != nil {
			action = "admin.user_import_replace"
		}
		return s.audit(ctx, q, p.ID, action, "user:"+u.Sub, map[string]string{"username": u.Username})
	}))
}

// importedToUser validates one import line and builds the user.
func (s *Service) importedToUser(p *identity.Pool, in ImportedUser) (*identity.User, error) {
	now := s.now()
	u := &identity.User{PoolID: p.ID, Enabled: in.Enabled, EmailVerified: in.EmailVerified, CreatedAt: in.CreatedAt.UTC().Truncate(time.Millisecond), UpdatedAt: now}
	if in.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if in.Sub == "" {
		sub, err := s.newSub()
		if err != nil {
			return nil, err
		}
		u.Sub = sub
	} else {
		id, err := uuid.Parse(in.Sub)
		if err != nil || len(in.Sub) != 36 {
			return nil, identity.FieldError("sub", "The sub must be a UUID such as 3f0e2a55-6c1d-4b1e-9d7a-2f5c8e1b4a90.")
		}
		u.Sub = id.String()
	}
	username, err := validateUsername(p, in.Username)
	if err != nil {
		return nil, err
	}
	u.Username = username
	if in.Email != "" {
		e, err := validateEmail("email", in.Email)
		if err != nil {
			return nil, err
		}
		u.Email = e
	}
	if p.UsernameMode == identity.UsernameEmail {
		if u.Email != "" && u.Email != username {
			return nil, identity.FieldError("email", "In this pool the email address is the username; email must equal it.")
		}
		u.Email = username
	}
	if !u.EmailVerified || u.Email == "" {
		u.EmailVerified = false
	}
	for name := range in.Attributes {
		switch name {
		case "email", "email_verified":
			return nil, identity.FieldError(name, "Put %s in its own field, not in attributes.", name)
		}
	}
	if err := validateAttributes(p, nil, in.Attributes, attrAdminCreate); err != nil {
		return nil, err
	}
	u.Attributes = make(map[string]string, len(in.Attributes))
	for k, v := range in.Attributes {
		if v != "" {
			u.Attributes[k] = v
		}
	}
	u.Status = identity.UserStatus(in.Status)
	if u.Status == "" {
		u.Status = identity.StatusConfirmed
	}
	if !u.Status.Valid() {
		return nil, identity.FieldError("status", "Unknown status %q.", safeEcho(in.Status))
	}
	if in.PasswordHash != "" {
		if err := checkImportedHash(in.PasswordHash); err != nil {
			return nil, err
		}
		u.PasswordHash = in.PasswordHash
		u.PasswordChangedAt = now
	} else if u.Status != identity.StatusExternalProvider {
		u.Status = identity.StatusResetRequired
	}
	if u.Status == identity.StatusForceChangePassword {
		u.TemporaryPasswordExpiresAt = now.Add(tempPasswordValidity(p))
	}
	return u, nil
}

// setImportedGroups makes u a member of exactly groups, creating missing
// groups.
func (s *Service) setImportedGroups(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, groups []string, existing bool) error {
	if existing {
		cur, err := q.ListGroupsForUser(ctx, p.ID, u.Sub)
		if err != nil {
			return err
		}
		for _, g := range cur {
			if !contains(groups, g.Name) {
				if err := q.RemoveUserFromGroup(ctx, p.ID, u.Sub, g.Name); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range groups {
		_, err := q.GetGroup(ctx, p.ID, name)
		if errors.Is(err, store.ErrNotFound) {
			now := s.now()
			if err := q.CreateGroup(ctx, &identity.Group{PoolID: p.ID, Name: name, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if err := q.AddUserToGroup(ctx, p.ID, u.Sub, name); err != nil {
			return err
		}
	}
	return nil
}

// checkImportedHash checks that h is a hash internal/password verifies
// (argon2id, or a foreign scheme: bcrypt, Django's or Keycloak's PBKDF2,
// Firebase's scrypt, argon2i) with costs within its limits, so an imported
// hash cannot make a sign-in eat the machine. Nothing is computed.
func checkImportedHash(h string) error {
	if _, err := password.Scheme(h); err != nil {
		return identity.FieldError("password_hash", "The password hash must be argon2id ($argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>), bcrypt ($2a$, $2b$, $2y$), Django's pbkdf2_sha256$..., a Keycloak pbkdf2 credential {\"algorithm\",\"hashIterations\",\"salt\",\"value\"}, $firebase-scrypt$... or $argon2i$..., within the cost limits of docs/migration.md.")
	}
	return nil
}

// MaxImportUsers is how many users one ImportUsers call takes.
const MaxImportUsers = 1000

// ImportUsersReport is what ImportUsers did, by index in the input.
type ImportUsersReport struct {
	Created, Replaced, Skipped int
	Failed                     []ImportUserFailure
}

// ImportUserFailure is a user ImportUsers could not import.
type ImportUserFailure struct {
	Index    int
	Username string
	Err      error
}

// ImportUsers imports up to MaxImportUsers users (ImportUser each; the
// native API's import): a username that exists is skipped, or replaced
// with replace. Password hashes may be argon2id or another system's
// (checkImportedHash). A user that fails is reported by index and the
// others go on.
//
// Errors: resource_not_found (pool), invalid_parameter (too many users).
func (s *Service) ImportUsers(ctx context.Context, poolID string, users []ImportedUser, replace bool) (*ImportUsersReport, error) {
	if len(users) > MaxImportUsers {
		return nil, identity.FieldError("users", "At most %d users per request.", MaxImportUsers)
	}
	if _, err := s.getPool(ctx, s.cfg.Store, poolID); err != nil {
		return nil, err
	}
	rep := &ImportUsersReport{Failed: []ImportUserFailure{}}
	for i, in := range users {
		exists := false
		if cur, err := s.AdminGetUser(ctx, poolID, in.Username); err == nil {
			exists = true
			if in.Sub == "" {
				in.Sub = cur.User.Sub
			}
		} else if identity.ErrorCode(err) != identity.CodeUserNotFound && identity.ErrorCode(err) != identity.CodeInvalidParameter {
			return rep, err
		}
		if exists && !replace {
			rep.Skipped++
			continue
		}
		if err := s.ImportUser(ctx, poolID, in); err != nil {
			var ie *identity.Error
			if !errors.As(err, &ie) {
				return rep, err
			}
			rep.Failed = append(rep.Failed, ImportUserFailure{Index: i, Username: safeEcho(in.Username), Err: err})
			continue
		}
		if exists {
			rep.Replaced++
		} else {
			rep.Created++
		}
	}
	return rep, nil
}
