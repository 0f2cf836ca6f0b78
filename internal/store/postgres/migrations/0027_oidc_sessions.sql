-- The relying parties a user signed in to (OpenID Connect Back-Channel
-- Logout 1.0, docs/oidc.md): one row per sign-in through an authorization
-- code (the origin_jti its tokens share, which its ID tokens carry as sid),
-- naming the client. A sign-out tells exactly the clients of the user's
-- rows, each with its sid, and deletes the rows it told; ending one sign-in
-- deletes its row. A row lives as long as the sign-in's refresh family
-- could (expires_at), then retention prunes it. Additive: no other table
-- changes.
CREATE TABLE oidc_sessions (
    pool_id TEXT NOT NULL,
    origin_jti TEXT NOT NULL,
    user_sub TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, origin_jti),
    FOREIGN KEY (pool_id, user_sub) REFERENCES users(pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX oidc_sessions_user ON oidc_sessions (pool_id, user_sub);
CREATE INDEX oidc_sessions_expires ON oidc_sessions (expires_at);
