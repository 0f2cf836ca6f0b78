-- Passkeys (WebAuthn, internal/auth/passkeys.go).
--
-- webauthn_credentials: one row per registered credential. The credential
-- id (base64url) is unique within a pool; relying_party_id is the RP ID the
-- credential was created for (a credential only signs for that one).
-- sign_count changes only by compare-and-set on its previous value
-- (UseWebAuthnCredential), so two concurrent sign-ins with one counter
-- value cannot both win. record is the go-webauthn credential record (JSON:
-- flags, attestation) the library needs to validate an assertion.
CREATE TABLE webauthn_credentials (
    pool_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    relying_party_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    transports TEXT NOT NULL DEFAULT '[]',
    aaguid TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    record TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, credential_id),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (pool_id, user_sub);

-- webauthn_challenges: the server side of a ceremony between its start and
-- its finish. Keyed by the SHA-256 of the challenge the browser signs, so
-- the finish step finds its row from the client data alone; taken (deleted)
-- exactly once by TakeWebAuthnChallenge; bound to pool, purpose, user (''
-- for a discoverable sign-in) and origin; expired rows are pruned when a
-- new challenge is written.
CREATE TABLE webauthn_challenges (
    challenge_hash TEXT NOT NULL PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    user_sub TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    session TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_expires ON webauthn_challenges (expires_at);
