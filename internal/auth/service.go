package auth

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/internal/federation"
	"github.com/gatehouse-id/gatehouse/internal/hooks"
	"github.com/gatehouse-id/gatehouse/internal/identity"
	"github.com/gatehouse-id/gatehouse/internal/ratelimit"
	"github.com/gatehouse-id/gatehouse/internal/secretbox"
	"github.com/gatehouse-id/gatehouse/internal/store"
)

// Hasher hashes and verifies passwords (internal/password.Hasher).
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (bool, error)
	// VerifyDummy costs what Verify costs, for unknown users.
	VerifyDummy(ctx context.Context, password string)
	// NeedsRehash reports whether a hash that just verified should be
	// replaced (older parameters, or a foreign hash from an import).
	NeedsRehash(encoded string) bool
}

// TokenSigner signs and verifies JWTs with a pool's keys (internal/token.Manager).
type TokenSigner interface {
	EnsureKey(ctx context.Context, pool *identity.Pool) error
	// EnsureAlg makes sure the pool has an active and a next key of alg.
	EnsureAlg(ctx context.Context, pool *identity.Pool, alg string) error
	Sign(ctx context.Context, pool *identity.Pool, claims map[string]any) (string, error)
	// SignAs signs with the pool's key of alg ("" : the pool's SigningAlg).
	SignAs(ctx context.Context, pool *identity.Pool, alg string, claims map[string]any) (string, error)
	// SignTyped is SignAs with the JOSE typ header typ (logout+jwt).
	SignTyped(ctx context.Context, pool *identity.Pool, alg, typ string, claims map[string]any) (string, error)
	// Verify checks signature, alg, exp, nbf and iss; it returns the claims
	// or an *identity.Error with CodeInvalidToken.
	Verify(ctx context.Context, pool *identity.Pool, raw, issuer string) (map[string]any, error)
	// VerifyExpired is Verify that lets an expired token pass.
	VerifyExpired(ctx context.Context, pool *identity.Pool, raw, issuer string) (map[string]any, error)
	Rotate(ctx context.Context, pool *identity.Pool) (*identity.SigningKey, error)
	JWKS(ctx context.Context, poolID string) ([]byte, error)
}

// Mailer renders a template and writes the email and its delivery job
// through q, i.e. in the caller's transaction (internal/mail.Outbox).
type Mailer interface {
	Enqueue(ctx context.Context, q store.Querier, pool *identity.Pool, to, template string, data map[string]any) (*identity.Email, error)
}

// Email template names the service uses.
const (
	TemplateSignUpCode      = "signup_code"      // data: Code, Username, PoolName, ExpiresIn
	TemplateForgotPassword  = "forgot_password"  // data: Code, Username, PoolName, ExpiresIn
	TemplateVerifyEmail     = "verify_email"     // data: Code, Username, PoolName, ExpiresIn
	TemplateInvite          = "invite"           // data: Username, TemporaryPassword, PoolName, SignInURL, ExpiresIn
	TemplatePasswordChanged = "password_changed" // data: Username, PoolName
	TemplateMFACode         = "mfa_code"         // data: Code, Username, PoolName, ExpiresIn
	TemplateMFAChanged      = "mfa_changed"      // data: Username, PoolName, Factor, Change
	// TemplateEmailChangeRequested tells the address in force that a new
	// one was asked for on the account page. data: Username, PoolName,
	// NewEmail (masked).
	TemplateEmailChangeRequested = "email_change_requested"
)

// Config wires a Service.
type Config struct {
	Store  store.Store
	Hasher Hasher
	Tokens TokenSigner
	Mail   Mailer
	// Hooks calls the pools' webhooks (nil: a default hooks.Client).
	Hooks   *hooks.Client
	BaseURL string // public base URL, e.g. https://id.example.com (no trailing slash)
	Region  string // default region for new pools
	Now     func() time.Time
	Rand    io.Reader
	Log     *slog.Logger
	// Secrets seals client secrets (for Cognito's SECRET_HASH) and SRP
	// secret blocks; derive it from the master key (secretbox.New) so
	// every node and restart opens the same values. nil: a per-process
	// key (secretbox.Ephemeral), for tests and single short-lived nodes.
	Secrets *secretbox.Box
	// Federation talks to upstream identity providers (nil: a default
	// federation.Client).
	Federation *federation.Client
	// SAMLMetadataRefresh is how often SAML metadata given by URL is
	// fetched again (0: DefaultSAMLMetadataRefresh).
	SAMLMetadataRefresh time.Duration
	// SAMLMetadataHTTP lets SAML metadata URLs use http (tests only: the
	// tests' IdPs serve plain HTTP on loopback).
	SAMLMetadataHTTP bool
}

// Service implements every flow. All surfaces call it; none talks to the
// store directly.
type Service struct {
	cfg Config

	fedOnce sync.Once
	fed     *federation.Client

	// Piggybacked deletion of expired rows (purge.go).
	codePurge    purge
	originPurge  purge
	refreshPurge purge
	// throttlePurge deletes expired throttle counters and reservations.
	throttlePurge purge

	// reserveBackoff: the waits between tries for a credential-check slot
	// (throttle.go); tests shorten it.
	reserveBackoff []time.Duration
	// issueByIP limits code emails per client address (codes.go).
	issueByIP *ratelimit.Limiter

	// batch is set on the Service a Batch runs fn with (batch.go).
	batch *batch
}
