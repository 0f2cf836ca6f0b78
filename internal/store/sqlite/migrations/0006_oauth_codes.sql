-- OAuth 2.0 authorization codes (internal/oidc): only the SHA-256 of a code
-- is kept; used_at is set once by a compare-and-set; family_id is the
-- refresh token family issued from the code (revoked if it is presented
-- again).
CREATE TABLE oauth_codes (
    hash TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    nonce TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT '',
    auth_time BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT NOT NULL DEFAULT 0,
    family_id TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
