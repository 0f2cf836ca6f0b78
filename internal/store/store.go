// Package store defines the one storage interface every backend implements
// (SQLite and PostgreSQL), its sentinel errors, and the list filter type.
//
// Every flow step runs in one transaction (Store.InTx); jobs and outbox emails
// that a state change causes are written through the same Querier, so they
// commit or roll back together. Single-use values (codes, refresh tokens, job
// leases) change state only through atomic compare-and-set methods.
//
// The behaviour of every method is pinned by the conformance suite in
// storetest, which each backend's tests run.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Sentinel errors. Backends wrap driver errors into these.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique constraint was violated (username, email,
	// group name, client id, ...).
	ErrConflict = errors.New("store: conflict")
	// ErrLocked: RecordFailedAttempt found the account locked; the attempt
	// was neither counted nor may it be checked.
	ErrLocked = errors.New("store: locked")
	// ErrBusy: ReserveAttempt found as many credential checks of the
	// account in flight as it may still fail before it locks; nothing was
	// reserved, and the caller may retry shortly.
	ErrBusy = errors.New("store: busy")
)

// Store is a database. Methods on the embedded Querier run outside any
// explicit transaction (each statement on its own).
type Store interface {
	Querier
	// InTx runs fn in one transaction: committed if fn returns nil, rolled
	// back otherwise (and on panic). fn may be retried by the backend on a
	// serialization failure, so it must not have side effects outside q.
	InTx(ctx context.Context, fn func(q Querier) error) error
	Ping(ctx context.Context) error
	// Backend returns "sqlite" or "postgres".
	Backend() string
	Close() error
}

// Page asks for one page of a list. Token is the opaque NextToken of the
// previous page ("" for the first).
type Page struct {
	Limit int
	Token string
}

// FilterOp is a ListUsers filter operator.
type FilterOp string

const (
	FilterEquals FilterOp = "="
	FilterPrefix FilterOp = "^="
)

// UserFilter is one condition, as in Cognito's ListUsers Filter. Attr is one
// of: username, email, phone_number, name, given_name, family_name,
// preferred_username, cognito:user_status (or status_code: a UserStatus),
// status ("Enabled"/"Disabled"), sub. Prefix matching on email and username
// is case-insensitive, as both are stored lower-cased.
type UserFilter struct {
	Attr  string
	Op    FilterOp
	Value string
}

// AuditFilter selects audit events; zero fields match all.
type AuditFilter struct {
	PoolID  string
	Actor   string
	Subject string
	Action  string
	Since   time.Time
	Until   time.Time
}

// CodeOutcome is the result of UseCode.
type CodeOutcome int

const (
	CodeOK        CodeOutcome = iota // matched; the code is deleted
	CodeMissing                      // no code for that user and purpose
	CodeExpired                      // expired (left in place)
	CodeMismatch                     // wrong code; attempts incremented
	CodeExhausted                    // attempts already at the limit
)

// Querier is every query Gatehouse makes. All methods return ErrNotFound
// when the addressed row does not exist, and ErrConflict on unique
// violations. Times are stored with millisecond precision in UTC.
type Querier interface {
	// Pools
	CreatePool(ctx context.Context, p *identity.Pool) error
	GetPool(ctx context.Context, id string) (*identity.Pool, error)
	ListPools(ctx context.Context, page Page) ([]*identity.Pool, string, error)
	UpdatePool(ctx context.Context, p *identity.Pool) error
	// DeletePool deletes the pool and everything in it.
	DeletePool(ctx context.Context, id string) error

	// App clients. Client ids are globally unique.
	CreateClient(ctx context.Context, c *identity.AppClient) error
	GetClient(ctx context.Context, clientID string) (*identity.AppClient, error)
	ListClients(ctx context.Context, poolID string, page Page) ([]*identity.AppClient, string, error)
	UpdateClient(ctx context.Context, c *identity.AppClient) error
	DeleteClient(ctx context.Context, poolID, clientID string) error

	// Users. Username is unique per pool; so is Email when the pool has
	// UniqueEmail or UsernameEmail (CreateUser/UpdateUser take the pool's
	// setting through uniqueEmail and return ErrConflict on a clash).
	CreateUser(ctx context.Context, u *identity.User, uniqueEmail bool) error
	GetUser(ctx context.Context, poolID, sub string) (*identity.User, error)
	GetUserByUsername(ctx context.Context, poolID, username string) (*identity.User, error)
	// GetUserByEmail returns the user whose email matches (lower-cased). If
	// verifiedOnly, only a user with email_verified=true is returned.
	// With several matches (email not unique) it returns the oldest.
	GetUserByEmail(ctx context.Context, poolID, email string, verifiedOnly bool) (*identity.User, error)
	// UpdateUser writes every field of u (attributes replaced as a set).
	UpdateUser(ctx context.Context, u *identity.User, uniqueEmail bool) error
	DeleteUser(ctx context.Context, poolID, sub string) error
	ListUsers(ctx context.Context, poolID string, filter *UserFilter, page Page) ([]*identity.User, string, error)
	CountUsers(ctx context.Context, poolID string) (int, error)
	// RecordFailedAttempt counts one password attempt, in one atomic
	// statement: if the account is locked at now (LockedUntil > now) it
	// returns ErrLocked and counts nothing; otherwise it increments the
	// counter and, when the new count reaches maxAttempts (> 0), locks the
	// account until now + lockout * 2^(count-maxAttempts) (capped at 24h).
	// It returns the new count and LockedUntil. Because the lock is set by
	// the same statement that counts, concurrent callers on any number of
	// nodes get at most maxAttempts counted attempts, then one per lockout.
	RecordFailedAttempt(ctx context.Context, poolID, sub string, now time.Time, maxAttempts int, lockout time.Duration) (int, time.Time, error)
	// ResetFailedAttempts clears the counter and the lock (not the
	// reservations of checks in flight).
	ResetFailedAttempts(ctx context.Context, poolID, sub string) error

	// Credential checks in flight (migration 0010). A check reserves a
	// slot before it verifies anything; a wrong answer turns the slot into
	// a counted failure (FailAttempt), a right one releases it
	// (ReleaseAttempt). ReserveAttempt grants a slot only while the
	// failures counted plus the live reservations stay below maxAttempts
	// (one at a time once the count is past the limit): so concurrent
	// callers on any number of nodes get at most maxAttempts guesses
	// checked in a burst, and checks in flight are never counted as
	// failures. It returns ErrLocked and the lock's end while the account
	// is locked at now, ErrBusy when the slots are taken, ErrNotFound
	// without such a user. A reservation expires ttl after now (a node
	// that died mid-check); an expired one can be neither released nor
	// failed (ErrNotFound): its check must not be answered.
	ReserveAttempt(ctx context.Context, poolID, sub, id string, now time.Time, maxAttempts int, ttl time.Duration) (time.Time, error)
	// ReleaseAttempt ends a live reservation without counting anything.
	ReleaseAttempt(ctx context.Context, poolID, sub, id string, now time.Time) error
	// FailAttempt ends a live reservation and counts a failure, locking the
	// account as RecordFailedAttempt does; it returns the new count and
	// LockedUntil.
	FailAttempt(ctx context.Context, poolID, sub, id string, now time.Time, maxAttempts int, lockout time.Duration) (int, time.Time, error)

	// Fixed-window counters shared by every node (migration 0010), named
	// by what they protect (a user's failed code guesses, the codes sent
	// for a user or an unknown name). HitThrottle counts one hit
	// atomically and returns the hits of the current window, this one
	// included, and the window's end; a counter whose window ended at or
	// before now starts a new window of length window. ErrNotFound if the
	// pool does not exist.
	HitThrottle(ctx context.Context, poolID, name string, now time.Time, window time.Duration) (int, time.Time, error)
	// UndoThrottle takes one hit back from the current window (never below
	// zero); nothing if the window ended or the counter does not exist.
	UndoThrottle(ctx context.Context, poolID, name string, now time.Time) error
	// DeleteExpiredThrottles removes counters whose window ended, and
	// reservations that expired, before cutoff; it returns how many.
	DeleteExpiredThrottles(ctx context.Context, cutoff time.Time) (int, error)
	// LockUser takes the user's row lock until the transaction ends (a
	// write that changes nothing), so transactions that check a per-user
	// limit and then insert are serialised per user. ErrNotFound if the
	// user does not exist.
	LockUser(ctx context.Context, poolID, sub string) error

	// Groups and memberships.
	CreateGroup(ctx context.Context, g *identity.Group) error
	GetGroup(ctx context.Context, poolID, name string) (*identity.Group, error)
	ListGroups(ctx context.Context, poolID string, page Page) ([]*identity.Group, string, error)
	UpdateGroup(ctx context.Context, g *identity.Group) error
	DeleteGroup(ctx context.Context, poolID, name string) error
	// AddUserToGroup is idempotent.
	AddUserToGroup(ctx context.Context, poolID, sub, group string) error
	// RemoveUserFromGroup is idempotent.
	RemoveUserFromGroup(ctx context.Context, poolID, sub, group string) error
	// ListGroupsForUser returns the user's groups ordered by precedence
	// (lowest first, nil last), then name.
	ListGroupsForUser(ctx context.Context, poolID, sub string) ([]*identity.Group, error)
	ListUsersInGroup(ctx context.Context, poolID, group string, page Page) ([]*identity.User, string, error)

	// One-time codes: at most one per (pool, user, purpose); PutCode
	// replaces any earlier one.
	PutCode(ctx context.Context, c *identity.OneTimeCode) error
	// UseCode atomically checks hash against the stored code: on a match the
	// code is deleted (compare-and-set, so two concurrent uses of one code
	// cannot both succeed); on a mismatch its attempts are incremented.
	UseCode(ctx context.Context, poolID, sub string, purpose identity.CodePurpose, hash string, now time.Time, maxAttempts int) (CodeOutcome, error)
	DeleteCodes(ctx context.Context, poolID, sub string) error

	// Second factors (migration 0016, docs/mfa.md).
	// InsertFactor stores f; ErrConflict if its ID is taken, ErrNotFound
	// if the user does not exist.
	InsertFactor(ctx context.Context, f *identity.Factor) error
	// ListFactors returns the user's factors of type typ ("" for all),
	// oldest first.
	ListFactors(ctx context.Context, poolID, sub, typ string) ([]*identity.Factor, error)
	// UpdateFactor writes Name, Confirmed, Enabled and Preferred;
	// ErrNotFound if missing.
	UpdateFactor(ctx context.Context, f *identity.Factor) error
	// DeleteFactor removes one factor; ErrNotFound if missing.
	DeleteFactor(ctx context.Context, poolID, sub, id string) error
	// DeleteFactors removes the user's factors of type typ ("" for all)
	// and returns how many went.
	DeleteFactors(ctx context.Context, poolID, sub, typ string) (int, error)
	// UseFactorStep accepts TOTP time step step for the factor only if it
	// is later than the last one accepted (compare-and-set): false when
	// that step or a later one was used already (a replay).
	UseFactorStep(ctx context.Context, poolID, sub, id string, step int64) (bool, error)
	// UseRecoveryCode spends the user's unused recovery code whose hash is
	// hash (compare-and-set on used_at): false when there is none.
	UseRecoveryCode(ctx context.Context, poolID, sub, hash string, now time.Time) (bool, error)

	// Refresh tokens.
	InsertRefreshToken(ctx context.Context, t *identity.RefreshToken) error
	GetRefreshToken(ctx context.Context, hash string) (*identity.RefreshToken, error)
	// MarkRefreshTokenUsed sets UsedAt and ReplacedBy only if the token is
	// neither used nor revoked (compare-and-set); it reports whether it did.
	MarkRefreshTokenUsed(ctx context.Context, hash, replacedBy string, now time.Time) (bool, error)
	// RotateRefreshToken marks the token hash used by next (compare-and-set
	// as MarkRefreshTokenUsed) and inserts next, atomically; false (and
	// nothing written) when the token is used, revoked or unknown. One
	// statement on PostgreSQL, one group-committed transaction on SQLite.
	RotateRefreshToken(ctx context.Context, hash string, next *identity.RefreshToken, now time.Time) (bool, error)
	// ReissueRefreshToken inserts next as one more successor of the used
	// token hash (a client's retry within its grace period), atomically
	// with a compare-and-set that the token is used and not revoked (so
	// RevokeRefreshFamily also catches it); false (and nothing written)
	// when it is unused, revoked or unknown.
	ReissueRefreshToken(ctx context.Context, hash string, next *identity.RefreshToken) (bool, error)
	// GetRefreshSession returns the token with that hash and its user's
	// session (user, attributes, groups, linked identities) in one query;
	// ErrNotFound if no such token (a deleted user's tokens are deleted
	// with it).
	GetRefreshSession(ctx context.Context, hash string) (*identity.RefreshToken, *UserSession, error)
	RevokeRefreshToken(ctx context.Context, hash string, now time.Time) error
	// RevokeRefreshFamily revokes every token of the family, including a
	// successor that a rotation running concurrently commits meanwhile.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeRefreshOrigin revokes every refresh token of the pool's
	// sign-in originJTI (all of one family; used when that sign-in ends
	// through one of its access or ID tokens). Nothing matching is not an
	// error.
	RevokeRefreshOrigin(ctx context.Context, poolID, originJTI string, now time.Time) error
	// RevokeUserRefreshTokens revokes every refresh token of the user.
	RevokeUserRefreshTokens(ctx context.Context, poolID, sub string, now time.Time) error
	// DeleteExpiredRefreshTokens removes tokens expired before cutoff, at
	// most 1000 per call (oldest first); it returns how many.
	DeleteExpiredRefreshTokens(ctx context.Context, cutoff time.Time) (int, error)

	// Sign-ins (migration 0020): where a refresh token family started.
	// InsertSignIn stores si (ErrNotFound if the user does not exist,
	// ErrConflict if the family has one). ListSignIns returns the user's
	// active sign-ins, newest use first, at most 200: one per family that
	// still has a live token (neither used nor revoked, not expired at
	// now), with that token's client, origin, auth and issue times, joined
	// with its sign_ins row where there is one (families started before
	// migration 0020 have none). DeleteExpiredSignIns removes rows expired
	// before cutoff, at most 1000 per call.
	InsertSignIn(ctx context.Context, si *SignIn) error
	ListSignIns(ctx context.Context, poolID, sub string, now time.Time) ([]*SignIn, error)
	DeleteExpiredSignIns(ctx context.Context, cutoff time.Time) (int, error)

	// Revoked sign-ins (RevokeToken): the origin_jti shared by every token
	// of a sign-in. RevokeOrigin is idempotent (a second call keeps the
	// later expiresAt); ErrNotFound if the user does not exist. Deleting
	// the user deletes its rows.
	RevokeOrigin(ctx context.Context, poolID, sub, originJTI string, now, expiresAt time.Time) error
	// OriginRevoked reports whether (poolID, originJTI) was revoked (one
	// primary-key lookup; rows past their expiry count until pruned).
	OriginRevoked(ctx context.Context, poolID, originJTI string) (bool, error)
	// Relying-party sessions (back-channel logout): InsertOIDCSession
	// records one (ErrNotFound if the user does not exist, ErrConflict if
	// its origin is taken); ListOIDCSessions returns up to limit of the
	// user's sessions not expired at now, oldest first; DeleteOIDCSession
	// deletes one (nothing matching is not an error);
	// DeleteExpiredOIDCSessions removes up to 1000 rows expired before
	// cutoff and returns how many. Deleting the user deletes its rows.
	InsertOIDCSession(ctx context.Context, s *identity.OIDCSession) error
	ListOIDCSessions(ctx context.Context, poolID, sub string, now time.Time, limit int) ([]*identity.OIDCSession, error)
	DeleteOIDCSession(ctx context.Context, poolID, originJTI string) error
	DeleteExpiredOIDCSessions(ctx context.Context, cutoff time.Time) (int, error)
	// Retention (internal/retention). poolID "" selects the rows of no
	// existing pool (global rows, and audit events of deleted pools).
	// OldAuditEvents returns up to limit audit events that happened before
	// cutoff, oldest first; DeleteAuditEvents deletes events by id.
	OldAuditEvents(ctx context.Context, poolID string, cutoff time.Time, limit int) ([]*identity.AuditEvent, error)
	DeleteAuditEvents(ctx context.Context, ids []int64) (int, error)
	// PruneFinished deletes up to limit finished rows of table (PruneEmails,
	// PruneJobs, PruneRegistrations) last changed before cutoff, oldest
	// first, and returns how many.
	PruneFinished(ctx context.Context, table PruneTable, poolID string, cutoff time.Time, limit int) (int, error)
	// TableStats returns the row count and the oldest row's time of each
	// table that retention prunes or that grows with use.
	TableStats(ctx context.Context) ([]TableStat, error)
	// GetUserSession returns the user with that sub, its attributes and
	// group names (GetUser plus ListGroupsForUser), and whether originJTI
	// ("" for none) is revoked (OriginRevoked), in one query; ErrNotFound
	// if no such user.
	GetUserSession(ctx context.Context, poolID, sub, originJTI string) (*UserSession, error)
	// GetUserSessionMFA is GetUserSession that also reads the user's TOTP
	// and email-code factors (UserSession.Factors), still one query:
	// Cognito's GetUser answers with the user's MFA settings.
	GetUserSessionMFA(ctx context.Context, poolID, sub, originJTI string) (*UserSession, error)
	// DeleteExpiredRevokedOrigins removes rows expired before cutoff.
	DeleteExpiredRevokedOrigins(ctx context.Context, cutoff time.Time) (int, error)

	// Remembered devices (Cognito's device tracking; migration 0022).
	// InsertDevice: ErrConflict when the pool has the key, ErrNotFound when
	// the user does not exist. GetDevice: ErrNotFound unless the pool has
	// it. ListDevices returns up to limit of the user's devices whose key
	// sorts after after, by key. UpdateDevice writes Name, Status, LastIP,
	// UpdatedAt and LastAuthAt, and DeleteDevice deletes, only a device of
	// d.UserSub / sub (ErrNotFound otherwise). RevokeDeviceRefreshTokens
	// revokes the refresh tokens issued to the device and returns the
	// origin_jti of each sign-in it ended.
	InsertDevice(ctx context.Context, d *identity.Device) error
	GetDevice(ctx context.Context, poolID, key string) (*identity.Device, error)
	ListDevices(ctx context.Context, poolID, sub, after string, limit int) ([]*identity.Device, error)
	UpdateDevice(ctx context.Context, d *identity.Device) error
	DeleteDevice(ctx context.Context, poolID, sub, key string) error
	RevokeDeviceRefreshTokens(ctx context.Context, poolID, key string, now time.Time) ([]string, error)

	// Passkeys (WebAuthn). InsertWebAuthnCredential: ErrConflict when the
	// credential id is already registered in the pool, ErrNotFound when the
	// user does not exist. ListWebAuthnCredentials returns a user's
	// credentials oldest first. UseWebAuthnCredential moves the sign count
	// from old to new and records the use, only while the stored count is
	// still old (compare-and-set); it reports whether it did.
	// DeleteWebAuthnCredential: ErrNotFound unless the user has it.
	InsertWebAuthnCredential(ctx context.Context, c *identity.WebAuthnCredential) error
	GetWebAuthnCredential(ctx context.Context, poolID, credentialID string) (*identity.WebAuthnCredential, error)
	ListWebAuthnCredentials(ctx context.Context, poolID, sub string) ([]*identity.WebAuthnCredential, error)
	UseWebAuthnCredential(ctx context.Context, poolID, credentialID string, oldCount, newCount uint32, now time.Time) (bool, error)
	DeleteWebAuthnCredential(ctx context.Context, poolID, sub, credentialID string) error
	// PutWebAuthnChallenge stores a ceremony's challenge (and prunes the
	// expired ones); TakeWebAuthnChallenge deletes and returns the challenge
	// with that hash if it has not expired at now: single use, so of two
	// concurrent takes one gets ErrNotFound.
	PutWebAuthnChallenge(ctx context.Context, c *identity.WebAuthnChallenge, now time.Time) error
	TakeWebAuthnChallenge(ctx context.Context, hash string, now time.Time) (*identity.WebAuthnChallenge, error)

	// OAuth 2.0 authorization codes (internal/oidc), stored hashed.
	InsertOAuthCode(ctx context.Context, c *identity.OAuthCode) error
	// GetOAuthCode returns the code with that hash, or ErrNotFound.
	GetOAuthCode(ctx context.Context, hash string) (*identity.OAuthCode, error)
	// UseOAuthCode sets UsedAt, FamilyID and OriginJTI (the sign-in the
	// code was exchanged for) only if the code is unused (compare-and-set);
	// it reports whether it did.
	UseOAuthCode(ctx context.Context, hash, familyID, originJTI string, now time.Time) (bool, error)
	// DeleteExpiredOAuthCodes removes codes expired before cutoff.
	DeleteExpiredOAuthCodes(ctx context.Context, cutoff time.Time) (int, error)

	// Signing keys.
	InsertSigningKey(ctx context.Context, k *identity.SigningKey) error
	ListSigningKeys(ctx context.Context, poolID string) ([]*identity.SigningKey, error)
	UpdateSigningKey(ctx context.Context, k *identity.SigningKey) error
	DeleteSigningKey(ctx context.Context, poolID, kid string) error

	// Admin API keys.
	CreateAPIKey(ctx context.Context, k *identity.APIKey) error
	GetAPIKey(ctx context.Context, id string) (*identity.APIKey, error)
	ListAPIKeys(ctx context.Context, poolID string) ([]*identity.APIKey, error) // poolID "" lists all
	RevokeAPIKey(ctx context.Context, id string, now time.Time) error
	TouchAPIKey(ctx context.Context, id string, now time.Time) error

	// Outbox emails. Their delivery state changes only through
	// StartEmailDelivery and TransitionEmail, compare-and-set statements
	// (internal/mail's doc.go has the state machine).
	InsertEmail(ctx context.Context, e *identity.Email) error // sets e.ID
	GetEmail(ctx context.Context, id int64) (*identity.Email, error)
	// ListEmails lists newest first; poolID and status "" match all.
	ListEmails(ctx context.Context, poolID, status string, page Page) ([]*identity.Email, string, error)
	// UpdateEmail replaces the content (To, Subject, Text, HTML, Template)
	// of an email that is still queued and has no attempt; ErrNotFound
	// otherwise. It never changes the delivery state.
	UpdateEmail(ctx context.Context, e *identity.Email) error
	// SetEmailJob links the email to its delivery job.
	SetEmailJob(ctx context.Context, id, jobID int64) error
	// StartEmailDelivery moves the email to sending for attempt of its job
	// jobID (JobAttempt=attempt, Attempts+1), only while the email is
	// queued, retrying, or sending for an older attempt of that job, and
	// only while worker holds the lease of that attempt by the database's
	// clock. It reports whether it did: only then may the email be sent.
	StartEmailDelivery(ctx context.Context, id, jobID int64, attempt int, worker string) (bool, error)
	// TransitionEmail applies t if the email's state still allows it
	// (compare-and-set); it reports whether it did.
	TransitionEmail(ctx context.Context, t EmailTransition) (bool, error)
	// RearmDeadEmails queues again every dead email of poolID whose job
	// is dead, re-arming that job (as RearmJob, with budget attempts) in
	// the same statement pair; it returns how many.
	RearmDeadEmails(ctx context.Context, poolID, kind string, budget int) (int, error)
	// CountEmails counts emails by status, for the statuses given (all
	// statuses when none is).
	CountEmails(ctx context.Context, statuses ...string) (map[string]int, error)

	// Jobs. Leases and due times follow the database's clock: PostgreSQL's
	// now() in the statements, so nodes whose clocks disagree still agree
	// on every lease; on SQLite, whose one file is used by processes of
	// one machine, that machine's clock.
	EnqueueJob(ctx context.Context, j *identity.Job) error // sets j.ID, CreatedAt, UpdatedAt
	// ClaimJobs atomically leases up to limit jobs of the given kinds that
	// are due (pending with RunAt <= now) or whose lease expired (running
	// with LockedUntil <= now): State=running, LockedBy=worker,
	// LockedUntil=now+lease, Attempts++. Taking over an expired lease
	// gives the lost attempt back (MaxAttempts++, Lost++). No job is leased
	// to two workers at once, across processes sharing the database.
	ClaimJobs(ctx context.Context, worker string, kinds []string, lease time.Duration, limit int) ([]*identity.Job, error)
	// CompleteJob marks the job done if its attempt attempt, by worker, is
	// still the current one and running; ErrNotFound otherwise.
	CompleteJob(ctx context.Context, id int64, attempt int, worker string) error
	// FailJob records lastErr for the current running attempt attempt by
	// worker: with retryIn > 0 the job is pending again at now+retryIn,
	// otherwise dead. ErrNotFound if that attempt is not current.
	FailJob(ctx context.Context, id int64, attempt int, worker, lastErr string, retryIn time.Duration) error
	GetJob(ctx context.Context, id int64) (*identity.Job, error)
	// ListJobs lists newest first (by id).
	ListJobs(ctx context.Context, f JobFilter, page Page) ([]*identity.Job, string, error)
	// CountJobs returns the number of jobs in state ("" for all).
	CountJobs(ctx context.Context, state string) (int, error)
	// CountJobStates counts jobs by state, for the states given (all
	// states when none is).
	CountJobStates(ctx context.Context, states ...string) (map[string]int, error)
	// DiscardJob marks a pending, running or dead job discarded with
	// lastErr (compare-and-set); it reports whether it did. A running
	// attempt of a discarded job can no longer record an outcome.
	DiscardJob(ctx context.Context, id int64, lastErr string) (bool, error)
	// RearmJob makes a dead job pending, due now, with budget more
	// attempts (MaxAttempts = Attempts + budget, Lost = 0); it reports
	// whether it did.
	RearmJob(ctx context.Context, id int64, budget int) (bool, error)
	// HastenJob makes a pending job due now; it reports whether it was
	// pending.
	HastenJob(ctx context.Context, id int64) (bool, error)

	// Audit log.
	InsertAudit(ctx context.Context, e *identity.AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter, page Page) ([]*identity.AuditEvent, string, error)

	// Companies (issue 3). Names are unique per pool case-insensitively,
	// and an email domain belongs to at most one company in a pool
	// (ErrConflict otherwise).
	CreateCompany(ctx context.Context, c *identity.Company) error
	// GetCompany looks the name up case-insensitively.
	GetCompany(ctx context.Context, poolID, name string) (*identity.Company, error)
	GetCompanyByDomain(ctx context.Context, poolID, domain string) (*identity.Company, error)
	ListCompanies(ctx context.Context, poolID string, page Page) ([]*identity.Company, string, error)
	// UpdateCompany writes every field but Name, PoolID and CreatedAt.
	UpdateCompany(ctx context.Context, c *identity.Company) error
	DeleteCompany(ctx context.Context, poolID, name string) error
	// ListCompaniesApprovedBy returns the pool's companies that list sub
	// as an approver (Approver.Sub: its company admins), ordered by
	// lower-cased name. It reads an index the store keeps with every
	// company write (migration 0030), never every company of the pool.
	ListCompaniesApprovedBy(ctx context.Context, poolID, sub string) ([]*identity.Company, error)
	// ListCompaniesAwaitingApprover returns the pool's companies that list
	// email as an approver awaiting an account (Approver.AwaitingAccount),
	// ordered by lower-cased name. email is lower-cased and compared with
	// the address as stored (the service stores them lower-cased).
	ListCompaniesAwaitingApprover(ctx context.Context, poolID, email string) ([]*identity.Company, error)
	// ListCompaniesByGroup returns the pool's companies whose group is
	// group (Group, or Name when Group is empty), ordered by lower-cased
	// name, through an index.
	ListCompaniesByGroup(ctx context.Context, poolID, group string) ([]*identity.Company, error)
	// SearchCompanies returns up to limit active companies whose folded
	// display name (see FoldName) starts with prefix (already folded),
	// ordered by it.
	SearchCompanies(ctx context.Context, poolID, prefix string, limit int) ([]*identity.Company, error)

	// Registration requests (issue 3).
	CreateRegistration(ctx context.Context, r *identity.RegistrationRequest) error
	GetRegistration(ctx context.Context, poolID, id string) (*identity.RegistrationRequest, error)
	// GetRegistrationByUser returns the newest request of the user.
	GetRegistrationByUser(ctx context.Context, poolID, sub string) (*identity.RegistrationRequest, error)
	// ListRegistrations lists newest first; state and company "" match all.
	ListRegistrations(ctx context.Context, poolID string, f RegistrationFilter, page Page) ([]*identity.RegistrationRequest, string, error)
	// TransitionRegistration writes r (state, company, reason, decision,
	// expiry, UpdatedAt) only if the stored state is still from
	// (compare-and-set); it reports whether it did.
	TransitionRegistration(ctx context.Context, r *identity.RegistrationRequest, from identity.RegistrationState) (bool, error)
	InsertRegistrationToken(ctx context.Context, t *identity.RegistrationToken) error
	GetRegistrationToken(ctx context.Context, hash string) (*identity.RegistrationToken, error)
	// UseRegistrationTokens marks every unused token of the request used.
	UseRegistrationTokens(ctx context.Context, requestID string, now time.Time) error
	// RecordNotice records that the notice kind went to recipient for the
	// request; it reports false (and writes nothing) if it already did, so
	// an email is enqueued at most once per (request, recipient, kind).
	RecordNotice(ctx context.Context, requestID, recipient, kind string, now time.Time) (bool, error)

	// User import jobs (Cognito's CreateUserImportJob; migration 0015).
	// UpdateImportJob is a compare-and-set on (status, next_offset):
	// ErrConflict when another run moved the job on. PutImportCSV stores
	// the upload only while the job is Created (ErrConflict otherwise).
	CreateImportJob(ctx context.Context, j *identity.UserImportJob) error
	GetImportJob(ctx context.Context, poolID, id string) (*identity.UserImportJob, error)
	ListImportJobs(ctx context.Context, poolID string, page Page) ([]*identity.UserImportJob, string, error)
	UpdateImportJob(ctx context.Context, j *identity.UserImportJob, fromStatus string, fromOffset int64) error
	PutImportCSV(ctx context.Context, poolID, id string, data []byte) error
	GetImportCSV(ctx context.Context, poolID, id string) ([]byte, error)

	// Linked (federated) identities (issue 8). (pool, provider, subject)
	// is unique: ErrConflict on a second link; ErrNotFound if the user
	// does not exist. Deleting the user deletes its links.
	CreateLinkedIdentity(ctx context.Context, l *identity.LinkedIdentity) error
	GetLinkedIdentity(ctx context.Context, poolID, provider, subject string) (*identity.LinkedIdentity, error)
	// ListLinkedIdentities returns the user's links, oldest first.
	ListLinkedIdentities(ctx context.Context, poolID, sub string) ([]*identity.LinkedIdentity, error)
	// DeleteLinkedIdentity removes the link of (pool, provider, subject)
	// only while it belongs to the user userSub; ErrNotFound otherwise.
	DeleteLinkedIdentity(ctx context.Context, poolID, provider, subject, userSub string) error

	// Company identity providers (issue 18), one per company.
	// PutCompanyIdP inserts or replaces the company's provider (by pool
	// and company); ErrNotFound if the company does not exist,
	// ErrConflict if its Name is another company's.
	PutCompanyIdP(ctx context.Context, c *identity.CompanyIdP) error
	// GetCompanyIdP looks the company name up case-insensitively.
	GetCompanyIdP(ctx context.Context, poolID, company string) (*identity.CompanyIdP, error)
	GetCompanyIdPByName(ctx context.Context, poolID, name string) (*identity.CompanyIdP, error)
	ListCompanyIdPs(ctx context.Context, poolID string) ([]*identity.CompanyIdP, error)
	DeleteCompanyIdP(ctx context.Context, poolID, company string) error
	// UseSAMLAssertion records a SAML assertion ID as used until
	// expiresAt (dropping expired records); ErrConflict if it was used.
	UseSAMLAssertion(ctx context.Context, poolID, assertionID string, expiresAt, now time.Time) error
	// PutSCIMToken sets the company's SCIM token hash (replacing the
	// previous one); ErrNotFound if the company does not exist.
	PutSCIMToken(ctx context.Context, poolID, company, hash string, at time.Time) error
	// GetSCIMToken returns the company's SCIM token hash; ErrNotFound if none.
	GetSCIMToken(ctx context.Context, poolID, company string) (string, error)
	// SetSCIMExternalID sets the externalId of the company's member sub
	// ("" removes it); ErrConflict if another member of the company has
	// it, ErrNotFound if the user or company does not exist.
	SetSCIMExternalID(ctx context.Context, poolID, company, sub, externalID string) error
	// ListSCIMExternalIDs returns the company's externalIds by user sub.
	ListSCIMExternalIDs(ctx context.Context, poolID, company string) (map[string]string, error)
	// PutSCIMGroup inserts or replaces a group the company's IdP pushed
	// (by pool and ID); ErrConflict if the company has another group of
	// that display name (any case), ErrNotFound without the company.
	PutSCIMGroup(ctx context.Context, g *identity.SCIMGroup) error
	GetSCIMGroup(ctx context.Context, poolID, company, id string) (*identity.SCIMGroup, error)
	// ListSCIMGroups returns the company's pushed groups, oldest first.
	ListSCIMGroups(ctx context.Context, poolID, company string) ([]*identity.SCIMGroup, error)
	DeleteSCIMGroup(ctx context.Context, poolID, company, id string) error
	// DomainRequiresSSO tells in one read whether the active company
	// owning the email domain has a provider requiring single sign-on
	// (false, nil when no company or provider).
	DomainRequiresSSO(ctx context.Context, poolID, domain string) (bool, error)
	// DeleteSCIMToken removes the company's SCIM token; ErrNotFound if none.
	DeleteSCIMToken(ctx context.Context, poolID, company string) error
}

// EmailTransition is a compare-and-set of an email's delivery state:
// Status becomes To (and LastError is written) only if the email is in
// one of From, belongs to the job JobID, and, when Attempt > 0, was moved
// to sending by that attempt of the job (JobAttempt = Attempt). To
// EmailSent also stamps SentAt with the database's clock.
type EmailTransition struct {
	ID        int64
	JobID     int64
	From      []string
	Attempt   int
	To        string
	LastError string
}

// JobFilter selects jobs; zero fields match all.
type JobFilter struct {
	PoolID string
	State  string
	Kind   string
}

// RegistrationFilter selects registration requests; zero fields match all.
type RegistrationFilter struct {
	State   identity.RegistrationState
	Company string // canonical company name, case-insensitive
}

// UserSession is what a token-holding request needs of its user in one
// read: the user with attributes, its group names in token order
// (precedence, then name), and whether the token's sign-in was revoked.
type UserSession struct {
	User          *identity.User
	Groups        []string
	OriginRevoked bool
	// Identities are the user's linked identities in ListLinkedIdentities'
	// order (the tokens' identities claim), nil when none; read by
	// GetRefreshSession only (IdentitiesRead).
	Identities     []*identity.LinkedIdentity
	IdentitiesRead bool
	// Factors are the user's TOTP and email-code factors in
	// ListFactors' order, without their secrets and last steps; read by
	// GetUserSessionMFA only.
	Factors []*identity.Factor
}

// SignIn is one active sign-in of a user: a refresh token family and
// where it started.
type SignIn struct {
	PoolID    string
	FamilyID  string
	UserSub   string
	ClientID  string
	OriginJTI string // of the live token (ListSignIns only)
	UserAgent string
	IP        string
	AuthTime  time.Time // when the user signed in
	LastUsed  time.Time // issue time of the family's live token
	CreatedAt time.Time
	ExpiresAt time.Time // absolute expiry of the family
}

// PruneTable names a table of finished rows that retention deletes.
type PruneTable string

// The tables PruneFinished deletes from.
const (
	PruneEmails        PruneTable = "emails"
	PruneJobs          PruneTable = "jobs"
	PruneRegistrations PruneTable = "registrations"
)

// TableStat is one table's size: rows, and the time of its oldest row
// (zero when empty or when the table has no time column).
type TableStat struct {
	Table  string
	Rows   int64
	Oldest time.Time
}
