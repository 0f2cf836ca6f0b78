-- Second factors (internal/auth/mfa.go, docs/mfa.md). One row per factor of
-- a user:
--   type 'totp'      secret = the TOTP key sealed with the master key
--                    (secretbox purpose "totp"); confirmed once a first
--                    code verified; last_step = the last accepted RFC 6238
--                    time step (a code is accepted once: a step is taken
--                    only by a compare-and-set raising last_step);
--   type 'email_otp' no secret: codes are one-time codes (codes table,
--                    purpose mfa_email) mailed through the outbox;
--   type 'recovery'  secret = SHA-256 of one recovery code; used_at set
--                    by a compare-and-set when it is spent;
--   type 'webauthn'  reserved for passkeys (secret: the credential).
-- enabled/preferred are Cognito's SoftwareTokenMfaSettings /
-- EmailMfaSettings of the factor. The user is deleted -> the factors go.
CREATE TABLE user_factors (
    pool_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL DEFAULT '',
    confirmed INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 0,
    preferred INTEGER NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, sub, id),
    FOREIGN KEY (pool_id, sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX user_factors_type ON user_factors (pool_id, sub, type);

-- A company admin may require MFA of the company's members.
ALTER TABLE companies ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;

-- How the user signed in (RFC 8176 amr values, space-separated, e.g.
-- "pwd otp mfa"), kept with the refresh family and the authorization code
-- so that refreshed and code-issued tokens say the same.
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';
