package auth

import (
	"context"
	"errors"
	"slices"
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

// importUserTx writes one validated imported user in q: created, or
// replacing the user of the same sub (replaced is true then), with
// exactly groups, audited.
func (s *Service) importUserTx(ctx context.Context, q store.Querier, p *identity.Pool, u *identity.User, groups []string) (replaced bool, err error) {
	cur, err := q.GetUser(ctx, p.ID, u.Sub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur = nil
	case err != nil:
		return false, err
	}
	if err := checkUserFree(ctx, q, p, u); err != nil {
		return false, err
	}
	if cur == nil {
		if err := q.CreateUser(ctx, u, uniqueEmail(p)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return false, errUserExists
			}
			return false, err
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
				return false, errUserExists
			}
			return false, err
		}
	}
	if err := s.setImportedGroups(ctx, q, p, u, groups, cur != nil); err != nil {
		return false, err
	}
	action := "admin.user_import"
	if cur != nil {
		action = "admin.user_import_replace"
	}
	return cur != nil, s.audit(ctx, q, p.ID, action, "user:"+u.Sub, map[string]string{"username": u.Username})
}

// importPrepare validates one import line: the user and its groups.
func (s *Service) importPrepare(p *identity.Pool, in ImportedUser) (*identity.User, []string, error) {
	u, err := s.importedToUser(p, in)
	if err != nil {
		return nil, nil, err
	}
	groups := make([]string, 0, len(in.Groups))
	for _, g := range in.Groups {
		if err := validateGroupName("groups", g); err != nil {
			return nil, nil, err
		}
		if !contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) > MaxGroupsPerUser {
		return nil, nil, identity.Errorf(identity.CodeLimitExceeded, "A user can be in at most %d groups.", MaxGroupsPerUser)
	}
	return u, groups, nil
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

// ImportUsers imports up to MaxImportUsers users as exported (ExportUsers;
// the native API's import and the CLI's, which streams a file through it
// a batch at a time): a username that exists is skipped, or replaced with
// replace. A user that fails is reported by index and the others go on.
//
// Each user keeps its sub, status, enabled flag, email verification and
// password hash, and is validated like AdminCreateUser: username, email,
// attributes against the pool's schema (required ones included). The
// password hash must be one checkImportedHash accepts (argon2id or a
// foreign scheme, verified and rehashed at the next sign-in,
// password.Scheme); a user without one is imported as RESET_REQUIRED
// (EXTERNAL_PROVIDER users keep their status). An empty status means
// CONFIRMED. An empty sub gets a new one; a user replaced by username
// keeps its sub unless the line names another (username_exists then). A
// line whose sub exists under another username updates that user, replace
// or not (as the single-user import did). Groups are created (without precedence) when missing, and the
// user's memberships are set to exactly the listed groups. Failures are
// invalid_parameter, username_exists (the username belongs to another
// sub), alias_exists (a unique email belongs to another sub) and
// limit_exceeded (groups).
//
// The users are written in one transaction (a million-user import is a
// thousand transactions, not a million); when one of them fails there,
// the batch is rolled back and written again one transaction per user,
// so that only the failing users are left out.
//
// Errors: resource_not_found (pool), invalid_parameter (too many users).
func (s *Service) ImportUsers(ctx context.Context, poolID string, users []ImportedUser, replace bool) (*ImportUsersReport, error) {
	if len(users) > MaxImportUsers {
		return nil, identity.FieldError("users", "At most %d users per request.", MaxImportUsers)
	}
	p, err := s.getPool(ctx, s.cfg.Store, poolID)
	if err != nil {
		return nil, err
	}
	rep := &ImportUsersReport{Failed: []ImportUserFailure{}}
	fail := func(i int, err error) error {
		var ie *identity.Error
		if !errors.As(err, &ie) {
			return err
		}
		rep.Failed = append(rep.Failed, ImportUserFailure{Index: i, Username: safeEcho(users[i].Username), Err: err})
		return nil
	}
	type item struct {
		i      int
		u      *identity.User
		groups []string
		sub    bool // the line names its sub
	}
	var items []item
	for i, in := range users {
		u, groups, err := s.importPrepare(p, in)
		if err != nil {
			if err := fail(i, err); err != nil {
				return rep, err
			}
			continue
		}
		items = append(items, item{i, u, groups, in.Sub != ""})
	}
	// one imports it in q: created, replaced or skipped.
	one := func(q store.Querier, it item) (created, replaced, skipped int, err error) {
		u := *it.u
		cur, err := q.GetUserByUsername(ctx, p.ID, u.Username)
		switch {
		case errors.Is(err, store.ErrNotFound) && it.sub && !replace:
			// A line naming the sub of an existing user under another
			// username would rename that user: without replace, the
			// user exists, so it is skipped.
			switch _, err := q.GetUser(ctx, p.ID, u.Sub); {
			case err == nil:
				return 0, 0, 1, nil
			case !errors.Is(err, store.ErrNotFound):
				return 0, 0, 0, err
			}
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return 0, 0, 0, err
		case !replace:
			return 0, 0, 1, nil
		case !it.sub:
			u.Sub = cur.Sub // replace this user, not a new one
		}
		if rep, err := s.importUserTx(ctx, q, p, &u, it.groups); err != nil || !rep {
			return 1, 0, 0, err
		}
		return 0, 1, 0, nil
	}
	var c, r, k int
	err = s.cfg.Store.InTx(ctx, func(q store.Querier) error {
		c, r, k = 0, 0, 0
		for _, it := range items {
			dc, dr, dk, err := one(q, it)
			if err != nil {
				return err
			}
			c, r, k = c+dc, r+dr, k+dk
		}
		return nil
	})
	if err == nil {
		rep.Created, rep.Replaced, rep.Skipped = c, r, k
		return rep, nil
	}
	var ie *identity.Error
	if !errors.As(err, &ie) {
		return rep, wrapStoreErr("import users", err)
	}
	for _, it := range items {
		var dc, dr, dk int
		err := s.cfg.Store.InTx(ctx, func(q store.Querier) error {
			var err error
			dc, dr, dk, err = one(q, it)
			return err
		})
		if err != nil {
			if err := fail(it.i, wrapStoreErr("import user", err)); err != nil {
				return rep, err
			}
			continue
		}
		rep.Created, rep.Replaced, rep.Skipped = rep.Created+dc, rep.Replaced+dr, rep.Skipped+dk
	}
	slices.SortFunc(rep.Failed, func(a, b ImportUserFailure) int { return a.Index - b.Index })
	return rep, nil
}
